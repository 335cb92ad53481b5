#include "uma/nn/module.h"

#include <sstream>

#include "uma/core/io/safetensors.h"
#include "uma/core/utils.h"

namespace uma::nn {

void Module::register_parameter(const std::string& name, array& slot) { params_.push_back({name, &slot}); }

void Module::visit_parameters(const std::function<void(const std::string&, array&)>& fn, const std::string& prefix) {
  for (auto& [name, slot] : params_) fn(prefix + name, *slot);
  for (auto& c : children_) {
    if (Module* m = c.get()) m->visit_parameters(fn, prefix + c.name + ".");
  }
}

void Module::visit_modules(const std::function<void(const std::string&, Module&)>& fn, const std::string& prefix) {
  fn(prefix, *this);
  for (auto& c : children_) {
    if (Module* m = c.get()) m->visit_modules(fn, prefix + c.name + ".");
  }
}

std::map<std::string, array> Module::parameters() const {
  std::map<std::string, array> out;
  const_cast<Module*>(this)->visit_parameters([&](const std::string& n, array& a) { out.emplace(n, a); });
  return out;
}

void Module::load_weights(const std::map<std::string, array>& weights, bool strict) {
  std::vector<std::string> missing, mismatched, unexpected;
  std::map<std::string, array*> slots;
  visit_parameters([&](const std::string& n, array& a) { slots[n] = &a; });
  for (auto& [name, slot] : slots) {
    auto it = weights.find(name);
    if (it == weights.end()) {
      if (strict) missing.push_back(name);
    } else if (it->second.shape() != slot->shape()) {
      mismatched.push_back(name + " expects " + shape_str(slot->shape()) + ", got " + shape_str(it->second.shape()));
    }
  }
  if (strict) {
    for (auto& [name, _] : weights) {
      if (!slots.count(name)) unexpected.push_back(name);
    }
  }
  if (!missing.empty() || !mismatched.empty() || !unexpected.empty()) {
    std::ostringstream os;
    os << "[load_weights] the weights do not match the model:";
    auto list = [&](const char* what, const std::vector<std::string>& v) {
      if (v.empty()) return;
      os << " " << v.size() << " " << what << " (";
      for (size_t i = 0; i < v.size() && i < 8; ++i) os << (i ? ", " : "") << v[i];
      if (v.size() > 8) os << ", ...";
      os << ");";
    };
    list("missing", missing);
    list("unexpected", unexpected);
    list("with a wrong shape", mismatched);
    throw std::invalid_argument(os.str());
  }
  for (auto& [name, slot] : slots) {
    auto it = weights.find(name);
    if (it != weights.end()) *slot = it->second;
  }
}

void Module::save_weights(const std::string& path) const {
  save_safetensors(path, parameters(), {});
}

void Module::replace_module(const std::string& name, std::shared_ptr<Module> m) {
  for (auto& c : children_) {
    if (c.name == name) {
      c.set(std::move(m));
      return;
    }
  }
  throw std::invalid_argument("[replace_module] no child named '" + name + "'");
}

Module* Module::child(const std::string& name) const {
  for (auto& c : children_) {
    if (c.name == name) return c.get();
  }
  return nullptr;
}

std::vector<std::string> Module::child_names() const {
  std::vector<std::string> out;
  for (auto& c : children_) out.push_back(c.name);
  return out;
}

size_t Module::num_parameters() const {
  size_t n = 0;
  for (auto& [_, a] : parameters()) n += a.size();
  return n;
}

size_t Module::parameter_bytes() const {
  size_t n = 0;
  for (auto& [_, a] : parameters()) n += a.nbytes();
  return n;
}

}  // namespace uma::nn
