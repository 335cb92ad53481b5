// CPU kernels of quantize and dequantize, bit-exact with MLX 846d176's CPU
// build (mlx/backend/cpu/quantized.cpp and the ops-composed dequantize of
// mlx/ops.cpp): affine here, the fp modes in quantized_fp.cpp.
// quantized_matmul is in quantized_matmul.cpp.
#include "uma/backend/cpu/quantized.h"
#include "uma/backend/cpu/quantized_fp.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "uma/backend/cpu/row_major.h"
#include "uma/backend/cpu/thread_pool.h"
#include "uma/core/primitives/quantized.h"

namespace uma {

namespace {

template <typename F>
void dispatch_kernel_float(Dtype t, const char* op, F&& f) {
  switch (t) {
    case Dtype::float32: return f(type_tag<float>{});
    case Dtype::float16: return f(type_tag<float16_t>{});
    case Dtype::bfloat16: return f(type_tag<bfloat16_t>{});
    default: throw std::invalid_argument(std::string("[") + op + "] unsupported dtype " + dtype_name(t));
  }
}

// One group, MLX's affine rule. All arithmetic in float32 on the weights as
// float32: the edge (the extreme of larger magnitude) gets code 0 and the bias
// equals it exactly; the scale is then adjusted so that edge / scale is the
// integer q0, which puts 0.0 exactly on a code. Codes use the float32 scale
// and bias; only the stored copies are rounded to T.
template <typename T>
void quantize_group(const T* w, int group_size, int bits, uint32_t* words, T& scale_out, T& bias_out) {
  const float n_bins = float((1 << bits) - 1);
  const float eps = 1e-7f;
  float w_min = std::numeric_limits<float>::infinity(), w_max = -w_min;
  for (int j = 0; j < group_size; ++j) {
    float v = static_cast<float>(w[j]);
    w_max = std::max(w_max, v);
    w_min = std::min(w_min, v);
  }
  bool min_is_edge = std::abs(w_min) > std::abs(w_max);
  float scale = std::max((w_max - w_min) / n_bins, eps);
  scale = min_is_edge ? scale : -scale;  // a negative scale counts down from w_max
  float edge = min_is_edge ? w_min : w_max;
  float q0 = std::rint(edge / scale);
  float bias = 0.0f;
  if (q0 != 0.0f) {
    scale = edge / q0;
    bias = edge;
  }
  uint32_t codes[128];
  for (int j = 0; j < group_size; ++j) {
    float q = std::rint((static_cast<float>(w[j]) - bias) / scale);
    q = std::min(std::max(q, 0.0f), n_bins);
    codes[j] = std::isnan(q) ? 0u : uint32_t(q);  // NaN weights: code 0 (MLX leaves it undefined)
  }
  cpu::write_codes(codes, group_size, bits, words);
  scale_out = static_cast<T>(scale);
  bias_out = static_cast<T>(bias);
}

// out = O(P(q * scale) + bias), MLX's multiply (uint32 codes by P scales
// give P) then add (P + O biases give O).
template <typename P, typename O>
void dequantize_rows(const uint32_t* w, const P* scales, const O* biases, O* out, int64_t rows, int64_t words_per_row,
                     int64_t groups_per_row, int group_size, int bits) {
  int64_t K = groups_per_row * group_size;
  cpu::parallel_for(size_t(rows), cpu::grain_for_bytes(size_t(K) * sizeof(O)), [&](size_t b, size_t e) {
    for (size_t r = b; r < e; ++r) {
      const uint32_t* wr = w + r * words_per_row;
      O* o = out + r * K;
      for (int64_t g = 0; g < groups_per_row; ++g) {
        float s = static_cast<float>(scales[r * groups_per_row + g]);
        float bias = static_cast<float>(biases[r * groups_per_row + g]);
        for (int j = 0; j < group_size; ++j) {
          int64_t k = g * group_size + j;
          float p = cpu::round_to<P>(float(cpu::read_code(wr, k, bits)) * s);
          o[k] = static_cast<O>(p + bias);
        }
      }
    }
  });
}

}  // namespace

void Quantize::eval_cpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  if (mode_ != QuantizationMode::affine) {
    return cpu::fp_quantize(inputs[0], inputs.size() > 1 ? &inputs[1] : nullptr, group_size_, mode_, outputs[0],
                            outputs[1]);
  }
  array w = cpu::row_major(inputs[0]);
  for (auto& o : outputs) o.set_data(allocator::malloc(o.nbytes()));
  int64_t K = w.ndim() ? w.shape(-1) : 0;
  if (w.size() == 0 || K == 0) return;
  int64_t rows = int64_t(w.size()) / K, groups = K / group_size_, words = K / 32 * bits_;
  dispatch_kernel_float(w.dtype(), "quantize", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* wp = static_cast<const T*>(w.raw_ptr());
    auto* wq = static_cast<uint32_t*>(outputs[0].raw_ptr());
    T* sp = static_cast<T*>(outputs[1].raw_ptr());
    T* bp = static_cast<T*>(outputs[2].raw_ptr());
    int64_t n_groups = rows * groups, words_per_group = words / groups;
    cpu::parallel_for(size_t(n_groups), cpu::grain_for_bytes(size_t(group_size_) * sizeof(T)), [&](size_t b, size_t e) {
      for (size_t g = b; g < e; ++g) {
        quantize_group<T>(wp + g * group_size_, group_size_, bits_, wq + g * words_per_group, sp[g], bp[g]);
      }
    });
  });
}

void Dequantize::eval_cpu(const std::vector<array>& inputs, array& out) {
  if (mode_ != QuantizationMode::affine) {
    return cpu::fp_dequantize(inputs[0], inputs[1], inputs.size() > 2 ? &inputs[2] : nullptr, group_size_, mode_,
                              out);
  }
  array w = cpu::row_major(inputs[0]);
  array scales = cpu::row_major(inputs[1]);
  array biases = cpu::row_major(inputs[2]);
  out.set_data(allocator::malloc(out.nbytes()));
  if (out.size() == 0) return;
  int64_t words_per_row = w.shape(-1), groups_per_row = scales.shape(-1);
  int64_t rows = int64_t(w.size()) / words_per_row;
  dispatch_kernel_float(scales.dtype(), "dequantize", [&](auto ptag) {
    using P = typename decltype(ptag)::type;
    dispatch_kernel_float(out.dtype(), "dequantize", [&](auto otag) {
      using O = typename decltype(otag)::type;
      dequantize_rows<P, O>(static_cast<const uint32_t*>(w.raw_ptr()), static_cast<const P*>(scales.raw_ptr()),
                            static_cast<const O*>(biases.raw_ptr()), static_cast<O*>(out.raw_ptr()), rows,
                            words_per_row, groups_per_row, group_size_, bits_);
    });
  });
}

}  // namespace uma
