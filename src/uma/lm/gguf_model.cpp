#include "uma/lm/gguf_model.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <functional>
#include <algorithm>
#include <filesystem>
#include <map>
#include <regex>

#include "uma/core/allocator.h"
#include "uma/core/io/gguf.h"
#include "uma/core/io/gguf_quants.h"
#include "uma/core/ops.h"
#include "uma/core/parallel.h"

namespace uma::lm {

namespace fs = std::filesystem;
using io::gguf::File;
using io::gguf::GgmlType;
using io::gguf::TensorInfo;

namespace {

struct Arch {
  const char* gguf;        // general.architecture
  const char* model_type;  // config.json's
  bool permuted_qk;        // llama.cpp's converter interleaved Q/K rows for its rope
  bool gemma;              // norms stored as 1 + w; Gemma's config keys
};

constexpr Arch kArchs[] = {
    {"llama", "llama", true, false},   {"qwen2", "qwen2", false, false}, {"qwen3", "qwen3", false, false},
    {"phi3", "phi3", false, false},    {"gemma2", "gemma2", false, true}, {"gemma3", "gemma3", false, true},
};

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw std::invalid_argument("[gguf] " + path + ": " + what);
}

// The parts of a split file, in order, from the path of any part.
std::vector<std::string> part_paths(const std::string& path) {
  static const std::regex split(R"((.*)-(\d{5})-of-(\d{5})\.gguf)");
  std::smatch m;
  if (!std::regex_match(path, m, split)) return {path};
  int n = std::stoi(m[3].str());
  if (n < 1) fail(path, "a split file name must count at least one part");
  std::vector<std::string> out;
  for (int i = 1; i <= n; ++i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "-%05d-of-%05d.gguf", i, n);
    std::string p = m[1].str() + buf;
    if (!fs::exists(p)) fail(path, "split part " + p + " is missing");
    out.push_back(p);
  }
  return out;
}

std::string arch_key(const Arch& a, const std::string& key) { return std::string(a.gguf) + "." + key; }

// Typed metadata reads, errors naming the key.
struct Meta {
  const File& f;
  std::string arch;
  std::string path;

  const io::gguf::Value* get(const std::string& key) const { return f.get(arch + "." + key); }
  // A positive integer; an array of equal entries (per-layer values) reads as one.
  std::optional<int64_t> integer(const std::string& key) const {
    const auto* v = get(key);
    if (!v) return std::nullopt;
    if (v->is_array()) {
      auto xs = v->as_ints();
      if (xs.empty()) fail(path, arch + "." + key + " is an empty array");
      for (auto x : xs) {
        if (x != xs[0]) fail(path, arch + "." + key + " varies across layers, which uma's models do not support");
      }
      return xs[0];
    }
    return v->as_int();
  }
  int64_t required(const std::string& key) const {
    auto v = integer(key);
    if (!v) fail(path, "metadata " + arch + "." + key + " is missing");
    return *v;
  }
  std::optional<double> number(const std::string& key) const {
    const auto* v = get(key);
    if (!v) return std::nullopt;
    return v->as_float();
  }
};

std::vector<float> tensor_floats(const File& f, const TensorInfo& t, const std::string& path) {
  if (!io::gguf::can_dequantize(t.type)) fail(path, "tensor " + std::string(t.name) + " has an unsupported type");
  std::vector<float> v(t.n_elements);
  io::gguf::dequantize(t.type, f.tensor_data(t).data(), int64_t(t.n_elements), v.data());
  return v;
}

// config.json's fields from the metadata (the keys llama.cpp's converter
// writes for each architecture).
json make_config(const File& f, const Arch& a, const std::map<std::string, const TensorInfo*>& tensors,
                 const std::string& path) {
  Meta m{f, a.gguf, path};
  json c;
  c["model_type"] = a.model_type;
  c["hidden_size"] = m.required("embedding_length");
  c["num_hidden_layers"] = m.required("block_count");
  c["intermediate_size"] = m.required("feed_forward_length");
  int64_t heads = m.required("attention.head_count");
  c["num_attention_heads"] = heads;
  c["num_key_value_heads"] = m.integer("attention.head_count_kv").value_or(heads);
  int64_t head_dim = 0;
  if (auto k = m.integer("attention.key_length")) {
    head_dim = *k;
    c["head_dim"] = head_dim;
  } else if (heads > 0) {
    head_dim = c["hidden_size"].get<int64_t>() / heads;
  }
  if (auto eps = m.number("attention.layer_norm_rms_epsilon")) c["rms_norm_eps"] = *eps;
  if (auto theta = m.number("rope.freq_base")) c["rope_theta"] = *theta;
  if (auto ctx = m.integer("context_length")) c["max_position_embeddings"] = *ctx;
  if (auto rot = m.integer("rope.dimension_count"); rot && head_dim > 0 && *rot != head_dim) {
    c["partial_rotary_factor"] = double(*rot) / double(head_dim);
  }
  auto it = tensors.find("token_embd.weight");
  if (it == tensors.end()) fail(path, "has no token_embd.weight");
  if (it->second->dims.size() != 2) fail(path, "token_embd.weight must have 2 dimensions");
  c["vocab_size"] = it->second->dims[1];
  c["tie_word_embeddings"] = !tensors.count("output.weight");
  if (tensors.count("blk.0.attn_q.bias") || tensors.count("blk.0.attn_qkv.bias")) c["attention_bias"] = true;

  // Rope scaling: linear and yarn from metadata; llama3's as the rope_freqs
  // tensor (frequency divisors); Phi-3's longrope as two factor tensors.
  json scaling;
  const auto* type = m.get("rope.scaling.type");
  std::string stype = type ? std::string(type->as_string()) : "";
  auto factor = m.number("rope.scaling.factor");
  auto orig = m.integer("rope.scaling.original_context_length");
  if (stype == "linear" && factor && *factor != 1.0) {
    scaling = {{"rope_type", "linear"}, {"factor", *factor}};
  } else if (stype == "yarn" && factor) {
    scaling = {{"rope_type", "yarn"}, {"factor", *factor}};
    if (orig) scaling["original_max_position_embeddings"] = *orig;
    if (auto v = m.number("rope.scaling.yarn_beta_fast")) scaling["beta_fast"] = *v;
    if (auto v = m.number("rope.scaling.yarn_beta_slow")) scaling["beta_slow"] = *v;
  } else if (!stype.empty() && stype != "none" && stype != "linear") {
    fail(path, "rope scaling type '" + stype + "' is not supported");
  }
  if (auto rf = tensors.find("rope_freqs.weight"); rf != tensors.end()) {
    scaling = {{"rope_type", "freq_factors"}, {"factors", tensor_floats(f, *rf->second, path)}};
  }
  auto lf = tensors.find("rope_factors_long.weight"), sf = tensors.find("rope_factors_short.weight");
  if (lf != tensors.end() && sf != tensors.end()) {
    scaling = {{"rope_type", "longrope"},
               {"long_factor", tensor_floats(f, *lf->second, path)},
               {"short_factor", tensor_floats(f, *sf->second, path)}};
    if (auto v = m.number("rope.scaling.attn_factor")) scaling["attention_factor"] = *v;
    if (orig) c["original_max_position_embeddings"] = *orig;
  }
  if (!scaling.is_null()) c["rope_scaling"] = scaling;
  // 0 is how the converter writes "no window" (Phi-3's null).
  if (auto w = m.integer("attention.sliding_window"); w && *w > 0) c["sliding_window"] = *w;

  if (a.gemma) {
    int64_t layers = c["num_hidden_layers"].get<int64_t>(), hidden = c["hidden_size"].get<int64_t>();
    // llama.cpp scales queries by 1/sqrt(hidden / heads) for the 27B models
    // (46 layers in Gemma 2, 62 in Gemma 3) and by 1/sqrt(head_dim) otherwise,
    // as their config.json's query_pre_attn_scalar says.
    bool big = (std::string(a.gguf) == "gemma2" && layers == 46) || (std::string(a.gguf) == "gemma3" && layers == 62);
    c["query_pre_attn_scalar"] = big ? double(hidden / heads) : double(head_dim);
    if (auto v = m.number("attn_logit_softcapping")) c["attn_logit_softcapping"] = *v;
    if (auto v = m.number("final_logit_softcapping")) c["final_logit_softcapping"] = *v;
    // Sliding-window layers as llama.cpp reads them: attention.sliding_window_pattern
    // (a period n, layer i local when i % n < n - 1, or one flag per layer),
    // by default every second layer (Gemma 2) or five of six (Gemma 3, only
    // when the file has a sliding window at all).
    bool gemma3 = std::string(a.gguf) == "gemma3";
    std::vector<bool> local(size_t(layers), false);
    if (!gemma3 || c.contains("sliding_window")) {
      std::vector<int64_t> flags;
      int64_t period = gemma3 ? 6 : 2;
      if (const auto* p = m.get("attention.sliding_window_pattern")) {
        if (p->is_array()) {
          flags = p->as_ints();
          if (int64_t(flags.size()) != layers) fail(path, arch_key(a, "attention.sliding_window_pattern") + " needs one flag per layer");
        } else {
          period = p->as_int();
          if (period < 1) fail(path, arch_key(a, "attention.sliding_window_pattern") + " must be at least 1");
        }
      }
      for (int64_t i = 0; i < layers; ++i) local[size_t(i)] = flags.empty() ? i % period < period - 1 : flags[size_t(i)] != 0;
      if (!c.contains("sliding_window")) c["sliding_window"] = 4096;  // llama.cpp's Gemma 2 default
    }
    json types = json::array();
    for (bool l : local) types.push_back(l ? "sliding_attention" : "full_attention");
    c["layer_types"] = types;
    if (gemma3) c["rope_local_base_freq"] = m.number("rope.freq_base_swa").value_or(10000.0);
  }
  return c;
}

// llama.cpp's per-layer parts and Hugging Face's, in the order the inverse
// lookup prefers (ffn_norm before post_attention_norm: outside Gemma both
// name post_attention_layernorm, and llama.cpp writes ffn_norm).
const std::vector<std::pair<std::string, std::string>>& layer_parts() {
  static const std::vector<std::pair<std::string, std::string>> parts = {
      {"attn_norm", "input_layernorm"},          {"attn_q", "self_attn.q_proj"},
      {"attn_k", "self_attn.k_proj"},            {"attn_v", "self_attn.v_proj"},
      {"attn_qkv", "self_attn.qkv_proj"},        {"attn_output", "self_attn.o_proj"},
      {"attn_q_norm", "self_attn.q_norm"},       {"attn_k_norm", "self_attn.k_norm"},
      {"ffn_gate", "mlp.gate_proj"},             {"ffn_down", "mlp.down_proj"},
      {"ffn_up", "mlp.up_proj"},                 {"ffn_norm", "post_attention_layernorm"},
      {"post_attention_norm", "post_attention_layernorm"}, {"post_ffw_norm", "post_feedforward_layernorm"},
  };
  return parts;
}

// llama.cpp tensor name -> Hugging Face name; empty for tensors consumed by
// the config.
std::string hf_name(const std::string& g, const Arch& a, const std::string& path) {
  if (g == "rope_freqs.weight" || g == "rope_factors_long.weight" || g == "rope_factors_short.weight") return "";
  if (g == "token_embd.weight") return "model.embed_tokens.weight";
  if (g == "output_norm.weight") return "model.norm.weight";
  if (g == "output.weight") return "lm_head.weight";
  static const std::regex blk(R"(blk\.(\d+)\.([a-z_]+)\.(weight|bias))");
  std::smatch m;
  if (std::regex_match(g, m, blk)) {
    std::string hf = hf_layer_part(m[2].str(), a.gguf);
    if (!hf.empty()) return "model.layers." + m[1].str() + "." + hf + "." + m[3].str();
  }
  fail(path, "tensor " + g + " has no counterpart in uma's " + a.model_type + " model");
}

// fn(begin, end) over [0, n) on the CPU threads (conversion at load time).
void parallel_rows(int64_t n, const std::function<void(int64_t, int64_t)>& fn) {
  cpu_parallel_for(size_t(n), 64, [&](size_t b, size_t e) { fn(int64_t(b), int64_t(e)); });
}

array new_array(Shape shape, Dtype dtype) {
  size_t n = 1;
  for (auto s : shape) n *= size_t(s);
  return array(allocator::malloc(n * size_of(dtype)), std::move(shape), dtype);
}

void store_floats(const float* x, void* out, Dtype dtype, size_t n) {
  switch (dtype) {
    case Dtype::float32: std::memcpy(out, x, n * 4); return;
    case Dtype::float16: {
      auto* o = static_cast<float16_t*>(out);
      for (size_t i = 0; i < n; ++i) o[i] = float16_t(x[i]);
      return;
    }
    case Dtype::bfloat16: {
      auto* o = static_cast<bfloat16_t*>(out);
      for (size_t i = 0; i < n; ++i) o[i] = bfloat16_t(x[i]);
      return;
    }
    default: throw std::logic_error("[gguf] load dtype must be a float type");
  }
}

// One stored tensor as a float array of `dtype`, rows in the order `rows`
// gives (empty: as stored), `offset` added to every value (Gemma's norms).
array float_tensor(const File& f, const TensorInfo& t, const Shape& shape, Dtype dtype,
                   const std::vector<int64_t>& rows, float offset) {
  array out = new_array(shape, dtype);
  const int64_t nrows = shape.size() == 1 ? 1 : shape[0];
  const int64_t cols = int64_t(t.n_elements) / nrows;
  const auto* tr = io::gguf::type_traits(t.type);
  const int64_t row_bytes = cols / tr->block_size * tr->type_size;
  const uint8_t* base = f.tensor_data(t).data();
  auto* o = static_cast<uint8_t*>(out.raw_ptr());
  parallel_rows(nrows, [&](int64_t b, int64_t e) {
    std::vector<float> row(static_cast<size_t>(cols));
    for (int64_t r = b; r < e; ++r) {
      int64_t src = rows.empty() ? int64_t(r) : rows[r];
      io::gguf::dequantize(t.type, base + src * row_bytes, cols, row.data());
      if (offset != 0) for (auto& v : row) v += offset;
      store_floats(row.data(), o + r * cols * size_of(dtype), dtype, size_t(cols));
    }
  });
  return out;
}

// A packed tensor as MLX affine {weight, scales, biases}, group 32.
std::vector<array> affine_tensor(const File& f, const TensorInfo& t, int64_t rows, int64_t cols, int bits,
                                 Dtype dtype, const std::vector<int64_t>& order) {
  array codes = new_array({int(rows), int(cols * bits / 32)}, uint32);
  array scales = new_array({int(rows), int(cols / 32)}, float32);
  array biases = new_array({int(rows), int(cols / 32)}, float32);
  const auto* tr = io::gguf::type_traits(t.type);
  const int64_t row_bytes = cols / tr->block_size * tr->type_size;
  const uint8_t* base = f.tensor_data(t).data();
  auto* c = static_cast<uint32_t*>(codes.raw_ptr());
  auto* s = static_cast<float*>(scales.raw_ptr());
  auto* b = static_cast<float*>(biases.raw_ptr());
  const int64_t words = cols * bits / 32, groups = cols / 32;
  parallel_rows(rows, [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      int64_t src = order.empty() ? int64_t(r) : order[r];
      io::gguf::to_affine(t.type, base + src * row_bytes, 1, cols, c + r * words, s + r * groups, b + r * groups);
    }
  });
  if (dtype != float32) {
    scales = astype(scales, dtype);
    biases = astype(biases, dtype);
  }
  return {codes, scales, biases};
}

// The types whose matrices stay in their blocks: those gguf_matmul has
// kernels for. On the CPU that is the 32-value types and Q4_K/Q5_K/Q6_K; on
// the GPU (the default device as the model loads) the K-quants only, and the
// 32-value types become affine groups of 32, which CUDA's quantized_matmul
// runs. The others are decoded at load.
bool keeps_blocks(uint32_t type) {
  switch (GgmlType(type)) {
    case GgmlType::Q4_0: case GgmlType::Q4_1: case GgmlType::Q5_0: case GgmlType::Q5_1: case GgmlType::Q8_0:
      return default_device().type != Device::gpu;
    case GgmlType::Q4_K: case GgmlType::Q5_K: case GgmlType::Q6_K:
      return true;
    default:
      return false;
  }
}

// Tensor t of `f` as stored, a view of the mapping that keeps the file
// (one of `files`) open while the array lives.
array mapped_view(const std::vector<std::shared_ptr<const File>>& files, const File& f, const TensorInfo& t,
                  Shape shape, Dtype dtype) {
  std::shared_ptr<const File> keep;
  for (const auto& file : files) {
    if (file.get() == &f) keep = file;
  }
  return array(const_cast<uint8_t*>(f.tensor_data(t).data()), std::move(shape), dtype, [keep](void*) {});
}

// A block-quantized matrix as uint8 (rows, bytes per row): a view of the
// mapping when its rows stay in order, else the rows copied in `order`.
array block_tensor(const std::vector<std::shared_ptr<const File>>& files, const File& f, const TensorInfo& t,
                   int64_t rows, const std::vector<int64_t>& order, bool mmap) {
  const auto data = f.tensor_data(t);
  const int64_t row_bytes = int64_t(data.size()) / rows;
  const Shape shape{int(rows), int(row_bytes)};
  if (order.empty() && mmap) return mapped_view(files, f, t, shape, uint8);
  array out = new_array(shape, uint8);
  auto* o = static_cast<uint8_t*>(out.raw_ptr());
  parallel_rows(rows, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      std::memcpy(o + r * row_bytes, data.data() + (order.empty() ? r : order[r]) * row_bytes, size_t(row_bytes));
    }
  });
  return out;
}

// A Q4_0 or Q8_0 matrix of rows (a multiple of 8), rows taken in `order`, in
// the CPU kernels' interleaved layout x8 (kGgufQ4_0x8, kGgufQ8_0x8:
// core/ops/quantized.h).
array x8_tensor(uint32_t x8, const File& f, const TensorInfo& t, int64_t rows, const std::vector<int64_t>& order) {
  const auto data = f.tensor_data(t);
  const int64_t row_bytes = int64_t(data.size()) / rows;
  array out = new_array(Shape{int(rows), int(row_bytes)}, uint8);
  auto* o = static_cast<uint8_t*>(out.raw_ptr());
  auto row = [&](int64_t n) { return data.data() + (order.empty() ? n : order[n]) * row_bytes; };
  parallel_rows(rows / 8, [&](int64_t b, int64_t e) { gguf_interleave_x8(x8, row, row_bytes, b, e, o); });
  return out;
}

Dtype default_dtype(const File& f, const Arch& a) {
  if (a.gemma) return float32;
  for (const auto& t : f.tensors()) {
    if (t.dims.size() == 2 && t.type == uint32_t(GgmlType::BF16)) return bfloat16;
  }
  return float16;
}

}  // namespace

const char* gguf_file_type_name(uint64_t t) {
  static const std::map<uint64_t, const char*> names = {
      {0, "F32"},      {1, "F16"},      {2, "Q4_0"},    {3, "Q4_1"},    {7, "Q8_0"},     {8, "Q5_0"},
      {9, "Q5_1"},     {10, "Q2_K"},    {11, "Q3_K_S"}, {12, "Q3_K_M"}, {13, "Q3_K_L"},  {14, "Q4_K_S"},
      {15, "Q4_K_M"},  {16, "Q5_K_S"},  {17, "Q5_K_M"}, {18, "Q6_K"},   {19, "IQ2_XXS"}, {20, "IQ2_XS"},
      {21, "Q2_K_S"},  {22, "IQ3_XS"},  {23, "IQ3_XXS"}, {24, "IQ1_S"}, {25, "IQ4_NL"},  {26, "IQ3_S"},
      {27, "IQ3_M"},   {28, "IQ2_S"},   {29, "IQ2_M"},  {30, "IQ4_XS"}, {31, "IQ1_M"},   {32, "BF16"},
      {36, "TQ1_0"},   {37, "TQ2_0"},   {38, "MXFP4_MOE"}};
  auto it = names.find(t);
  return it == names.end() ? "" : it->second;
}

std::string gguf_file_type(const std::string& path) {
  const File f = File::open(part_paths(path).front());  // metadata lives in the first part
  const auto* t = f.get("general.file_type");
  if (!t) return "";
  try {
    return gguf_file_type_name(t->as_uint());
  } catch (const std::exception&) {
    return "";  // not an integer
  }
}

std::string hf_layer_part(const std::string& gguf_part, const std::string& arch) {
  for (const auto& [g, hf] : layer_parts()) {
    if (g != gguf_part) continue;
    bool gemma = arch == "gemma2" || arch == "gemma3";
    if (gemma && g == "ffn_norm") return "pre_feedforward_layernorm";
    if (arch == "phi3" && g == "ffn_up") return "mlp.gate_up_proj";
    return hf;
  }
  return "";
}

std::string gguf_layer_part(const std::string& hf_part, const std::string& arch) {
  for (const auto& [g, hf] : layer_parts()) {
    if (hf_layer_part(g, arch) == hf_part) return g;
  }
  return "";
}

// Stored row h*D + 2j + t of head h holds Hugging Face's row h*D + t*D/2 + j.
std::vector<int64_t> gguf_qk_rows(int64_t rows, int64_t heads, const std::string& name, const std::string& path) {
  if (heads <= 0 || rows % (2 * heads)) fail(path, name + " has " + std::to_string(rows) + " rows, not a multiple of 2 x its heads");
  int64_t d = rows / heads;
  std::vector<int64_t> src(static_cast<size_t>(rows));
  for (int64_t h = 0; h < heads; ++h) {
    for (int64_t t = 0; t < 2; ++t) {
      for (int64_t j = 0; j < d / 2; ++j) src[size_t(h * d + t * (d / 2) + j)] = h * d + 2 * j + t;
    }
  }
  return src;
}

bool is_gguf_file(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return false;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char magic[4] = {};
  bool ok = ::read(fd, magic, 4) == 4 && std::memcmp(magic, "GGUF", 4) == 0;
  ::close(fd);
  return ok;
}

GgufCheckpoint read_gguf_checkpoint(const std::string& path, std::optional<Dtype> dtype, bool mmap) {
  GgufCheckpoint out;
  out.paths = part_paths(path);
  std::vector<std::shared_ptr<const File>> files;
  for (const auto& p : out.paths) {
    files.push_back(std::make_shared<const File>(File::open(p)));
    out.file_bytes += files.back()->bytes().size();
  }
  out.first = files[0];
  const File& head = *files[0];
  const auto* arch_v = head.get("general.architecture");
  if (!arch_v) fail(path, "metadata general.architecture is missing");
  std::string arch_name(arch_v->as_string());
  const Arch* arch = nullptr;
  for (const auto& a : kArchs) {
    if (arch_name == a.gguf) arch = &a;
  }
  if (!arch) {
    std::string known;
    for (const auto& a : kArchs) known += std::string(known.empty() ? "" : ", ") + a.gguf;
    fail(path, "architecture '" + arch_name.substr(0, 64) + "' is not supported (uma runs " + known + ")");
  }

  // Every part's tensors by name (a name twice is an error).
  std::map<std::string, const TensorInfo*> tensors;
  std::map<std::string, const File*> owner;
  for (const auto& file : files) {
    for (const auto& t : file->tensors()) {
      std::string name(t.name);
      if (!tensors.emplace(name, &t).second) fail(path, "tensor " + name + " appears twice");
      owner[name] = file.get();
    }
  }
  out.config = make_config(head, *arch, tensors, path);
  const Dtype dt = dtype ? *dtype : default_dtype(head, *arch);
  const int64_t heads = out.config["num_attention_heads"].get<int64_t>();
  const int64_t kv_heads = out.config["num_key_value_heads"].get<int64_t>();

  json quant = json::object();
  for (const auto& [gname, t] : tensors) {
    std::string name = hf_name(gname, *arch, path);
    if (name.empty()) continue;
    const File& f = *owner[gname];
    const auto* tr = io::gguf::type_traits(t->type);
    std::string tname = tr ? tr->name : "type " + std::to_string(t->type);
    if (!io::gguf::can_dequantize(t->type)) {
      fail(path, "tensor " + gname + " has type " + tname + ", which uma cannot run (supported: F32, F16, BF16, "
                 "Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS)");
    }
    if (t->dims.empty() || t->dims.size() > 2) fail(path, "tensor " + gname + " must have 1 or 2 dimensions");
    for (auto d : t->dims) {
      if (d == 0 || d > uint64_t(INT32_MAX)) fail(path, "tensor " + gname + " has a dimension out of range");
    }
    out.types[name] = tname;
    Shape shape;
    for (auto it = t->dims.rbegin(); it != t->dims.rend(); ++it) shape.push_back(int(*it));
    const bool matrix = shape.size() == 2;
    // Q/K rows back in Hugging Face's order (weights and biases alike).
    std::vector<int64_t> order;
    if (arch->permuted_qk) {
      bool q = gname.find(".attn_q.") != std::string::npos, k = gname.find(".attn_k.") != std::string::npos;
      if (q || k) order = gguf_qk_rows(shape[0], q ? heads : kv_heads, gname, path);
    }
    const bool norm = gname.find("norm") != std::string::npos;
    float offset = arch->gemma && norm ? -1.0f : 0.0f;
    if (matrix && keeps_blocks(t->type)) {
      // The blocks as stored (gguf_matmul reads them so), or, when the
      // weights are read into memory anyway (not --mmap, which keeps them
      // views of the file), for Q4_0 and Q8_0 the rows of a linear layer
      // interleaved in eights, which the CPU kernels read at about twice the
      // speed (an embedding's rows stay whole: they are looked up one at a
      // time).
      std::string layer = name.substr(0, name.rfind('.'));
      const bool interleave = !mmap && shape[0] % 8 == 0 && gname != "token_embd.weight";
      const uint32_t x8 = interleave ? gguf_interleaved(t->type) : 0;
      if (x8) {
        out.weights.insert_or_assign(name, x8_tensor(x8, f, *t, shape[0], order));
        quant[layer] = {{"mode", "gguf"}, {"gguf_type", gguf_traits(x8)->name}};
        f.drop_pages(*t);
        continue;
      }
      out.weights.insert_or_assign(name, block_tensor(files, f, *t, shape[0], order, mmap));
      quant[layer] = {{"mode", "gguf"}, {"gguf_type", tname}};
      if (!order.empty() || !mmap) f.drop_pages(*t);  // copied: the mapped pages can go
      continue;
    }
    auto bits = io::gguf::affine_bits(t->type);
    if (matrix && bits && shape[1] % 32 == 0) {
      auto parts = affine_tensor(f, *t, shape[0], shape[1], *bits, dt, order);
      std::string layer = name.substr(0, name.rfind('.'));
      out.weights.insert_or_assign(layer + ".weight", parts[0]);
      out.weights.insert_or_assign(layer + ".scales", parts[1]);
      out.weights.insert_or_assign(layer + ".biases", parts[2]);
      quant[layer] = {{"group_size", 32}, {"bits", *bits}};
      f.drop_pages(*t);
      continue;
    }
    Dtype stored = t->type == uint32_t(GgmlType::F32)    ? float32
                   : t->type == uint32_t(GgmlType::F16)  ? float16
                   : t->type == uint32_t(GgmlType::BF16) ? bfloat16
                                                         : uint8;
    if (stored == dt && order.empty() && offset == 0 && mmap) {
      out.weights.insert_or_assign(name, mapped_view(files, f, *t, shape, dt));  // as stored
      continue;
    }
    out.weights.insert_or_assign(name, float_tensor(f, *t, shape, dt, order, offset));
    f.drop_pages(*t);
  }
  if (!quant.empty()) {
    quant["group_size"] = 32;
    quant["bits"] = 4;
    out.config["quantization"] = quant;
  }
  out.config["torch_dtype"] = dtype_name(dt);
  return out;
}

}  // namespace uma::lm
