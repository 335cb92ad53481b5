#include "uma/nn/quantized.h"

#include <stdexcept>

#include "uma/core/io/gguf.h"

namespace uma::nn {

namespace {

// Fails early, with the layer's name, for settings the ops would refuse at
// the first call (mode, bits, group size, divisibility of the input width).
void check_spec(const char* layer, int in_features, const QuantizeSpec& spec) {
  if (spec.gguf()) {
    const auto* t = gguf_traits(spec.gguf_type);
    if (!t || !gguf_type_kernels(spec.gguf_type)) {
      throw std::invalid_argument(std::string("[") + layer + "] GGUF type " +
                                  (t ? std::string(t->name) : "id " + std::to_string(spec.gguf_type)) +
                                  " is not a block-quantized type uma multiplies");
    }
    if (in_features % int64_t(t->block_size)) {
      throw std::invalid_argument(std::string("[") + layer + "] " + std::to_string(in_features) +
                                  " input features are not whole " + t->name + " blocks of " +
                                  std::to_string(t->block_size));
    }
    return;
  }
  if (spec.mode != "affine" && spec.mode != "mxfp4" && spec.mode != "nvfp4" && spec.mode != "mxfp8") {
    throw std::invalid_argument(std::string("[") + layer + "] mode '" + spec.mode.substr(0, 40) +
                                "' is not one of affine, mxfp4, nvfp4, mxfp8, gguf");
  }
  if (!spec.affine()) {
    QuantizeSpec d = default_spec(spec.mode);
    if (spec.group_size != d.group_size || spec.bits != d.bits || in_features % d.group_size != 0) {
      throw std::invalid_argument(std::string("[") + layer + "] cannot quantize " + std::to_string(in_features) +
                                  " input features with mode " + spec.mode + ", bits=" + std::to_string(spec.bits) +
                                  " and group_size=" + std::to_string(spec.group_size) + " (" + spec.mode +
                                  " takes bits=" + std::to_string(d.bits) + " and group_size=" +
                                  std::to_string(d.group_size) + ", dividing the features)");
    }
    return;
  }
  bool bits_ok = spec.bits >= 2 && spec.bits <= 8 && spec.bits != 7;
  bool group_ok = spec.group_size == 32 || spec.group_size == 64 || spec.group_size == 128;
  if (!bits_ok || !group_ok || in_features % spec.group_size != 0) {
    throw std::invalid_argument(std::string("[") + layer + "] cannot quantize " + std::to_string(in_features) +
                                " input features with bits=" + std::to_string(spec.bits) +
                                " and group_size=" + std::to_string(spec.group_size) +
                                " (bits 2, 3, 4, 5, 6, 8; group sizes 32, 64, 128 dividing the features)");
  }
}

// The bytes of a row of `in_features` values in GGUF blocks of the spec's type.
int gguf_row_bytes(int in_features, const QuantizeSpec& spec) {
  const auto* t = gguf_traits(spec.gguf_type);
  return int(int64_t(in_features) / t->block_size * t->type_size);
}

[[noreturn]] void gguf_does_not_quantize(const char* layer) {
  throw std::invalid_argument(std::string("[") + layer +
                              "] mode gguf holds the blocks of a GGUF file as loaded; it does not quantize float "
                              "weights (use affine or an fp mode, or convert the model to GGUF)");
}

}  // namespace

QuantizeSpec default_spec(const std::string& mode) {
  if (mode == "mxfp4") return {32, 4, mode};
  if (mode == "nvfp4") return {16, 4, mode};
  if (mode == "mxfp8") return {32, 8, mode};
  return {64, 4, mode};
}

QuantizedLinear::QuantizedLinear(int in_features, int out_features, QuantizeSpec spec) : spec_(std::move(spec)) {
  check_spec("QuantizedLinear", in_features, spec_);
  in_ = in_features;
  out_ = out_features;
}

void QuantizedLinear::register_all() {
  register_parameter("weight", weight);
  if (!spec_.gguf()) register_parameter("scales", scales);
  if (spec_.affine()) register_parameter("biases", biases);
  if (bias_) register_parameter("bias", *bias_);
}

QuantizedLinear::QuantizedLinear(int in_features, int out_features, bool bias, QuantizeSpec spec, Dtype dtype)
    : QuantizedLinear(in_features, out_features, std::move(spec)) {
  dtype_ = dtype;
  if (spec_.gguf()) {
    weight = zeros({out_features, gguf_row_bytes(in_features, spec_)}, uint8);
    if (bias) bias_ = zeros({out_features}, dtype);
    register_all();
    return;
  }
  weight = zeros({out_features, in_features / 32 * spec_.bits}, uint32);
  scales = zeros({out_features, in_features / spec_.group_size}, spec_.affine() ? dtype : uint8);
  if (spec_.affine()) biases = zeros({out_features, in_features / spec_.group_size}, dtype);
  if (bias) bias_ = zeros({out_features}, dtype);
  register_all();
}

std::shared_ptr<QuantizedLinear> QuantizedLinear::from_linear(const Linear& linear, QuantizeSpec spec) {
  if (spec.gguf()) gguf_does_not_quantize("QuantizedLinear");
  std::shared_ptr<QuantizedLinear> q(new QuantizedLinear(linear.in_features(), linear.out_features(), spec));
  auto packed = uma::quantize(linear.weight, q->spec_.group_size, q->spec_.bits, q->spec_.mode);
  q->weight = packed[0];
  q->scales = packed[1];
  if (q->spec_.affine()) q->biases = packed[2];
  q->bias_ = linear.bias_;
  q->register_all();
  return q;
}

array QuantizedLinear::operator()(const array& x) const {
  if (x.shape(-1) != in_) {
    throw std::invalid_argument("[QuantizedLinear] input has " + std::to_string(x.shape(-1)) +
                                " features, the layer expects " + std::to_string(in_));
  }
  array y = spec_.gguf() ? gguf_matmul(x, weight, spec_.gguf_type)
                         : quantized_matmul(x, weight, scales, op_biases(), true, spec_.group_size, spec_.bits,
                                            spec_.mode);
  if (bias_) y = add(y, *bias_);
  return y;
}

array QuantizedLinear::dequantized_weight() const {
  if (spec_.gguf()) return gguf_dequantize(weight, spec_.gguf_type, dtype_);
  return dequantize(weight, scales, op_biases(), spec_.group_size, spec_.bits, spec_.mode);
}

QuantizedEmbedding::QuantizedEmbedding(int num_embeddings, int dims, QuantizeSpec spec, Dtype dtype)
    : Embedding(0, 0, dtype), spec_(std::move(spec)), num_(num_embeddings), dims_(dims), dtype_(dtype) {
  check_spec("QuantizedEmbedding", dims, spec_);
  if (spec_.gguf()) {
    weight = zeros({num_embeddings, gguf_row_bytes(dims, spec_)}, uint8);
    return;
  }
  // Embedding's constructor registered `weight`; it now holds the codes.
  weight = zeros({num_embeddings, dims / 32 * spec_.bits}, uint32);
  scales = zeros({num_embeddings, dims / spec_.group_size}, spec_.affine() ? dtype : uint8);
  register_parameter("scales", scales);
  if (spec_.affine()) {
    biases = zeros({num_embeddings, dims / spec_.group_size}, dtype);
    register_parameter("biases", biases);
  }
}

std::shared_ptr<QuantizedEmbedding> QuantizedEmbedding::from_embedding(const Embedding& embedding, QuantizeSpec spec) {
  const array& w = embedding.weight;
  if (w.ndim() != 2) {
    throw std::invalid_argument("[QuantizedEmbedding] the embedding weight must be 2-D, got shape " +
                                std::to_string(w.ndim()) + "-D");
  }
  if (spec.gguf()) gguf_does_not_quantize("QuantizedEmbedding");
  auto q = std::make_shared<QuantizedEmbedding>(w.shape(0), w.shape(1), spec, w.dtype());
  auto packed = uma::quantize(w, q->spec_.group_size, q->spec_.bits, q->spec_.mode);
  q->weight = packed[0];
  q->scales = packed[1];
  if (q->spec_.affine()) q->biases = packed[2];
  return q;
}

array QuantizedEmbedding::operator()(const array& ids) const {
  // Gather the packed rows first so only the looked-up rows are dequantized.
  array flat = reshape(ids, {-1});
  Shape out = ids.shape();
  out.push_back(dims_);
  if (spec_.gguf()) return reshape(gguf_dequantize(take(weight, flat, 0), spec_.gguf_type, dtype_), out);
  std::optional<array> b;
  if (spec_.affine()) b = take(biases, flat, 0);
  array rows = dequantize(take(weight, flat, 0), take(scales, flat, 0), b, spec_.group_size, spec_.bits, spec_.mode);
  return reshape(rows, out);
}

array QuantizedEmbedding::dequantized_weight() const {
  if (spec_.gguf()) return gguf_dequantize(weight, spec_.gguf_type, dtype_);
  return dequantize(weight, scales, op_biases(), spec_.group_size, spec_.bits, spec_.mode);
}

array QuantizedEmbedding::as_linear(const array& x) const {
  if (spec_.gguf()) return gguf_matmul(x, weight, spec_.gguf_type);
  return quantized_matmul(x, weight, scales, op_biases(), true, spec_.group_size, spec_.bits, spec_.mode);
}

namespace {

bool is_quantized(const Module& m) {
  return dynamic_cast<const QuantizedLinear*>(&m) || dynamic_cast<const QuantizedEmbedding*>(&m);
}

void quantize_children(Module& parent, const std::string& prefix, const QuantizeSpec& defaults,
                       const QuantizePredicate& pred) {
  for (const std::string& name : parent.child_names()) {
    Module* child = parent.child(name);
    if (!child) continue;
    std::string path = prefix.empty() ? name : prefix + "." + name;
    auto* lin = dynamic_cast<Linear*>(child);
    auto* emb = dynamic_cast<Embedding*>(child);
    bool quantizable = (lin || emb) && !is_quantized(*child);
    bool leaf = child->child_names().empty();
    if (!quantizable && !leaf) {
      quantize_children(*child, path, defaults, pred);
      continue;
    }
    // MLX asks the predicate about leaf modules only; without one, every
    // module that can be quantized is.
    QuantizePredicateResult answer = pred ? pred(path, *child) : QuantizePredicateResult(quantizable);
    QuantizeSpec spec = defaults;
    if (auto* s = std::get_if<QuantizeSpec>(&answer)) {
      spec = *s;
    } else if (!std::get<bool>(answer)) {
      continue;
    }
    if (!quantizable) {
      throw std::invalid_argument("[quantize] unable to quantize module '" + path +
                                  "': only Linear and Embedding layers that are not quantized yet can be");
    }
    if (spec.gguf()) {
      // GGUF blocks are not made from float weights: empty layers of the
      // block shapes, for a checkpoint to fill.
      if (lin) {
        parent.replace_module(name, std::make_shared<QuantizedLinear>(lin->in_features(), lin->out_features(),
                                                                      lin->has_bias(), spec, lin->weight.dtype()));
      } else {
        parent.replace_module(name, std::make_shared<QuantizedEmbedding>(emb->weight.shape(0), emb->weight.shape(1),
                                                                         spec, emb->weight.dtype()));
      }
    } else if (lin) {
      parent.replace_module(name, QuantizedLinear::from_linear(*lin, spec));
    } else {
      parent.replace_module(name, QuantizedEmbedding::from_embedding(*emb, spec));
    }
  }
}

}  // namespace

void quantize(Module& model, int group_size, int bits, const std::string& mode, const QuantizePredicate& pred) {
  quantize_children(model, "", QuantizeSpec{group_size, bits, mode}, pred);
}

}  // namespace uma::nn
