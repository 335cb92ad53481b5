// `uma convert --gguf-path`: a Hugging Face folder as one GGUF file, written
// as llama.cpp's convert_hf_to_gguf.py writes it (conversion/{llama,qwen,phi,
// gemma}.py): the same metadata keys and values, tensor names, Q/K row
// interleaving (llama), Gemma norms as 1 + w, llama3 rope scaling as the
// rope_freqs tensor and Phi-3 longrope as two factor tensors.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <regex>

#include "uma/core/io/file.h"
#include "uma/core/io/gguf_quants.h"
#include "uma/core/io/gguf_writer.h"
#include "uma/core/ops.h"
#include "uma/lm/convert.h"
#include "uma/lm/gguf_model.h"
#include "uma/lm/load.h"
#include "uma/text/tokenizer/gguf_vocab.h"

namespace uma::lm {

namespace fs = std::filesystem;
using io::gguf::GgmlType;

namespace {

[[noreturn]] void fail(const std::string& what) { throw std::invalid_argument("[convert] " + what); }

struct OutType {
  const char* name;
  GgmlType type;       // of the 2-D weights, before the mix's per-tensor choices
  uint32_t file_type;  // llama_ftype
};

constexpr OutType kOutTypes[] = {
    {"f32", GgmlType::F32, 0},       {"f16", GgmlType::F16, 1},       {"bf16", GgmlType::BF16, 32},
    {"q8_0", GgmlType::Q8_0, 7},     {"q4_0", GgmlType::Q4_0, 2},     {"q4_1", GgmlType::Q4_1, 3},
    {"q5_0", GgmlType::Q5_0, 8},     {"q5_1", GgmlType::Q5_1, 9},     {"q2_k", GgmlType::Q2_K, 10},
    {"q3_k_s", GgmlType::Q3_K, 11},  {"q3_k_m", GgmlType::Q3_K, 12},  {"q3_k_l", GgmlType::Q3_K, 13},
    {"q4_k_s", GgmlType::Q4_K, 14},  {"q4_k_m", GgmlType::Q4_K, 15},  {"q5_k_s", GgmlType::Q5_K, 16},
    {"q5_k_m", GgmlType::Q5_K, 17},  {"q6_k", GgmlType::Q6_K, 18},
};

// What llama-quantize's choice of a tensor's type looks at besides its name.
struct MixModel {
  int64_t n_layer = 0;
  int64_t n_gqa = 1;      // query heads per key/value head
  bool tied = false;      // no output.weight: token_embd is also the output
  bool llama_70b = false; // llama.cpp's LLM_TYPE_70B: 80 layers, grouped-query attention
};

int64_t block_size(GgmlType t) { return io::gguf::type_traits(uint32_t(t))->block_size; }

// The type llama-quantize (without an importance matrix) gives a 2-D weight
// of `cols` columns in a file of type `out`: the mixes' rules (more bits for
// the output, for attn_v and ffn_down in the first and last eighth of the
// layers and every third between, ...), then its fallbacks where the rows
// are not whole blocks, and F16 where even those are not.
GgmlType mix_type(const OutType& out, const std::string& name, int64_t cols, const MixModel& m) {
  GgmlType t = out.type;
  const int ft = int(out.file_type);
  const bool quantized = ft != 0 && ft != 1 && ft != 32;
  if (!quantized) return t;
  // llama-quantize quantizes only tensors named *weight.
  if (name.size() < 6 || name.compare(name.size() - 6, 6, "weight") != 0) return GgmlType::F16;
  enum { Q2_K = 10, Q3_K_S, Q3_K_M, Q3_K_L, Q4_K_S, Q4_K_M, Q5_K_S, Q5_K_M, Q6_K };
  auto has = [&](const char* s) { return name.find(s) != std::string::npos; };
  int layer = -1;
  if (name.rfind("blk.", 0) == 0) layer = std::atoi(name.c_str() + 4);
  const int64_t n = m.n_layer;
  auto more_bits = [n](int64_t i) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; };

  if (name == "output.weight" || (m.tied && name == "token_embd.weight")) {
    if (cols % block_size(t) != 0) {
      t = GgmlType::Q8_0;
    } else if (t != GgmlType::Q8_0) {
      t = GgmlType::Q6_K;
    }
  } else if (name == "token_embd.weight") {
    // as the file type says
  } else if (has("attn_v.weight") || has("attn_qkv.weight")) {
    if (ft == Q2_K) {
      t = m.n_gqa >= 4 ? GgmlType::Q4_K : GgmlType::Q3_K;
    } else if (ft == Q3_K_M) {
      t = layer < 2 ? GgmlType::Q5_K : GgmlType::Q4_K;
    } else if (ft == Q3_K_L) {
      t = GgmlType::Q5_K;
    } else if ((ft == Q4_K_M || ft == Q5_K_M) && more_bits(layer)) {
      t = GgmlType::Q6_K;
    } else if (ft == Q4_K_S && layer < 4) {
      t = GgmlType::Q5_K;
    }
    if (m.llama_70b && (t == GgmlType::Q3_K || t == GgmlType::Q4_K)) t = GgmlType::Q5_K;
  } else if (has("ffn_down")) {
    if (ft == Q2_K) {
      t = GgmlType::Q3_K;
    } else if (ft == Q3_K_M) {
      t = layer < n / 16 ? GgmlType::Q5_K : GgmlType::Q4_K;
    } else if (ft == Q3_K_L) {
      t = GgmlType::Q5_K;
    } else if ((ft == Q4_K_M || ft == Q5_K_M) && more_bits(layer)) {
      t = GgmlType::Q6_K;
    } else if (ft == Q4_K_S && layer < n / 8) {
      t = GgmlType::Q5_K;
    }
  } else if (has("attn_output.weight")) {
    if (ft == Q2_K) t = GgmlType::Q3_K;
    if (ft == Q3_K_M) t = GgmlType::Q4_K;
    if (ft == Q3_K_L) t = GgmlType::Q5_K;
  }

  if (cols % block_size(t) != 0) {
    switch (t) {
      case GgmlType::Q2_K: case GgmlType::Q3_K: t = GgmlType::Q4_0; break;
      case GgmlType::Q4_K: t = GgmlType::Q5_0; break;
      case GgmlType::Q5_K: t = GgmlType::Q5_1; break;
      case GgmlType::Q6_K: t = GgmlType::Q8_0; break;
      default: break;
    }
    if (cols % block_size(t) != 0) t = GgmlType::F16;
  }
  return t;
}

// config.json's model_type -> general.architecture.
std::string gguf_arch(const std::string& model_type) {
  if (model_type == "llama" || model_type == "mistral") return "llama";
  if (model_type == "qwen2" || model_type == "qwen3" || model_type == "phi3" || model_type == "gemma2") return model_type;
  if (model_type == "gemma3" || model_type == "gemma3_text") return "gemma3";
  fail("model_type '" + model_type + "' cannot be written as GGUF (supported: llama, mistral, qwen2, qwen3, phi3, "
       "gemma2, gemma3)");
}

// Typed reads of config.json, as llama.cpp's hparams lookups.
struct Config {
  const json& c;
  bool has(const char* k) const { return c.contains(k) && !c[k].is_null(); }
  int64_t integer(const char* k) const {
    if (!has(k) || !c[k].is_number_integer()) fail(std::string("config.json needs an integer \"") + k + "\"");
    return c[k].get<int64_t>();
  }
  double number(const char* k) const {
    if (!has(k) || !c[k].is_number()) fail(std::string("config.json needs a number \"") + k + "\"");
    return c[k].get<double>();
  }
  // rope_scaling (or rope_parameters), {} when absent.
  json rope() const {
    for (const char* k : {"rope_scaling", "rope_parameters"}) {
      if (has(k) && c[k].is_object()) return c[k];
    }
    return json::object();
  }
  std::string rope_type() const {
    json r = rope();
    for (const char* k : {"rope_type", "type"}) {
      if (r.contains(k) && r[k].is_string()) return r[k].get<std::string>();
    }
    return "";
  }
  std::optional<double> rope_theta() const {
    if (has("rope_theta")) return number("rope_theta");
    json r = rope();
    if (r.contains("rope_theta") && r["rope_theta"].is_number()) return r["rope_theta"].get<double>();
    return std::nullopt;
  }
  int64_t head_dim() const { return has("head_dim") ? integer("head_dim") : integer("hidden_size") / integer("num_attention_heads"); }
};

// The keys TextModel.set_gguf_parameters writes for a given config.
void base_metadata(io::gguf::Writer& w, const std::string& a, const Config& c, uint32_t file_type) {
  auto u32 = [&](const std::string& k, int64_t v) { w.add_uint32(a + "." + k, uint32_t(v)); };
  auto f32 = [&](const std::string& k, double v) { w.add_float32(a + "." + k, float(v)); };
  u32("block_count", c.integer("num_hidden_layers"));
  if (c.has("max_position_embeddings")) u32("context_length", c.integer("max_position_embeddings"));
  u32("embedding_length", c.integer("hidden_size"));
  u32("feed_forward_length", c.integer("intermediate_size"));
  u32("attention.head_count", c.integer("num_attention_heads"));
  if (c.has("num_key_value_heads")) u32("attention.head_count_kv", c.integer("num_key_value_heads"));
  json r = c.rope();
  std::string type = c.rope_type();
  if (type == "linear" && r.contains("factor")) {
    w.add_string(a + ".rope.scaling.type", "linear");
    f32("rope.scaling.factor", r["factor"].get<double>());
  } else if (type == "yarn" && r.contains("factor")) {
    w.add_string(a + ".rope.scaling.type", "yarn");
    f32("rope.scaling.factor", r["factor"].get<double>());
    u32("rope.scaling.original_context_length", r.at("original_max_position_embeddings").get<int64_t>());
    if (r.contains("extrapolation_factor")) f32("rope.scaling.yarn_ext_factor", r["extrapolation_factor"].get<double>());
    for (const char* k : {"attention_factor", "attn_factor"}) {
      if (r.contains(k) && r[k].is_number()) {
        f32("rope.scaling.yarn_attn_factor", r[k].get<double>());
        break;
      }
    }
    if (r.contains("beta_fast")) f32("rope.scaling.yarn_beta_fast", r["beta_fast"].get<double>());
    if (r.contains("beta_slow")) f32("rope.scaling.yarn_beta_slow", r["beta_slow"].get<double>());
  } else if (type == "su" || type == "longrope") {
    w.add_string(a + ".rope.scaling.type", "longrope");
  } else if (!type.empty() && type != "default" && type != "llama3") {
    fail("rope scaling type '" + type + "' cannot be written as GGUF");
  }
  if (auto theta = c.rope_theta()) f32("rope.freq_base", *theta);
  if (a == "gemma3") f32("rope.freq_base_swa", c.has("rope_local_base_freq") ? c.number("rope_local_base_freq") : 10000.0);
  if (c.has("rms_norm_eps")) f32("attention.layer_norm_rms_epsilon", c.number("rms_norm_eps"));
  if (c.has("head_dim") || a == "llama" || a == "gemma3") {
    u32("attention.key_length", c.head_dim());
    u32("attention.value_length", c.head_dim());
  }
  w.add_uint32("general.file_type", file_type);
}

// Phi-3's own set_gguf_parameters (and its longrope attention factor).
void phi3_metadata(io::gguf::Writer& w, const Config& c, uint32_t file_type, int64_t& orig_ctx) {
  auto u32 = [&](const std::string& k, int64_t v) { w.add_uint32("phi3." + k, uint32_t(v)); };
  auto f32 = [&](const std::string& k, double v) { w.add_float32("phi3." + k, float(v)); };
  json r = c.rope();
  int64_t ctx = c.integer("max_position_embeddings");
  orig_ctx = r.contains("original_max_position_embeddings") ? r["original_max_position_embeddings"].get<int64_t>()
                                                            : c.integer("original_max_position_embeddings");
  double rot = r.contains("partial_rotary_factor") ? r["partial_rotary_factor"].get<double>()
               : c.has("partial_rotary_factor")    ? c.number("partial_rotary_factor")
                                                   : 1.0;
  if (r.contains("long_factor")) {
    double scale = double(ctx) / double(orig_ctx);
    std::string type = c.rope_type();
    double attn = 1.0;
    if ((type == "su" || type == "longrope") && scale > 1.0) {
      attn = std::sqrt(1 + std::log(scale) / std::log(double(orig_ctx)));
    } else if (type == "yarn" && scale > 1.0) {
      attn = 0.1 * std::log(scale) + 1.0;
    } else if (type != "su" && type != "longrope" && type != "yarn") {
      fail("Phi-3 rope scaling type '" + type + "' cannot be written as GGUF");
    }
    f32("rope.scaling.attn_factor", attn);
  }
  u32("context_length", ctx);
  u32("rope.scaling.original_context_length", orig_ctx);
  u32("embedding_length", c.integer("hidden_size"));
  u32("feed_forward_length", c.integer("intermediate_size"));
  u32("block_count", c.integer("num_hidden_layers"));
  u32("attention.head_count", c.integer("num_attention_heads"));
  u32("attention.head_count_kv", c.integer("num_key_value_heads"));
  f32("attention.layer_norm_rms_epsilon", c.number("rms_norm_eps"));
  u32("rope.dimension_count", int64_t(rot * double(c.integer("hidden_size"))) / c.integer("num_attention_heads"));
  f32("rope.freq_base", c.rope_theta().value_or(10000.0));
  w.add_uint32("general.file_type", file_type);
  u32("attention.sliding_window", c.has("sliding_window") ? c.integer("sliding_window") : 0);
}

void gemma2_metadata(io::gguf::Writer& w, const Config& c, uint32_t file_type) {
  auto u32 = [&](const std::string& k, int64_t v) { w.add_uint32("gemma2." + k, uint32_t(v)); };
  auto f32 = [&](const std::string& k, double v) { w.add_float32("gemma2." + k, float(v)); };
  u32("context_length", c.integer("max_position_embeddings"));
  u32("embedding_length", c.integer("hidden_size"));
  u32("block_count", c.integer("num_hidden_layers"));
  u32("feed_forward_length", c.integer("intermediate_size"));
  u32("attention.head_count", c.integer("num_attention_heads"));
  u32("attention.head_count_kv", c.has("num_key_value_heads") ? c.integer("num_key_value_heads") : c.integer("num_attention_heads"));
  f32("attention.layer_norm_rms_epsilon", c.number("rms_norm_eps"));
  u32("attention.key_length", c.integer("head_dim"));
  u32("attention.value_length", c.integer("head_dim"));
  w.add_uint32("general.file_type", file_type);
  f32("attn_logit_softcapping", c.number("attn_logit_softcapping"));
  f32("final_logit_softcapping", c.number("final_logit_softcapping"));
  u32("attention.sliding_window", c.integer("sliding_window"));
}

// llama3 rope scaling as llama.cpp's frequency factors, in float32 as torch computes them.
std::vector<float> llama3_rope_factors(const Config& c) {
  json r = c.rope();
  const float base = float(c.rope_theta().value_or(10000.0));
  const int64_t dim = c.head_dim();
  const float factor = r.value("factor", 8.0f), low = r.value("low_freq_factor", 1.0f);
  const float high = r.value("high_freq_factor", 4.0f);
  const float old_ctx = r.value("original_max_position_embeddings", 8192.0f);
  const float low_wavelen = old_ctx / low, high_wavelen = old_ctx / high;
  std::vector<float> out;
  for (int64_t i = 0; i < dim; i += 2) {
    float freq = 1.0f / std::pow(base, float(i) / float(dim));
    float wavelen = float(2 * M_PI) / freq;
    if (wavelen < high_wavelen) {
      out.push_back(1.0f);
    } else if (wavelen > low_wavelen) {
      out.push_back(factor);
    } else {
      float smooth = (old_ctx / wavelen - low) / (high - low);
      out.push_back(1.0f / ((1.0f - smooth) / factor + smooth));
    }
  }
  return out;
}

std::vector<float> float_list(const json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_array()) fail(std::string("rope_scaling needs a list \"") + key + "\"");
  return j[key].get<std::vector<float>>();
}

struct Tensor {
  std::string name;
  array data;                 // the Hugging Face tensor
  std::vector<int64_t> rows;  // Hugging Face row of each stored row (empty: as is)
  float offset = 0.0f;        // added to every value (Gemma norms)
};

// llama.cpp's name of a Hugging Face tensor, "" when it has none.
std::string gguf_name(const std::string& hf, const std::string& arch) {
  if (hf == "model.embed_tokens.weight") return "token_embd.weight";
  if (hf == "model.norm.weight") return "output_norm.weight";
  if (hf == "lm_head.weight") return "output.weight";
  static const std::regex layer(R"(model\.layers\.(\d+)\.(.+)\.(weight|bias))");
  std::smatch m;
  if (std::regex_match(hf, m, layer)) {
    std::string part = gguf_layer_part(m[2].str(), arch);
    if (!part.empty()) return "blk." + m[1].str() + "." + part + "." + m[3].str();
  }
  return "";
}

// Gemma 3's converter keeps only the embedding rows the tokenizer has
// (tokenizer.json's vocab plus added tokens, counted as llama.cpp counts them).
std::optional<int64_t> gemma3_vocab_rows(const std::string& dir) {
  fs::path p = fs::path(dir) / "tokenizer.json";
  if (!fs::exists(p)) return std::nullopt;
  json tj = json::parse(io::read_small_file(p.string(), "convert"));
  int64_t n = 0;
  if (tj.contains("model") && tj["model"].contains("vocab")) n += int64_t(tj["model"]["vocab"].size());
  if (tj.contains("added_tokens") && tj["added_tokens"].is_array()) n += int64_t(tj["added_tokens"].size());
  return n;
}

}  // namespace

const std::vector<std::string>& gguf_types() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& t : kOutTypes) v.push_back(t.name);
    return v;
  }();
  return names;
}

ConvertResult convert_gguf(const ConvertOptions& o) {
  auto log = [&](const std::string& s) {
    if (o.log) o.log(s);
  };
  const OutType* out_type = nullptr;
  for (const auto& t : kOutTypes) {
    if (o.gguf_type == t.name) out_type = &t;
  }
  if (!out_type) {
    std::string all;
    for (const auto& t : gguf_types()) all += (all.empty() ? "" : ", ") + t;
    fail("--gguf-type: '" + o.gguf_type + "' is not one of " + all);
  }
  std::error_code ec;
  if (fs::exists(fs::symlink_status(o.gguf_path, ec))) {
    fail("Cannot save to the path " + o.gguf_path + " as it already exists. Please delete the file or specify a new "
         "path to save to.");
  }
  if (o.hf_path.empty() || !fs::is_directory(o.hf_path)) {
    fail("--hf-path: " + o.hf_path + " is not a local model folder");
  }

  log("[INFO] Loading");
  LoadOptions lo;
  lo.mmap = true;
  LoadedModel loaded = load_model(o.hf_path, lo);
  if (loaded.quantization) {
    log("[INFO] Dequantizing");
    dequantize_layers(*loaded.model);
  }
  const json& cj = loaded.config;
  const Config c{cj};
  const std::string model_type = cj.value("model_type", "");
  const std::string arch = gguf_arch(model_type);
  const bool gemma = arch == "gemma2" || arch == "gemma3";

  io::gguf::Writer w;
  w.add_string("general.architecture", arch);
  w.add_string("general.type", "model");
  std::string name = fs::path(o.hf_path).lexically_normal().filename().string();
  if (name.empty()) name = fs::path(o.hf_path).lexically_normal().parent_path().filename().string();
  w.add_string("general.name", name);

  std::vector<Tensor> extra;  // generated tensors (F32), written first as llama.cpp does
  auto factors = [](const std::vector<float>& v) {
    return array(v.data(), {int(v.size())}, float32);
  };
  if (arch == "phi3") {
    int64_t orig = 0;
    phi3_metadata(w, c, out_type->file_type, orig);
    json r = c.rope();
    if (r.contains("long_factor")) {
      extra.push_back({"rope_factors_long.weight", factors(float_list(r, "long_factor")), {}, 0.0f});
      extra.push_back({"rope_factors_short.weight", factors(float_list(r, "short_factor")), {}, 0.0f});
    }
  } else if (arch == "gemma2") {
    gemma2_metadata(w, c, out_type->file_type);
  } else {
    base_metadata(w, arch, c, out_type->file_type);
    if (arch == "llama") {
      w.add_uint32("llama.vocab_size", uint32_t(c.integer("vocab_size")));
      w.add_uint32("llama.rope.dimension_count", uint32_t(c.head_dim()));
      if (c.rope_type() == "llama3") extra.push_back({"rope_freqs.weight", factors(llama3_rope_factors(c)), {}, 0.0f});
    }
    if (arch == "gemma3") {
      if (c.has("final_logit_softcapping") && c.number("final_logit_softcapping") != 0.0) {
        w.add_float32("gemma3.final_logit_softcapping", float(c.number("final_logit_softcapping")));
      }
      if (!(c.has("sliding_window_pattern") && c.integer("sliding_window_pattern") == 1) && c.has("sliding_window")) {
        w.add_uint32("gemma3.attention.sliding_window", uint32_t(c.integer("sliding_window")));
      }
    }
  }
  w.add_uint32("general.quantization_version", 2);

  // The model's tensors under llama.cpp's names.
  const int64_t heads = c.integer("num_attention_heads");
  const int64_t kv_heads = c.has("num_key_value_heads") ? c.integer("num_key_value_heads") : heads;
  std::vector<Tensor> tensors = extra;
  int64_t n_vocab = 0;
  loaded.model->visit_parameters([&](const std::string& hf, array& a) {
    std::string g = gguf_name(hf, arch);
    if (g.empty()) fail("tensor " + hf + " of " + o.hf_path + " has no llama.cpp name for " + arch);
    if (a.ndim() < 1 || a.ndim() > 2) fail("tensor " + hf + " must have 1 or 2 dimensions");
    Tensor t{g, a, {}, 0.0f};
    if (g == "token_embd.weight") {
      if (arch == "gemma3") {
        if (auto rows = gemma3_vocab_rows(o.hf_path); rows && *rows < a.shape(0)) {
          t.data = slice(a, {0, 0}, {int(*rows), a.shape(1)});
        }
      }
      n_vocab = t.data.shape(0);
    }
    if (arch == "llama") {
      bool q = g.find(".attn_q.") != std::string::npos, k = g.find(".attn_k.") != std::string::npos;
      if (q || k) {
        // gguf_qk_rows gives, per Hugging Face row, the stored row: invert it.
        auto stored = gguf_qk_rows(a.shape(0), q ? heads : kv_heads, hf, o.hf_path);
        t.rows.assign(stored.size(), 0);
        for (size_t r = 0; r < stored.size(); ++r) t.rows[size_t(stored[r])] = int64_t(r);
      }
    }
    if (gemma && g.size() > 11 && g.compare(g.size() - 11, 11, "norm.weight") == 0) t.offset = 1.0f;
    tensors.push_back(std::move(t));
  });

  if (fs::exists(fs::path(o.hf_path) / "tokenizer.json")) {
    log("[INFO] Writing the tokenizer");
    text::tokenizer::add_gguf_tokenizer(w, o.hf_path, n_vocab);
  } else {
    log("[INFO] " + o.hf_path + " has no tokenizer.json: the GGUF file gets no tokenizer");
  }

  MixModel mix;
  mix.n_layer = c.integer("num_hidden_layers");
  mix.n_gqa = kv_heads > 0 ? heads / kv_heads : 1;
  mix.tied = std::none_of(tensors.begin(), tensors.end(), [](const Tensor& t) { return t.name == "output.weight"; });
  mix.llama_70b = arch == "llama" && mix.n_layer == 80 && heads != kv_heads;
  ConvertResult result;
  for (auto& t : tensors) {
    const bool matrix = t.data.ndim() == 2;
    const int64_t cols = t.data.shape(-1), rows = matrix ? t.data.shape(0) : 1;
    // As llama.cpp: vectors and norms F32; 2-D weights by the mix.
    const bool norm = t.name.size() > 12 && t.name.compare(t.name.size() - 12, 12, "_norm.weight") == 0;
    GgmlType type = !matrix || norm ? GgmlType::F32 : mix_type(*out_type, t.name, cols, mix);
    const auto* tr = io::gguf::type_traits(uint32_t(type));
    std::vector<uint64_t> dims = {uint64_t(cols)};
    if (matrix) dims.push_back(uint64_t(rows));
    result.total_parameters += uint64_t(rows * cols);
    result.total_size += uint64_t(rows * cols) / tr->block_size * tr->type_size;
    w.add_tensor(t.name, type, dims, [&t, type, rows, cols, tr](uint8_t* out) {
      std::vector<float> x = astype(t.data, float32).to_vector<float>();
      t.data = array(0.0f);  // release the source as it is written
      std::vector<float> row(static_cast<size_t>(cols));
      const int64_t row_bytes = cols / tr->block_size * tr->type_size;
      for (int64_t r = 0; r < rows; ++r) {
        const float* src = x.data() + (t.rows.empty() ? r : t.rows[size_t(r)]) * cols;
        for (int64_t j = 0; j < cols; ++j) row[size_t(j)] = src[j] + t.offset;
        io::gguf::quantize(uint32_t(type), row.data(), cols, out + r * row_bytes);
      }
    });
  }
  if (loaded.model) loaded.model->visit_parameters([](const std::string&, array& a) { a = array(0.0f); });

  log("[INFO] Writing " + o.gguf_path + " (" + o.gguf_type + ")");
  ConvertProgress progress{0, tensors.size(), 0, result.total_size};
  if (o.progress) o.progress(progress);
  w.write(o.gguf_path, [&](size_t n, uint64_t bytes) {
    progress.tensors_done = n;
    progress.bytes_done = bytes;
    if (o.progress) o.progress(progress);
  });
  result.shards = {fs::path(o.gguf_path).filename().string()};
  return result;
}

}  // namespace uma::lm
