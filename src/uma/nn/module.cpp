#include "uma/nn/module.h"

#include <sstream>

#include "uma/core/io/npy.h"
#include "uma/core/io/safetensors.h"
#include "uma/core/ops.h"
#include "uma/core/utils.h"

namespace uma::nn {

namespace {

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

void Module::register_parameter(const std::string& name, array& slot) { params_.push_back({name, &slot}); }

void Module::register_buffer(const std::string& name, array& slot) {
  register_parameter(name, slot);
  buffers_.insert(name);
  frozen_.insert(name);
}

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

// A child registered as "layers.3" is frozen with its list ("layers") too.
bool Module::child_frozen(const std::string& name) const {
  if (frozen_.count(name)) return true;
  auto dot = name.find('.');
  return dot != std::string::npos && frozen_.count(name.substr(0, dot));
}

void Module::collect_trainable(std::map<std::string, array>& out, const std::string& prefix) const {
  for (auto& [name, slot] : params_) {
    if (!frozen_.count(name)) out.emplace(prefix + name, *slot);
  }
  for (auto& c : children_) {
    Module* m = c.get();
    if (m && !child_frozen(c.name)) m->collect_trainable(out, prefix + c.name + ".");
  }
}

std::map<std::string, array> Module::trainable_parameters() const {
  std::map<std::string, array> out;
  collect_trainable(out, "");
  return out;
}

std::vector<std::pair<std::string, Module*>> Module::children() const {
  std::vector<std::pair<std::string, Module*>> out;
  for (auto& c : children_) {
    if (Module* m = c.get()) out.push_back({c.name, m});
  }
  return out;
}

Module& Module::apply_to_modules(const std::function<void(const std::string&, Module&)>& fn) {
  visit_modules([&](const std::string& prefix, Module& m) {
    fn(prefix.empty() ? prefix : prefix.substr(0, prefix.size() - 1), m);
  });
  return *this;
}

std::vector<std::pair<std::string, Module*>> Module::named_modules() const {
  std::vector<std::pair<std::string, Module*>> out;
  const_cast<Module*>(this)->apply_to_modules([&](const std::string& p, Module& m) { out.push_back({p, &m}); });
  return out;
}

std::vector<std::pair<std::string, Module*>> Module::leaf_modules() const {
  std::vector<std::pair<std::string, Module*>> out;
  for (auto& [path, m] : named_modules()) {
    if (!path.empty() && m->children().empty()) out.push_back({path, m});
  }
  return out;
}

bool Module::has_key(const std::string& key) const {
  for (auto& [name, _] : params_) {
    if (name == key) return true;
  }
  for (auto& c : children_) {
    if (c.name == key || c.name.compare(0, key.size() + 1, key + ".") == 0) return true;
  }
  return false;
}

namespace {

// MLX's key check for freeze/unfreeze: recursive calls need a key somewhere
// in the tree, non-recursive ones in this module.
void check_keys(const char* op, Module& root, const std::vector<std::string>& keys, bool recurse,
                const std::function<bool(Module&, const std::string&)>& has) {
  for (auto& k : keys) {
    bool found = false;
    if (recurse) {
      root.apply_to_modules([&](const std::string&, Module& m) { found = found || has(m, k); });
    } else {
      found = has(root, k);
    }
    if (!found) throw std::invalid_argument(std::string("[") + op + "] the module has no member '" + k + "'");
  }
}

}  // namespace

Module& Module::freeze(const std::vector<std::string>& keys, bool recurse, bool strict) {
  auto has = [](Module& m, const std::string& k) { return m.has_key(k); };
  if (strict) check_keys("freeze", *this, keys, recurse, has);
  auto one = [&](const std::string&, Module& m) {
    if (keys.empty()) {
      for (auto& [name, _] : m.params_) m.frozen_.insert(name);
    } else {
      m.frozen_.insert(keys.begin(), keys.end());
    }
  };
  if (recurse) {
    apply_to_modules(one);
  } else {
    one("", *this);
  }
  return *this;
}

Module& Module::unfreeze(const std::vector<std::string>& keys, bool recurse, bool strict) {
  auto has = [](Module& m, const std::string& k) { return m.has_key(k); };
  if (strict) check_keys("unfreeze", *this, keys, recurse, has);
  auto one = [&](const std::string&, Module& m) {
    if (keys.empty()) {
      m.frozen_ = m.buffers_;
    } else {
      for (auto& k : keys) {
        if (!m.buffers_.count(k)) m.frozen_.erase(k);
      }
    }
  };
  if (recurse) {
    apply_to_modules(one);
  } else {
    one("", *this);
  }
  return *this;
}

Module& Module::train(bool mode) {
  apply_to_modules([mode](const std::string&, Module& m) { m.training_ = mode; });
  return *this;
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

void Module::load_weights(const std::string& path, bool strict) {
  if (ends_with(path, ".safetensors")) return load_weights(load_safetensors(path).first, strict);
  if (ends_with(path, ".npz")) return load_weights(load_npz(path), strict);
  throw std::invalid_argument("[load_weights] unsupported file extension of '" + path +
                              "' (use .safetensors or .npz)");
}

void Module::update(const std::map<std::string, array>& weights, bool strict) {
  if (strict) {
    auto have = parameters();
    for (auto& [name, _] : weights) {
      if (!have.count(name)) throw std::invalid_argument("[update] the module has no parameter named '" + name + "'");
    }
  }
  load_weights(weights, false);
}

Module& Module::apply(const std::function<array(const array&)>& fn, const ParameterFilter& filter) {
  apply_to_modules([&](const std::string&, Module& m) {
    for (auto& [name, slot] : m.params_) {
      if (!filter || filter(m, name, *slot)) *slot = fn(*slot);
    }
  });
  return *this;
}

Module& Module::set_dtype(Dtype dtype) {
  return apply([dtype](const array& a) { return is_floating_point(a.dtype()) ? astype(a, dtype) : a; });
}

void Module::save_weights(const std::string& path) const {
  if (ends_with(path, ".safetensors")) return save_safetensors(path, parameters(), {});
  if (ends_with(path, ".npz")) return save_npz(path, parameters());
  throw std::invalid_argument("[save_weights] unsupported file extension of '" + path +
                              "' (use .safetensors or .npz)");
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
