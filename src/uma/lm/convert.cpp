#include "uma/lm/convert.h"

#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>

#include "uma/core/io/file.h"
#include "uma/core/io/safetensors.h"
#include "uma/core/ops.h"
#include "uma/lm/load.h"
#include "uma/lm/quantized_load.h"

namespace uma::lm {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

namespace {

[[noreturn]] void fail(const std::string& what) { throw std::invalid_argument("[convert] " + what); }

// --- Python's json.dump

// repr() of a float: the shortest digits that round-trip, in fixed notation
// for decimal exponents -4..15 (with ".0" when integral), else d.ddde+XX.
std::string python_float(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  std::string s(buf, r.ptr);
  size_t e = s.find('e');
  int exp = std::stoi(s.substr(e + 1));
  std::string sign = s[0] == '-' ? "-" : "";
  std::string digits;
  for (char c : s.substr(sign.size(), e - sign.size()))
    if (c != '.') digits += c;
  if (exp < -4 || exp >= 16) {
    std::string m = digits.substr(0, 1) + (digits.size() > 1 ? "." + digits.substr(1) : "");
    char ex[8];
    std::snprintf(ex, sizeof(ex), "e%c%02d", exp < 0 ? '-' : '+', std::abs(exp));
    return sign + m + ex;
  }
  if (exp < 0) return sign + "0." + std::string(size_t(-exp - 1), '0') + digits;
  size_t int_digits = size_t(exp) + 1;
  if (digits.size() <= int_digits) return sign + digits + std::string(int_digits - digits.size(), '0') + ".0";
  return sign + digits.substr(0, int_digits) + "." + digits.substr(int_digits);
}

void dump_to(std::string& out, const ojson& j, int indent, int level) {
  auto newline = [&](int l) {
    out += '\n';
    out.append(size_t(indent * l), ' ');
  };
  switch (j.type()) {
    case ojson::value_t::object: {
      if (j.empty()) {
        out += "{}";
        return;
      }
      out += '{';
      bool first = true;
      for (auto& [k, v] : j.items()) {
        if (!first) out += ',';
        first = false;
        newline(level + 1);
        out += ojson(k).dump(-1, ' ', true);
        out += ": ";
        dump_to(out, v, indent, level + 1);
      }
      newline(level);
      out += '}';
      return;
    }
    case ojson::value_t::array: {
      if (j.empty()) {
        out += "[]";
        return;
      }
      out += '[';
      for (size_t i = 0; i < j.size(); ++i) {
        if (i) out += ',';
        newline(level + 1);
        dump_to(out, j[i], indent, level + 1);
      }
      newline(level);
      out += ']';
      return;
    }
    case ojson::value_t::number_float:
      out += python_float(j.get<double>());
      return;
    default:
      out += j.dump(-1, ' ', true);  // strings (ensure_ascii), integers, booleans, null
  }
}

// --- options and the source config

const std::vector<std::string>& conversion_dtypes() {
  static const std::vector<std::string> d = {"float16", "bfloat16", "float32"};
  return d;
}

bool one_of(const std::string& s, const std::vector<std::string>& set) {
  return std::find(set.begin(), set.end(), s) != set.end();
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

// Python truthiness of a JSON value (mlx-lm's `if eos_token_id := ...`).
bool truthy(const ojson& v) {
  if (v.is_null()) return false;
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number()) return v.get<double>() != 0.0;
  if (v.is_string() || v.is_array() || v.is_object()) return !v.empty();
  return true;
}

ojson read_ordered_json(const fs::path& p) {
  std::string text = io::read_small_file(p.string(), "convert");
  try {
    return ojson::parse(text);
  } catch (const ojson::exception& e) {
    fail(p.string() + " is not valid JSON: " + e.what());
  }
}

// config.json as mlx-lm's load_config and load_model leave it: the EOS ids of
// generation_config.json, text_config's quantization_config lifted up.
ojson source_config(const fs::path& dir) {
  ojson c = read_ordered_json(dir / "config.json");
  if (!c.is_object()) fail((dir / "config.json").string() + " is not a JSON object");
  if (fs::exists(dir / "generation_config.json")) {
    ojson g = read_ordered_json(dir / "generation_config.json");
    if (g.is_object() && g.contains("eos_token_id") && truthy(g["eos_token_id"])) c["eos_token_id"] = g["eos_token_id"];
  }
  if (!c.contains("quantization_config")) {
    auto tc = c.find("text_config");
    if (tc != c.end() && tc->is_object() && tc->contains("quantization_config"))
      c["quantization_config"] = (*tc)["quantization_config"];
  }
  return c;
}

// --dtype, else config's torch_dtype, else text_config's dtype; empty unless
// it names a conversion dtype (then the weights keep their own).
std::string target_dtype(const std::string& flag, const ojson& c) {
  std::string d = flag;
  auto str = [](const ojson& o, const char* k) {
    auto it = o.find(k);
    return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (d.empty()) d = str(c, "torch_dtype");
  if (d.empty() && c.contains("text_config") && c["text_config"].is_object()) d = str(c["text_config"], "dtype");
  return one_of(d, conversion_dtypes()) ? d : std::string();
}

// --- model transforms

bool quantizable(const nn::Module& m) {
  if (dynamic_cast<const nn::QuantizedLinear*>(&m) || dynamic_cast<const nn::QuantizedEmbedding*>(&m)) return false;
  return dynamic_cast<const nn::Linear*>(&m) || dynamic_cast<const nn::Embedding*>(&m);
}

const array& layer_weight(const nn::Module& m) {
  if (auto* l = dynamic_cast<const nn::Linear*>(&m)) return l->weight;
  return dynamic_cast<const nn::Embedding&>(m).weight;
}

ojson spec_json(const nn::QuantizeSpec& s) {
  ojson j = ojson::object();
  j["group_size"] = s.group_size;
  j["bits"] = s.bits;
  j["mode"] = s.mode;
  return j;
}

// mlx-lm's quantize_model: quantizes the layers that can be (Linear and
// Embedding whose input size the group size divides) and records the
// settings in config["quantization"].
void quantize_model(Model& model, ojson& config, const ConvertOptions& o) {
  const nn::QuantizeSpec d = nn::default_spec(o.q_mode);
  nn::QuantizeSpec defaults{o.q_group_size.value_or(d.group_size), o.q_bits.value_or(d.bits), o.q_mode};
  nn::QuantizePredicate recipe;
  if (!o.quant_predicate.empty()) recipe = mixed_quant_predicate(o.quant_predicate, model, defaults.group_size);
  // A model with quantized layers already gets settings per layer.
  bool fine_grained = config.contains("quantization");
  if (!fine_grained) config["quantization"] = spec_json(defaults);
  ojson& q = config["quantization"];
  nn::quantize(model, defaults.group_size, defaults.bits, defaults.mode,
               [&](const std::string& path, const nn::Module& m) -> nn::QuantizePredicateResult {
                 if (!quantizable(m) || layer_weight(m).shape(-1) % defaults.group_size != 0) return false;
                 nn::QuantizePredicateResult r = recipe ? recipe(path, m) : nn::QuantizePredicateResult(true);
                 if (auto* s = std::get_if<nn::QuantizeSpec>(&r)) {
                   q[path] = spec_json(*s);
                 } else if (fine_grained && std::get<bool>(r)) {
                   q[path] = spec_json(defaults);
                 }
                 return r;
               });
  config["quantization_config"] = config["quantization"];
}

}  // namespace

void dequantize_layers(nn::Module& parent) {
  for (const std::string& name : parent.child_names()) {
    nn::Module* child = parent.child(name);
    if (!child) continue;
    if (auto* ql = dynamic_cast<nn::QuantizedLinear*>(child)) {
      array w = ql->dequantized_weight();
      auto l = std::make_shared<nn::Linear>(w.shape(1), w.shape(0), ql->has_bias(), w.dtype());
      l->weight = w;
      if (ql->has_bias()) *l->bias_ = *ql->bias_;
      parent.replace_module(name, l);
    } else if (auto* qe = dynamic_cast<nn::QuantizedEmbedding*>(child)) {
      array w = qe->dequantized_weight();
      auto e = std::make_shared<nn::Embedding>(w.shape(0), w.shape(1), w.dtype());
      e->weight = w;
      parent.replace_module(name, e);
    } else {
      dequantize_layers(*child);
    }
  }
}

namespace {

// --- writing

void write_text(const fs::path& p, const std::string& text) { io::write_file_atomic(p.string(), text, "convert"); }

// The source files mlx-lm's save carries over: the tokenizer's (which
// save_pretrained rewrites; copied byte for byte here), *.py and
// generation_config.json.
void copy_side_files(const fs::path& src, const fs::path& dst) {
  static const std::vector<std::string> names = {
      "tokenizer.json",     "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
      "tokenizer.model",    "vocab.json",            "merges.txt",              "vocab.txt",
      "chat_template.jinja", "chat_template.json",   "tiktoken.model",          "generation_config.json"};
  for (auto& e : fs::directory_iterator(src)) {
    std::string n = e.path().filename().string();
    bool wanted = one_of(n, names) || e.path().extension() == ".py" || e.path().extension() == ".tiktoken";
    if (!wanted || !e.is_regular_file()) continue;
    write_text(dst / n, io::read_small_file(e.path().string(), "convert"));
  }
}

// create_model_card for a local source: the card's metadata, no text.
const char* kModelCard =
    "---\n"
    "language: en\n"
    "library_name: mlx\n"
    "pipeline_tag: text-generation\n"
    "tags:\n"
    "- mlx\n"
    "---\n";

// Renames the finished folder to `out` unless something appeared there
// meanwhile (renameat2 RENAME_NOREPLACE; where the kernel lacks it, a check
// right before a plain rename).
void move_into_place(const fs::path& tmp, const fs::path& out) {
  if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, out.c_str(), RENAME_NOREPLACE) == 0) return;
  int err = errno;
  if (err == EINVAL || err == ENOSYS) {
    std::error_code ec;
    if (!fs::exists(fs::symlink_status(out, ec)) && ::rename(tmp.c_str(), out.c_str()) == 0) return;
    err = EEXIST;
  }
  if (err == EEXIST || err == ENOTEMPTY) {
    fail("Cannot save to the path " + out.string() + " as it already exists (it appeared while converting).");
  }
  fail("cannot move " + tmp.string() + " to " + out.string() + ": " + std::strerror(err));
}

}  // namespace

const std::vector<std::string>& quant_recipes() {
  static const std::vector<std::string> r = {"mixed_2_6", "mixed_3_4", "mixed_3_6", "mixed_4_6"};
  return r;
}

nn::QuantizePredicate mixed_quant_predicate(const std::string& recipe, Model& model, int group_size) {
  int low = 0, high = 6;
  if (recipe == "mixed_2_6") {
    low = 2;
  } else if (recipe == "mixed_3_4") {
    low = 3, high = 4;
  } else if (recipe == "mixed_3_6") {
    low = 3;
  } else if (recipe == "mixed_4_6") {
    low = 4;
  } else {
    fail("--quant-predicate: invalid quant recipe '" + recipe + "' (one of " + joined(quant_recipes()) + ")");
  }
  // The position of the layer index in module paths, from the first down_proj.
  std::optional<size_t> location;
  model.visit_modules([&](const std::string& prefix, nn::Module&) {
    std::string path = prefix.empty() ? prefix : prefix.substr(0, prefix.size() - 1);
    if (location || path.find("down_proj") == std::string::npos) return;
    size_t i = 0, start = 0;
    while (true) {
      size_t dot = path.find('.', start);
      std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      bool digits = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
      if (digits || dot == std::string::npos) break;  // Python's loop variable keeps the last index
      start = dot + 1;
      ++i;
    }
    location = i;
  });
  if (!location) fail("--quant-predicate: the model does not have expected keys for mixed quant (no down_proj)");
  int n = model.num_layers();
  return [=](const std::string& path, const nn::Module&) -> nn::QuantizePredicateResult {
    // The layer index, or 0 for paths too short to hold one (embed_tokens, lm_head).
    int64_t index = 0;
    size_t start = 0;
    for (size_t i = 0; i < *location && start != std::string::npos; ++i) {
      start = path.find('.', start);
      if (start != std::string::npos) ++start;
    }
    if (start != std::string::npos) {
      std::string part = path.substr(start, path.find('.', start) - start);
      if (!part.empty() && part.size() < 10 && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; }))
        index = std::stoll(part);
    }
    auto py_mod = [](int64_t a, int64_t b) { return ((a % b) + b) % b; };
    bool more = index < n / 8 || index >= 7 * n / 8 || py_mod(index - n / 8, 3) == 2;
    auto has = [&](const char* s) { return path.find(s) != std::string::npos; };
    bool is_v = has("v_proj") || has("v_a_proj") || has("v_b_proj");
    int bits = ((is_v || has("down_proj")) && more) || has("lm_head") ? high : low;
    return nn::QuantizeSpec{group_size, bits, "affine"};
  };
}

std::vector<std::vector<std::string>> make_shards(const std::vector<std::pair<std::string, uint64_t>>& tensors,
                                                  uint64_t max_bytes) {
  std::vector<std::vector<std::string>> shards(1);
  uint64_t size = 0;
  for (auto& [name, bytes] : tensors) {
    // mlx-lm would also close an empty shard before an oversized first
    // tensor (writing a file with no tensors); uma does not.
    if (size + bytes > max_bytes && !shards.back().empty()) {
      shards.emplace_back();
      size = 0;
    }
    shards.back().push_back(name);
    size += bytes;
  }
  return shards;
}

std::string python_json_dump(const ojson& j, int indent) {
  std::string out;
  dump_to(out, j, indent, 0);
  return out;
}

ConvertResult convert(const ConvertOptions& o) {
  if (!o.gguf_path.empty()) {
    if (o.quantize || o.dequantize || !o.dtype.empty()) {
      fail("--gguf-path takes --gguf-type for the weights' type; -q, -d and --dtype are for MLX output");
    }
    return convert_gguf(o);
  }
  auto log = [&](const std::string& s) {
    if (o.log) o.log(s);
  };
  // Arguments first, before anything is read.
  static const std::vector<std::string> modes = {"affine", "mxfp4", "nvfp4", "mxfp8"};
  if (o.quantize && o.dequantize) fail("Choose either quantize or dequantize, not both.");
  if (!one_of(o.q_mode, modes)) fail("--q-mode: '" + o.q_mode + "' is not one of " + joined(modes));
  if (!o.dtype.empty() && !one_of(o.dtype, conversion_dtypes()))
    fail("--dtype: '" + o.dtype + "' is not one of " + joined(conversion_dtypes()));
  if (!o.quant_predicate.empty()) {
    if (!one_of(o.quant_predicate, quant_recipes()))
      fail("--quant-predicate: '" + o.quant_predicate + "' is not one of " + joined(quant_recipes()));
    if (o.q_mode != "affine") fail("Quant predicates only support 'affine' quantization (got --q-mode " + o.q_mode + ")");
  }
  if (!o.quantize && (o.q_bits || o.q_group_size || !o.quant_predicate.empty() || o.q_mode != "affine"))
    fail("--q-bits, --q-group-size, --q-mode and --quant-predicate need -q/--quantize");
  if (o.max_shard_bytes == 0) fail("the largest shard size must be positive");
  if (o.mlx_path.empty()) fail("--mlx-path is empty");
  fs::path out = fs::absolute(o.mlx_path).lexically_normal();
  if (out.filename().empty()) out = out.parent_path();
  std::error_code ec;
  if (fs::exists(fs::symlink_status(out, ec))) {
    fail("Cannot save to the path " + o.mlx_path +
         " as it already exists. Please delete the file/directory or specify a new path to save to.");
  }
  fs::path src(o.hf_path);
  if (o.hf_path.empty()) fail("--hf-path is required");
  if (!fs::is_directory(src)) {
    fail("--hf-path: " + o.hf_path +
         " is not a local model folder (uma does not download from the Hugging Face Hub; copy the folder here first)");
  }

  log("[INFO] Loading");
  LoadOptions lo;
  lo.mmap = true;  // read lazily: each shard's tensors are computed as it is written
  LoadedModel loaded = load_model(o.hf_path, lo);
  Model& model = *loaded.model;
  ojson config = source_config(src);

  if (std::string d = target_dtype(o.dtype, config); !d.empty()) {
    log("[INFO] Using dtype: " + d);
    Dtype t = dtype_from_string(d);
    model.visit_parameters([&](const std::string&, array& a) {
      if (is_floating_point(a.dtype()) && a.dtype() != t) a = astype(a, t);
    });
  }
  if (o.quantize) {
    log("[INFO] Quantizing");
    quantize_model(model, config, o);
  }
  if (o.dequantize) {
    log("[INFO] Dequantizing");
    config.erase("quantization");
    config.erase("quantization_config");
    dequantize_layers(model);
  }

  // The tensors in the model's parameter order (mlx-lm's tree_flatten of
  // model.parameters()), which decides the shards.
  std::vector<std::pair<std::string, array>> tensors;
  std::vector<std::pair<std::string, uint64_t>> sizes;
  ConvertResult result;
  model.visit_parameters([&](const std::string& name, array& a) {
    tensors.emplace_back(name, a);
    sizes.emplace_back(name, a.nbytes());
    result.total_size += a.nbytes();
  });
  result.total_parameters = logical_parameters(model);
  if (o.quantize) {
    char bpw[96];
    std::snprintf(bpw, sizeof(bpw), "[INFO] Quantized model with %.3f bits per weight.",
                  double(result.total_size) * 8.0 / double(result.total_parameters));
    log(bpw);
  }
  // Only `tensors` holds the new weights now, so each shard's memory is
  // released once it is written (mlx-lm's donate_model).
  model.visit_parameters([](const std::string&, array& a) { a = array(0.0f); });
  auto shards = make_shards(sizes, o.max_shard_bytes);

  fs::create_directories(out.parent_path());
  io::TempDir tmp(out.string(), "convert");
  fs::path dir = tmp.path();
  ojson weight_map = ojson::object();
  std::map<std::string, std::string> file_of;
  ConvertProgress progress{0, tensors.size(), 0, result.total_size};
  if (o.progress) o.progress(progress);
  size_t next = 0;
  for (size_t s = 0; s < shards.size(); ++s) {
    char fname[64];
    if (shards.size() == 1) {
      std::snprintf(fname, sizeof(fname), "model.safetensors");
    } else {
      std::snprintf(fname, sizeof(fname), "model-%05zu-of-%05zu.safetensors", s + 1, shards.size());
    }
    std::map<std::string, array> shard;
    for (size_t k = 0; k < shards[s].size(); ++k, ++next) {
      shard.emplace(tensors[next].first, tensors[next].second);
      file_of[tensors[next].first] = fname;
      tensors[next].second = array(0.0f);
    }
    // Each tensor is computed (cast, quantized) as the writer reaches it.
    save_safetensors((dir / fname).string(), shard, {{"format", "mlx"}}, [&](uint64_t bytes) {
      progress.tensors_done++;
      progress.bytes_done += bytes;
      if (o.progress) o.progress(progress);
    });
    result.shards.push_back(fname);
  }
  for (auto& [name, f] : file_of) weight_map[name] = f;  // sorted, as mlx-lm sorts it
  ojson index = ojson::object();
  index["metadata"] = {{"total_size", result.total_size}, {"total_parameters", result.total_parameters}};
  index["weight_map"] = std::move(weight_map);
  write_text(dir / "model.safetensors.index.json", python_json_dump(index));

  // save_config: drop two keys, mirror `quantization`, sort the top level.
  config.erase("_name_or_path");
  config.erase("vision_config");
  if (config.contains("quantization")) config["quantization_config"] = config["quantization"];
  std::map<std::string, ojson> sorted;
  for (auto& [k, v] : config.items()) sorted.emplace(k, v);
  ojson out_config = ojson::object();
  for (auto& [k, v] : sorted) out_config[k] = v;
  write_text(dir / "config.json", python_json_dump(out_config));
  copy_side_files(src, dir);
  write_text(dir / "README.md", kModelCard);

  tmp.make_readable();
  move_into_place(dir, out);
  tmp.release();
  return result;
}

}  // namespace uma::lm
