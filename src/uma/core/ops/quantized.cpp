// quantize, dequantize and quantized_matmul: argument checks (once, here,
// with "[op] ..." messages naming shapes and dtypes), type promotion and the
// graph node. The kernels are in backend/cpu/quantized.cpp.
#include "uma/core/ops/quantized.h"

#include <stdexcept>

#include "uma/core/ops/shape.h"
#include "uma/core/primitives/quantized.h"
#include "uma/core/utils.h"

namespace uma {

namespace {

[[noreturn]] void fail(const char* op, const std::string& msg) {
  throw std::invalid_argument(std::string("[") + op + "] " + msg);
}

QuantizationMode parse_mode(const std::string& mode, const char* op) {
  if (mode == "affine") return QuantizationMode::affine;
  if (mode == "mxfp4" || mode == "nvfp4" || mode == "mxfp8") {
    fail(op, "mode '" + mode + "' is not supported yet (only 'affine' is)");
  }
  fail(op, "invalid quantization mode '" + mode + "'; the modes are affine, mxfp4, nvfp4 and mxfp8");
}

// MLX's defaults for the affine mode (the only one accepted so far).
int group_or_default(std::optional<int> g) { return g ? *g : 64; }
int bits_or_default(std::optional<int> b) { return b ? *b : 4; }

void check_group_and_bits(const char* op, int group_size, int bits) {
  if (group_size != 32 && group_size != 64 && group_size != 128) {
    fail(op, "group_size " + std::to_string(group_size) + " is not supported; the group sizes are 32, 64 and 128");
  }
  if (bits < 2 || bits > 8 || bits == 7) {
    fail(op, "bits " + std::to_string(bits) + " is not supported; the bit widths are 2, 3, 4, 5, 6 and 8");
  }
}

bool is_kernel_float(Dtype t) { return t == float32 || t == float16 || t == bfloat16; }

void check_float(const char* op, const char* what, Dtype t) {
  if (!is_kernel_float(t)) {
    fail(op, std::string(what) + " must be float32, float16 or bfloat16, got " + dtype_name(t));
  }
}

// The checks MLX's validate_quantized_input makes, plus: same rank, and the
// packed width holds a whole number of codes.
void check_packed(const char* op, const array& w, const array& scales, const array& biases, int group_size,
                  int bits) {
  if (w.dtype() != uint32) fail(op, std::string("the packed weights must be uint32, got ") + dtype_name(w.dtype()));
  if (w.ndim() < 2) fail(op, "the packed weights need at least 2 dimensions, got shape " + shape_str(w.shape()));
  if (scales.shape() != biases.shape()) {
    fail(op, "scales " + shape_str(scales.shape()) + " and biases " + shape_str(biases.shape()) +
                 " must have the same shape");
  }
  bool batch_ok = scales.ndim() == w.ndim();
  for (int i = 0; batch_ok && i + 1 < int(w.ndim()); ++i) batch_ok = w.shape(i) == scales.shape(i);
  int64_t codes = int64_t(w.shape(-1)) * 32;
  if (!batch_ok || codes % bits != 0 || codes / bits != int64_t(scales.shape(-1)) * group_size) {
    fail(op, "packed weights " + shape_str(w.shape()) + " and scales " + shape_str(scales.shape()) +
                 " do not match for group_size=" + std::to_string(group_size) + " and bits=" + std::to_string(bits) +
                 " (expected scales (..., w.shape[-1] * 32 / bits / group_size) with w's leading dims)");
  }
}

}  // namespace

std::vector<array> quantize(const array& w, std::optional<int> group_size_opt, std::optional<int> bits_opt,
                            const std::string& mode, StreamOrDevice s) {
  QuantizationMode qmode = parse_mode(mode, "quantize");
  int group_size = group_or_default(group_size_opt), bits = bits_or_default(bits_opt);
  check_group_and_bits("quantize", group_size, bits);
  check_float("quantize", "the matrix to quantize", w.dtype());
  if (w.ndim() < 2) fail("quantize", "the matrix to quantize needs at least 2 dimensions, got shape " + shape_str(w.shape()));
  if (w.shape(-1) % group_size != 0) {
    fail("quantize", "the last dimension of " + shape_str(w.shape()) + " must be divisible by group_size " +
                         std::to_string(group_size));
  }
  Shape wq = w.shape(), sc = w.shape();
  wq.back() = w.shape(-1) / 32 * bits;
  sc.back() = w.shape(-1) / group_size;
  return array::make_arrays({wq, sc, sc}, {uint32, w.dtype(), w.dtype()},
                            std::make_shared<Quantize>(to_stream(s), group_size, bits, qmode), {w});
}

array dequantize(const array& w, const array& scales, const std::optional<array>& biases,
                 std::optional<int> group_size_opt, std::optional<int> bits_opt, const std::string& mode,
                 std::optional<Dtype> dtype, StreamOrDevice s) {
  QuantizationMode qmode = parse_mode(mode, "dequantize");
  int group_size = group_or_default(group_size_opt), bits = bits_or_default(bits_opt);
  check_group_and_bits("dequantize", group_size, bits);
  if (!biases) fail("dequantize", "biases must be given for affine quantization");
  check_packed("dequantize", w, scales, *biases, group_size, bits);
  check_float("dequantize", "scales", scales.dtype());
  check_float("dequantize", "biases", biases->dtype());
  Dtype sum_type = promote_types(scales.dtype(), biases->dtype());
  if (dtype) check_float("dequantize", "the output dtype", *dtype);
  Shape out = w.shape();
  out.back() = w.shape(-1) * 32 / bits;
  // The product is rounded to the scales' dtype and the sum to the promoted
  // one, as MLX's multiply-then-add does; astype then gives the dtype asked.
  array r(out, sum_type, std::make_shared<Dequantize>(to_stream(s), group_size, bits, qmode, scales.dtype()),
          {w, scales, astype(*biases, sum_type, s)});
  return dtype && *dtype != sum_type ? astype(r, *dtype, s) : r;
}

array quantized_matmul(const array& x, const array& w, const array& scales, const std::optional<array>& biases,
                       bool transpose, std::optional<int> group_size_opt, std::optional<int> bits_opt,
                       const std::string& mode, StreamOrDevice s) {
  const char* op = "quantized_matmul";
  QuantizationMode qmode = parse_mode(mode, op);
  int group_size = group_or_default(group_size_opt), bits = bits_or_default(bits_opt);
  check_group_and_bits(op, group_size, bits);
  if (!biases) fail(op, "biases must be given for affine quantization");
  check_packed(op, w, scales, *biases, group_size, bits);
  check_float(op, "x", x.dtype());
  check_float(op, "scales", scales.dtype());
  check_float(op, "biases", biases->dtype());
  if (x.ndim() < 1) fail(op, "x needs at least 1 dimension");
  int32_t w_inner = transpose ? w.shape(-1) * 32 / bits : w.shape(-2);
  int32_t w_outer = transpose ? w.shape(-2) : w.shape(-1) * 32 / bits;
  if (x.shape(-1) != w_inner) {
    fail(op, "the last dimension of x " + shape_str(x.shape()) + " does not match the quantized matrix (" +
                 std::to_string(w_inner) + ", " + std::to_string(w_outer) + ") that w " + shape_str(w.shape()) +
                 " holds with group_size=" + std::to_string(group_size) + ", bits=" + std::to_string(bits) +
                 " and transpose=" + (transpose ? "true" : "false"));
  }
  Dtype t = promote_types(x.dtype(), promote_types(scales.dtype(), biases->dtype()));
  std::vector<array> in{astype(x, t, s), w, astype(scales, t, s), astype(*biases, t, s)};
  Shape out_shape;
  if (w.ndim() > 2) {
    // Batched weights (one matrix per leading index): broadcast the batch
    // dims of x and w together (x needs its own M axis for that).
    if (x.ndim() < 2) fail(op, "x " + shape_str(x.shape()) + " needs 2 dimensions to multiply batched weights");
    Shape xb(x.shape().begin(), x.shape().end() - 2), wb(w.shape().begin(), w.shape().end() - 2);
    Shape batch = broadcast_shapes(xb, wb, op);
    auto with = [&](Shape b, int32_t r, int32_t c) {
      b.push_back(r);
      b.push_back(c);
      return b;
    };
    in[0] = broadcast_to(in[0], with(batch, x.shape(-2), x.shape(-1)), s);
    for (int i = 1; i < 4; ++i) in[i] = broadcast_to(in[i], with(batch, in[i].shape(-2), in[i].shape(-1)), s);
    out_shape = with(batch, x.shape(-2), w_outer);
  } else {
    out_shape = x.shape();
    out_shape.back() = w_outer;
  }
  return array(out_shape, t, std::make_shared<QuantizedMatmul>(to_stream(s), group_size, bits, qmode, transpose),
               std::move(in));
}

}  // namespace uma
