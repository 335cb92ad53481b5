// uma::optim::Optimizer: the base of MLX's optimizers (mlx.optimizers), over
// flat parameter maps keyed by dotted names (nn::Module::parameters()).
//
//   optim::AdamW opt(1e-3f);                         // or a Schedule
//   auto [loss, grads] = value_and_grad(...)(...);
//   opt.update(model, grads);                        // lazy graph nodes
//   auto todo = opt.state_arrays();                  // evaluate together
//   for (auto& [k, p] : model.parameters()) todo.push_back(p);
//   eval(todo);
//
// Semantics follow MLX: a key's state is made on first sight, one call is one
// step, the learning rate of an update is schedule(step before the update)
// and the step the update itself sees (Adam's bias correction, Adafactor) is
// the count including it. Hyper-parameters given as float are taken as the
// shortest decimal that names them (0.9f as 0.9), so the constants an update
// computes, e.g. 1 - beta, round as MLX's Python doubles do.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include "uma/core/array.h"
#include "uma/nn/module.h"

namespace uma::optim {

using Params = std::map<std::string, array>;
// The learning rate for an update, from the number of updates done before it.
using Schedule = std::function<float(int64_t step)>;

// A fixed rate or a schedule: constructors of optimizers take either.
class LearningRate {
 public:
  template <typename T>
    requires std::is_arithmetic_v<T>
  LearningRate(T value) : value_(static_cast<float>(value)) {}
  template <typename F>
    requires(!std::is_arithmetic_v<F> && std::is_invocable_r_v<float, F, int64_t>)
  LearningRate(F schedule) : schedule_(std::move(schedule)) {
    if (!schedule_) throw std::invalid_argument("[LearningRate] empty schedule");
  }
  float at(int64_t step) const { return schedule_ ? schedule_(step) : value_; }
  bool scheduled() const { return bool(schedule_); }

 private:
  float value_ = 0.0f;
  Schedule schedule_;
};

class Optimizer {
 public:
  virtual ~Optimizer();
  // Movable, not copyable: a copy would be a second optimizer silently
  // sharing nothing but its past (and MultiOptimizer's parts, everything).
  Optimizer(Optimizer&&) = default;
  Optimizer& operator=(Optimizer&&) = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // Updated parameters for `grads`: every key of grads must be in params
  // with the same shape; params not in grads are left out of the result.
  // Creates a key's state on first sight; counts one step per call. Lazy:
  // returns graph nodes (and the state's new slots are graph nodes too).
  virtual Params apply_gradients(const Params& grads, const Params& params);
  // model.update(apply_gradients(grads, model.parameters())).
  void update(nn::Module& model, const Params& grads);
  // Creates the state of every parameter not yet known (optional: the first
  // update does it), e.g. to read state() before training starts.
  virtual void init(const Params& params);

  // Updates done so far.
  virtual int64_t step() const { return step_; }
  // The rate the next update uses.
  virtual float learning_rate() const;
  virtual void set_learning_rate(float lr);
  virtual void set_learning_rate(Schedule schedule);

  // Everything needed to resume bit-exactly: "step" (int64 scalar),
  // "learning_rate" (float32 scalar, when the optimizer has one) and each
  // slot as "<parameter>.<slot>", e.g. "model.layers.0.w.m".
  virtual Params state() const;
  // Replaces the state (as MLX's `optimizer.state = ...`). Checks "step",
  // slot names, and the shapes and dtypes of slots against known parameters;
  // slots of parameters not seen yet are checked when they first are. A
  // scheduled rate ignores a saved "learning_rate" (the schedule decides).
  virtual void set_state(const Params& state);
  // The state's arrays, to evaluate with the new parameters each step.
  virtual std::vector<array> state_arrays() const;
  // state() as safetensors, written atomically; and back.
  void save_state(const std::string& path) const;
  void load_state(const std::string& path);

 protected:
  using Slots = std::map<std::string, array>;
  // `name` names the optimizer in error messages; an optimizer without a
  // learning rate (Adafactor's relative step) passes nullopt.
  Optimizer(std::string name, std::optional<LearningRate> lr);

  // A parameter's fresh state.
  virtual Slots init_single(const array& param) const = 0;
  // The updated parameter; updates `slots` in place.
  virtual array apply_single(const array& grad, const array& param, Slots& slots) = 0;
  // Every slot name this optimizer may keep (for set_state's checks).
  virtual std::set<std::string> slot_names() const = 0;

  // The rate of the update in progress, as MLX's learning_rate.astype(dtype).
  array lr_as(Dtype dtype) const;
  bool has_learning_rate() const { return lr_.has_value(); }
  // Throws unless both betas are in [0, 1).
  static void check_betas(const std::string& name, std::array<float, 2> betas);

  std::string name_;
  int64_t step_ = 0;  // during apply_single: the count including this update

 private:
  void check_loaded(const std::string& key, const array& param);

  std::optional<LearningRate> lr_;
  float current_lr_ = 0.0f;
  std::map<std::string, Slots> state_;
  std::set<std::string> unchecked_;  // loaded by set_state, no parameter seen yet
};

// The double a float hyper-parameter stands for: its shortest decimal
// (0.9f -> 0.9), so 1 - beta rounds as MLX's Python floats do.
double decimal(float v);

}  // namespace uma::optim
