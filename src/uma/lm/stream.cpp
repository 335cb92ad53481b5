#include "uma/lm/stream.h"

#include <algorithm>

#include "uma/core/allocator.h"
#include "uma/text/chat_template.h"
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
  bool stopped = false, hit_stop_string = false;
  generate_tokens(model, prompt, opts.gen, [&](int token, const StepStats& stats) {
    result.stats = stats;
    if (std::find(eos.begin(), eos.end(), token) != eos.end()) {
      result.finish_reason = "stop";
      stopped = true;
      return false;
    }
    result.tokens.push_back(token);
    pending += detok.add(token);
    TextResponse r;
    r.token = token;
    r.stats = stats;
    if (!opts.stop_strings.empty()) {
      size_t cut = std::string::npos;
      for (auto& s : opts.stop_strings) cut = std::min(cut, pending.find(s));
      if (cut != std::string::npos) {
        r.text = pending.substr(0, cut);
        result.text += r.text;
        pending.clear();
        r.finish_reason = result.finish_reason = "stop";
        stopped = hit_stop_string = true;
        on_text(r);
        return false;
      }
    }
    size_t hold = held_back(pending, opts.stop_strings);
    r.text = pending.substr(0, pending.size() - hold);
    pending.erase(0, pending.size() - hold);
    result.text += r.text;
    if (!on_text(r)) {
      result.finish_reason = "stop";
      stopped = true;
      return false;
    }
    return true;
  }, cache);
  // One closing event, unless a stop string already sent it: text held back
  // as a possible stop-string prefix (and any dangling partial character) is
  // real text after all.
  if (!hit_stop_string) {
    if (!stopped) result.finish_reason = "length";
    TextResponse r;
    r.text = pending + detok.finish();
    r.stats = result.stats;
    r.finish_reason = result.finish_reason;
    result.text += r.text;
    on_text(r);
  }
  result.peak_memory = get_peak_memory();
  return result;
}

std::vector<int> apply_chat_template(const text::tokenizer::LoadedTokenizer& tok, const nlohmann::ordered_json& messages,
                                     const nlohmann::ordered_json& kwargs, bool add_generation_prompt,
                                     std::string* rendered) {
  const auto* src = tok.chat_template();
  if (!src) throw std::invalid_argument("[chat_template] the tokenizer has no chat template");
  text::ChatTemplate tmpl(src->source);
  nlohmann::ordered_json extra = nlohmann::ordered_json::object();
  auto special = [&](const char* name, const std::optional<text::tokenizer::SpecialToken>& t) {
    if (t) extra[name] = t->text;
  };
  special("bos_token", tok.bos);
  special("eos_token", tok.eos);
  special("unk_token", tok.unk);
  special("pad_token", tok.pad);
  nlohmann::ordered_json tools = nullptr;
  for (auto& [k, v] : kwargs.items()) {
    if (k == "tools") {
      tools = v;
    } else {
      extra[k] = v;
    }
  }
  std::string text = tmpl.apply(messages, tools, add_generation_prompt, extra);
  if (rendered) *rendered = text;
  auto ids = tok.tokenizer->encode(text, /*add_special_tokens=*/false);
  return std::vector<int>(ids.begin(), ids.end());
}

}  // namespace uma::lm
