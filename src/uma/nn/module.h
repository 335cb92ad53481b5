// nn::Module: a named tree of parameters and child modules, as MLX's
// nn.Module. Subclasses register their members in the constructor:
//
//   struct Mlp : Module {
//     std::shared_ptr<Linear> up, down;
//     Mlp(int d, int h) : up(std::make_shared<Linear>(d, h)), down(...) {
//       register_module("up_proj", up);
//       register_module("down_proj", down);
//     }
//   };
//
// Parameter names join the path with dots ("layers.0.mlp.up_proj.weight"),
// the checkpoint's own names, so loading is a strict name match. Modules are
// neither copied nor moved (registration keeps references to members).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "uma/core/array.h"

namespace uma::nn {

class Module {
 public:
  Module() = default;
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // All parameters by dotted name, in registration order of the tree.
  std::map<std::string, array> parameters() const;
  // Visits (name, parameter slot) pairs; the slot may be reassigned.
  void visit_parameters(const std::function<void(const std::string&, array&)>& fn, const std::string& prefix = "");
  // Visits (name, module) for this module and every descendant.
  void visit_modules(const std::function<void(const std::string&, Module&)>& fn, const std::string& prefix = "");

  // Replaces parameters by name. Strict: every parameter must be given,
  // nothing else may be, and shapes must match; the error lists every
  // missing key, unexpected key and shape mismatch.
  void load_weights(const std::map<std::string, array>& weights, bool strict = true);
  // Non-strict update of the named parameters (shape-checked).
  void update(const std::map<std::string, array>& weights) { load_weights(weights, false); }
  // Writes all parameters to a .safetensors file.
  void save_weights(const std::string& path) const;

  // Replaces the child registered under `name` (e.g. Linear -> QuantizedLinear).
  void replace_module(const std::string& name, std::shared_ptr<Module> m);
  Module* child(const std::string& name) const;
  std::vector<std::string> child_names() const;

  size_t num_parameters() const;
  size_t parameter_bytes() const;

 protected:
  void register_parameter(const std::string& name, array& slot);
  template <typename M>
  void register_module(const std::string& name, std::shared_ptr<M>& slot) {
    children_.push_back({name, [&slot]() -> Module* { return slot.get(); },
                         [&slot, name](std::shared_ptr<Module> m) {
                           auto typed = std::dynamic_pointer_cast<M>(m);
                           if (!typed) throw std::invalid_argument("[replace_module] incompatible module for '" + name + "'");
                           slot = typed;
                         }});
  }

 private:
  struct Child {
    std::string name;
    std::function<Module*()> get;
    std::function<void(std::shared_ptr<Module>)> set;
  };
  std::vector<std::pair<std::string, array*>> params_;
  std::vector<Child> children_;
};

}  // namespace uma::nn
