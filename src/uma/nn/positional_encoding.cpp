#include "uma/nn/positional_encoding.h"

#include <cmath>
#include <vector>

#include "uma/core/fast.h"
#include "uma/core/utils.h"

namespace uma::nn {

RoPE::RoPE(int dims, bool traditional, float base, float scale)
    : dims_(dims), traditional_(traditional), base_(base), scale_(scale) {
  if (dims <= 0 || dims % 2 != 0) {
    throw std::invalid_argument("[RoPE] dims must be positive and even, got " + std::to_string(dims));
  }
}

array RoPE::operator()(const array& x, int offset) const {
  if (x.ndim() < 2 || x.shape(-1) < dims_) {
    throw std::invalid_argument("[RoPE] expects (..., L, D) with D >= " + std::to_string(dims_) + ", got " +
                                shape_str(x.shape()));
  }
  return fast::rope(x, dims_, traditional_, base_, scale_, offset);
}

SinusoidalPositionalEncoding::SinusoidalPositionalEncoding(int dims, float min_freq, float max_freq,
                                                           std::optional<float> scale, bool cos_first,
                                                           bool full_turns)
    : scale_(scale ? *scale : std::sqrt(2.0f / float(dims))), cos_first_(cos_first) {
  if (dims <= 0 || dims % 2 != 0) {
    throw std::invalid_argument("[SinusoidalPositionalEncoding] dims must be positive and even, got " +
                                std::to_string(dims));
  }
  int half = dims / 2;
  // 1 at i = 0 down to 0 at i = half - 1.
  array one_zero = half == 1 ? array({1.0f})
                             : subtract(array(1.0f), divide(arange(0, half, 1, float32), array(float(half - 1))));
  float lo = std::log(min_freq), hi = std::log(max_freq);
  sigmas_ = exp(add(multiply(one_zero, array(hi - lo)), array(lo)));
  if (full_turns) sigmas_ = multiply(sigmas_, array(float(2 * M_PI)));
}

array SinusoidalPositionalEncoding::operator()(const array& x) const {
  array y = multiply(expand_dims(x, -1), sigmas_);
  array c = cos(y), s = sin(y);
  y = cos_first_ ? concatenate({c, s}, -1) : concatenate({s, c}, -1);
  return scale_ != 1.0f ? multiply(y, array(scale_)) : y;
}

namespace {

std::vector<double> alibi_slopes(int n) {
  double l = std::log2(double(n));
  if (l == std::floor(l)) {
    double start = std::pow(2.0, -std::pow(2.0, -(l - 3)));
    std::vector<double> out;
    for (int i = 0; i < n; ++i) out.push_back(start * std::pow(start, i));
    return out;
  }
  int p = 1 << int(std::floor(l));
  std::vector<double> out = alibi_slopes(p), more = alibi_slopes(2 * p);
  for (size_t i = 0; i < more.size() && int(out.size()) < n; i += 2) out.push_back(more[i]);
  return out;
}

}  // namespace

array ALiBi::create_alibi_slope(int num_heads, Dtype dtype) {
  if (num_heads <= 0) throw std::invalid_argument("[ALiBi] num_heads must be positive, got " + std::to_string(num_heads));
  auto s = alibi_slopes(num_heads);
  std::vector<float> f(s.begin(), s.end());
  return astype(array(f, {num_heads, 1, 1}), dtype);
}

array ALiBi::create_alibi_matrix(int q_sequence_length, int k_sequence_length, int num_heads, int offset,
                                 Dtype dtype) {
  array x1 = arange(offset, q_sequence_length), x2 = arange(0, k_sequence_length);
  array dist = negative(abs(subtract(expand_dims(x1, 1), expand_dims(x2, 0))));
  dist = expand_dims(dist, {0, 1});
  return astype(multiply(dist, create_alibi_slope(num_heads, dtype)), dtype);
}

array ALiBi::operator()(const array& attention_scores, int offset, const std::optional<array>& mask) const {
  if (attention_scores.ndim() != 4) {
    throw std::invalid_argument("[ALiBi] expects scores (B, H, L_q, L_k), got " + shape_str(attention_scores.shape()));
  }
  array m = create_alibi_matrix(attention_scores.shape(-2) + offset, attention_scores.shape(-1),
                                attention_scores.shape(1), offset, attention_scores.dtype());
  if (mask) m = add(m, *mask);
  return add(attention_scores, m);
}

}  // namespace uma::nn
