// Serialization of FFT, with the checks fft_impl makes: distinct axes of the
// input, positive sizes, the input already padded or cut to them, and the
// dtypes of the transform's kind.
#include "uma/core/primitives/fft.h"
#include "uma/core/primitives/serialize.h"

namespace uma {

void FFT::serialize(PrimitiveWriter& w) const { w.fields(*this, &FFT::axes_, &FFT::n_, &FFT::inverse_, &FFT::real_); }

std::shared_ptr<Primitive> FFT::deserialize(Stream s, PrimitiveReader& r) {
  auto axes = r.get<std::vector<int>>();
  auto n = r.get<Shape>();
  auto inverse = r.get<bool>();
  auto real = r.get<bool>();
  r.inputs(1);
  r.outputs(1);
  const Shape& in = r.in(0).shape;
  r.check(!axes.empty() && n.size() == axes.size(), "needs one size per axis, and an axis");
  r.axes(axes, int(in.size()), "axes");
  for (size_t i = 0; i < axes.size(); ++i) {
    r.check(n[i] > 0, "a transform size is not positive");
    int32_t want = real && inverse && i + 1 == axes.size() ? n[i] / 2 + 1 : n[i];
    r.check(in[size_t(axes[i])] == want, "the input is not of the transform's sizes");
  }
  r.check(r.in(0).dtype == (real && !inverse ? float32 : complex64), "the input dtype is not the transform's");
  r.out_dtype(real && inverse ? float32 : complex64);
  return std::make_shared<FFT>(s, std::move(axes), std::move(n), inverse, real);
}

}  // namespace uma
