// nn activations against PyTorch goldens (or closed forms where mlx.nn's
// definition differs, tests/fixtures/nn_functions/make_goldens.py), in
// float64 and float32; dtypes kept; gradients by finite differences; the
// Module classes and their parameters; bad input.
#include <gtest/gtest.h>

#include <functional>
#include <map>

#include "core/grad_util.h"
#include "nn/nn_golden_util.h"
#include "uma/nn/activations.h"
#include "uma/nn/layers.h"

using namespace uma;
using namespace uma::test;

namespace {

using Fn = std::function<array(const array&)>;

// Every golden by name: the function with the golden's parameters.
std::map<std::string, Fn> golden_functions(const array& prelu_weight) {
  return {
      {"sigmoid", [](auto& x) { return nn::sigmoid(x); }},
      {"relu", nn::relu},
      {"relu2", nn::relu2},
      {"relu6", nn::relu6},
      {"leaky_relu", [](auto& x) { return nn::leaky_relu(x); }},
      {"leaky_relu_0.2", [](auto& x) { return nn::leaky_relu(x, 0.2); }},
      {"log_softmax", [](auto& x) { return nn::log_softmax(x); }},
      {"log_softmax_axis0", [](auto& x) { return nn::log_softmax(x, 0); }},
      {"elu", [](auto& x) { return nn::elu(x); }},
      {"elu_0.5", [](auto& x) { return nn::elu(x, 0.5); }},
      {"softmax", [](auto& x) { return nn::softmax(x); }},
      {"softmax_axis0", [](auto& x) { return nn::softmax(x, 0); }},
      {"softplus", nn::softplus},
      {"softsign", nn::softsign},
      {"softshrink", [](auto& x) { return nn::softshrink(x); }},
      {"softshrink_1.5", [](auto& x) { return nn::softshrink(x, 1.5); }},
      {"celu", [](auto& x) { return nn::celu(x); }},
      {"celu_2", [](auto& x) { return nn::celu(x, 2.0); }},
      {"silu", nn::silu},
      {"log_sigmoid", nn::log_sigmoid},
      {"gelu", nn::gelu},
      {"gelu_approx", nn::gelu_approx},
      {"gelu_fast_approx", nn::gelu_fast_approx},
      {"glu", [](auto& x) { return nn::glu(x); }},
      {"glu_axis0", [](auto& x) { return nn::glu(x, 0); }},
      {"step", [](auto& x) { return nn::step(x); }},
      {"step_1", [](auto& x) { return nn::step(x, 1.0); }},
      {"selu", nn::selu},
      {"mish", nn::mish},
      {"hardswish", nn::hardswish},
      {"hard_tanh", [](auto& x) { return nn::hard_tanh(x); }},
      {"hard_tanh_-2_3", [](auto& x) { return nn::hard_tanh(x, -2.0, 3.0); }},
      {"hard_shrink", [](auto& x) { return nn::hard_shrink(x); }},
      {"softmin", [](auto& x) { return nn::softmin(x); }},
      {"tanh", [](auto& x) { return nn::tanh(x); }},
      {"prelu", [prelu_weight](auto& x) { return nn::prelu(x, astype(prelu_weight, x.dtype())); }},
  };
}

// Values away from every kink (0, +-0.5, +-1, +-1.5, -2, 3, +-6), so that
// finite differences see one smooth piece.
array smooth_points() {
  std::vector<double> v = {-7.3, -4.1, -2.7, -1.7, -0.83, -0.31, 0.13, 0.42, 0.77, 1.33, 2.2, 3.6, 5.1, 6.9};
  return array(v, {2, 7});
}

}  // namespace

TEST(Activations, PytorchGoldensFloat64) {
  auto& g = nn_goldens().at("activations");
  array x = golden_array(g.at("x"));
  auto fns = golden_functions(golden_array(g.at("prelu_weight")));
  ASSERT_EQ(fns.size(), g.at("outputs").size()) << "every golden has a function";
  for (auto& [name, want] : g.at("outputs").items()) {
    ASSERT_TRUE(fns.count(name)) << name;
    array y = fns.at(name)(x);
    if (name.rfind("step", 0) != 0) {
      EXPECT_EQ(y.dtype(), float64) << name;
    }
    expect_close(y, want, 1e-10, 1e-12, name);
  }
}

TEST(Activations, PytorchGoldensFloat32) {
  auto& g = nn_goldens().at("activations");
  array x = golden_array(g.at("x"), float32);
  auto fns = golden_functions(golden_array(g.at("prelu_weight")));
  for (auto& [name, want] : g.at("outputs").items()) {
    array y = fns.at(name)(x);
    EXPECT_EQ(y.dtype(), name.rfind("step", 0) == 0 ? int32 : float32) << name;
    expect_close(y, want, 2e-6, 2e-6, name);
  }
}

TEST(Activations, KeepHalfDtypes) {
  array x = astype(array({-2.0f, -0.5f, 0.0f, 0.7f, 3.0f}), bfloat16);
  array xf = astype(x, float32);
  for (auto f : {nn::relu, nn::silu, nn::gelu, nn::gelu_approx, nn::gelu_fast_approx, nn::mish, nn::selu,
                 nn::hardswish, nn::softplus, nn::log_sigmoid, nn::relu6, nn::softsign}) {
    array y = f(x);
    EXPECT_EQ(y.dtype(), bfloat16);
    // bfloat16 keeps 8 bits: within a few of its ulps of the float32 result.
    expect_close(y, f(xf), 2e-2, 1e-2, "bfloat16");
  }
  EXPECT_EQ(nn::step(x).dtype(), int32);
}

TEST(Activations, GradientsByFiniteDifferences) {
  std::map<std::string, Fn> fns = {
      {"sigmoid", [](auto& x) { return nn::sigmoid(x); }},
      {"relu", nn::relu},
      {"relu2", nn::relu2},
      {"relu6", nn::relu6},
      {"leaky_relu", [](auto& x) { return nn::leaky_relu(x, 0.2); }},
      {"log_softmax", [](auto& x) { return nn::log_softmax(x); }},
      {"elu", [](auto& x) { return nn::elu(x, 0.7); }},
      {"softmax", [](auto& x) { return nn::softmax(x, 0); }},
      {"softplus", nn::softplus},
      {"softsign", nn::softsign},
      {"softshrink", [](auto& x) { return nn::softshrink(x); }},
      {"celu", [](auto& x) { return nn::celu(x, 1.3); }},
      {"silu", nn::silu},
      {"log_sigmoid", nn::log_sigmoid},
      {"gelu", nn::gelu},
      {"gelu_approx", nn::gelu_approx},
      {"gelu_fast_approx", nn::gelu_fast_approx},
      {"glu", [](auto& x) { return nn::glu(x, 0); }},
      {"selu", nn::selu},
      {"mish", nn::mish},
      {"hardswish", nn::hardswish},
      {"hard_tanh", [](auto& x) { return nn::hard_tanh(x, -2.0, 3.0); }},
      {"hard_shrink", [](auto& x) { return nn::hard_shrink(x); }},
      {"softmin", [](auto& x) { return nn::softmin(x); }},
      {"prelu", [](auto& x) { return nn::prelu(x, array({0.3, -0.2, 0.5, 1.5, 0.0, 2.0, 0.1}, {7})); }},
  };
  for (auto& [name, f] : fns) {
    SCOPED_TRACE(name);
    check_grad(f, smooth_points(), 1e-6);
  }
}

TEST(Activations, PiecewiseDerivativesAreTheClosedForms) {
  // relu' = 1 past 0 and 0 below; hard_tanh' = 1 inside; elu' = alpha e^x below 0.
  array x = array({-1.5, -0.2, 0.3, 2.5}, {4});
  auto g = [&](const Fn& f) { return uma::vjp(f, x, ones_like(x)).second; };
  expect_close(g(nn::relu), array({0.0, 0.0, 1.0, 1.0}, {4}), 0, 0, "relu'");
  expect_close(g([](auto& v) { return nn::hard_tanh(v); }), array({0.0, 1.0, 1.0, 0.0}, {4}), 0, 0, "hard_tanh'");
  expect_close(g([](auto& v) { return nn::elu(v, 2.0); }),
               array({2 * std::exp(-1.5), 2 * std::exp(-0.2), 1.0, 1.0}, {4}), 1e-12, 0, "elu'");
  // Large inputs: no NaN from the discarded exponential branch.
  array big = array({100.0f, 500.0f}, {2});
  auto gb = uma::vjp(Fn([](auto& v) { return nn::elu(v); }), big, ones_like(big)).second.to_vector<float>();
  EXPECT_EQ(gb, (std::vector<float>{1.0f, 1.0f}));
}

TEST(Activations, ModulesMatchFunctions) {
  array x = golden_array(nn_goldens().at("activations").at("x"), float32);
  auto same = [](array a, array b, const std::string& what) { expect_close(a, b, 0, 0, what); };
  same(nn::ReLU()(x), nn::relu(x), "ReLU");
  same(nn::Sigmoid()(x), uma::sigmoid(x), "Sigmoid");
  same(nn::Tanh()(x), uma::tanh(x), "Tanh");
  same(nn::LeakyReLU()(x), nn::leaky_relu(x, 0.01), "LeakyReLU default");
  same(nn::LeakyReLU(0.3)(x), nn::leaky_relu(x, 0.3), "LeakyReLU(0.3)");
  same(nn::ELU(0.5)(x), nn::elu(x, 0.5), "ELU");
  same(nn::CELU(2.0)(x), nn::celu(x, 2.0), "CELU");
  same(nn::Softshrink()(x), nn::softshrink(x, 0.5), "Softshrink");
  same(nn::HardShrink(1.0)(x), nn::hard_shrink(x, 1.0), "HardShrink");
  same(nn::HardTanh(-2.0, 3.0)(x), nn::hard_tanh(x, -2.0, 3.0), "HardTanh");
  same(nn::Step(1.0)(x), nn::step(x, 1.0), "Step");
  same(nn::Softmax()(x), nn::softmax(x, -1), "Softmax");
  same(nn::LogSoftmax(0)(x), nn::log_softmax(x, 0), "LogSoftmax(0)");
  same(nn::Softmin()(x), nn::softmin(x), "Softmin");
  same(nn::GLU(0)(x), nn::glu(x, 0), "GLU(0)");
  same(nn::GELU()(x), nn::gelu(x), "GELU");
  same(nn::GELU("precise")(x), nn::gelu_approx(x), "GELU(precise)");
  same(nn::GELU("tanh")(x), nn::gelu_approx(x), "GELU(tanh)");
  same(nn::GELU("fast")(x), nn::gelu_fast_approx(x), "GELU(fast)");
  // Through the common base, as a container would hold them.
  std::vector<std::shared_ptr<nn::Activation>> list = {std::make_shared<nn::SiLU>(), std::make_shared<nn::Mish>(),
                                                       std::make_shared<nn::SELU>()};
  same((*list[0])(x), nn::silu(x), "SiLU");
  same((*list[1])(x), nn::mish(x), "Mish");
  same((*list[2])(x), nn::selu(x), "SELU");
  EXPECT_TRUE(nn::ReLU().parameters().empty());
}

TEST(Activations, PReLUHasALearnableWeight) {
  nn::PReLU p(3, 0.1f);
  auto params = p.parameters();
  ASSERT_EQ(params.size(), 1u);
  ASSERT_TRUE(params.count("weight"));
  EXPECT_EQ(params.at("weight").shape(), Shape{3});
  EXPECT_EQ(params.at("weight").to_vector<float>(), (std::vector<float>{0.1f, 0.1f, 0.1f}));
  EXPECT_EQ(nn::PReLU().weight.to_vector<float>(), std::vector<float>{0.25f});
  array x = array({-1.0f, 2.0f, -3.0f, -4.0f, 5.0f, -6.0f}, {2, 3});
  p.update({{"weight", array({0.5f, 1.0f, 2.0f})}});
  EXPECT_EQ(p(x).to_vector<float>(), (std::vector<float>{-0.5, 2.0, -6.0, -2.0, 5.0, -12.0}));
  // d sum(prelu(x, w)) / dw = sum over rows of min(x, 0).
  auto g = uma::grad([&](const array& w) { return sum(nn::prelu(x, w)); })(array({0.5f, 1.0f, 2.0f}));
  EXPECT_EQ(g.to_vector<float>(), (std::vector<float>{-5.0f, 0.0f, -9.0f}));
}

TEST(Activations, HuggingFaceNames) {
  array x = golden_array(nn_goldens().at("activations").at("x"), float32);
  auto same = [&](const std::string& name, array want) { expect_close(nn::activation(name, x), want, 0, 0, name); };
  same("silu", nn::silu(x));
  same("swish", nn::silu(x));
  same("gelu", nn::gelu(x));
  same("gelu_pytorch_tanh", nn::gelu_approx(x));
  same("gelu_new", nn::gelu_approx(x));
  same("quick_gelu", nn::gelu_fast_approx(x));
  same("relu2", nn::relu2(x));
  same("linear", x);
  EXPECT_THROW(nn::activation("bogus", x), std::invalid_argument);
}

TEST(Activations, BadInput) {
  try {
    nn::glu(zeros({2, 5}));
    FAIL() << "odd axis";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).rfind("[glu]", 0), 0u) << e.what();
    EXPECT_NE(std::string(e.what()).find("(2,5)"), std::string::npos) << e.what();
  }
  EXPECT_THROW(nn::glu(zeros({2, 4}), 2), std::invalid_argument);
  EXPECT_THROW(nn::GELU("exact"), std::invalid_argument);
  EXPECT_THROW(nn::PReLU(0), std::invalid_argument);
}
