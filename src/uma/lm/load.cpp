#include "uma/lm/load.h"

#include <unistd.h>

#include <climits>
#include <filesystem>
#include <fstream>
#include <new>
#include <set>

#include "uma/core/io/file.h"
#include "uma/core/io/safetensors.h"
#include "uma/core/ops.h"
#include "uma/lm/gguf_model.h"
#include "uma/lm/quantized_load.h"

namespace uma::lm {

namespace fs = std::filesystem;

json read_json_file(const std::string& path) {
  // A regular file only, size-capped: a FIFO, device or directory named
  // config.json is an error naming it, not a hang or an unbounded read.
  std::string text = io::read_small_file(path, "load");
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    throw std::invalid_argument("[load] " + path + " is not valid JSON: " + e.what());
  }
}

namespace {

std::vector<std::string> weight_files(const fs::path& dir) {
  fs::path index = dir / "model.safetensors.index.json";
  if (fs::exists(index)) {
    json j = read_json_file(index.string());
    if (!j.contains("weight_map") || !j["weight_map"].is_object()) {
      throw std::invalid_argument("[load] " + index.string() + " has no weight_map");
    }
    std::set<std::string> files;
    for (auto& [name, v] : j["weight_map"].items()) {
      if (!v.is_string()) {
        throw std::invalid_argument("[load] " + index.string() + ": weight_map[\"" +
                                    name.substr(0, 80) + "\"] must be a file name, got " +
                                    v.dump().substr(0, 40));
      }
      std::string f = v.get<std::string>();
      if (f.find('/') != std::string::npos || f.find("..") != std::string::npos) {
        throw std::invalid_argument("[load] " + index.string() + " names a shard outside the folder: " + f);
      }
      files.insert(f);
    }
    std::vector<std::string> out;
    for (auto& f : files) {
      fs::path p = dir / f;
      if (!fs::exists(p)) throw std::invalid_argument("[load] missing shard " + p.string());
      out.push_back(p.string());
    }
    return out;
  }
  if (fs::exists(dir / "model.safetensors")) return {(dir / "model.safetensors").string()};
  // Any *.safetensors (some repositories name shards differently).
  std::vector<std::string> out;
  for (auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".safetensors" && e.path().filename().string().rfind("adapters", 0) != 0) {
      out.push_back(e.path().string());
    }
  }
  std::sort(out.begin(), out.end());
  if (out.empty()) throw std::invalid_argument("[load] no model.safetensors in " + dir.string());
  return out;
}

// The config's parameter count against the weight files' bytes, before any
// weight is read: a config that describes a far larger model than the files
// hold (a corrupt layer count, say) fails here. Weights take 2 bytes
// (bfloat16/float16) at least. The margin (half the files, plus 1 MiB)
// leaves a checkpoint that lacks a tensor or two to the strict name match,
// whose error names them.
void check_weight_bytes(const Model& model, size_t file_bytes, const std::string& dir) {
  size_t params = model.num_parameters();
  if (params * 2 > file_bytes + file_bytes / 2 + (size_t(1) << 20)) {
    throw std::invalid_argument("[load] config.json in " + dir + " describes " + std::to_string(params) +
                                " parameters (at least " + std::to_string(params * 2) +
                                " bytes in 16-bit floats), but the weight files hold only " +
                                std::to_string(file_bytes) + " bytes");
  }
}

}  // namespace

namespace {

// The part every checkpoint shares once its tensors are read (Hugging Face
// names): quantized layers swapped in, dtypes checked and cast, the strict
// name match, casts materialized. file_bytes (0: no check) bounds the
// parameter count of a quantized folder once its layers are packed.
void install_weights(LoadedModel& out, std::map<std::string, array> weights,
                     const std::function<std::string(const std::string&)>& origin, size_t file_bytes,
                     const LoadOptions& opts) {
  weights = out.model->sanitize(std::move(weights));
  // A quantized checkpoint's layers are replaced once the tensor names are
  // known; its settings were checked before any weight was read.
  auto quant = quantization_config(out.config);
  if (quant) {
    out.quantization = quant->defaults;
    // As mlx-lm: quantize before loading, by the config and the names.
    quantize_for_checkpoint(*out.model, *quant, weights);
    if (file_bytes) check_weight_bytes(*out.model, file_bytes, out.path);
  }
  auto params = out.model->parameters();
  bool first = true;
  for (auto& [name, a] : weights) {
    // Packed codes where the model has a quantized layer's weight (uint32)
    // or an fp mode's scales (uint8); floating point everywhere else
    // (integer weights of a foreign checkpoint would load and then fail or
    // compute garbage).
    auto slot = params.find(name);
    bool packed = slot != params.end() && (slot->second.dtype() == uint32 || slot->second.dtype() == uint8);
    if (packed && a.dtype() != slot->second.dtype()) {
      throw std::invalid_argument("[load] " + origin(name) + ": tensor " + name + " has dtype " +
                                  dtype_name(a.dtype()) + "; a quantized layer's " +
                                  (slot->second.dtype() == uint32 ? "weight must be uint32 codes"
                                                                  : "scales must be uint8 in its mode"));
    }
    if (!packed && !is_floating_point(a.dtype())) {
      std::string layer = name.substr(0, name.rfind('.'));
      std::string why = !quant && weights.count(layer + ".scales")
                            ? "; the checkpoint is quantized (it has " + layer +
                                  ".scales) but config.json has no quantization"
                            : "; weights must be float32, float16 or bfloat16";
      throw std::invalid_argument("[load] " + origin(name) + ": tensor " + name + " has dtype " +
                                  dtype_name(a.dtype()) + why);
    }
    if (packed) continue;
    if (opts.dtype && a.dtype() != *opts.dtype) a = astype(a, *opts.dtype);
    if (first) {
      out.dtype = a.dtype();
      first = false;
    }
  }
  if (quant) set_block_layers_dtype(*out.model, out.dtype);
  out.model->load_weights(weights, true);
  // Materialize casts now (mmapped tensors stay mapped, casts become buffers).
  std::vector<array> all;
  for (auto& [_, a] : out.model->parameters()) {
    all.push_back(a);
    out.weight_bytes += a.nbytes();
  }
  eval(all);
  out.num_parameters = logical_parameters(*out.model);
}

LoadedModel load_gguf_model(const std::string& path, const LoadOptions& opts) {
  LoadedModel out;
  out.path = path;
  auto ck = read_gguf_checkpoint(path, opts.dtype, opts.mmap);
  out.config = std::move(ck.config);
  out.generation_config = json::object();
  out.model = create_model(out.config);
  // (No bytes-per-parameter check: the GGUF parser checked every tensor's
  // extent against the file, and types of 0.5 to 0.8 bytes a value exist.)
  if (opts.progress) opts.progress(ck.file_bytes, ck.file_bytes);
  install_weights(out, std::move(ck.weights), [&](const std::string&) { return path; }, 0, opts);
  return out;
}

}  // namespace

LoadedModel load_model(const std::string& path, const LoadOptions& opts) {
  if (opts.dtype && !is_floating_point(*opts.dtype)) {
    throw std::invalid_argument(std::string("[load] dtype must be a floating point type, got ") +
                                dtype_name(*opts.dtype));
  }
  if (is_gguf_file(path)) return load_gguf_model(path, opts);
  fs::path dir(path);
  if (!fs::is_directory(dir)) throw std::invalid_argument("[load] model folder or .gguf file not found: " + path);
  LoadedModel out;
  out.path = path;
  fs::path cfg = dir / "config.json";
  if (!fs::exists(cfg)) throw std::invalid_argument("[load] missing config.json in " + path);
  out.config = read_json_file(cfg.string());
  if (fs::exists(dir / "generation_config.json")) {
    out.generation_config = read_json_file((dir / "generation_config.json").string());
  } else {
    out.generation_config = json::object();
  }
  out.model = create_model(out.config);

  auto files = weight_files(dir);
  std::vector<size_t> sizes;
  size_t total = 0, done = 0;
  for (auto& f : files) {
    // Sized through a descriptor of a regular file: a FIFO or a dangling
    // link is an error naming it.
    uint64_t size = 0;
    ::close(io::open_regular_file(f, "load", &size));
    sizes.push_back(size_t(size));
    total += sizes.back();
  }
  // A quantized folder's settings are checked now, before any weight is read.
  if (!quantization_config(out.config)) check_weight_bytes(*out.model, total, dir.string());
  std::map<std::string, array> weights;
  std::map<std::string, std::string> origin;  // tensor -> file, for errors
  for (size_t i = 0; i < files.size(); ++i) {
    auto [tensors, meta] = load_safetensors(files[i], !opts.mmap && !opts.dtype);
    for (auto& [name, a] : tensors) {
      weights.insert_or_assign(name, a);
      origin[name] = files[i];
    }
    done += sizes[i];
    if (opts.progress) opts.progress(done, total);
  }
  install_weights(out, std::move(weights), [&](const std::string& n) { return origin[n]; }, total, opts);
  return out;
}

std::vector<int32_t> eos_token_ids(const LoadedModel& m) {
  std::vector<int32_t> ids;
  auto add = [&](const json& x) {
    if (!x.is_number_integer()) return;
    int64_t id = x.get<int64_t>();
    if (id < 0 || id > INT32_MAX) return;
    if (std::find(ids.begin(), ids.end(), int32_t(id)) == ids.end()) ids.push_back(int32_t(id));
  };
  for (const json* j : {&m.generation_config, &m.config}) {
    if (!j->is_object() || !j->contains("eos_token_id")) continue;
    const json& v = (*j)["eos_token_id"];
    if (v.is_array()) {
      for (auto& x : v) add(x);
    } else {
      add(v);
    }
  }
  return ids;
}

GenerationDefaults generation_defaults(const json& g) {
  GenerationDefaults d;
  if (!g.is_object()) return d;
  auto number = [&](const char* key, std::optional<float>& out) {
    auto it = g.find(key);
    if (it != g.end() && it->is_number()) out = it->get<float>();
  };
  auto integer = [&](const char* key, std::optional<int>& out) {
    auto it = g.find(key);
    if (it != g.end() && it->is_number_integer()) {
      int64_t v = it->get<int64_t>();
      if (v >= INT32_MIN && v <= INT32_MAX) out = int(v);
    }
  };
  if (auto it = g.find("do_sample"); it != g.end() && it->is_boolean()) d.do_sample = it->get<bool>();
  number("temperature", d.temperature);
  number("top_p", d.top_p);
  number("min_p", d.min_p);
  number("repetition_penalty", d.repetition_penalty);
  integer("top_k", d.top_k);
  integer("max_new_tokens", d.max_new_tokens);
  return d;
}

Loaded load(const std::string& path, const LoadOptions& opts) {
  Loaded out;
  static_cast<LoadedModel&>(out) = load_model(path, opts);
  try {
    out.tokenizer = text::tokenizer::load_tokenizer(path, eos_token_ids(out));
  } catch (const std::bad_alloc&) {
    throw std::invalid_argument("[load] " + path +
                                ": the tokenizer's ids or sizes do not fit in memory (a corrupt tokenizer.json?)");
  } catch (const std::length_error&) {
    throw std::invalid_argument("[load] " + path +
                                ": the tokenizer's ids or sizes do not fit in memory (a corrupt tokenizer.json?)");
  }
  if (const auto* src = out.tokenizer.chat_template()) {
    try {
      out.chat_template = std::make_shared<const text::ChatTemplate>(src->source);
    } catch (const text::TemplateError& e) {
      out.chat_template_error = e;
    }
  }
  out.generation = generation_defaults(out.generation_config);
  return out;
}

}  // namespace uma::lm
