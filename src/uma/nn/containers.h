// Sequential and Identity as mlx.nn's. Sequential's layers are named
// "layers.0", "layers.1", ... (MLX's list member), so checkpoints load by
// name; a plain function takes an index but has no parameters.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "uma/core/ops.h"
#include "uma/nn/module.h"

namespace uma::nn {

class Identity : public Module {
 public:
  Identity() = default;
  array operator()(const array& x) const { return x; }
};

class Sequential : public Module {
 public:
  using Fn = std::function<array(const array&)>;

  Sequential() = default;
  // Sequential(std::make_shared<Linear>(4, 8), Sequential::Fn(relu), ...)
  template <typename... Layers>
  explicit Sequential(Layers&&... layers) {
    (add(std::forward<Layers>(layers)), ...);
  }

  // Appends a module whose operator()(const array&) maps one array to one
  // (a replacement through replace_module must derive from M).
  template <typename M>
  Sequential& add(std::shared_ptr<M> m) {
    int i = int(layers_.size());
    layers_.push_back({m, [i](Module& mod, const array& x) -> array {
                         auto* typed = dynamic_cast<M*>(&mod);
                         if (!typed) throw std::invalid_argument("[Sequential] layer " + std::to_string(i) + " was replaced by a module of another kind");
                         return (*typed)(x);
                       }});
    register_module("layers." + std::to_string(i), layers_.back().module);
    return *this;
  }
  // Appends a function without parameters (an activation).
  Sequential& add(Fn fn);

  array operator()(const array& x) const;
  size_t size() const { return layers_.size(); }

 private:
  struct Layer {
    std::shared_ptr<Module> module;  // null for a plain function
    std::function<array(Module&, const array&)> call;
    Fn fn;
  };
  std::deque<Layer> layers_;  // a deque keeps registered slots in place
};

}  // namespace uma::nn
