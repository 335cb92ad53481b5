#include "uma/text/tokenizer/gguf_vocab.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

#include "uma/core/io/file.h"
#include "uma/core/io/gguf_writer.h"
#include "uma/text/tokenizer/gguf_tokenizer.h"
#include "uma/text/tokenizer/load.h"

namespace uma::text::tokenizer {

namespace {

using json = nlohmann::json;
using io::gguf::ValueType;

enum TokenType : int32_t { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

struct Entry {
  std::string text;
  bool present = false, added = false, special = false;
  float score = 0.0f;
};

std::string str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// llama.cpp's does_token_look_special: added tokens some models fail to mark special.
bool looks_special(const std::string& t) {
  auto wrapped = [&](const std::string& a, const std::string& b) {
    return t.size() >= a.size() + b.size() && t.compare(0, a.size(), a) == 0 &&
           t.compare(t.size() - b.size(), b.size(), b) == 0;
  };
  return t == "<pad>" || t == "<mask>" || t == "<2mass>" || t == "[@BOS@]" || wrapped("<|", "|>") ||
         wrapped("<\xef\xbd\x9c", "\xef\xbd\x9c>") || wrapped("<unused", ">");
}

// The regexes a byte-level BPE splits by, in order; nullopt when the
// pre-tokenizer is something else.
std::optional<std::vector<std::string>> byte_level_regexes(const json& pre) {
  if (!pre.is_object()) return std::nullopt;
  std::string type = str(pre, "type");
  if (type == "ByteLevel") {
    if (!pre.value("use_regex", true)) return std::nullopt;
    return std::vector<std::string>{gpt2_byte_level_regex()};
  }
  if (type != "Sequence" || !pre.contains("pretokenizers")) return std::nullopt;
  const json& items = pre["pretokenizers"];
  if (!items.is_array() || items.empty()) return std::nullopt;
  std::vector<std::string> out;
  for (size_t i = 0; i + 1 < items.size(); ++i) {
    const json& s = items[i];
    if (str(s, "type") != "Split" || str(s, "behavior") != "Isolated" || s.value("invert", false)) return std::nullopt;
    if (!s.contains("pattern") || !s["pattern"].is_object() || !s["pattern"].contains("Regex")) return std::nullopt;
    out.push_back(s["pattern"]["Regex"].get<std::string>());
  }
  const json& last = items.back();
  if (str(last, "type") != "ByteLevel") return std::nullopt;
  if (last.value("use_regex", true)) out.push_back(gpt2_byte_level_regex());
  return out;
}

// Whether SentencePiece-style text gets "▁" in front: a Prepend normalizer
// or a Metaspace pre-tokenizer that prepends.
bool space_prefix(const json& tj) {
  std::function<bool(const json&)> scan = [&](const json& n) -> bool {
    if (!n.is_object()) return false;
    std::string type = str(n, "type");
    if (type == "Prepend") return str(n, "prepend") == "\xe2\x96\x81";
    if (type == "Metaspace") return str(n, "prepend_scheme") != "never" && n.value("add_prefix_space", true);
    for (const char* k : {"normalizers", "pretokenizers"}) {
      if (n.contains(k) && n[k].is_array()) {
        for (const auto& c : n[k]) {
          if (scan(c)) return true;
        }
      }
    }
    return false;
  };
  return scan(tj.value("normalizer", json())) || scan(tj.value("pre_tokenizer", json()));
}

std::vector<std::string> merge_strings(const json& merges) {
  std::vector<std::string> out;
  if (!merges.is_array()) return out;
  out.reserve(merges.size());
  for (const auto& m : merges) {
    if (m.is_string()) {
      out.push_back(m.get<std::string>());
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      out.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
    } else {
      throw std::invalid_argument("[gguf] tokenizer.json has a merge that is neither \"a b\" nor [a, b]");
    }
  }
  return out;
}

}  // namespace

void add_gguf_tokenizer(io::gguf::Writer& w, const std::filesystem::path& dir, int64_t n_vocab) {
  const std::string path = (dir / "tokenizer.json").string();
  auto fail = [&](const std::string& what) -> void { throw std::invalid_argument("[gguf] " + path + ": " + what); };
  json tj;
  try {
    tj = json::parse(io::read_small_file(path, "gguf"));
  } catch (const json::exception& e) {
    fail(std::string("is not valid JSON: ") + e.what());
  }
  const json& model = tj["model"];
  const std::string type = str(model, "type");

  // id -> token, from the model's vocabulary and the added tokens.
  std::vector<Entry> entries(size_t(std::max<int64_t>(n_vocab, 0)));
  auto put = [&](int64_t id, const std::string& text, float score, bool added, bool special) {
    if (id < 0 || id >= n_vocab) {
      fail("token '" + text.substr(0, 40) + "' has id " + std::to_string(id) + ", but the model has " +
           std::to_string(n_vocab) + " embedding rows (config.json vocab_size)");
    }
    Entry& e = entries[size_t(id)];
    e.text = text, e.present = true, e.score = score;
    e.added = e.added || added, e.special = e.special || special;
  };
  if (type == "BPE") {
    if (!model.contains("vocab") || !model["vocab"].is_object()) fail("model.vocab must be an object");
    for (auto& [tok, id] : model["vocab"].items()) put(id.get<int64_t>(), tok, 0.0f, false, false);
  } else if (type == "Unigram") {
    if (!model.contains("vocab") || !model["vocab"].is_array()) fail("model.vocab must be an array");
    int64_t id = 0;
    for (const auto& p : model["vocab"]) put(id++, p.at(0).get<std::string>(), p.at(1).get<float>(), false, false);
  } else {
    fail("tokenizer model '" + type + "' cannot be written to GGUF (supported: BPE, Unigram)");
  }
  if (tj.contains("added_tokens") && tj["added_tokens"].is_array()) {
    for (const auto& a : tj["added_tokens"]) {
      put(a.at("id").get<int64_t>(), a.at("content").get<std::string>(), 0.0f, true, a.value("special", false));
    }
  }

  const bool byte_fallback = type == "BPE" && model.value("byte_fallback", false);
  std::vector<std::string> tokens(entries.size());
  std::vector<int32_t> types(entries.size());
  if (type == "BPE" && !byte_fallback) {
    auto regexes = byte_level_regexes(tj.value("pre_tokenizer", json()));
    if (!regexes) fail("a BPE tokenizer without byte fallback must have a byte-level pre-tokenizer to be written as gpt2");
    const bool nfc = str(tj.value("normalizer", json::object()), "type") == "NFC";
    auto pre = gguf_pre_name(*regexes, model.value("ignore_merges", false), nfc);
    if (!pre) {
      fail("its pre-tokenizer (" + (regexes->empty() ? std::string("none") : regexes->front().substr(0, 80)) +
           ") is none that tokenizer.ggml.pre names, so llama.cpp would split text differently");
    }
    for (size_t i = 0; i < entries.size(); ++i) {
      const Entry& e = entries[i];
      if (!e.present) {
        tokens[i] = "[PAD" + std::to_string(i) + "]", types[i] = kUnused;
      } else if (e.added && (e.special || looks_special(e.text))) {
        tokens[i] = e.text, types[i] = kControl;
      } else if (e.added) {
        tokens[i] = std::regex_replace(e.text, std::regex("\xe2\x96\x81"), " "), types[i] = kUserDefined;
      } else {
        tokens[i] = e.text, types[i] = kNormal;
      }
    }
    w.add_string("tokenizer.ggml.model", "gpt2");
    w.add_string("tokenizer.ggml.pre", *pre);
    w.add_strings("tokenizer.ggml.tokens", tokens);
    w.add_array("tokenizer.ggml.token_type", ValueType::INT32, types);
    w.add_strings("tokenizer.ggml.merges", merge_strings(model.value("merges", json::array())));
  } else {
    // SentencePiece: merge by score. A BPE token scores -(rank of the merge
    // that makes it); one no merge makes is never a merge's result, so its
    // score is never consulted.
    std::vector<float> scores(entries.size(), 0.0f);
    std::map<std::string, float> merged;
    if (byte_fallback) {
      auto merges = merge_strings(model.value("merges", json::array()));
      for (size_t r = 0; r < merges.size(); ++r) {
        size_t sp = merges[r].find(' ', 1);
        if (sp == std::string::npos) continue;
        merged.emplace(merges[r].substr(0, sp) + merges[r].substr(sp + 1), -float(r + 1));
      }
    }
    const std::string unk = str(model, "unk_token");
    static const std::regex byte_token("<0x[0-9A-Fa-f]{2}>");
    for (size_t i = 0; i < entries.size(); ++i) {
      const Entry& e = entries[i];
      tokens[i] = e.present ? e.text : "[PAD" + std::to_string(i) + "]";
      if (!e.present) {
        types[i] = kUnused;
      } else if (e.added && e.special) {
        types[i] = e.text == unk ? kUnknown : kControl;
      } else if (e.added) {
        types[i] = kUserDefined;
      } else if (e.text == unk || (type == "Unigram" && int64_t(i) == model.value("unk_id", int64_t(-1)))) {
        types[i] = kUnknown;
      } else if (byte_fallback && std::regex_match(e.text, byte_token)) {
        types[i] = kByte;
      } else {
        types[i] = kNormal;
        if (type == "Unigram") {
          scores[i] = e.score;
        } else {
          auto it = merged.find(e.text);
          scores[i] = it != merged.end() ? it->second : -1e9f;
        }
      }
    }
    w.add_string("tokenizer.ggml.model", "llama");
    w.add_strings("tokenizer.ggml.tokens", tokens);
    w.add_array("tokenizer.ggml.scores", ValueType::FLOAT32, scores);
    w.add_array("tokenizer.ggml.token_type", ValueType::INT32, types);
    w.add_bool("tokenizer.ggml.add_space_prefix", space_prefix(tj));
  }

  LoadedTokenizer lt = load_tokenizer(dir);
  auto id_key = [&](const char* key, const std::optional<SpecialToken>& t) {
    if (t && t->id && *t->id >= 0 && *t->id < n_vocab) w.add_uint32(key, uint32_t(*t->id));
  };
  id_key("tokenizer.ggml.bos_token_id", lt.bos);
  id_key("tokenizer.ggml.eos_token_id", lt.eos);
  id_key("tokenizer.ggml.unknown_token_id", lt.unk);
  id_key("tokenizer.ggml.padding_token_id", lt.pad);
  w.add_bool("tokenizer.ggml.add_bos_token", lt.add_bos_token);
  w.add_bool("tokenizer.ggml.add_eos_token", lt.add_eos_token);
  for (const auto& t : lt.chat_templates) {
    w.add_string(t.name == "default" ? "tokenizer.chat_template" : "tokenizer.chat_template." + t.name, t.source);
  }
}

}  // namespace uma::text::tokenizer
