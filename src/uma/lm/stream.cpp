#include "uma/lm/stream.h"

#include <algorithm>

#include "uma/core/allocator.h"
#include "uma/text/tokenizer/streaming.h"

namespace uma::lm {

namespace {
// Length of the longest suffix of `text` that is a proper prefix of a stop
// string: that much must wait for the next token.
size_t held_back(const std::string& text, const std::vector<std::string>& stops) {
  size_t hold = 0;
  for (auto& s : stops) {
    for (size_t n = std::min(s.size() - 1, text.size()); n > hold; --n) {
      if (text.compare(text.size() - n, n, s, 0, n) == 0) {
        hold = n;
        break;
      }
    }
  }
  return hold;
}
}  // namespace

TextStream::TextStream(const text::tokenizer::LoadedTokenizer& tok, const TextOptions& opts)
    : tok_(tok), stops_(opts.stop_strings) {
  for (auto& s : stops_) {
    if (s.empty()) throw std::invalid_argument("[generate] a stop string must not be empty");
  }
  eos_.assign(tok.eos_ids.begin(), tok.eos_ids.end());
  eos_.insert(eos_.end(), opts.extra_eos_ids.begin(), opts.extra_eos_ids.end());
  if (opts.grammar) grammar_ = std::make_shared<GrammarProcessor>(opts.grammar, grammar_vocabulary(tok, eos_));
  detok_ = std::make_unique<text::tokenizer::StreamingDetokenizer>(*tok.tokenizer, opts.skip_special_tokens);
}

TextStream::TextStream(TextStream&&) noexcept = default;
TextStream::~TextStream() = default;

TextResponse TextStream::add(int token, const std::optional<TokenLogprob>& logprob, const StepStats& stats) {
  result_.stats = stats;
  if (std::find(eos_.begin(), eos_.end(), token) != eos_.end()) return finish("stop");
  if (grammar_) grammar_->accept_token(token);
  result_.tokens.push_back(token);
  pending_ += detok_->add(token);
  TextResponse r;
  r.token = token;
  r.stats = stats;
  if (logprob) {
    r.logprob = logprob;
    result_.logprobs.push_back(*logprob);
  }
  size_t cut = std::string::npos;
  for (auto& s : stops_) cut = std::min(cut, pending_.find(s));
  if (cut != std::string::npos) {
    // The stop string ends the text: this is the closing event.
    r.text = pending_.substr(0, cut);
    pending_.clear();
    result_.text += r.text;
    r.finish_reason = result_.finish_reason = "stop";
    return r;
  }
  size_t hold = held_back(pending_, stops_);
  r.text = pending_.substr(0, pending_.size() - hold);
  pending_.erase(0, pending_.size() - hold);
  result_.text += r.text;
  if (grammar_ && grammar_->done()) {
    // The grammar is complete and nothing may follow: this is the closing
    // event, with whatever was held back.
    const TextResponse last = finish("stop");
    r.text += last.text;
    r.finish_reason = last.finish_reason;
  }
  return r;
}

void TextStream::add_processors(GenerateOptions& gen) const {
  if (grammar_) gen.processors.push_back(as_logits_processor(grammar_));
}

TextResponse TextStream::finish(const std::string& finish_reason) {
  TextResponse r;
  r.text = pending_ + detok_->finish();
  pending_.clear();
  r.stats = result_.stats;
  r.finish_reason = result_.finish_reason = finish_reason;
  result_.text += r.text;
  return r;
}

TextResult stream_generate(Model& model, const text::tokenizer::LoadedTokenizer& tok, const std::vector<int>& prompt,
                           const TextOptions& opts, const std::function<bool(const TextResponse&)>& on_text,
                           CacheList* cache) {
  TextStream text(tok, opts);
  reset_peak_memory();
  GenerateOptions gen_opts = opts.gen;
  text.add_processors(gen_opts);
  TokenGenerator gen(model, prompt, gen_opts, cache);
  while (auto token = gen.next()) {
    TextResponse r = text.add(*token, gen.logprob(), gen.stats());
    if (!on_text(r)) {
      if (!text.done()) on_text(text.finish("stop"));
      break;
    }
    if (text.done()) break;
  }
  // One closing event when the tokens ran out.
  if (!text.done()) on_text(text.finish("length"));
  TextResult result = text.result();
  result.peak_memory = get_peak_memory();
  return result;
}

}  // namespace uma::lm
