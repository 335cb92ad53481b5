#include "uma/nn/recurrent.h"

#include <cmath>
#include <vector>

#include "uma/core/utils.h"

namespace uma::nn {

namespace {

array init_uniform(int hidden_size, const Shape& shape) {
  float scale = 1.0f / std::sqrt(float(hidden_size));
  return random::uniform(-scale, scale, shape);
}

void check_sizes(const char* op, int input_size, int hidden_size) {
  if (input_size <= 0 || hidden_size <= 0) {
    throw std::invalid_argument(std::string("[") + op + "] sizes must be positive, got input_size=" +
                                std::to_string(input_size) + ", hidden_size=" + std::to_string(hidden_size));
  }
}

// x (..., L, D) projected by W (G, D) plus bias: (..., L, G).
array project_input(const char* op, const array& x, const array& w, const std::optional<array>& bias) {
  if (x.ndim() < 2 || x.shape(-1) != w.shape(1)) {
    throw std::invalid_argument(std::string("[") + op + "] expects input (..., L, " + std::to_string(w.shape(1)) +
                                "), got " + shape_str(x.shape()));
  }
  array y = matmul(x, transpose(w));
  return bias ? add(y, *bias) : y;
}

// Step t of (..., L, G): (..., G).
array step(const array& x, int t) { return take(x, t, -2); }

void check_state(const char* op, const char* what, const std::optional<array>& s, const array& x, int hidden_size) {
  if (s && (s->ndim() == 0 || s->shape(-1) != hidden_size)) {
    throw std::invalid_argument(std::string("[") + op + "] the initial " + what + " state must end in " +
                                std::to_string(hidden_size) + ", got " + shape_str(s->shape()) + " for input " +
                                shape_str(x.shape()));
  }
}

}  // namespace

RNN::RNN(int input_size, int hidden_size, bool has_bias, std::function<array(const array&)> nonlinearity)
    : hidden_size_(hidden_size), nonlinearity_(nonlinearity ? std::move(nonlinearity) : [](const array& a) { return tanh(a); }) {
  check_sizes("RNN", input_size, hidden_size);
  Wxh = init_uniform(hidden_size, {hidden_size, input_size});
  Whh = init_uniform(hidden_size, {hidden_size, hidden_size});
  register_parameter("Wxh", Wxh);
  register_parameter("Whh", Whh);
  if (has_bias) register_parameter("bias", bias, init_uniform(hidden_size, {hidden_size}));
}

array RNN::operator()(const array& x, const std::optional<array>& hidden) const {
  check_state("RNN", "hidden", hidden, x, hidden_size_);
  array xp = project_input("RNN", x, Wxh, bias);
  std::optional<array> h = hidden;
  std::vector<array> all;
  for (int t = 0; t < x.shape(-2); ++t) {
    array pre = step(xp, t);
    if (h) pre = add(pre, matmul(*h, transpose(Whh)));
    h = nonlinearity_(pre);
    all.push_back(*h);
  }
  return stack(all, -2);
}

GRU::GRU(int input_size, int hidden_size, bool has_bias) : hidden_size_(hidden_size) {
  check_sizes("GRU", input_size, hidden_size);
  Wx = init_uniform(hidden_size, {3 * hidden_size, input_size});
  Wh = init_uniform(hidden_size, {3 * hidden_size, hidden_size});
  register_parameter("Wx", Wx);
  register_parameter("Wh", Wh);
  if (has_bias) {
    register_parameter("b", b, init_uniform(hidden_size, {3 * hidden_size}));
    register_parameter("bhn", bhn, init_uniform(hidden_size, {hidden_size}));
  }
}

array GRU::operator()(const array& x, const std::optional<array>& hidden) const {
  check_state("GRU", "hidden", hidden, x, hidden_size_);
  int H = hidden_size_;
  array xp = project_input("GRU", x, Wx, b);
  auto parts = split(xp, Shape{2 * H}, -1);  // (r, z) and n
  std::optional<array> h = hidden;
  std::vector<array> all;
  for (int t = 0; t < x.shape(-2); ++t) {
    array rz = step(parts[0], t), n = step(parts[1], t);
    std::optional<array> hn;  // h Wh_n^T + bhn
    if (h) {
      auto hp = split(matmul(*h, transpose(Wh)), Shape{2 * H}, -1);
      rz = add(rz, hp[0]);
      hn = bhn ? add(hp[1], *bhn) : hp[1];
    } else if (bhn) {
      hn = *bhn;
    }
    auto gates = split(sigmoid(rz), 2, -1);
    const array &r = gates[0], &z = gates[1];
    if (hn) n = add(n, multiply(r, *hn));
    n = tanh(n);
    array keep = subtract(array(1.0f, n.dtype()), z);
    h = h ? add(multiply(keep, n), multiply(z, *h)) : multiply(keep, n);
    all.push_back(*h);
  }
  return stack(all, -2);
}

LSTM::LSTM(int input_size, int hidden_size, bool has_bias) : hidden_size_(hidden_size) {
  check_sizes("LSTM", input_size, hidden_size);
  Wx = init_uniform(hidden_size, {4 * hidden_size, input_size});
  Wh = init_uniform(hidden_size, {4 * hidden_size, hidden_size});
  register_parameter("Wx", Wx);
  register_parameter("Wh", Wh);
  if (has_bias) register_parameter("bias", bias, init_uniform(hidden_size, {4 * hidden_size}));
}

std::pair<array, array> LSTM::operator()(const array& x, const std::optional<array>& hidden,
                                         const std::optional<array>& cell) const {
  check_state("LSTM", "hidden", hidden, x, hidden_size_);
  check_state("LSTM", "cell", cell, x, hidden_size_);
  array xp = project_input("LSTM", x, Wx, bias);
  std::optional<array> h = hidden, c = cell;
  std::vector<array> hs, cs;
  for (int t = 0; t < x.shape(-2); ++t) {
    array ifgo = step(xp, t);
    if (h) ifgo = add(ifgo, matmul(*h, transpose(Wh)));
    auto g4 = split(ifgo, 4, -1);
    array i = sigmoid(g4[0]), f = sigmoid(g4[1]), g = tanh(g4[2]), o = sigmoid(g4[3]);
    c = c ? add(multiply(f, *c), multiply(i, g)) : multiply(i, g);
    h = multiply(o, tanh(*c));
    hs.push_back(*h);
    cs.push_back(*c);
  }
  return {stack(hs, -2), stack(cs, -2)};
}

}  // namespace uma::nn
