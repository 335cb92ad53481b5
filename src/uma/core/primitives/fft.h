// Primitives of the fft family: discrete Fourier transforms over axes.
#pragma once

#include "uma/core/primitive.h"

namespace uma {

#define UMA_FFT_PRIMITIVES(X) X(FFT)

// The DFT over `axes` (distinct, non-negative), of sizes `n` (one per axis:
// the length of the transform, which is the input's along each axis except
// for a complex-to-real transform, whose last axis holds n.back() / 2 + 1
// complex values and gives n.back() real ones). Forward transforms are
// unscaled, inverse ones scaled by 1 / prod(n), as in NumPy and MLX.
//   complex, forward:  complex64 -> complex64 (fftn)
//   complex, inverse:  complex64 -> complex64 (ifftn)
//   real, forward:     float32 -> complex64, last axis n -> n / 2 + 1 (rfftn)
//   real, inverse:     complex64 -> float32, last axis n / 2 + 1 -> n (irfftn);
//                      imaginary parts of the DC and Nyquist terms are ignored
// A real transform does its real-input (or real-output) step on the last
// axis of `axes` and complex steps on the others. The op pads or truncates
// the input to these sizes first, so the primitive never does.
class FFT : public UnaryPrimitive {
 public:
  FFT(Stream s, std::vector<int> axes, Shape n, bool inverse, bool real)
      : UnaryPrimitive(s), axes_(std::move(axes)), n_(std::move(n)), inverse_(inverse), real_(real) {}
  UMA_DECLARE_PRIMITIVE()
  const std::vector<int>& axes() const { return axes_; }
  const Shape& n() const { return n_; }
  bool inverse() const { return inverse_; }
  bool real() const { return real_; }

 private:
  std::vector<int> axes_;
  Shape n_;
  bool inverse_, real_;
};

}  // namespace uma
