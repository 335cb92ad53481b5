#include "uma/optim/optimizer.h"

#include <charconv>
#include <sstream>
#include <stdexcept>

#include "uma/core/io/safetensors.h"
#include "uma/core/ops.h"

namespace uma::optim {

namespace {

std::string shape_str(const Shape& s) {
  std::ostringstream o;
  o << "(";
  for (size_t i = 0; i < s.size(); ++i) o << (i ? ", " : "") << s[i];
  o << (s.size() == 1 ? ",)" : ")");
  return o.str();
}

// "<parameter>.<slot>" -> (parameter, slot): slot names hold no dot.
std::pair<std::string, std::string> split_slot_key(const std::string& key) {
  auto dot = key.rfind('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == key.size()) return {"", ""};
  return {key.substr(0, dot), key.substr(dot + 1)};
}

// `got` must hold exactly `want`'s slots with their shapes and dtypes.
void check_slots(const std::string& where, const std::string& key, const std::map<std::string, array>& want,
                 const std::map<std::string, array>& got) {
  for (auto& [slot, a] : want) {
    auto it = got.find(slot);
    if (it == got.end()) throw std::invalid_argument(where + " parameter '" + key + "' lacks slot '" + slot + "'");
    if (it->second.shape() != a.shape() || it->second.dtype() != a.dtype())
      throw std::invalid_argument(where + " '" + key + "." + slot + "' is " + dtype_name(it->second.dtype()) +
                                  shape_str(it->second.shape()) + ", expected " + dtype_name(a.dtype()) +
                                  shape_str(a.shape()));
  }
  for (auto& [slot, a] : got)
    if (!want.count(slot)) throw std::invalid_argument(where + " parameter '" + key + "' has unexpected slot '" + slot + "'");
}

}  // namespace

double decimal(float v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  double d = v;
  std::from_chars(buf, r.ptr, d);
  return d;
}

Optimizer::Optimizer(std::string name, std::optional<LearningRate> lr) : name_(std::move(name)), lr_(std::move(lr)) {}

Optimizer::~Optimizer() = default;

float Optimizer::learning_rate() const {
  if (!lr_) throw std::invalid_argument("[" + name_ + "::learning_rate] this optimizer has no learning rate");
  return lr_->at(step_);
}

void Optimizer::set_learning_rate(float lr) { lr_ = LearningRate(lr); }

void Optimizer::set_learning_rate(Schedule schedule) {
  if (!schedule) throw std::invalid_argument("[" + name_ + "::set_learning_rate] empty schedule");
  lr_ = LearningRate(std::move(schedule));
}

void Optimizer::check_betas(const std::string& name, std::array<float, 2> betas) {
  for (int i = 0; i < 2; ++i)
    if (!(betas[i] >= 0.0f && betas[i] < 1.0f))
      throw std::invalid_argument("[" + name + "] beta" + std::to_string(i + 1) + " must be in [0, 1), got " +
                                  std::to_string(betas[i]));
}

array Optimizer::lr_as(Dtype dtype) const { return astype(array(current_lr_), dtype); }

void Optimizer::check_loaded(const std::string& key, const array& param) {
  check_slots("[" + name_ + "::apply_gradients] loaded state:", key, init_single(param), state_.at(key));
}

void Optimizer::init(const Params& params) {
  for (auto& [k, p] : params) {
    if (unchecked_.count(k)) {
      check_loaded(k, p);
      unchecked_.erase(k);
    } else if (!state_.count(k)) {
      state_[k] = init_single(p);
    }
  }
}

Params Optimizer::apply_gradients(const Params& grads, const Params& params) {
  // Check everything first, so a bad call leaves the optimizer as it was.
  Params used;
  for (auto& [k, g] : grads) {
    auto it = params.find(k);
    if (it == params.end())
      throw std::invalid_argument("[" + name_ + "::apply_gradients] gradient '" + k + "' has no parameter");
    if (it->second.shape() != g.shape())
      throw std::invalid_argument("[" + name_ + "::apply_gradients] gradient '" + k + "' has shape " +
                                  shape_str(g.shape()) + ", parameter " + shape_str(it->second.shape()));
    used.emplace(k, it->second);
  }
  for (auto& [k, p] : used)
    if (unchecked_.count(k)) check_loaded(k, p);
  for (auto& [k, p] : used) unchecked_.erase(k);
  init(used);

  current_lr_ = lr_ ? lr_->at(step_) : 0.0f;
  ++step_;
  Params out;
  for (auto& [k, g] : grads) out.emplace(k, apply_single(g, used.at(k), state_.at(k)));
  return out;
}

void Optimizer::update(nn::Module& model, const Params& grads) { model.update(apply_gradients(grads, model.parameters())); }

Params Optimizer::state() const {
  Params s;
  s.emplace("step", array(step_, int64));
  if (lr_) s.emplace("learning_rate", array(lr_->at(step_)));
  for (auto& [k, slots] : state_)
    for (auto& [slot, a] : slots) s.emplace(k + "." + slot, a);
  return s;
}

void Optimizer::set_state(const Params& s) {
  std::string where = "[" + name_ + "::set_state]";
  auto st = s.find("step");
  if (st == s.end()) throw std::invalid_argument(where + " missing 'step'");
  if (st->second.ndim() != 0 || !is_integral(st->second.dtype()))
    throw std::invalid_argument(where + " 'step' must be an integer scalar, got dtype " +
                                std::string(dtype_name(st->second.dtype())) + " shape " + shape_str(st->second.shape()));
  array step_arr = st->second;
  int64_t step = step_arr.item<int64_t>();
  if (step < 0) throw std::invalid_argument(where + " 'step' is negative: " + std::to_string(step));

  std::optional<float> lr;
  auto names = slot_names();
  std::map<std::string, Slots> next;
  for (auto& [key, a] : s) {
    if (key == "step") continue;
    if (key == "learning_rate") {
      if (a.ndim() != 0 || !is_floating_point(a.dtype()))
        throw std::invalid_argument(where + " 'learning_rate' must be a floating-point scalar");
      array v = a;
      lr = v.item<float>();
      continue;
    }
    auto [param, slot] = split_slot_key(key);
    if (param.empty() || !names.count(slot))
      throw std::invalid_argument(where + " unexpected key '" + key + "' (not '<parameter>.<slot>' with a slot of " +
                                  name_ + ")");
    next[param].insert_or_assign(slot, a);
  }
  // Parameters this optimizer already knows are checked now, the rest later.
  std::set<std::string> pending;
  const auto& known = state_;
  for (auto& [k, slots] : next) {
    auto it = known.find(k);
    if (it != known.end() && !unchecked_.count(k)) {
      // The known slots stand for the parameter: same names, shapes, dtypes.
      check_slots(where, k, it->second, slots);
    } else {
      pending.insert(k);
    }
  }
  state_ = std::move(next);
  unchecked_ = std::move(pending);
  step_ = step;
  if (lr && lr_ && !lr_->scheduled()) lr_ = LearningRate(*lr);
}

std::vector<array> Optimizer::state_arrays() const {
  std::vector<array> out;
  for (auto& [k, slots] : state_)
    for (auto& [slot, a] : slots) out.push_back(a);
  return out;
}

void Optimizer::save_state(const std::string& path) const { save_safetensors(path, state(), {{"format", "uma.optim"}}); }

void Optimizer::load_state(const std::string& path) { set_state(load_safetensors(path).first); }

}  // namespace uma::optim
