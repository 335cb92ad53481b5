// Builds models from tokenizer.json, scanning the large vocab and merges
// sections directly.
#include "uma/text/tokenizer/model.h"

#include <deque>
#include <stdexcept>

#include "uma/text/tokenizer/bpe.h"
#include "uma/text/tokenizer/json_scan.h"
#include "uma/text/tokenizer/json_util.h"
#include "uma/text/tokenizer/vocab.h"

namespace uma::text::tokenizer {

namespace {

using json_util::json;

// {"token": id, ...}. The entries are collected first so that the table is
// sized once; inserts then prefetch the slot of the key a few entries ahead
// (the table is far larger than the caches).
Vocab parse_vocab_map(JsonScanner& sc) {
  std::vector<std::pair<std::string_view, int32_t>> entries;
  std::deque<std::string> escaped;
  std::string scratch;
  size_t bytes = 0;
  sc.expect('{');
  if (!sc.consume('}')) {
    do {
      std::string_view key = sc.parse_string(scratch);
      if (key.data() == scratch.data()) {
        escaped.push_back(scratch);
        key = escaped.back();
      }
      sc.expect(':');
      int64_t id = sc.parse_int();
      if (id < 0 || id > INT32_MAX) sc.fail("token id out of range: " + std::to_string(id));
      entries.emplace_back(key, static_cast<int32_t>(id));
      bytes += key.size();
    } while (sc.consume(','));
    sc.expect('}');
  }
  Vocab vocab;
  vocab.reserve(entries.size(), bytes);
  constexpr size_t kAhead = 8;
  std::vector<uint32_t> hashes(entries.size());
  for (size_t i = 0; i < entries.size() + kAhead; ++i) {
    if (i < entries.size()) {
      hashes[i] = Vocab::hash_of(entries[i].first);
      vocab.prefetch(hashes[i]);
    }
    if (i >= kAhead) {
      size_t j = i - kAhead;
      vocab.insert(entries[j].first, entries[j].second, hashes[j]);
    }
  }
  return vocab;
}

// [["piece", score], ...]
std::vector<std::pair<std::string, double>> parse_vocab_list(JsonScanner& sc) {
  std::vector<std::pair<std::string, double>> out;
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

// ["a b", ...] or [["a", "b"], ...]. The views point into `text`, or into
// `storage` for strings with escapes.
std::vector<std::pair<std::string_view, std::string_view>> parse_merges(
    JsonScanner& sc, const std::string& what, std::deque<std::string>& storage, size_t size_hint) {
  std::vector<std::pair<std::string_view, std::string_view>> out;
  out.reserve(size_hint / 24);
  std::string scratch;
  auto stable = [&](std::string_view v) -> std::string_view {
    if (v.data() != scratch.data()) return v;
    storage.push_back(scratch);
    return storage.back();
  };
  sc.expect('[');
  if (sc.consume(']')) return out;
  do {
    if (sc.peek() == '[') {
      sc.expect('[');
      std::string_view a = stable(sc.parse_string(scratch));
      sc.expect(',');
      std::string_view b = stable(sc.parse_string(scratch));
      sc.expect(']');
      out.emplace_back(a, b);
    } else {
      std::string_view line = stable(sc.parse_string(scratch));
      if (line.rfind("#version", 0) == 0) continue;  // legacy merges.txt header
      size_t sp = line.find(' ');
      if (sp == std::string_view::npos || line.find(' ', sp + 1) != std::string_view::npos) {
        throw std::invalid_argument("[tokenizer] " + what + ": merge " + std::to_string(out.size() + 1) +
                                    " '" + std::string(line) + "' is not two tokens separated by a space");
      }
      out.emplace_back(line.substr(0, sp), line.substr(sp + 1));
    }
  } while (sc.consume(','));
  sc.expect(']');
  return out;
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

ModelSource scan_model(JsonScanner& sc, const std::string& what) {
  ModelSource ms;
  ms.what = what;
  std::string kbuf;
  if (sc.peek() != '{') sc.fail("\"model\" must be an object");
  sc.expect('{');
  if (sc.consume('}')) return ms;
  do {
    std::string key(sc.parse_string(kbuf));
    sc.expect(':');
    if (key == "vocab" && sc.peek() == '{') {
      ms.vocab_map = parse_vocab_map(sc);
    } else if (key == "vocab" && sc.peek() == '[') {
      ms.vocab_list = parse_vocab_list(sc);
    } else if (key == "merges" && sc.peek() == '[') {
      ms.merges = parse_merges(sc, what, ms.storage, sc.remaining());
    } else {
      std::string_view raw = sc.skip_value();
      try {
        ms.config[key] = json::parse(raw);
      } catch (const json::exception& e) {
        throw std::invalid_argument("[tokenizer] malformed JSON in " + what + " field 'model." + key +
                                    "': " + e.what());
      }
    }
  } while (sc.consume(','));
  sc.expect('}');
  return ms;
}

ModelPtr make_model(ModelSource src) {
  const json& cfg = src.config;
  std::string type;
  if (cfg.contains("type") && cfg["type"].is_string()) {
    type = cfg["type"].get<std::string>();
  } else if (src.merges) {
    type = "BPE";
  } else if (src.vocab_list) {
    type = "Unigram";
  } else {
    type = "WordPiece";
  }
  auto need_map = [&]() -> Vocab {
    if (!src.vocab_map) {
      throw std::invalid_argument("[tokenizer] " + src.what + ": " + type +
                                  " model needs \"vocab\" as an object {token: id}");
    }
    return std::move(*src.vocab_map);
  };

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
    if (!src.merges) throw std::invalid_argument("[tokenizer] " + src.what + ": BPE model has no merges");
    auto bpe = std::make_unique<BpeModel>(need_map(), std::move(opt));
    bpe->add_merges(*src.merges);
    return bpe;
  }
  if (type == "WordPiece") {
    int64_t max_chars = json_util::get_int(cfg, "max_input_chars_per_word", 100);
    return make_wordpiece(need_map(), json_util::get_string(cfg, "unk_token", "[UNK]"),
                          json_util::get_string(cfg, "continuing_subword_prefix", "##"),
                          static_cast<size_t>(std::max<int64_t>(max_chars, 0)));
  }
  if (type == "WordLevel") {
    return make_wordlevel(need_map(), json_util::get_string(cfg, "unk_token", "<unk>"));
  }
  if (type == "Unigram") {
    std::optional<int32_t> unk;
    auto it = cfg.find("unk_id");
    if (it != cfg.end() && !it->is_null()) unk = it->get<int32_t>();
    std::vector<std::pair<std::string, double>> vocab;
    if (src.vocab_list) vocab = std::move(*src.vocab_list);
    return make_unigram(std::move(vocab), unk, json_util::get_bool(cfg, "byte_fallback", false));
  }
  json_util::unknown_type("model", type);
}

}  // namespace uma::text::tokenizer
