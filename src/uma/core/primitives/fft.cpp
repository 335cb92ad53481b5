// Name, equivalence, shapes and the transform rules of FFT. Every variant is
// linear over the reals, so the jvp is the same transform of the tangent and
// the vjp its adjoint (the conjugate transpose, uma's convention for complex
// cotangents, as MLX's FFT::vjp):
//   fftn:   F^H c = N * ifftn(c)            ifftn:  fftn(c) / N
//   rfftn:  Re(F^H pad(c)) = N * irfftn(c * h), h = 1/2 off the DC and
//           Nyquist terms (irfftn counts each of those once, the rest twice)
//   irfftn: rfftn(g) * d / N, d = 2 off the DC and Nyquist terms
// with N the product of the transform sizes.
#include "uma/core/primitives/fft.h"

#include "uma/core/fft.h"
#include "uma/core/ops/elementwise.h"
#include "uma/core/ops/shape.h"
#include "uma/core/primitives/vmap_util.h"

namespace uma {

UMA_PRIMITIVE_NAME(FFT)

bool FFT::is_equivalent(const Primitive& o) const {
  return same<FFT>(o, [&](const FFT& p) {
    return p.axes_ == axes_ && p.n_ == n_ && p.inverse_ == inverse_ && p.real_ == real_;
  });
}

std::vector<Shape> FFT::output_shapes(const std::vector<array>& inputs) {
  Shape s = inputs[0].shape();
  if (real_) s[axes_.back()] = inverse_ ? n_.back() : n_.back() / 2 + 1;
  return {s};
}

namespace {

// The weights of the half spectrum of a length-n real transform along `axis`
// of an ndim array: `edge` on the DC term (and the Nyquist one, n even),
// `middle` elsewhere; shaped to broadcast.
array half_spectrum_weights(int ndim, int axis, int n, float edge, float middle) {
  int m = n / 2 + 1;
  std::vector<float> w(m, middle);
  w[0] = edge;
  if (n % 2 == 0) w[m - 1] = edge;
  Shape shape(ndim, 1);
  shape[axis] = m;
  return array(w, shape);
}

}  // namespace

std::vector<array> FFT::vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                            const std::vector<int>&, const std::vector<array>&) {
  const array& cot = cotangents[0];
  Stream s = stream();
  double total = 1;
  for (int k : n_) total *= k;
  array scale = array(float(total)), inv_scale = array(float(1.0 / total));
  int nd = int(primals[0].ndim());
  if (real_ && inverse_) {
    array d = half_spectrum_weights(nd, axes_.back(), n_.back(), 1.0f, 2.0f);
    return {multiply(multiply(fft::rfftn(astype(cot, float32, s), n_, axes_, s), d, s), inv_scale, s)};
  }
  if (real_) {
    array h = half_spectrum_weights(nd, axes_.back(), n_.back(), 1.0f, 0.5f);
    return {multiply(fft::irfftn(multiply(cot, h, s), n_, axes_, s), scale, s)};
  }
  if (inverse_) return {multiply(fft::fftn(cot, n_, axes_, s), inv_scale, s)};
  return {multiply(fft::ifftn(cot, n_, axes_, s), scale, s)};
}

std::vector<array> FFT::jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                            const std::vector<int>&) {
  array t = astype(tangents[0], primals[0].dtype(), stream());
  auto p = std::make_shared<FFT>(stream(), axes_, n_, inverse_, real_);
  return {detail::make_node(p, {t}, real_ && inverse_ ? float32 : complex64)};
}

std::pair<std::vector<array>, std::vector<int>> FFT::vmap(const std::vector<array>& inputs,
                                                          const std::vector<int>& axes) {
  int b = axes[0];
  auto p = std::make_shared<FFT>(stream(), detail::shift_axes(axes_, b), n_, inverse_, real_);
  return {{detail::make_node(p, {inputs[0]}, real_ && inverse_ ? float32 : complex64)}, {b}};
}

}  // namespace uma
