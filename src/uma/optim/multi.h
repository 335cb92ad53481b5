// MultiOptimizer, as MLX's optim.MultiOptimizer: each gradient goes to the
// first optimizer whose filter accepts (name, gradient); the last optimizer
// takes the rest and has no filter. Every optimizer counts a step per call,
// even with no gradient of its own (as MLX).
//
//   auto muon = std::make_shared<Muon>(0.02f);
//   auto adamw = std::make_shared<AdamW>(3e-4f);
//   MultiOptimizer opt({muon, adamw}, {[](const std::string& k, const array& g) {
//     return g.ndim() == 2 && k.find("embed") == std::string::npos; }});
#pragma once

#include <memory>

#include "uma/optim/optimizer.h"

namespace uma::optim {

using Filter = std::function<bool(const std::string& name, const array& value)>;

class MultiOptimizer : public Optimizer {
 public:
  // filters.size() must be optimizers.size() - 1.
  MultiOptimizer(std::vector<std::shared_ptr<Optimizer>> optimizers, std::vector<Filter> filters = {});

  Params apply_gradients(const Params& grads, const Params& params) override;
  void init(const Params& params) override;
  int64_t step() const override;                  // the first optimizer's
  float learning_rate() const override;           // the first optimizer's
  void set_learning_rate(float lr) override;      // all of them
  void set_learning_rate(Schedule schedule) override;
  // Each optimizer's state under "states.<i>." ("states.0.step",
  // "states.1.model.w.m"), MLX's {"states": [...]} flattened.
  Params state() const override;
  void set_state(const Params& state) override;
  std::vector<array> state_arrays() const override;

  const std::vector<std::shared_ptr<Optimizer>>& optimizers() const { return optimizers_; }

 protected:
  // Never called: the parts do the work.
  Slots init_single(const array& param) const override;
  array apply_single(const array& grad, const array& param, Slots& slots) override;
  std::set<std::string> slot_names() const override { return {}; }

 private:
  // The maps each optimizer gets.
  std::vector<Params> split(const Params& values) const;

  std::vector<std::shared_ptr<Optimizer>> optimizers_;
  std::vector<Filter> filters_;
};

}  // namespace uma::optim
