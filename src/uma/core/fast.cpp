#include "uma/core/fast.h"

#include <cmath>

#include "uma/core/ops.h"
#include "uma/core/primitives/fast.h"
#include "uma/core/utils.h"

namespace uma::fast {

namespace {

void check_float(const array& x, const char* op) {
  if (!is_floating_point(x.dtype())) {
    throw std::invalid_argument(std::string("[") + op + "] needs a floating point input, got " +
                                dtype_name(x.dtype()));
  }
}

void check_last_dim(const array& x, const std::optional<array>& p, const char* op, const char* what) {
  if (!p) return;
  if (p->ndim() != 1 || x.ndim() == 0 || p->shape(0) != x.shape(-1)) {
    throw std::invalid_argument(std::string("[") + op + "] " + what + " must have shape (" +
                                std::to_string(x.ndim() ? x.shape(-1) : 0) + "), got " + shape_str(p->shape()));
  }
}

// The fast primitive P, which keeps the same computation composed from ops
// (its fallback) for the transforms. Both backends have the kernels (the
// CUDA ones run the rare shapes they do not cover on the CPU).
template <typename P, typename... Params>
array fast_or_fallback(Shape shape, Dtype dtype, Stream s, std::vector<array> inputs, Custom::Fallback fallback,
                       Params... params) {
  return array(std::move(shape), dtype, std::make_shared<P>(s, std::move(fallback), params...), std::move(inputs));
}

std::optional<array> input_if(bool present, const std::vector<array>& inputs, size_t i) {
  return present ? std::optional<array>(inputs[i]) : std::nullopt;
}

}  // namespace

array rms_norm(const array& x, const std::optional<array>& weight, float eps, StreamOrDevice s) {
  check_float(x, "rms_norm");
  if (x.ndim() == 0) throw std::invalid_argument("[rms_norm] input must have at least one dimension");
  check_last_dim(x, weight, "rms_norm", "weight");
  Dtype out_t = weight ? promote_types(x.dtype(), weight->dtype()) : x.dtype();
  std::vector<array> ins{astype(x, out_t, s)};
  if (weight) ins.push_back(astype(*weight, out_t, s));
  Stream st = to_stream(s);
  bool has_weight = bool(weight);
  auto reference = [=](const std::vector<array>& in) {
    return std::vector<array>{rms_norm_reference(in[0], input_if(has_weight, in, 1), eps, st)};
  };
  return fast_or_fallback<RMSNorm>(x.shape(), out_t, st, std::move(ins), reference, eps, has_weight);
}

array rms_norm_reference(const array& x, const std::optional<array>& weight, float eps, StreamOrDevice s) {
  Dtype out_t = weight ? promote_types(x.dtype(), weight->dtype()) : x.dtype();
  array xf = astype(x, float32, s);
  array r = rsqrt(add(mean(square(xf, s), -1, true, s), array(eps), s), s);
  array y = multiply(xf, r, s);
  if (weight) y = multiply(y, astype(*weight, float32, s), s);
  return astype(y, out_t, s);
}

array layer_norm(const array& x, const std::optional<array>& weight, const std::optional<array>& bias, float eps,
                 StreamOrDevice s) {
  check_float(x, "layer_norm");
  if (x.ndim() == 0) throw std::invalid_argument("[layer_norm] input must have at least one dimension");
  check_last_dim(x, weight, "layer_norm", "weight");
  check_last_dim(x, bias, "layer_norm", "bias");
  Dtype out_t = x.dtype();
  if (weight) out_t = promote_types(out_t, weight->dtype());
  if (bias) out_t = promote_types(out_t, bias->dtype());
  std::vector<array> ins{astype(x, out_t, s)};
  if (weight) ins.push_back(astype(*weight, out_t, s));
  if (bias) ins.push_back(astype(*bias, out_t, s));
  Stream st = to_stream(s);
  bool has_weight = bool(weight), has_bias = bool(bias);
  auto reference = [=](const std::vector<array>& in) {
    return std::vector<array>{
        layer_norm_reference(in[0], input_if(has_weight, in, 1), input_if(has_bias, in, 1 + has_weight), eps, st)};
  };
  return fast_or_fallback<LayerNorm>(x.shape(), out_t, st, std::move(ins), reference, eps, has_weight, has_bias);
}

array layer_norm_reference(const array& x, const std::optional<array>& weight, const std::optional<array>& bias,
                           float eps, StreamOrDevice s) {
  Dtype out_t = x.dtype();
  if (weight) out_t = promote_types(out_t, weight->dtype());
  if (bias) out_t = promote_types(out_t, bias->dtype());
  array xf = astype(x, float32, s);
  array mu = mean(xf, -1, true, s);
  array xc = subtract(xf, mu, s);
  array y = multiply(xc, rsqrt(add(mean(square(xc, s), -1, true, s), array(eps), s), s), s);
  if (weight) y = multiply(y, astype(*weight, float32, s), s);
  if (bias) y = add(y, astype(*bias, float32, s), s);
  return astype(y, out_t, s);
}

namespace {
void check_rope(const array& x, int dims, std::optional<float> base, const std::optional<array>& freqs) {
  check_float(x, "rope");
  if (x.ndim() < 2) throw std::invalid_argument("[rope] input must be at least 2-d (..., T, D), got " + shape_str(x.shape()));
  if (dims <= 0 || dims % 2 || dims > x.shape(-1)) {
    throw std::invalid_argument("[rope] dims must be even and at most the last dimension " +
                                std::to_string(x.shape(-1)) + ", got " + std::to_string(dims));
  }
  if (base.has_value() == freqs.has_value()) {
    throw std::invalid_argument("[rope] give exactly one of base and freqs");
  }
  if (freqs && (freqs->ndim() != 1 || freqs->shape(0) != dims / 2)) {
    throw std::invalid_argument("[rope] freqs must have shape (" + std::to_string(dims / 2) + "), got " +
                                shape_str(freqs->shape()));
  }
}
}  // namespace

array rope(const array& x, int dims, bool traditional, std::optional<float> base, float scale, const array& offset,
           const std::optional<array>& freqs, StreamOrDevice s) {
  check_rope(x, dims, base, freqs);
  if (!is_integral(offset.dtype()) || offset.ndim() > 1) {
    throw std::invalid_argument("[rope] offset must be an integer scalar or a (B) vector");
  }
  if (offset.ndim() == 1 && (x.ndim() < 3 || offset.shape(0) != x.shape(0))) {
    throw std::invalid_argument("[rope] a vector offset needs one entry per batch item");
  }
  std::vector<array> ins{x, astype(offset, int32, s)};
  if (freqs) ins.push_back(astype(*freqs, float32, s));
  Stream st = to_stream(s);
  bool has_freqs = bool(freqs);
  auto reference = [=](const std::vector<array>& in) {
    return std::vector<array>{
        rope_reference(in[0], dims, traditional, base, scale, in[1], input_if(has_freqs, in, 2), st)};
  };
  return fast_or_fallback<RoPE>(x.shape(), x.dtype(), st, std::move(ins), reference, dims, traditional,
                                base.value_or(0.f), scale, has_freqs);
}

array rope(const array& x, int dims, bool traditional, std::optional<float> base, float scale, int offset,
           const std::optional<array>& freqs, StreamOrDevice s) {
  return rope(x, dims, traditional, base, scale, array(offset), freqs, s);
}

array rope_reference(const array& x, int dims, bool traditional, std::optional<float> base, float scale,
                     const array& offset, const std::optional<array>& freqs, StreamOrDevice s) {
  check_rope(x, dims, base, freqs);
  int T = x.shape(-2), D = x.shape(-1), half = dims / 2;
  array inv = freqs ? reciprocal(astype(*freqs, float32, s), s)
                    : power(array(*base), multiply(arange(0, half, float32, s), array(-2.0f / float(dims)), s), s);
  // positions: (T) or (B, 1, T) for per-batch offsets
  array pos = arange(0, T, float32, s);
  array off = astype(offset, float32, s);
  if (offset.ndim() == 1) {
    pos = add(reshape(off, {offset.shape(0), 1}, s), pos, s);  // (B, T)
    Shape ps(x.ndim(), 1);
    ps[0] = offset.shape(0);
    ps[ps.size() - 2] = T;
    pos = reshape(pos, ps, s);
  } else {
    pos = reshape(add(pos, off, s), {T, 1}, s);
  }
  array theta = multiply(multiply(pos, array(scale), s), inv, s);  // (..., T, half)
  array c = cos(theta, s), sn = sin(theta, s);
  array xf = astype(x, float32, s);
  int nd = int(x.ndim());
  Shape start(nd, 0), stop = x.shape();
  auto part = [&](int b, int e, int step) {
    Shape st = start, sp = stop, stp(nd, 1);
    st.back() = b;
    sp.back() = e;
    stp.back() = step;
    return slice(xf, st, sp, stp, s);
  };
  array x1 = traditional ? part(0, dims, 2) : part(0, half, 1);
  array x2 = traditional ? part(1, dims, 2) : part(half, dims, 1);
  array r1 = subtract(multiply(x1, c, s), multiply(x2, sn, s), s);
  array r2 = add(multiply(x1, sn, s), multiply(x2, c, s), s);
  array rotated = traditional ? reshape(stack({r1, r2}, -1, s), [&] {
    Shape sh = r1.shape();
    sh.back() *= 2;
    return sh;
  }(), s)
                              : concatenate({r1, r2}, -1, s);
  if (dims < D) rotated = concatenate({rotated, part(dims, D, 1)}, -1, s);
  return astype(rotated, x.dtype(), s);
}

namespace {
void check_sdpa(const array& q, const array& k, const array& v, const std::string& mode,
                const std::optional<array>& mask) {
  if (q.ndim() != 4 || k.ndim() != 4 || v.ndim() != 4) {
    throw std::invalid_argument("[scaled_dot_product_attention] q, k, v must be 4-d (B, H, T, D), got " +
                                shape_str(q.shape()) + ", " + shape_str(k.shape()) + ", " + shape_str(v.shape()));
  }
  if (q.shape(0) != k.shape(0) || k.shape(0) != v.shape(0) || k.shape(1) != v.shape(1) || k.shape(2) != v.shape(2) ||
      q.shape(3) != k.shape(3)) {
    throw std::invalid_argument("[scaled_dot_product_attention] incompatible shapes q " + shape_str(q.shape()) +
                                ", k " + shape_str(k.shape()) + ", v " + shape_str(v.shape()));
  }
  if (k.shape(1) == 0 || q.shape(1) % k.shape(1)) {
    throw std::invalid_argument("[scaled_dot_product_attention] query heads (" + std::to_string(q.shape(1)) +
                                ") must be a multiple of key/value heads (" + std::to_string(k.shape(1)) + ")");
  }
  if (!mode.empty() && mode != "causal") {
    throw std::invalid_argument("[scaled_dot_product_attention] mask mode must be \"\" or \"causal\", got \"" +
                                mode + "\"");
  }
  if (mask) {
    if (mode == "causal") throw std::invalid_argument("[scaled_dot_product_attention] give a causal mode or a mask array, not both");
    Shape want{q.shape(0), q.shape(1), q.shape(2), k.shape(2)};
    if (broadcast_shapes(mask->shape(), want, "scaled_dot_product_attention") != want) {
      throw std::invalid_argument("[scaled_dot_product_attention] mask of shape " + shape_str(mask->shape()) +
                                  " does not broadcast to " + shape_str(want));
    }
  }
  check_float(q, "scaled_dot_product_attention");
}
}  // namespace

array scaled_dot_product_attention(const array& q, const array& k, const array& v, float scale,
                                   const std::string& mask_mode, const std::optional<array>& mask, StreamOrDevice s) {
  check_sdpa(q, k, v, mask_mode, mask);
  Dtype t = promote_types(q.dtype(), promote_types(k.dtype(), v.dtype()));
  std::vector<array> ins{astype(q, t, s), astype(k, t, s), astype(v, t, s)};
  if (mask) {
    array m = mask->dtype() == bool_ ? *mask : astype(*mask, float32, s);
    ins.push_back(broadcast_to(m, {q.shape(0), q.shape(1), q.shape(2), k.shape(2)}, s));
  }
  Shape out{q.shape(0), q.shape(1), q.shape(2), v.shape(3)};
  Stream st = to_stream(s);
  bool causal = mask_mode == "causal", has_mask = bool(mask);
  auto reference = [=](const std::vector<array>& in) {
    return std::vector<array>{scaled_dot_product_attention_reference(in[0], in[1], in[2], scale, causal ? "causal" : "",
                                                                     input_if(has_mask, in, 3), st)};
  };
  return fast_or_fallback<ScaledDotProductAttention>(std::move(out), t, st, std::move(ins), reference, scale, causal,
                                                     has_mask);
}

array scaled_dot_product_attention_reference(const array& q, const array& k, const array& v, float scale,
                                             const std::string& mask_mode, const std::optional<array>& mask,
                                             StreamOrDevice s) {
  check_sdpa(q, k, v, mask_mode, mask);
  Dtype t = promote_types(q.dtype(), promote_types(k.dtype(), v.dtype()));
  int B = q.shape(0), Hq = q.shape(1), Tq = q.shape(2), D = q.shape(3);
  int Hk = k.shape(1), Tk = k.shape(2), rep = Hq / Hk;
  // Group query heads per kv head: (B, Hk, rep, Tq, D).
  array qf = reshape(astype(q, float32, s), {B, Hk, rep, Tq, D}, s);
  array kf = expand_dims(astype(k, float32, s), 2, s);
  array vf = expand_dims(astype(v, float32, s), 2, s);
  array scores = multiply(matmul(qf, swapaxes(kf, -1, -2, s), s), array(scale), s);  // (B,Hk,rep,Tq,Tk)
  if (mask_mode == "causal") {
    array qi = reshape(arange(Tk - Tq, Tk, int32, s), {Tq, 1}, s);
    array kj = reshape(arange(0, Tk, int32, s), {1, Tk}, s);
    scores = where(greater_equal(qi, kj, s), scores, array(-INFINITY), s);
  } else if (mask) {
    array m = reshape(broadcast_to(*mask, {B, Hq, Tq, Tk}, s), {B, Hk, rep, Tq, Tk}, s);
    scores = m.dtype() == bool_ ? where(m, scores, array(-INFINITY), s) : add(scores, astype(m, float32, s), s);
  }
  // A query that sees no key gets zeros, as from the kernel (softmax over
  // only -inf scores would be NaN).
  array sees = not_equal(max(scores, -1, true, s), array(-INFINITY), s);
  array p = where(sees, softmax(scores, -1, true, s), array(0.f), s);
  array o = matmul(p, vf, s);  // (B,Hk,rep,Tq,Dv)
  return astype(reshape(o, {B, Hq, Tq, v.shape(3)}, s), t, s);
}

}  // namespace uma::fast
