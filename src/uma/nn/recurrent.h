// Recurrent layers as mlx.nn's RNN, GRU and LSTM, with MLX's parameter
// names and gate order. x is (N, L, input_size) or (L, input_size); the
// outputs stack every step's hidden state on the L axis. Without an initial
// state the first step uses none (a zero state, as PyTorch's default).
// Init: uniform in +-1/sqrt(hidden_size) for every parameter.
//
// From PyTorch (single layer): RNN Wxh = weight_ih, Whh = weight_hh,
// bias = bias_ih + bias_hh; GRU (gates r, z, n) Wx = weight_ih,
// Wh = weight_hh, b = bias_ih + (bias_hr, bias_hz, 0), bhn = bias_hn;
// LSTM (gates i, f, g, o) Wx, Wh, bias = bias_ih + bias_hh.
#pragma once

#include <functional>
#include <optional>
#include <utility>

#include "uma/core/ops.h"
#include "uma/nn/module.h"

namespace uma::nn {

// h_t = nonlinearity(x_t Wxh^T + bias + h_{t-1} Whh^T); default tanh.
class RNN : public Module {
 public:
  RNN(int input_size, int hidden_size, bool bias = true,
      std::function<array(const array&)> nonlinearity = nullptr);
  array operator()(const array& x, const std::optional<array>& hidden = std::nullopt) const;

  array Wxh{0.0f}, Whh{0.0f};
  std::optional<array> bias;

 private:
  int hidden_size_;
  std::function<array(const array&)> nonlinearity_;
};

// r, z = sigmoid(x W_rz + b_rz + h Wh_rz); n = tanh(x W_n + b_n + r (h Wh_n + bhn));
// h' = (1 - z) n + z h.
class GRU : public Module {
 public:
  GRU(int input_size, int hidden_size, bool bias = true);
  array operator()(const array& x, const std::optional<array>& hidden = std::nullopt) const;

  array Wx{0.0f}, Wh{0.0f};
  std::optional<array> b, bhn;

 private:
  int hidden_size_;
};

// i, f, o = sigmoid(.), g = tanh(.) of x Wx^T + bias + h Wh^T;
// c' = f c + i g; h' = o tanh(c'). Returns (hidden states, cell states).
class LSTM : public Module {
 public:
  LSTM(int input_size, int hidden_size, bool bias = true);
  std::pair<array, array> operator()(const array& x, const std::optional<array>& hidden = std::nullopt,
                                     const std::optional<array>& cell = std::nullopt) const;

  array Wx{0.0f}, Wh{0.0f};
  std::optional<array> bias;

 private:
  int hidden_size_;
};

}  // namespace uma::nn
