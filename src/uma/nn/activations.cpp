#include "uma/nn/activations.h"

#include <cmath>

#include "uma/core/utils.h"

namespace uma::nn {

namespace {

array zero_like(const array& x) { return weak_scalar(0.0, x); }

bool is_half(Dtype t) { return t == float16 || t == bfloat16; }

}  // namespace

array relu(const array& x) { return maximum(x, zero_like(x)); }

array relu2(const array& x) { return square(relu(x)); }

array relu6(const array& x) { return minimum(relu(x), weak_scalar(6.0, x)); }

array leaky_relu(const array& x, double negative_slope) { return maximum(x * double(negative_slope), x); }

array log_softmax(const array& x, int axis) {
  // Shift by the max first: subtracting logsumexp(x) from a large x would
  // round the normalizer away. The shift has no gradient (it cancels).
  array shifted = x - stop_gradient(max(x, axis, true));
  return shifted - logsumexp(shifted, axis, true);
}

array softmax(const array& x, int axis) { return uma::softmax(x, axis); }

array elu(const array& x, double alpha) {
  // expm1 of min(x, 0): the branch where() discards never overflows, so its
  // zero cotangent times an infinite derivative cannot make a NaN.
  return where(x > 0.0, x, expm1(minimum(x, zero_like(x))) * double(alpha));
}

array softplus(const array& x) { return logaddexp(x, zero_like(x)); }

array softsign(const array& x) { return x / (1.0 + abs(x)); }

array softshrink(const array& x, double lambd) {
  return where(abs(x) > double(lambd), x - sign(x) * double(lambd), zero_like(x));
}

array celu(const array& x, double alpha) {
  return relu(x) + double(alpha) * expm1(minimum(x, zero_like(x)) / double(alpha));
}

array silu(const array& x) { return x * sigmoid(x); }

array log_sigmoid(const array& x) { return -softplus(-x); }

array gelu(const array& x) { return x * (1.0 + erf(x * M_SQRT1_2)) / 2.0; }

array gelu_approx(const array& x) {
  array xf = is_half(x.dtype()) ? astype(x, float32) : x;
  array inner = std::sqrt(2.0 / M_PI) * (xf + 0.044715 * xf * square(xf));
  array y = 0.5 * xf * (1.0 + tanh(inner));
  return y.dtype() == x.dtype() ? y : astype(y, x.dtype());
}

array gelu_fast_approx(const array& x) { return x * sigmoid(1.702 * x); }

array glu(const array& x, int axis) {
  int ax = normalize_axis(axis, x.ndim(), "glu");
  if (x.shape(ax) % 2 != 0) {
    throw std::invalid_argument("[glu] axis " + std::to_string(axis) + " of shape " + shape_str(x.shape()) +
                                " must have an even size to split in halves");
  }
  auto halves = split(x, 2, ax);
  return halves[0] * sigmoid(halves[1]);
}

array step(const array& x, double threshold) { return where(x >= double(threshold), array(1), array(0)); }

array selu(const array& x) { return elu(x, 1.67326) * 1.0507; }

array prelu(const array& x, const array& alpha) {
  return relu(x) + alpha * minimum(x, zero_like(x));
}

array mish(const array& x) { return x * tanh(softplus(x)); }

array hardswish(const array& x) {
  array clipped = minimum(maximum(x + 3.0, zero_like(x)), weak_scalar(6.0, x));
  return x * clipped / 6.0;
}

array hard_tanh(const array& x, double min_val, double max_val) {
  return minimum(maximum(x, weak_scalar(min_val, x)), weak_scalar(max_val, x));
}

array hard_shrink(const array& x, double lambd) { return where(abs(x) > double(lambd), x, zero_like(x)); }

array softmin(const array& x, int axis) { return uma::softmax(-x, axis); }

array activation(const std::string& name, const array& x) {
  if (name == "silu" || name == "swish") return silu(x);
  if (name == "gelu") return gelu(x);
  if (name == "gelu_pytorch_tanh" || name == "gelu_new" || name == "gelu_fast") return gelu_approx(x);
  if (name == "quick_gelu") return gelu_fast_approx(x);
  if (name == "relu") return relu(x);
  if (name == "relu2") return relu2(x);
  if (name == "relu6") return relu6(x);
  if (name == "leaky_relu") return leaky_relu(x);
  if (name == "sigmoid") return sigmoid(x);
  if (name == "tanh") return tanh(x);
  if (name == "mish") return mish(x);
  if (name == "selu") return selu(x);
  if (name == "elu") return elu(x);
  if (name == "celu") return celu(x);
  if (name == "softplus") return softplus(x);
  if (name == "linear" || name == "identity") return x;
  throw std::invalid_argument("[activation] unknown activation '" + name + "'");
}

namespace detail {
array sigmoid1(const array& x) { return sigmoid(x); }
array tanh1(const array& x) { return tanh(x); }
}  // namespace detail

GELU::GELU(const std::string& approx) : approx_(approx) {
  if (approx != "none" && approx != "precise" && approx != "tanh" && approx != "fast") {
    throw std::invalid_argument("[GELU] approx must be one of none, precise, tanh, fast; got '" + approx + "'");
  }
}

array GELU::operator()(const array& x) const {
  if (approx_ == "none") return gelu(x);
  if (approx_ == "fast") return gelu_fast_approx(x);
  return gelu_approx(x);
}

PReLU::PReLU(int num_parameters, float init, Dtype dtype) {
  if (num_parameters < 1) {
    throw std::invalid_argument("[PReLU] num_parameters must be at least 1, got " + std::to_string(num_parameters));
  }
  weight = full({num_parameters}, init, dtype);
  register_parameter("weight", weight);
}

array PReLU::operator()(const array& x) const { return prelu(x, weight); }

}  // namespace uma::nn
