// Trees of arrays and mlx.utils' functions on them: tree_flatten,
// tree_unflatten, tree_map, tree_map_with_path, tree_reduce.
//
// uma's parameter trees are usually flat: std::map<std::string, array> with
// dotted names (nn::Module::parameters(), ParamTree in core/transforms.h);
// tree_map and tree_reduce have overloads on that form, the one optimizers
// and training use. nn::Tree is the nested form, as a Python tree of dicts
// and lists: a node is an array (a leaf), a list or a dict. Dicts keep their
// insertion order, as Python's do, so flattening follows it.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "uma/core/array.h"

namespace uma::nn {

class Tree {
 public:
  using List = std::vector<Tree>;
  using Dict = std::vector<std::pair<std::string, Tree>>;  // insertion order

  Tree() : node_(Dict{}) {}  // the empty dict
  Tree(array leaf) : node_(std::move(leaf)) {}
  Tree(List list) : node_(std::move(list)) {}
  Tree(Dict dict);  // throws on a repeated key

  bool is_leaf() const { return node_.index() == 0; }
  bool is_list() const { return node_.index() == 1; }
  bool is_dict() const { return node_.index() == 2; }
  // The node as each kind; throws std::invalid_argument for another kind.
  const array& leaf() const;
  const List& list() const;
  List& list();
  const Dict& dict() const;
  Dict& dict();
  // Children: a list's by index, a dict's by key (both checked).
  const Tree& operator[](size_t i) const;
  const Tree& operator[](const std::string& key) const;
  const Tree* find(const std::string& key) const;  // nullptr when absent
  // Sets a dict's key (appended when new).
  void set(const std::string& key, Tree value);
  // "leaf", "list" or "dict", for messages.
  const char* kind() const;

 private:
  std::variant<array, List, Dict> node_;
};

using IsLeaf = std::function<bool(const Tree&)>;
using FlatTree = std::vector<std::pair<std::string, array>>;

// (dotted path, leaf) pairs in order: dict keys and list indices joined by
// dots ({"a": [x, {"b": y}]} -> "a.0" x, "a.1.b" y). As MLX's, the first
// character of `prefix` is dropped: prefix ".model" gives "model.a.0". A
// leaf at the top has the path "". Empty lists and dicts give nothing.
FlatTree tree_flatten(const Tree& tree, const std::string& prefix = "");
// With is_leaf: nodes for which it holds are kept whole (a subtree may be
// one), so the values are trees.
std::vector<std::pair<std::string, Tree>> tree_flatten(const Tree& tree, const std::string& prefix,
                                                       const IsLeaf& is_leaf);
// The same, into the flat map form.
std::map<std::string, array> tree_flatten_to_map(const Tree& tree);

// The nested tree of flat (path, value) pairs: children group by the first
// path component in order of appearance; a node whose components are all
// decimal integers (and distinct as numbers) is a list, in numeric order
// with gaps filled by empty dicts, as MLX's. One pair with path "" is that
// value itself. Throws for a repeated path.
Tree tree_unflatten(const FlatTree& flat);
Tree tree_unflatten(const std::map<std::string, array>& flat);
Tree tree_unflatten(const std::vector<std::pair<std::string, Tree>>& flat);

// fn over every leaf; the result has the tree's structure.
Tree tree_map(const std::function<array(const array&)>& fn, const Tree& tree);
// fn over the leaves of `tree` and the leaves at the same places in `rest`
// (fn gets {leaf of tree, leaf of rest[0], ...}). As MLX's, each of `rest`
// must hold at least tree's structure (dicts may have more keys); where one
// does not, the error names the path and what differs there.
Tree tree_map(const std::function<array(const std::vector<array>&)>& fn, const Tree& tree,
              const std::vector<Tree>& rest);
// fn(path, leaf), the path as tree_flatten writes it.
Tree tree_map_with_path(const std::function<array(const std::string&, const array&)>& fn, const Tree& tree);

// Folds fn(accumulator, leaf) over the leaves in flattening order, from
// `initial` (T is taken from it: tree_reduce(fn, tree, size_t(0))).
template <typename T>
T tree_reduce(const std::type_identity_t<std::function<T(T, const array&)>>& fn, const Tree& tree, T initial);
// Without an initial value: the first leaf starts (as MLX's); an empty tree
// throws.
array tree_reduce(const std::function<array(const array&, const array&)>& fn, const Tree& tree);

// --- the flat form (dotted name -> array)
std::map<std::string, array> tree_map(const std::function<array(const array&)>& fn,
                                      const std::map<std::string, array>& tree);
// Each of `rest` must have every key of `tree` (it may have more); the error
// names the first key missing.
std::map<std::string, array> tree_map(const std::function<array(const std::vector<array>&)>& fn,
                                      const std::map<std::string, array>& tree,
                                      const std::vector<std::map<std::string, array>>& rest);
template <typename T>
T tree_reduce(const std::type_identity_t<std::function<T(T, const array&)>>& fn, const std::map<std::string, array>& tree, T initial) {
  for (const auto& [name, leaf] : tree) initial = fn(std::move(initial), leaf);
  return initial;
}

template <typename T>
T tree_reduce(const std::type_identity_t<std::function<T(T, const array&)>>& fn, const Tree& tree, T initial) {
  for (const auto& [path, leaf] : tree_flatten(tree)) initial = fn(std::move(initial), leaf);
  return initial;
}

}  // namespace uma::nn
