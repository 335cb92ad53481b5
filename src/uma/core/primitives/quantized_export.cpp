// Serialization of the quantized family. Each op takes exactly its
// primitive's parameters, so a reader checks a node by building it again
// with the op from the node's inputs (the op's checks of modes, packing,
// scales and shapes are the reader's).
#include <cstdint>

#include "uma/core/ops/quantized.h"
#include "uma/core/primitives/quantized.h"
#include "uma/core/primitives/serialize.h"

namespace uma {

template <>
struct enum_limit<QuantizationMode> {
  static constexpr uint64_t value = uint64_t(QuantizationMode::mxfp8);
};

namespace {
using Arrays = std::vector<array>;
std::optional<array> input_if(const Arrays& in, size_t i) { return i < in.size() ? std::optional(in[i]) : std::nullopt; }
}  // namespace

void Quantize::serialize(PrimitiveWriter& w) const { w.fields(*this, &Quantize::group_size_, &Quantize::bits_, &Quantize::mode_); }
std::shared_ptr<Primitive> Quantize::deserialize(Stream s, PrimitiveReader& r) {
  auto p = std::static_pointer_cast<Quantize>(r.make<Quantize>(s, &Quantize::group_size_, &Quantize::bits_, &Quantize::mode_));
  r.inputs(1, 2);
  r.same_as_op(*p, [&](const Arrays& in) {
    return quantize(in[0], p->group_size_, p->bits_, quantization_mode_name(p->mode_), input_if(in, 1), s);
  });
  return p;
}

void Dequantize::serialize(PrimitiveWriter& w) const {
  w.fields(*this, &Dequantize::group_size_, &Dequantize::bits_, &Dequantize::mode_, &Dequantize::product_dtype_);
}
std::shared_ptr<Primitive> Dequantize::deserialize(Stream s, PrimitiveReader& r) {
  auto p = std::static_pointer_cast<Dequantize>(r.make<Dequantize>(
      s, &Dequantize::group_size_, &Dequantize::bits_, &Dequantize::mode_, &Dequantize::product_dtype_));
  r.inputs(2, 3);
  bool affine = p->mode_ == QuantizationMode::affine;
  r.same_as_op(*p, [&](const Arrays& in) {
    // Affine: (w, scales, biases); fp modes: (w, scales[, global scale]) to product_dtype.
    return Arrays{dequantize(in[0], in[1], affine ? input_if(in, 2) : std::nullopt, p->group_size_, p->bits_,
                             quantization_mode_name(p->mode_), affine ? std::nullopt : input_if(in, 2),
                             affine ? std::nullopt : std::optional(p->product_dtype_), s)};
  });
  return p;
}

void QuantizedMatmul::serialize(PrimitiveWriter& w) const {
  w.fields(*this, &QuantizedMatmul::group_size_, &QuantizedMatmul::bits_, &QuantizedMatmul::mode_,
           &QuantizedMatmul::transpose_);
}
std::shared_ptr<Primitive> QuantizedMatmul::deserialize(Stream s, PrimitiveReader& r) {
  auto p = std::static_pointer_cast<QuantizedMatmul>(r.make<QuantizedMatmul>(
      s, &QuantizedMatmul::group_size_, &QuantizedMatmul::bits_, &QuantizedMatmul::mode_, &QuantizedMatmul::transpose_));
  r.inputs(3, 4);
  r.same_as_op(*p, [&](const Arrays& in) {
    return Arrays{quantized_matmul(in[0], in[1], in[2], input_if(in, 3), p->transpose_, p->group_size_, p->bits_,
                                   quantization_mode_name(p->mode_), s)};
  });
  return p;
}

void GatherQMM::serialize(PrimitiveWriter& w) const {
  w.fields(*this, &GatherQMM::group_size_, &GatherQMM::bits_, &GatherQMM::mode_, &GatherQMM::transpose_,
           &GatherQMM::left_sorted_, &GatherQMM::right_sorted_);
}
std::shared_ptr<Primitive> GatherQMM::deserialize(Stream s, PrimitiveReader& r) {
  auto p = std::static_pointer_cast<GatherQMM>(
      r.make<GatherQMM>(s, &GatherQMM::group_size_, &GatherQMM::bits_, &GatherQMM::mode_, &GatherQMM::transpose_,
                        &GatherQMM::left_sorted_, &GatherQMM::right_sorted_));
  r.inputs(5, 6);
  // The op given both index arrays claims neither sorted; the flags only
  // inform kernels, so the check compares the rest.
  GatherQMM unsorted(s, p->group_size_, p->bits_, p->mode_, p->transpose_);
  r.same_as_op(unsorted, [&](const Arrays& in) {
    size_t n = in.size();
    return Arrays{gather_qmm(in[0], in[1], in[2], n == 6 ? std::optional(in[3]) : std::nullopt, in[n - 2], in[n - 1],
                             p->transpose_, p->group_size_, p->bits_, quantization_mode_name(p->mode_), false, s)};
  });
  return p;
}

// The ggml type id as a varint; the op checks it (and the block sizes against
// the shapes) when the node is built again.
void GgufMatmul::serialize(PrimitiveWriter& w) const { w.put(int64_t(type_)); }
std::shared_ptr<Primitive> GgufMatmul::deserialize(Stream s, PrimitiveReader& r) {
  auto type = r.get<int64_t>();
  r.check(type >= 0 && type <= int64_t(UINT32_MAX), "the GGUF type id is out of range");
  auto p = std::make_shared<GgufMatmul>(s, uint32_t(type));
  r.inputs(2);
  r.same_as_op(*p, [&](const Arrays& in) { return Arrays{gguf_matmul(in[0], in[1], uint32_t(type), s)}; });
  return p;
}

void GgufDequantize::serialize(PrimitiveWriter& w) const {
  w.put(int64_t(type_));
  w.put(dtype_);
}
std::shared_ptr<Primitive> GgufDequantize::deserialize(Stream s, PrimitiveReader& r) {
  auto type = r.get<int64_t>();
  r.check(type >= 0 && type <= int64_t(UINT32_MAX), "the GGUF type id is out of range");
  auto dtype = r.get<Dtype>();
  auto p = std::make_shared<GgufDequantize>(s, uint32_t(type), dtype);
  r.inputs(1);
  r.same_as_op(*p, [&](const Arrays& in) { return Arrays{gguf_dequantize(in[0], uint32_t(type), dtype, s)}; });
  return p;
}

}  // namespace uma
