// quantize, dequantize, quantized_matmul and gather_qmm: argument checks
// (once, here, with "[op] ..." messages naming shapes and dtypes), type
// promotion and the graph node. The kernels are in backend/cpu/quantized.cpp
// (affine), quantized_fp.cpp (fp modes) and quantized_matmul.cpp.
#include "uma/core/ops/quantized.h"

#include <emmintrin.h>

#include <cmath>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "uma/core/io/gguf.h"
#include "uma/core/io/gguf_quants.h"
#include "uma/core/ops/elementwise.h"
#include "uma/core/ops/indexing.h"
#include "uma/core/ops/linalg_impl.h"
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
  if (mode == "mxfp4") return QuantizationMode::mxfp4;
  if (mode == "nvfp4") return QuantizationMode::nvfp4;
  if (mode == "mxfp8") return QuantizationMode::mxfp8;
  fail(op, "invalid quantization mode '" + mode + "'; the modes are affine, mxfp4, nvfp4 and mxfp8");
}

bool is_fp(QuantizationMode m) { return m != QuantizationMode::affine; }

// A mode with its group size and bits: MLX's defaults where not given
// (affine 64/4, mxfp4 32/4, nvfp4 16/4, mxfp8 32/8), checked against what
// the mode allows.
struct Scheme {
  QuantizationMode mode;
  int group_size, bits;
  const char* name() const { return quantization_mode_name(mode); }
};

Scheme scheme_of(const char* op, const std::string& mode_name, std::optional<int> g,
                 std::optional<int> b) {
  QuantizationMode mode = parse_mode(mode_name, op);
  int dg = mode == QuantizationMode::nvfp4 ? 16 : mode == QuantizationMode::affine ? 64 : 32;
  int db = mode == QuantizationMode::mxfp8 ? 8 : 4;
  Scheme q{mode, g ? *g : dg, b ? *b : db};
  if (!is_fp(mode)) {
    if (q.group_size != 32 && q.group_size != 64 && q.group_size != 128) {
      fail(op, "group_size " + std::to_string(q.group_size) +
                   " is not supported; the group sizes are 32, 64 and 128");
    }
    if (q.bits < 2 || q.bits > 8 || q.bits == 7) {
      fail(op, "bits " + std::to_string(q.bits) +
                   " is not supported; the bit widths are 2, 3, 4, 5, 6 and 8");
    }
    return q;
  }
  if (q.group_size != dg) {
    fail(op, std::string(q.name()) + " quantization requires group_size " + std::to_string(dg) +
                 ", got " + std::to_string(q.group_size));
  }
  if (q.bits != db) {
    fail(op, std::string(q.name()) + " quantization requires bits " + std::to_string(db) +
                 ", got " + std::to_string(q.bits));
  }
  return q;
}

bool is_kernel_float(Dtype t) { return t == float32 || t == float16 || t == bfloat16; }

void check_float(const char* op, const char* what, Dtype t) {
  if (!is_kernel_float(t)) {
    fail(op, std::string(what) + " must be float32, float16 or bfloat16, got " + dtype_name(t));
  }
}

// Affine: float scales and biases of one shape. fp modes: uint8 scales
// (E8M0 exponents, or E4M3 for nvfp4) and no biases.
void check_scales(const char* op, const Scheme& q, const array& scales,
                  const std::optional<array>& biases) {
  if (!is_fp(q.mode)) {
    if (!biases) fail(op, "biases must be given for affine quantization");
    check_float(op, "scales", scales.dtype());
    check_float(op, "biases", biases->dtype());
    return;
  }
  if (biases) {
    fail(op, std::string("mode '") + q.name() + "' takes no biases, got biases of shape " +
                 shape_str(biases->shape()));
  }
  if (scales.dtype() != uint8) {
    fail(op, std::string("scales must be uint8 for mode '") + q.name() + "' (" +
                 (q.mode == QuantizationMode::nvfp4 ? "E4M3" : "E8M0") + " bytes), got " +
                 dtype_name(scales.dtype()));
  }
}

// MLX takes a global scale for nvfp4 only: a float32 scalar (any shape of
// one element).
void check_global_scale(const char* op, const Scheme& q, const std::optional<array>& gs) {
  if (!gs) return;
  if (q.mode != QuantizationMode::nvfp4) {
    fail(op,
         std::string("global_scale is only supported for mode 'nvfp4', not '") + q.name() + "'");
  }
  if (gs->size() != 1)
    fail(op, "global_scale must be a scalar, got shape " + shape_str(gs->shape()));
  if (gs->dtype() != float32)
    fail(op, std::string("global_scale must be float32, got ") + dtype_name(gs->dtype()));
}

// The checks MLX's validate_quantized_input makes, plus: same rank, and the
// packed width holds a whole number of codes.
void check_packed(const char* op, const array& w, const array& scales,
                  const std::optional<array>& biases, const Scheme& q) {
  if (w.dtype() != uint32) fail(op, std::string("the packed weights must be uint32, got ") + dtype_name(w.dtype()));
  if (w.ndim() < 2) fail(op, "the packed weights need at least 2 dimensions, got shape " + shape_str(w.shape()));
  if (biases && scales.shape() != biases->shape()) {
    fail(op, "scales " + shape_str(scales.shape()) + " and biases " + shape_str(biases->shape()) +
                 " must have the same shape");
  }
  bool batch_ok = scales.ndim() == w.ndim();
  for (int i = 0; batch_ok && i + 1 < int(w.ndim()); ++i) batch_ok = w.shape(i) == scales.shape(i);
  int64_t codes = int64_t(w.shape(-1)) * 32;
  if (!batch_ok || codes % q.bits != 0 ||
      codes / q.bits != int64_t(scales.shape(-1)) * q.group_size) {
    fail(op, "packed weights " + shape_str(w.shape()) + " and scales " + shape_str(scales.shape()) +
                 " do not match for group_size=" + std::to_string(q.group_size) +
                 " and bits=" + std::to_string(q.bits) +
                 " (expected scales (..., w.shape[-1] * 32 / bits / group_size) with w's " +
                 "leading dims)");
  }
}

// Everything quantized_matmul and gather_qmm check in common: the mode's
// operands, x against the quantized matrix; returns the result dtype and
// W's outer dimension.
struct QmmCheck {
  Dtype dtype;
  int32_t w_outer;
};
QmmCheck check_qmm(const char* op, const array& x, const array& w, const array& scales,
                   const std::optional<array>& biases, bool transpose, const Scheme& q) {
  check_scales(op, q, scales, biases);
  check_packed(op, w, scales, biases, q);
  check_float(op, "x", x.dtype());
  if (x.ndim() < 1) fail(op, "x needs at least 1 dimension");
  int32_t w_inner = transpose ? w.shape(-1) * 32 / q.bits : w.shape(-2);
  int32_t w_outer = transpose ? w.shape(-2) : w.shape(-1) * 32 / q.bits;
  if (x.shape(-1) != w_inner) {
    fail(op, "the last dimension of x " + shape_str(x.shape()) +
                 " does not match the quantized matrix (" + std::to_string(w_inner) + ", " +
                 std::to_string(w_outer) + ") that w " + shape_str(w.shape()) +
                 " holds with group_size=" + std::to_string(q.group_size) + ", bits=" +
                 std::to_string(q.bits) + " and transpose=" + (transpose ? "true" : "false"));
  }
  // Affine computes in the promoted dtype of x, scales and biases; the fp
  // modes in x's (MLX's rule).
  Dtype t = is_fp(q.mode)
                ? x.dtype()
                : promote_types(x.dtype(), promote_types(scales.dtype(), biases->dtype()));
  return {t, w_outer};
}

// The kernel's inputs: x and (affine) the scales and biases cast to t.
std::vector<array> qmm_inputs(const array& x, const array& w, const array& scales,
                              const std::optional<array>& biases, Dtype t, StreamOrDevice s) {
  std::vector<array> in{astype(x, t, s), w};
  if (biases) {
    in.push_back(astype(scales, t, s));
    in.push_back(astype(*biases, t, s));
  } else {
    in.push_back(scales);
  }
  return in;
}

}  // namespace

using detail::with_matrix;

std::vector<array> quantize(const array& w, std::optional<int> group_size_opt,
                            std::optional<int> bits_opt, const std::string& mode,
                            const std::optional<array>& global_scale, StreamOrDevice s) {
  Scheme q = scheme_of("quantize", mode, group_size_opt, bits_opt);
  check_float("quantize", "the matrix to quantize", w.dtype());
  if (w.ndim() < 2) fail("quantize", "the matrix to quantize needs at least 2 dimensions, got shape " + shape_str(w.shape()));
  if (w.shape(-1) % q.group_size != 0) {
    fail("quantize", "the last dimension of " + shape_str(w.shape()) +
                         " must be divisible by group_size " + std::to_string(q.group_size));
  }
  check_global_scale("quantize", q, global_scale);
  Shape wq = w.shape(), sc = w.shape();
  wq.back() = int32_t(int64_t(w.shape(-1)) * q.bits / 32);
  sc.back() = w.shape(-1) / q.group_size;
  auto prim = std::make_shared<Quantize>(to_stream(s), q.group_size, q.bits, q.mode);
  if (!is_fp(q.mode))
    return array::make_arrays({wq, sc, sc}, {uint32, w.dtype(), w.dtype()}, prim, {w});
  std::vector<array> in{w};
  if (global_scale) in.push_back(*global_scale);
  return array::make_arrays({wq, sc}, {uint32, uint8}, prim, std::move(in));
}

array dequantize(const array& w, const array& scales, const std::optional<array>& biases,
                 std::optional<int> group_size_opt, std::optional<int> bits_opt,
                 const std::string& mode, const std::optional<array>& global_scale,
                 std::optional<Dtype> dtype, StreamOrDevice s) {
  const char* op = "dequantize";
  Scheme q = scheme_of(op, mode, group_size_opt, bits_opt);
  check_scales(op, q, scales, biases);
  check_packed(op, w, scales, biases, q);
  check_global_scale(op, q, global_scale);
  if (dtype) check_float(op, "the output dtype", *dtype);
  Shape out = w.shape();
  out.back() = w.shape(-1) * 32 / q.bits;
  if (is_fp(q.mode)) {
    Dtype t = dtype ? *dtype : bfloat16;  // MLX's default for the fp modes
    std::vector<array> in{w, scales};
    if (global_scale) in.push_back(*global_scale);
    return array(out, t,
                 std::make_shared<Dequantize>(to_stream(s), q.group_size, q.bits, q.mode, t),
                 std::move(in));
  }
  Dtype sum_type = promote_types(scales.dtype(), biases->dtype());
  // The product is rounded to the scales' dtype and the sum to the promoted
  // one, as MLX's multiply-then-add does; astype then gives the dtype asked.
  array r(out, sum_type,
          std::make_shared<Dequantize>(to_stream(s), q.group_size, q.bits, q.mode, scales.dtype()),
          {w, scales, astype(*biases, sum_type, s)});
  return dtype && *dtype != sum_type ? astype(r, *dtype, s) : r;
}

array quantized_matmul(const array& x, const array& w, const array& scales, const std::optional<array>& biases,
                       bool transpose, std::optional<int> group_size_opt, std::optional<int> bits_opt,
                       const std::string& mode, StreamOrDevice s) {
  const char* op = "quantized_matmul";
  Scheme q = scheme_of(op, mode, group_size_opt, bits_opt);
  auto [t, w_outer] = check_qmm(op, x, w, scales, biases, transpose, q);
  std::vector<array> in = qmm_inputs(x, w, scales, biases, t, s);
  Shape out_shape;
  if (w.ndim() > 2) {
    // Batched weights (one matrix per leading index): broadcast the batch
    // dims of x and w together (x needs its own M axis for that).
    if (x.ndim() < 2) fail(op, "x " + shape_str(x.shape()) + " needs 2 dimensions to multiply batched weights");
    Shape xb(x.shape().begin(), x.shape().end() - 2), wb(w.shape().begin(), w.shape().end() - 2);
    Shape batch = broadcast_shapes(xb, wb, op);
    for (auto& a : in) a = broadcast_to(a, with_matrix(batch, a.shape(-2), a.shape(-1)), s);
    out_shape = with_matrix(batch, x.shape(-2), w_outer);
  } else {
    out_shape = x.shape();
    out_shape.back() = w_outer;
  }
  return array(
      out_shape, t,
      std::make_shared<QuantizedMatmul>(to_stream(s), q.group_size, q.bits, q.mode, transpose),
      std::move(in));
}

array gather_qmm(const array& x, const array& w, const array& scales,
                 const std::optional<array>& biases, std::optional<array> lhs_indices,
                 std::optional<array> rhs_indices, bool transpose,
                 std::optional<int> group_size_opt, std::optional<int> bits_opt,
                 const std::string& mode, bool sorted_indices, StreamOrDevice s) {
  if (!lhs_indices && !rhs_indices) {
    return quantized_matmul(x, w, scales, biases, transpose, group_size_opt, bits_opt, mode, s);
  }
  const char* op = "gather_qmm";
  Scheme q = scheme_of(op, mode, group_size_opt, bits_opt);
  auto [t, w_outer] = check_qmm(op, x, w, scales, biases, transpose, q);
  if (x.ndim() < 2)
    fail(op, "x needs at least 2 dimensions (..., M, K), got shape " + shape_str(x.shape()));
  array lhs = detail::matrix_indices(op, "lhs_indices", lhs_indices, x, s);
  array rhs = detail::matrix_indices(op, "rhs_indices", rhs_indices, w, s);
  Shape batch = broadcast_shapes(lhs.shape(), rhs.shape(), op);
  std::vector<array> in = qmm_inputs(x, w, scales, biases, t, s);
  in.push_back(broadcast_to(lhs, batch, s));
  in.push_back(broadcast_to(rhs, batch, s));
  // As MLX: a sort claim counts only for the one index array given.
  auto prim =
      std::make_shared<GatherQMM>(to_stream(s), q.group_size, q.bits, q.mode, transpose,
                                  sorted_indices && !rhs_indices, sorted_indices && !lhs_indices);
  return array(with_matrix(batch, x.shape(-2), w_outer), t, std::move(prim), std::move(in));
}

// --- fp8 (E4M3) conversion, composed of ops.
namespace {

float e4m3_value(int b) {
  int e = (b >> 3) & 15, f = b & 7;
  float v = e ? std::ldexp(1.f + float(f) / 8.f, e - 7) : std::ldexp(float(f), -9);
  return (b & 0x80) ? -v : v;
}

array u32(uint32_t v) { return array(v, uint32); }

}  // namespace

// MLX's bit recipe on the float32 bits (|x| = ab, sign apart): below 2^-6,
// adding 2^14 in float32 rounds |x| to a multiple of 2^-9 whose low bits are
// the code; above, a half-to-even rounding add on the exponent-rebased bits
// and a shift by 20; at or past 448 (NaN, inf too) the code 0x7E.
array to_fp8(const array& x, StreamOrDevice s) {
  if (!is_floating_point(x.dtype())) {
    throw std::invalid_argument(std::string("[to_fp8] x must have a real floating dtype, got ") + dtype_name(x.dtype()));
  }
  array bits = view(astype(x, float32, s), uint32, s);
  array sign = bitwise_and(bits, u32(0x80000000u), s);
  array ab = bitwise_xor(bits, sign, s);
  const uint32_t denorm = 141u << 23;
  array low = subtract(view(add(view(ab, float32, s), view(u32(denorm), float32, s), s), uint32, s), u32(denorm), s);
  array odd = bitwise_and(right_shift(ab, u32(20), s), u32(1), s);
  array high = add(add(ab, u32(uint32_t(7 - 127) << 23), s), add(u32(0x7FFFFu), odd, s), s);
  high = right_shift(high, u32(20), s);
  array code = where(less(ab, u32(121u << 23), s), low, high, s);
  code = where(greater_equal(ab, u32(543u << 21), s), u32(0x7E), code, s);
  code = bitwise_or(bitwise_and(code, u32(0xFF), s), right_shift(sign, u32(24), s), s);
  return astype(code, uint8, s);
}

// A 256-entry table of the E4M3 values, indexed by the byte.
array from_fp8(const array& x, Dtype dtype, StreamOrDevice s) {
  if (x.dtype() != uint8) {
    throw std::invalid_argument(std::string("[from_fp8] x must be uint8, got ") + dtype_name(x.dtype()));
  }
  if (!is_floating_point(dtype)) {
    throw std::invalid_argument(std::string("[from_fp8] dtype must be a real floating type, got ") + dtype_name(dtype));
  }
  std::vector<float> table(256);
  for (int b = 0; b < 256; ++b) table[b] = e4m3_value(b);
  array lut(table, Shape{256});
  return astype(take(lut, astype(x, int32, s), 0, s), dtype, s);
}

// ------------------------------------------------------------ GGUF blocks

bool gguf_type_kernels(uint32_t type) {
  using io::gguf::GgmlType;
  if (gguf_stored_type(type) != type) return true;
  auto t = GgmlType(type);
  return io::gguf::can_dequantize(type) && t != GgmlType::F32 && t != GgmlType::F16 && t != GgmlType::BF16;
}

uint32_t gguf_interleaved(uint32_t type) {
  using io::gguf::GgmlType;
  return type == uint32_t(GgmlType::Q4_0) ? kGgufQ4_0x8 : type == uint32_t(GgmlType::Q8_0) ? kGgufQ8_0x8 : 0;
}

uint32_t gguf_stored_type(uint32_t type) {
  using io::gguf::GgmlType;
  return type == kGgufQ4_0x8 ? uint32_t(GgmlType::Q4_0) : type == kGgufQ8_0x8 ? uint32_t(GgmlType::Q8_0) : type;
}

const io::gguf::TypeTraits* gguf_traits(uint32_t type) {
  static const io::gguf::TypeTraits q4_0x8{"Q4_0x8", 32, 18}, q8_0x8{"Q8_0x8", 32, 34};
  return type == kGgufQ4_0x8 ? &q4_0x8 : type == kGgufQ8_0x8 ? &q8_0x8 : io::gguf::type_traits(type);
}

void gguf_interleave_x8(uint32_t x8, const std::function<const uint8_t*(int64_t)>& row, int64_t row_bytes,
                        int64_t g0, int64_t g1, uint8_t* dst) {
  const int64_t block = gguf_traits(x8)->type_size, runs = (block - 2) / 4, nb = row_bytes / block;
  for (int64_t g = g0; g < g1; ++g) {
    const uint8_t* src[8];
    for (int r = 0; r < 8; ++r) src[r] = row(8 * g + r);
    uint8_t* o = dst + g * 8 * row_bytes;
    for (int64_t j = 0; j < nb; ++j, o += 8 * block) {
      for (int r = 0; r < 8; ++r) std::memcpy(o + 2 * r, src[r] + block * j, 2);
      // Four rows' four dwords of codes at a time, transposed (SSE2, on
      // every x86-64): dword c of rows h..h+3 becomes half h / 4 of run c.
      for (int h = 0; h < 8; h += 4) {
        for (int64_t c = 0; c < runs; c += 4) {
          __m128i v[4];
          for (int r = 0; r < 4; ++r) {
            v[r] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src[h + r] + block * j + 2 + 4 * c));
          }
          const __m128i t0 = _mm_unpacklo_epi32(v[0], v[1]), t1 = _mm_unpackhi_epi32(v[0], v[1]),
                        t2 = _mm_unpacklo_epi32(v[2], v[3]), t3 = _mm_unpackhi_epi32(v[2], v[3]);
          const __m128i out[4] = {_mm_unpacklo_epi64(t0, t2), _mm_unpackhi_epi64(t0, t2), _mm_unpacklo_epi64(t1, t3),
                                  _mm_unpackhi_epi64(t1, t3)};
          for (int k = 0; k < 4; ++k) {
            _mm_storeu_si128(reinterpret_cast<__m128i*>(o + 16 + 32 * (c + k) + 4 * h), out[k]);
          }
        }
      }
    }
  }
}

namespace {

// The type's traits, after checking that the ops take it and that a row of
// `row_bytes` bytes is whole blocks; the row's number of values.
int64_t gguf_row_values(const char* op, uint32_t type, int64_t row_bytes) {
  const auto* t = gguf_traits(type);
  if (!t || !gguf_type_kernels(type)) {
    fail(op, "GGUF type " + (t ? std::string(t->name) : "id " + std::to_string(type)) +
                 " is not one these ops take (block-quantized types: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, "
                 "Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS; uma's Q4_0x8, Q8_0x8)");
  }
  if (row_bytes <= 0 || row_bytes % t->type_size) {
    fail(op, "rows of " + std::to_string(row_bytes) + " bytes are not whole " + std::string(t->name) + " blocks of " +
                 std::to_string(t->type_size) + " bytes");
  }
  return row_bytes / t->type_size * t->block_size;
}

// The interleaved layouts hold whole groups of 8 rows: `rows` of w.
void check_x8_rows(const char* op, uint32_t type, const array& w, int64_t rows) {
  if (gguf_stored_type(type) != type && rows % 8) {
    fail(op, "w " + shape_str(w.shape()) + " in the " + gguf_traits(type)->name + " layout must have a multiple of 8 rows");
  }
}

}  // namespace

array gguf_matmul(const array& x, const array& w, uint32_t type, StreamOrDevice s) {
  const char* op = "gguf_matmul";
  if (w.dtype() != uint8 || w.ndim() != 2) {
    fail(op, "w must be a uint8 matrix of blocks (N, Kb), got " + std::string(dtype_name(w.dtype())) + " " +
                 shape_str(w.shape()));
  }
  const int64_t K = gguf_row_values(op, type, w.shape(1));
  if (x.ndim() < 1 || !is_floating_point(x.dtype()) || x.dtype() == float64) {
    fail(op, "x must be float32, float16 or bfloat16 with at least 1 dimension, got " +
                 std::string(dtype_name(x.dtype())) + " " + shape_str(x.shape()));
  }
  if (x.shape(-1) != K) {
    fail(op, "x " + shape_str(x.shape()) + " has " + std::to_string(x.shape(-1)) + " values in its last axis, w's " +
                 std::string(gguf_traits(type)->name) + " rows hold " + std::to_string(K));
  }
  check_x8_rows(op, type, w, w.shape(0));
  Shape out = x.shape();
  out.back() = w.shape(0);
  return array(out, x.dtype(), std::make_shared<GgufMatmul>(to_stream(s), type), {x, w});
}

array gguf_dequantize(const array& w, uint32_t type, Dtype dtype, StreamOrDevice s) {
  const char* op = "gguf_dequantize";
  if (w.dtype() != uint8 || w.ndim() < 1) {
    fail(op, "w must be uint8 blocks (..., Kb), got " + std::string(dtype_name(w.dtype())) + " " +
                 shape_str(w.shape()));
  }
  if (dtype != float32 && dtype != float16 && dtype != bfloat16) {
    fail(op, "dtype must be float32, float16 or bfloat16, got " + std::string(dtype_name(dtype)));
  }
  const int64_t K = gguf_row_values(op, type, w.shape(-1));
  if (K > INT32_MAX) fail(op, "rows of " + std::to_string(K) + " values are too long");
  check_x8_rows(op, type, w, w.ndim() < 2 ? 1 : w.shape(-2));
  Shape out = w.shape();
  out.back() = int32_t(K);
  return array(out, dtype, std::make_shared<GgufDequantize>(to_stream(s), type, dtype), {w});
}

}  // namespace uma
