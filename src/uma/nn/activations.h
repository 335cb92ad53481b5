// Activations as mlx.nn has them: the functions (mlx.nn.relu, ...) with
// MLX's formulas, constants and defaults, and the Module classes (nn.ReLU,
// nn.GELU(approx), nn.PReLU with its learnable weight, ...). Every function
// is made of differentiable ops and keeps the input's dtype (scalars are weak:
// a bfloat16 input gives a bfloat16 output), except `step`, which returns
// int32 as MLX's does.
#pragma once

#include <string>

#include "uma/core/ops.h"
#include "uma/nn/module.h"

namespace uma::nn {

// --- functions
// mlx.nn.sigmoid and tanh are mlx.core's: the same functions here (so
// unqualified calls inside uma::nn stay unambiguous).
using uma::sigmoid;
using uma::tanh;
// Over one axis, the last by default as mlx.nn.softmax (uma::softmax(x)
// without an axis normalizes over all axes). Inside uma::nn write
// nn::softmax or uma::softmax: an unqualified call is ambiguous.
array softmax(const array& x, int axis = -1);
array relu(const array& x);                                   // max(x, 0)
array relu2(const array& x);                                  // max(x, 0)^2
array relu6(const array& x);                                  // min(max(x, 0), 6)
array leaky_relu(const array& x, double negative_slope = 0.01);  // max(slope x, x)
array log_softmax(const array& x, int axis = -1);             // x - logsumexp(x), shifted by the max first
array elu(const array& x, double alpha = 1.0);                // x > 0 ? x : alpha (exp(x) - 1)
array softplus(const array& x);                               // log(1 + exp(x)) = logaddexp(x, 0)
array softsign(const array& x);                               // x / (1 + |x|)
array softshrink(const array& x, double lambd = 0.5);         // |x| > l ? x - sign(x) l : 0
array celu(const array& x, double alpha = 1.0);               // max(x, 0) + alpha (exp(min(x, 0) / alpha) - 1)
array silu(const array& x);                                   // x sigmoid(x)
array log_sigmoid(const array& x);                            // -softplus(-x)
array gelu(const array& x);                                   // x (1 + erf(x / sqrt 2)) / 2
// 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (Hugging Face's
// gelu_pytorch_tanh). float16/bfloat16 inputs are computed in float32 and
// rounded once, as the models that use it expect.
array gelu_approx(const array& x);
array gelu_fast_approx(const array& x);                       // x sigmoid(1.702 x)
// Splits `axis` into halves a, b and returns a sigmoid(b); the axis must
// have an even size.
array glu(const array& x, int axis = -1);
array step(const array& x, double threshold = 0.0);           // int32: x >= threshold ? 1 : 0
array selu(const array& x);                                   // 1.0507 elu(x, 1.67326) (MLX's rounded constants)
array prelu(const array& x, const array& alpha);              // max(0, x) + alpha min(0, x)
array mish(const array& x);                                   // x tanh(softplus(x))
array hardswish(const array& x);                              // x min(max(x + 3, 0), 6) / 6
array hard_tanh(const array& x, double min_val = -1.0, double max_val = 1.0);
array hard_shrink(const array& x, double lambd = 0.5);        // |x| > l ? x : 0
array softmin(const array& x, int axis = -1);                 // softmax(-x)

// By Hugging Face's hidden_act name: silu/swish, gelu, gelu_pytorch_tanh,
// gelu_new, gelu_fast, quick_gelu, relu, relu2, relu6, leaky_relu, sigmoid,
// tanh, mish, selu, elu, celu, softplus, linear/identity.
array activation(const std::string& name, const array& x);

// --- modules
// The common base, so that containers can hold any activation.
class Activation : public Module {
 public:
  virtual array operator()(const array& x) const = 0;
};

namespace detail {
array sigmoid1(const array& x);
array tanh1(const array& x);
}  // namespace detail

// The parameterless ones: Sigmoid, Mish, ReLU, ReLU2, ReLU6, Softplus,
// Softsign, SiLU, LogSigmoid, Tanh, Hardswish, SELU.
template <array (*F)(const array&)>
class UnaryActivation : public Activation {
 public:
  array operator()(const array& x) const override { return F(x); }
};
using Sigmoid = UnaryActivation<detail::sigmoid1>;
using Mish = UnaryActivation<mish>;
using ReLU = UnaryActivation<relu>;
using ReLU2 = UnaryActivation<relu2>;
using ReLU6 = UnaryActivation<relu6>;
using Softplus = UnaryActivation<softplus>;
using Softsign = UnaryActivation<softsign>;
using SiLU = UnaryActivation<silu>;
using LogSigmoid = UnaryActivation<log_sigmoid>;
using Tanh = UnaryActivation<detail::tanh1>;
using Hardswish = UnaryActivation<hardswish>;
using SELU = UnaryActivation<selu>;

// Softmax, LogSoftmax, Softmin and GLU over an axis (-1 in MLX's classes).
template <array (*F)(const array&, int)>
class AxisActivation : public Activation {
 public:
  explicit AxisActivation(int axis = -1) : axis_(axis) {}
  array operator()(const array& x) const override { return F(x, axis_); }

 private:
  int axis_;
};
using Softmax = AxisActivation<softmax>;
using LogSoftmax = AxisActivation<log_softmax>;
using Softmin = AxisActivation<softmin>;
using GLU = AxisActivation<glu>;

// LeakyReLU(negative_slope), ELU(alpha), CELU(alpha), Softshrink(lambd),
// HardShrink(lambd), Step(threshold): one number with MLX's default, given
// in thousandths (clang 15 takes no double template arguments; n / 1000.0
// is the double nearest each default, as the literal is).
template <array (*F)(const array&, double), int DefaultThousandths>
class ScalarActivation : public Activation {
 public:
  explicit ScalarActivation(double value = DefaultThousandths / 1000.0) : value_(value) {}
  array operator()(const array& x) const override { return F(x, value_); }
  double value() const { return value_; }

 private:
  double value_;
};
using LeakyReLU = ScalarActivation<leaky_relu, 10>;
using ELU = ScalarActivation<elu, 1000>;
using CELU = ScalarActivation<celu, 1000>;
using Softshrink = ScalarActivation<softshrink, 500>;
using HardShrink = ScalarActivation<hard_shrink, 500>;
using Step = ScalarActivation<step, 0>;

// HardTanh(min_val, max_val), defaults -1 and 1.
class HardTanh : public Activation {
 public:
  explicit HardTanh(double min_val = -1.0, double max_val = 1.0) : min_(min_val), max_(max_val) {}
  array operator()(const array& x) const override { return hard_tanh(x, min_, max_); }

 private:
  double min_, max_;
};

// GELU(approx): "none" (exact), "precise" or its alias "tanh" (gelu_approx),
// "fast" (gelu_fast_approx).
class GELU : public Activation {
 public:
  explicit GELU(const std::string& approx = "none");
  array operator()(const array& x) const override;

 private:
  std::string approx_;
};

// PReLU: a learnable slope per channel, the parameter "weight" of shape
// (num_parameters), filled with `init`; it broadcasts against the input's
// last axis as MLX's does.
class PReLU : public Activation {
 public:
  explicit PReLU(int num_parameters = 1, float init = 0.25f, Dtype dtype = float32);
  array operator()(const array& x) const override;

  array weight{0.0};
};

}  // namespace uma::nn
