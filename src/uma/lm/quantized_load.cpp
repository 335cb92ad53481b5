#include "uma/lm/quantized_load.h"

#include <stdexcept>

#include "uma/core/io/gguf.h"
#include "uma/core/ops/quantized.h"

namespace uma::lm {

namespace {

[[noreturn]] void fail(const std::string& where, const std::string& what) {
  throw std::invalid_argument("[load] config.json: " + where + " " + what);
}

// {"mode": "gguf", "gguf_type": "Q6_K"}: a layer a GGUF file keeps in its
// blocks (lm/gguf_model.cpp writes these; a folder's config never has them).
nn::QuantizeSpec read_gguf_spec(const json& j, const std::string& where) {
  nn::QuantizeSpec spec;
  spec.mode = "gguf";
  auto it = j.find("gguf_type");
  if (it == j.end() || !it->is_string()) fail(where + ".gguf_type", "must name a GGUF type");
  const std::string name = it->get<std::string>();
  for (uint32_t x8 : {kGgufQ4_0x8, kGgufQ8_0x8}) {  // uma's layouts of Q4_0, Q8_0 (the loader's, never a file's)
    if (name == gguf_traits(x8)->name) {
      spec.gguf_type = x8;
      return spec;
    }
  }
  for (uint32_t t = 0; t < 64; ++t) {
    const auto* tr = io::gguf::type_traits(t);
    if (tr && name == tr->name && gguf_type_kernels(t)) {
      spec.gguf_type = t;
      return spec;
    }
  }
  fail(where + ".gguf_type", "'" + name.substr(0, 40) + "' is not a block-quantized GGUF type uma multiplies");
}

// {group_size, bits[, mode]} at `where` ("quantization" or
// `quantization["model.layers.0.mlp.up_proj"]`); absent fields from `spec`.
nn::QuantizeSpec read_spec(const json& j, const std::string& where, nn::QuantizeSpec spec) {
  if (auto it = j.find("mode"); it != j.end() && !it->is_null()) {
    if (!it->is_string()) fail(where + ".mode", "must be a string, got " + it->dump().substr(0, 40));
    std::string mode = it->get<std::string>();
    if (mode == "gguf") return read_gguf_spec(j, where);
    if (mode != "affine" && mode != "mxfp4" && mode != "nvfp4" && mode != "mxfp8") {
      fail(where + ".mode", "'" + mode.substr(0, 40) + "' is not one of affine, mxfp4, nvfp4, mxfp8");
    }
    // Another mode starts from its own defaults.
    if (mode != spec.mode) spec = nn::default_spec(mode);
  }
  // null takes the mode's default, as MLX's to_quantized does: mlx-lm's
  // mixed recipes write "group_size": null when --q-group-size is not given.
  const nn::QuantizeSpec d = nn::default_spec(spec.mode);
  if (auto it = j.find("group_size"); it != j.end() && !it->is_null()) {
    int64_t g = it->is_number_integer() ? it->get<int64_t>() : 0;
    if (!spec.affine() && g != d.group_size) {
      fail(where + ".group_size", "must be " + std::to_string(d.group_size) + " for mode " + spec.mode + ", got " +
                                      it->dump().substr(0, 40));
    }
    if (g != 32 && g != 64 && g != 128 && spec.affine()) {
      fail(where + ".group_size", "must be one of 32, 64, 128, got " + it->dump().substr(0, 40));
    }
    spec.group_size = int(g);
  }
  if (auto it = j.find("bits"); it != j.end() && !it->is_null()) {
    int64_t b = it->is_number_integer() ? it->get<int64_t>() : 0;
    if (!spec.affine() && b != d.bits) {
      fail(where + ".bits", "must be " + std::to_string(d.bits) + " for mode " + spec.mode + ", got " +
                                it->dump().substr(0, 40));
    }
    if (b < 2 || b > 8 || b == 7) fail(where + ".bits", "must be one of 2, 3, 4, 5, 6, 8, got " + it->dump().substr(0, 40));
    spec.bits = int(b);
  }
  return spec;
}

bool can_quantize(const nn::Module& m) {
  return dynamic_cast<const nn::Linear*>(&m) || dynamic_cast<const nn::Embedding*>(&m);
}

}  // namespace

std::optional<QuantizationConfig> quantization_config(const json& config) {
  if (!config.is_object()) return std::nullopt;
  QuantizationConfig q;
  auto it = config.find("quantization");
  q.key = "quantization";
  if (it == config.end() || it->is_null()) {
    it = config.find("quantization_config");
    q.key = "quantization_config";
    if (it == config.end() || it->is_null()) return std::nullopt;
    // Another tool's format (GPTQ, AWQ, bitsandbytes, ...) names its method;
    // mlx-lm's copy of `quantization` does not.
    if (it->is_object() && it->contains("quant_method")) {
      fail("quantization_config", "has quant_method " + (*it)["quant_method"].dump().substr(0, 40) +
                                      ", which uma does not load (it loads MLX-quantized folders)");
    }
  }
  const json& j = *it;
  if (!j.is_object()) fail(q.key, "must be an object, got " + j.dump().substr(0, 40));
  for (const char* field : {"group_size", "bits"}) {
    if (!j.contains(field)) fail(q.key, std::string("has no ") + field);
  }
  q.defaults = read_spec(j, q.key, nn::QuantizeSpec{});
  for (auto& [name, v] : j.items()) {
    if (name == "group_size" || name == "bits" || name == "mode") continue;
    std::string where = q.key + "[\"" + name.substr(0, 120) + "\"]";
    if (v.is_boolean()) {
      q.layers[name] = v.get<bool>();
    } else if (v.is_object()) {
      q.layers[name] = read_spec(v, where, nn::QuantizeSpec{});
    }
    // Other values name no layer setting; mlx-lm never looks them up.
  }
  return q;
}

void quantize_for_checkpoint(Model& model, const QuantizationConfig& q, const std::map<std::string, array>& weights) {
  nn::quantize(model, q.defaults.group_size, q.defaults.bits, q.defaults.mode,
               [&](const std::string& path, const nn::Module& m) -> nn::QuantizePredicateResult {
                 if (auto it = q.layers.find(path); it != q.layers.end()) return it->second;
                 return can_quantize(m) && weights.count(path + ".scales") > 0;
               });
}

void set_block_layers_dtype(Model& model, Dtype dtype) {
  model.visit_modules([&](const std::string&, nn::Module& m) {
    if (auto* l = dynamic_cast<nn::QuantizedLinear*>(&m); l && l->spec().gguf()) l->set_float_dtype(dtype);
    if (auto* e = dynamic_cast<nn::QuantizedEmbedding*>(&m); e && e->spec().gguf()) e->set_float_dtype(dtype);
  });
}

size_t logical_parameters(nn::Module& model) {
  size_t n = model.num_parameters();
  model.visit_modules([&](const std::string&, nn::Module& m) {
    const array *w = nullptr, *s = nullptr, *b = nullptr;
    int bits = 0;
    auto* l = dynamic_cast<nn::QuantizedLinear*>(&m);
    auto* e = dynamic_cast<nn::QuantizedEmbedding*>(&m);
    if (l) {
      w = &l->weight, s = &l->scales, b = l->spec().affine() ? &l->biases : nullptr, bits = l->spec().bits;
    } else if (e) {
      w = &e->weight, s = &e->scales, b = e->spec().affine() ? &e->biases : nullptr, bits = e->spec().bits;
    }
    if (!w) return;
    const nn::QuantizeSpec& spec = l ? l->spec() : e->spec();
    if (spec.gguf()) {
      // uint8 blocks: the row's values from its bytes.
      const auto* t = gguf_traits(spec.gguf_type);
      n -= w->size();
      n += w->size() / t->type_size * t->block_size;
      return;
    }
    n -= w->size() + s->size() + (b ? b->size() : 0);
    n += w->size() * 32 / size_t(bits);
  });
  return n;
}

}  // namespace uma::lm
