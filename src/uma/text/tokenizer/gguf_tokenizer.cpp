#include "uma/text/tokenizer/gguf_tokenizer.h"

#include <stdexcept>

#include "uma/core/io/gguf.h"
#include "uma/text/tokenizer/bpe.h"

namespace uma::text::tokenizer {

namespace {

// Pre-tokenizer regexes per tokenizer.ggml.pre (the Hugging Face originals
// where llama.cpp rewrote them), applied in sequence like llama.cpp.
struct PreSpec {
  std::vector<std::string> regexes;
  bool ignore_merges = false;
  bool add_bos = false;
  bool nfc = false;
};

const char* kGpt2 = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
const char* kLlama3 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char* kQwen2 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char* kQwen35 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char* kGpt4o =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char* kTekken =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char* kGpt2NoTail = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))";
const char* kBloom = R"( ?[^(\s|.,!?…。，、।۔،)]+)";

bool in(const std::string& s, std::initializer_list<const char*> names) {
  for (const char* n : names) {
    if (s == n) return true;
  }
  return false;
}

PreSpec pre_spec(const std::string& pre) {
  if (pre.empty() || pre == "default") {
    return {{R"([\p{P}\$\+<=>\^~\|]+)", kGpt2NoTail, R"(\p{N}+)", "[0-9][0-9][0-9]"}};
  }
  if (in(pre, {"llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0",
               "lfm2", "jina-v5-nano"})) {
    return {{kLlama3}, true, true};
  }
  if (in(pre, {"dbrx", "smaug-bpe", "chatglm-bpe", "glm4", "jais-2"})) return {{kLlama3}};
  if (pre == "deepseek-llm") {
    return {{"[\r\n]",
             "\\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-ώᾀ-ᾴᾶ-ᾼιῂ-ῄῆ-ῌῐ-ΐῖ-Ίῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤΩℨK-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+",
             "\\s?[!-/:-~！-／：-～‘-‟　-。]+", "\\s+$", "[一-龥ࠀ-一가-퟿]+", "\\p{N}+"}};
  }
  if (pre == "deepseek-coder") {
    return {{"[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", "[一-龥ࠀ-一가-퟿]+", "\\p{N}"}};
  }
  if (in(pre, {"deepseek-v3", "hunyuan-dense", "joyai-llm", "hy_v4"})) {
    return {{"\\p{N}{1,3}", "[一-龥぀-ゟ゠-ヿ]+",
             "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+"}};
  }
  if (pre == "falcon") {
    return {{R"([\p{P}\$\+<=>\^~\|`]+)", kGpt2NoTail, "[0-9][0-9][0-9]"}};
  }
  if (in(pre, {"starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b",
               "mellum2"})) {
    return {{R"(\p{N})", kGpt2NoTail}};
  }
  if (in(pre, {"gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de",
               "a.x-4.0", "mellum", "modern-bert", "jina-v1-en", "jina-v2-code", "roberta-bpe",
               "exaone4", "mpt", "olmo", "jais", "trillion", "granite-docling"})) {
    return {{kGpt2}};
  }
  if (in(pre, {"qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "megrez"})) {
    return {{kQwen2}, false, false, true};
  }
  if (in(pre, {"stablelm2", "hunyuan", "solar-open", "grok-2"})) return {{kQwen2}};
  if (pre == "qwen35") return {{kQwen35}, false, false, true};
  if (in(pre, {"poro-chat", "bloom", "gpt3-finnish"})) return {{kBloom}};
  if (pre == "viking") return {{kBloom, R"(\p{N})"}};
  if (pre == "tekken") return {{kTekken}, true, true};
  if (in(pre, {"gpt-4o", "llama4", "kanana2", "talkie", "minimax-m2"})) return {{kGpt4o}};
  if (pre == "seed-coder") {
    return {{R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1}| ?[^\s\p{L}\p{N}\r\n]+|\s*[\r\n]+|\s+(?!\S)|\s+)"}};
  }
  if (in(pre, {"bailingmoe", "bailingmoe2", "llada-moe"})) {
    return {{R"('(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+)"}};
  }
  throw std::invalid_argument("[tokenizer] unsupported GGUF pre-tokenizer type tokenizer.ggml.pre='" +
                              pre + "'");
}

enum TokenType { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

std::optional<int32_t> get_id(const io::gguf::File& f, const char* key, size_t n_tokens) {
  const auto* v = f.get(key);
  if (!v) return std::nullopt;
  uint64_t id = v->as_uint();
  if (id >= n_tokens) return std::nullopt;  // llama.cpp ignores out-of-range ids
  return static_cast<int32_t>(id);
}

}  // namespace

Tokenizer tokenizer_from_gguf(const io::gguf::File& f, GgufTokenizerInfo* info_out) {
  const std::string path = f.path().string();
  const auto* model_v = f.get("tokenizer.ggml.model");
  if (!model_v) throw std::invalid_argument("[tokenizer] " + path + " has no tokenizer.ggml.model");
  GgufTokenizerInfo info;
  info.model = std::string(model_v->as_string());
  if (const auto* p = f.get("tokenizer.ggml.pre")) info.pre = std::string(p->as_string());
  const auto* tokens_v = f.get("tokenizer.ggml.tokens");
  if (!tokens_v) throw std::invalid_argument("[tokenizer] " + path + " has no tokenizer.ggml.tokens");
  std::vector<std::string_view> tokens = tokens_v->as_strings();
  std::vector<int64_t> types;
  if (const auto* t = f.get("tokenizer.ggml.token_type")) {
    types = t->as_ints();
    if (types.size() < tokens.size()) {
      throw std::invalid_argument("[tokenizer] " + path + ": token_type has " +
                                  std::to_string(types.size()) + " entries for " +
                                  std::to_string(tokens.size()) + " tokens");
    }
  }
  const size_t n = tokens.size();
  bool spm = info.model == "llama";
  if (!spm && info.model != "gpt2") {
    throw std::invalid_argument("[tokenizer] unsupported GGUF tokenizer model tokenizer.ggml.model='" +
                                info.model + "' (supported: gpt2, llama)");
  }

  TokenizerParts parts;
  bool add_space_prefix = spm;
  if (spm) {
    std::vector<std::string> toks(tokens.begin(), tokens.end());
    std::vector<float> scores;
    if (const auto* s = f.get("tokenizer.ggml.scores")) scores = s->as_floats();
    parts.model = make_spm(toks, scores);
    if (const auto* a = f.get("tokenizer.ggml.add_space_prefix")) add_space_prefix = a->as_bool();
    std::vector<NormalizerPtr> norms;
    if (add_space_prefix) norms.push_back(make_prepend_normalizer("\u2581"));
    norms.push_back(make_replace_normalizer(" ", "\u2581"));
    parts.normalizer = make_sequence_normalizer(std::move(norms));
    parts.decoder = make_sentencepiece_decoder(add_space_prefix);
    info.add_bos = true;
    info.bos_id = n > 1 ? std::optional<int32_t>(1) : std::nullopt;
    info.eos_id = n > 2 ? std::optional<int32_t>(2) : std::nullopt;
    info.unk_id = n > 0 ? std::optional<int32_t>(0) : std::nullopt;
  } else {
    PreSpec spec = pre_spec(info.pre);
    Vocab vocab;
    size_t bytes = 0;
    for (auto t : tokens) bytes += t.size();
    vocab.reserve(n, bytes);
    for (size_t i = 0; i < n; ++i) vocab.insert(tokens[i], static_cast<int32_t>(i));
    BpeOptions opt;
    opt.ignore_merges = spec.ignore_merges;
    auto bpe = std::make_unique<BpeModel>(std::move(vocab), opt);
    const auto* merges_v = f.get("tokenizer.ggml.merges");
    if (!merges_v) throw std::invalid_argument("[tokenizer] " + path + " has no tokenizer.ggml.merges");
    // All merges in one call: add_merges reserves for the batch, so adding
    // them one at a time would reallocate per merge (quadratic in 280k merges).
    std::vector<std::pair<std::string_view, std::string_view>> merges;
    for (std::string_view m : merges_v->as_strings()) {
      size_t sp = m.size() > 1 ? m.find(' ', 1) : std::string_view::npos;
      if (sp == std::string_view::npos) {
        throw std::invalid_argument("[tokenizer] " + path + ": bad merge '" + std::string(m.substr(0, 80)) + "'");
      }
      merges.emplace_back(m.substr(0, sp), m.substr(sp + 1));
    }
    bpe->add_merges(merges);
    parts.model = std::move(bpe);
    if (spec.nfc) parts.normalizer = make_unicode_normalizer(UnicodeForm::NFC);
    if (spec.regexes.size() == 1 && spec.regexes[0] == kGpt2) {
      parts.pre_tokenizer = make_byte_level_pre_tokenizer(false, true);
    } else {
      std::vector<PreTokenizerPtr> items;
      for (const auto& re : spec.regexes) {
        items.push_back(make_split_pre_tokenizer(re, true, SplitBehavior::Isolated, false));
      }
      items.push_back(make_byte_level_pre_tokenizer(false, false));
      parts.pre_tokenizer = make_sequence_pre_tokenizer(std::move(items));
    }
    parts.decoder = make_byte_level_decoder();
    info.add_bos = spec.add_bos;
  }

  for (size_t i = 0; i < n && !types.empty(); ++i) {
    int64_t t = types[i];
    if (t != kControl && t != kUnknown && t != kUserDefined) continue;
    AddedToken a;
    a.content = std::string(tokens[i]);
    a.special = t != kUserDefined;
    a.normalized = false;
    parts.added_tokens.push_back(std::move(a));
  }

  if (auto id = get_id(f, "tokenizer.ggml.bos_token_id", n)) info.bos_id = id;
  if (auto id = get_id(f, "tokenizer.ggml.eos_token_id", n)) info.eos_id = id;
  if (auto id = get_id(f, "tokenizer.ggml.eot_token_id", n)) info.eot_id = id;
  if (auto id = get_id(f, "tokenizer.ggml.eom_token_id", n)) info.eom_id = id;
  if (auto id = get_id(f, "tokenizer.ggml.unknown_token_id", n)) info.unk_id = id;
  if (auto id = get_id(f, "tokenizer.ggml.padding_token_id", n)) info.pad_id = id;
  if (const auto* v = f.get("tokenizer.ggml.add_bos_token")) info.add_bos = v->as_bool();
  if (const auto* v = f.get("tokenizer.ggml.add_eos_token")) info.add_eos = v->as_bool();
  std::vector<int32_t> prefix, suffix;
  if (info.add_bos && info.bos_id) prefix.push_back(*info.bos_id);
  if (info.add_eos && info.eos_id) suffix.push_back(*info.eos_id);
  parts.post_processor = make_template_post_processor(prefix, suffix);

  Tokenizer tok(std::move(parts));
  if (info_out) *info_out = info;
  return tok;
}

std::optional<std::string> gguf_pre_name(const std::vector<std::string>& regexes, bool ignore_merges, bool nfc) {
  // One name per distinct spec, the usual one first.
  static const char* kNames[] = {"llama-bpe", "gpt-2",  "qwen2",  "qwen35",      "tekken",     "gpt-4o",
                                 "dbrx",      "stablelm2", "starcoder", "falcon", "default", "deepseek-llm",
                                 "deepseek-coder", "deepseek-v3", "bloom", "viking", "seed-coder", "bailingmoe"};
  for (const char* name : kNames) {
    PreSpec spec = pre_spec(name);
    if (spec.regexes == regexes && spec.ignore_merges == ignore_merges && spec.nfc == nfc) return std::string(name);
  }
  return std::nullopt;
}

const std::string& gpt2_byte_level_regex() {
  static const std::string re = kGpt2;
  return re;
}

const std::string& llama3_split_regex() {
  static const std::string re = kLlama3;
  return re;
}

}  // namespace uma::text::tokenizer
