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
// the checkpoint's own names, so loading is a strict name match. A list of
// modules registers as "layers.0", "layers.1", ... (register_modules), the
// names MLX gives a Python list member. Modules are neither copied nor moved
// (registration keeps references to members).
//
// Trainability follows MLX: each module keeps a set of frozen local keys
// (its parameter names, or a child's name to freeze that whole subtree);
// trainable_parameters() is parameters() less the frozen ones. train/eval
// switch the mode of the whole tree (Dropout, BatchNorm read it).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
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
  // parameters() less the frozen ones.
  std::map<std::string, array> trainable_parameters() const;
  // Visits (name, parameter slot) pairs; the slot may be reassigned.
  void visit_parameters(const std::function<void(const std::string&, array&)>& fn, const std::string& prefix = "");
  // Visits (name, module) for this module and every descendant; names end
  // with a dot ("" for this module, "mlp." for a child).
  void visit_modules(const std::function<void(const std::string&, Module&)>& fn, const std::string& prefix = "");

  // Direct children (name, module) in registration order.
  std::vector<std::pair<std::string, Module*>> children() const;
  // This module ("") and every descendant by dotted path ("mlp.up_proj").
  std::vector<std::pair<std::string, Module*>> named_modules() const;
  // The descendants that have no children of their own, by dotted path.
  std::vector<std::pair<std::string, Module*>> leaf_modules() const;
  // Calls fn(path, module) for this module ("") and every descendant.
  Module& apply_to_modules(const std::function<void(const std::string&, Module&)>& fn);

  // Freezes `keys` (empty: all of a module's own parameters) in this module
  // and, with `recurse`, in every descendant. A key names a parameter or a
  // child (freezing its subtree). With `strict`, a key found in no module
  // (recursive) or not in this one throws. Idempotent.
  Module& freeze(const std::vector<std::string>& keys = {}, bool recurse = true, bool strict = false);
  // Undoes freeze; empty keys clears every frozen key (but not buffers,
  // which stay frozen: BatchNorm's running statistics).
  Module& unfreeze(const std::vector<std::string>& keys = {}, bool recurse = true, bool strict = false);

  // Training mode of this module and every descendant (default: training).
  Module& train(bool mode = true);
  Module& eval() { return train(false); }
  bool training() const { return training_; }

  // Replaces parameters by name. Strict: every parameter must be given,
  // nothing else may be, and shapes must match; the error lists every
  // missing key, unexpected key and shape mismatch. Not strict: the names
  // the model has are loaded (shape-checked), others ignored.
  void load_weights(const std::map<std::string, array>& weights, bool strict = true);
  // Loads a .safetensors or .npz file by name (as above).
  void load_weights(const std::string& path, bool strict = true);
  // Replaces the named parameters (a partial map, shape-checked). Strict:
  // a name that is not a parameter throws; otherwise it is ignored.
  void update(const std::map<std::string, array>& weights, bool strict = true);
  // Maps every parameter (those `filter` accepts, when given) through fn.
  using ParameterFilter = std::function<bool(const Module&, const std::string& key, const array&)>;
  Module& apply(const std::function<array(const array&)>& fn, const ParameterFilter& filter = {});
  // Casts the floating parameters to `dtype`.
  Module& set_dtype(Dtype dtype);
  // Writes all parameters to a .safetensors or .npz file (by extension).
  void save_weights(const std::string& path) const;

  // Replaces the child registered under `name` (e.g. Linear -> QuantizedLinear).
  void replace_module(const std::string& name, std::shared_ptr<Module> m);
  Module* child(const std::string& name) const;
  std::vector<std::string> child_names() const;

  size_t num_parameters() const;
  size_t parameter_bytes() const;

 protected:
  void register_parameter(const std::string& name, array& slot);
  // An optional parameter (a bias, an affine weight): sets slot to value and
  // registers it.
  void register_parameter(const std::string& name, std::optional<array>& slot, array value) {
    slot = std::move(value);
    register_parameter(name, *slot);
  }
  // A parameter that is always frozen (unfreeze leaves it): state updated
  // by the layer itself, such as BatchNorm's running statistics.
  void register_buffer(const std::string& name, array& slot);
  template <typename M>
  void register_module(const std::string& name, std::shared_ptr<M>& slot) {
    children_.push_back({name, [&slot]() -> Module* { return slot.get(); },
                         [&slot, name](std::shared_ptr<Module> m) {
                           auto typed = std::dynamic_pointer_cast<M>(m);
                           if (!typed) throw std::invalid_argument("[replace_module] incompatible module for '" + name + "'");
                           slot = typed;
                         }});
  }
  // Registers list elements as "<name>.0", "<name>.1", ...; the vector must
  // not be resized afterwards (registration holds references to elements).
  template <typename M>
  void register_modules(const std::string& name, std::vector<std::shared_ptr<M>>& list) {
    for (size_t i = 0; i < list.size(); ++i) register_module(name + "." + std::to_string(i), list[i]);
  }
  // Whether this module holds a parameter or child under `key` (a list's
  // name "layers" included).
  bool has_key(const std::string& key) const;

 private:
  struct Child {
    std::string name;
    std::function<Module*()> get;
    std::function<void(std::shared_ptr<Module>)> set;
  };
  bool child_frozen(const std::string& name) const;
  void collect_trainable(std::map<std::string, array>& out, const std::string& prefix) const;

  std::vector<std::pair<std::string, array*>> params_;
  std::vector<Child> children_;
  std::set<std::string> frozen_, buffers_;
  bool training_ = true;
};

}  // namespace uma::nn
