// Builds models from tokenizer.json, scanning the large vocab and merges
// sections directly.
#include "uma/lm/tokenizer/model.h"

#include <stdexcept>

#include "uma/lm/tokenizer/bpe.h"
#include "uma/lm/tokenizer/json_scan.h"
#include "uma/lm/tokenizer/json_util.h"
#include "uma/lm/tokenizer/vocab.h"

namespace uma::tokenizer {

namespace {

using json_util::json;

// {"token": id, ...}
Vocab parse_vocab_map(std::string_view text, const std::string& what) {
  Vocab vocab;
  vocab.reserve(text.size() / 12 + 16, text.size());
  JsonScanner sc(text, what + " (model.vocab)");
  std::string scratch;
  sc.expect('{');
  if (!sc.consume('}')) {
    do {
      std::string_view key = sc.parse_string(scratch);
      sc.expect(':');
      int64_t id = sc.parse_int();
      if (id < 0 || id > INT32_MAX) sc.fail("token id out of range: " + std::to_string(id));
      vocab.insert(key, static_cast<int32_t>(id));
    } while (sc.consume(','));
    sc.expect('}');
  }
  return vocab;
}

// [["piece", score], ...]
std::vector<std::pair<std::string, double>> parse_vocab_list(std::string_view text,
                                                             const std::string& what) {
  std::vector<std::pair<std::string, double>> out;
  JsonScanner sc(text, what + " (model.vocab)");
  std::string scratch;
  sc.expect('[');
  if (!sc.consume(']')) {
    do {
      sc.expect('[');
      std::string piece(sc.parse_string(scratch));
      sc.expect(',');
      double score = sc.parse_double();
      sc.expect(']');
      out.emplace_back(std::move(piece), score);
    } while (sc.consume(','));
    sc.expect(']');
  }
  return out;
}

// ["a b", ...] or [["a", "b"], ...]; calls f(a, b) for each.
template <class F>
void parse_merges(std::string_view text, const std::string& what, F f) {
  JsonScanner sc(text, what + " (model.merges)");
  std::string s1, s2;
  sc.expect('[');
  if (sc.consume(']')) return;
  size_t rank = 0;
  do {
    if (sc.peek() == '[') {
      sc.expect('[');
      std::string_view a = sc.parse_string(s1);
      sc.expect(',');
      std::string_view b = sc.parse_string(s2);
      sc.expect(']');
      f(a, b);
    } else {
      std::string_view line = sc.parse_string(s1);
      if (line.rfind("#version", 0) == 0) continue;  // legacy merges.txt header
      size_t sp = line.find(' ');
      if (sp == std::string_view::npos || line.find(' ', sp + 1) != std::string_view::npos) {
        throw std::invalid_argument("[tokenizer] " + what + ": merge " + std::to_string(rank + 1) +
                                    " '" + std::string(line) + "' is not two tokens separated by a space");
      }
      f(line.substr(0, sp), line.substr(sp + 1));
    }
    ++rank;
  } while (sc.consume(','));
  sc.expect(']');
}

std::optional<std::string> optional_string(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) {
    throw std::invalid_argument(std::string("[tokenizer] model field '") + key + "' must be a string");
  }
  return it->get<std::string>();
}

}  // namespace

ModelPtr make_model(const ModelSource& src) {
  const json& cfg = src.config;
  std::string type;
  if (cfg.contains("type") && cfg["type"].is_string()) {
    type = cfg["type"].get<std::string>();
  } else if (!src.merges.empty()) {
    type = "BPE";
  } else if (!src.vocab.empty() && src.vocab.front() == '[') {
    type = "Unigram";
  } else {
    type = "WordPiece";
  }
  if (src.vocab.empty() && type != "Unigram") {
    throw std::invalid_argument("[tokenizer] " + src.what + ": model has no vocab");
  }

  if (type == "BPE") {
    BpeOptions opt;
    opt.unk_token = optional_string(cfg, "unk_token");
    opt.continuing_subword_prefix = optional_string(cfg, "continuing_subword_prefix");
    opt.end_of_word_suffix = optional_string(cfg, "end_of_word_suffix");
    opt.fuse_unk = json_util::get_bool(cfg, "fuse_unk", false);
    opt.byte_fallback = json_util::get_bool(cfg, "byte_fallback", false);
    opt.ignore_merges = json_util::get_bool(cfg, "ignore_merges", false);
    auto dropout = cfg.find("dropout");
    if (dropout != cfg.end() && dropout->is_number()) {
      double p = dropout->get<double>();
      if (p < 0.0 || p > 1.0) {
        throw std::invalid_argument("[tokenizer] BPE dropout must be in [0, 1], got " + std::to_string(p));
      }
      // Dropout is a training-time regularizer; encoding here is deterministic.
    }
    if (src.merges.empty()) {
      throw std::invalid_argument("[tokenizer] " + src.what + ": BPE model has no merges");
    }
    auto bpe = std::make_unique<BpeModel>(parse_vocab_map(src.vocab, src.what), std::move(opt));
    parse_merges(src.merges, src.what,
                 [&](std::string_view a, std::string_view b) { bpe->add_merge(a, b); });
    return bpe;
  }
  if (type == "WordPiece") {
    int64_t max_chars = json_util::get_int(cfg, "max_input_chars_per_word", 100);
    return make_wordpiece(parse_vocab_map(src.vocab, src.what),
                          json_util::get_string(cfg, "unk_token", "[UNK]"),
                          json_util::get_string(cfg, "continuing_subword_prefix", "##"),
                          static_cast<size_t>(std::max<int64_t>(max_chars, 0)));
  }
  if (type == "WordLevel") {
    return make_wordlevel(parse_vocab_map(src.vocab, src.what),
                          json_util::get_string(cfg, "unk_token", "<unk>"));
  }
  if (type == "Unigram") {
    std::vector<std::pair<std::string, double>> vocab;
    if (!src.vocab.empty()) vocab = parse_vocab_list(src.vocab, src.what);
    std::optional<int32_t> unk;
    auto it = cfg.find("unk_id");
    if (it != cfg.end() && !it->is_null()) unk = it->get<int32_t>();
    return make_unigram(std::move(vocab), unk, json_util::get_bool(cfg, "byte_fallback", false));
  }
  json_util::unknown_type("model", type);
}

}  // namespace uma::tokenizer
