#include "uma/optim/multi.h"

#include <stdexcept>

namespace uma::optim {

MultiOptimizer::MultiOptimizer(std::vector<std::shared_ptr<Optimizer>> optimizers, std::vector<Filter> filters)
    : Optimizer("MultiOptimizer", std::nullopt), optimizers_(std::move(optimizers)), filters_(std::move(filters)) {
  if (optimizers_.empty()) throw std::invalid_argument("[MultiOptimizer] needs at least one optimizer");
  if (filters_.size() + 1 != optimizers_.size())
    throw std::invalid_argument("[MultiOptimizer] got " + std::to_string(filters_.size()) + " filters for " +
                                std::to_string(optimizers_.size()) + " optimizers, expected " +
                                std::to_string(optimizers_.size() - 1));
  for (size_t i = 0; i < optimizers_.size(); ++i)
    if (!optimizers_[i]) throw std::invalid_argument("[MultiOptimizer] optimizer " + std::to_string(i) + " is null");
  for (size_t i = 0; i < filters_.size(); ++i)
    if (!filters_[i]) throw std::invalid_argument("[MultiOptimizer] filter " + std::to_string(i) + " is empty");
}

std::vector<Params> MultiOptimizer::split(const Params& values) const {
  std::vector<Params> parts(optimizers_.size());
  for (auto& [k, v] : values) {
    size_t i = 0;
    while (i < filters_.size() && !filters_[i](k, v)) ++i;
    parts[i].emplace(k, v);
  }
  return parts;
}

Params MultiOptimizer::apply_gradients(const Params& grads, const Params& params) {
  for (auto& [k, g] : grads)
    if (!params.count(k))
      throw std::invalid_argument("[MultiOptimizer::apply_gradients] gradient '" + k + "' has no parameter");
  auto parts = split(grads);
  Params out;
  for (size_t i = 0; i < optimizers_.size(); ++i) out.merge(optimizers_[i]->apply_gradients(parts[i], params));
  return out;
}

void MultiOptimizer::init(const Params& params) {
  auto parts = split(params);
  for (size_t i = 0; i < optimizers_.size(); ++i) optimizers_[i]->init(parts[i]);
}

int64_t MultiOptimizer::step() const { return optimizers_[0]->step(); }
float MultiOptimizer::learning_rate() const { return optimizers_[0]->learning_rate(); }

void MultiOptimizer::set_learning_rate(float lr) {
  for (auto& o : optimizers_) o->set_learning_rate(lr);
}

void MultiOptimizer::set_learning_rate(Schedule schedule) {
  for (auto& o : optimizers_) o->set_learning_rate(schedule);
}

Params MultiOptimizer::state() const {
  Params s;
  for (size_t i = 0; i < optimizers_.size(); ++i)
    for (auto& [k, v] : optimizers_[i]->state()) s.emplace("states." + std::to_string(i) + "." + k, v);
  return s;
}

void MultiOptimizer::set_state(const Params& s) {
  std::vector<Params> parts(optimizers_.size());
  for (auto& [k, v] : s) {
    size_t i = 0;
    while (i < optimizers_.size() && k.rfind("states." + std::to_string(i) + ".", 0) != 0) ++i;
    if (i == optimizers_.size())
      throw std::invalid_argument("[MultiOptimizer::set_state] unexpected key '" + k + "' (not 'states.<i>.' with i < " +
                                  std::to_string(optimizers_.size()) + ")");
    parts[i].emplace(k.substr(("states." + std::to_string(i) + ".").size()), v);
  }
  // All or nothing: a part that fails puts the earlier parts back.
  std::vector<Params> before;
  for (auto& o : optimizers_) before.push_back(o->state());
  size_t i = 0;
  try {
    for (; i < optimizers_.size(); ++i) optimizers_[i]->set_state(parts[i]);
  } catch (const std::invalid_argument& e) {
    for (size_t j = 0; j < i; ++j) optimizers_[j]->set_state(before[j]);
    throw std::invalid_argument("[MultiOptimizer::set_state] states." + std::to_string(i) + ": " + e.what());
  }
}

std::vector<array> MultiOptimizer::state_arrays() const {
  std::vector<array> out;
  for (auto& o : optimizers_)
    for (auto& a : o->state_arrays()) out.push_back(a);
  return out;
}

Optimizer::Slots MultiOptimizer::init_single(const array&) const {
  throw std::logic_error("[MultiOptimizer] init_single is never called");
}

array MultiOptimizer::apply_single(const array&, const array&, Slots&) {
  throw std::logic_error("[MultiOptimizer] apply_single is never called");
}

}  // namespace uma::optim
