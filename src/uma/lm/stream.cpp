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

TextResult stream_generate(Model& model, const text::tokenizer::LoadedTokenizer& tok, const std::vector<int>& prompt,
                           const TextOptions& opts, const std::function<bool(const TextResponse&)>& on_text,
                           CacheList* cache) {
  for (auto& s : opts.stop_strings) {
    if (s.empty()) throw std::invalid_argument("[generate] a stop string must not be empty");
  }
  std::vector<int> eos(tok.eos_ids.begin(), tok.eos_ids.end());
  eos.insert(eos.end(), opts.extra_eos_ids.begin(), opts.extra_eos_ids.end());
  text::tokenizer::StreamingDetokenizer detok(*tok.tokenizer, /*skip_special_tokens=*/true);
  TextResult result;
  std::string pending;  // decoded but not yet emitted (possible stop-string prefix)
  reset_peak_memory();
  GenerateOptions gen_opts = opts.gen;
  std::shared_ptr<GrammarProcessor> grammar;
  if (opts.grammar) {
    grammar = std::make_shared<GrammarProcessor>(opts.grammar, grammar_vocabulary(tok, eos));
    gen_opts.processors.push_back(as_logits_processor(grammar));
  }
  TokenGenerator gen(model, prompt, gen_opts, cache);
  bool stopped = false;
  while (auto token = gen.next()) {
    result.stats = gen.stats();
    if (std::find(eos.begin(), eos.end(), *token) != eos.end()) {
      stopped = true;
      break;
    }
    if (grammar) grammar->accept_token(*token);
    result.tokens.push_back(*token);
    pending += detok.add(*token);
    TextResponse r;
    r.token = *token;
    r.stats = result.stats;
    if (gen.logprob()) {
      r.logprob = gen.logprob();
      result.logprobs.push_back(*gen.logprob());
    }
    size_t cut = std::string::npos;
    for (auto& s : opts.stop_strings) cut = std::min(cut, pending.find(s));
    if (cut != std::string::npos) {
      // The stop string ends the text: this is the closing event.
      r.text = pending.substr(0, cut);
      result.text += r.text;
      r.finish_reason = result.finish_reason = "stop";
      on_text(r);
      result.peak_memory = get_peak_memory();
      return result;
    }
    size_t hold = held_back(pending, opts.stop_strings);
    r.text = pending.substr(0, pending.size() - hold);
    pending.erase(0, pending.size() - hold);
    result.text += r.text;
    if (!on_text(r) || (grammar && grammar->done())) {
      stopped = true;
      break;
    }
  }
  // One closing event: text held back as a possible stop-string prefix (and
  // any dangling partial character) is real text after all.
  result.finish_reason = stopped ? "stop" : "length";
  TextResponse r;
  r.text = pending + detok.finish();
  r.stats = result.stats;
  r.finish_reason = result.finish_reason;
  result.text += r.text;
  on_text(r);
  result.peak_memory = get_peak_memory();
  return result;
}

}  // namespace uma::lm
