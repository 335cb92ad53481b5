#include "uma/nn/tree.h"

#include <algorithm>
#include <stdexcept>

namespace uma::nn {

namespace {

// A list index larger than this is refused rather than filled with that many
// empty dicts (flat names may come from files).
constexpr size_t max_list_index = size_t(1) << 20;

std::string join(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }

std::string where(const std::string& path) { return path.empty() ? "the root" : "'" + path + "'"; }

[[noreturn]] void wrong_kind(const char* want, const Tree& t) {
  throw std::invalid_argument(std::string("[Tree] the node is a ") + t.kind() + ", not a " + want);
}

// Decimal digits only (no sign or spaces): such keys make lists.
std::optional<size_t> list_index(const std::string& key) {
  if (key.empty() || key.size() > 18 || !std::all_of(key.begin(), key.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  return size_t(std::stoull(key));
}

template <typename Out, typename Leaf>
void flatten_into(const Tree& t, const std::string& prefix, const IsLeaf& is_leaf, Out& out, Leaf make_leaf) {
  // The path is prefix without its first character, as MLX's.
  if (is_leaf && is_leaf(t)) {
    out.emplace_back(prefix.empty() ? prefix : prefix.substr(1), make_leaf(t));
  } else if (t.is_list()) {
    const auto& l = t.list();
    for (size_t i = 0; i < l.size(); ++i) flatten_into(l[i], prefix + "." + std::to_string(i), is_leaf, out, make_leaf);
  } else if (t.is_dict()) {
    for (const auto& [k, v] : t.dict()) flatten_into(v, prefix + "." + k, is_leaf, out, make_leaf);
  } else {
    out.emplace_back(prefix.empty() ? prefix : prefix.substr(1), make_leaf(t));
  }
}

using TreeItems = std::vector<std::pair<std::string, Tree>>;

Tree unflatten(const TreeItems& items, const std::string& path) {
  if (items.size() == 1 && items[0].first.empty()) return items[0].second;
  // Children by first component, in order of first appearance.
  std::vector<std::pair<std::string, TreeItems>> children;
  for (const auto& [key, value] : items) {
    size_t dot = key.find('.');
    std::string head = key.substr(0, dot), rest = dot == std::string::npos ? "" : key.substr(dot + 1);
    auto it = std::find_if(children.begin(), children.end(), [&](const auto& c) { return c.first == head; });
    if (it == children.end()) {
      children.push_back({head, {}});
      it = children.end() - 1;
    }
    it->second.emplace_back(rest, value);
  }
  std::vector<std::pair<size_t, size_t>> indices;  // (list index, child)
  for (size_t c = 0; c < children.size(); ++c) {
    auto idx = list_index(children[c].first);
    if (!idx) break;
    indices.push_back({*idx, c});
  }
  bool is_list = indices.size() == children.size();
  if (is_list) {
    std::sort(indices.begin(), indices.end());
    // "1" and "01" are one number twice: MLX makes such a node a dict.
    for (size_t i = 1; i < indices.size(); ++i) is_list = is_list && indices[i].first != indices[i - 1].first;
  }
  if (!is_list) {
    Tree::Dict d;
    for (const auto& [head, sub] : children) d.emplace_back(head, unflatten(sub, join(path, head)));
    return Tree(std::move(d));
  }
  Tree::List l;
  for (const auto& [idx, c] : indices) {
    if (idx > max_list_index) {
      throw std::invalid_argument("[tree_unflatten] list index " + std::to_string(idx) + " at " +
                                  where(join(path, children[c].first)) + " is too large (at most " +
                                  std::to_string(max_list_index) + ")");
    }
    l.resize(std::max(l.size(), idx));  // gaps become empty dicts, as MLX's
    l.push_back(unflatten(children[c].second, join(path, children[c].first)));
  }
  return Tree(std::move(l));
}

Tree map_trees(const std::function<array(const std::vector<array>&)>& fn, const Tree& t, std::vector<const Tree*> rest,
               const std::string& path) {
  for (size_t r = 0; r < rest.size(); ++r) {
    if (rest[r]->kind() != std::string(t.kind())) {
      throw std::invalid_argument("[tree_map] the trees differ at " + where(path) + ": the first has a " + t.kind() +
                                  ", rest[" + std::to_string(r) + "] a " + rest[r]->kind());
    }
  }
  if (t.is_leaf()) {
    std::vector<array> leaves = {t.leaf()};
    for (auto* r : rest) leaves.push_back(r->leaf());
    return Tree(fn(leaves));
  }
  std::vector<const Tree*> sub(rest.size());
  if (t.is_list()) {
    const auto& l = t.list();
    Tree::List out;
    for (size_t i = 0; i < l.size(); ++i) {
      std::string p = join(path, std::to_string(i));
      for (size_t r = 0; r < rest.size(); ++r) {
        if (i >= rest[r]->list().size()) {
          throw std::invalid_argument("[tree_map] the trees differ at " + where(p) + ": rest[" + std::to_string(r) +
                                      "] has a list of " + std::to_string(rest[r]->list().size()) +
                                      " there, the first of " + std::to_string(l.size()));
        }
        sub[r] = &rest[r]->list()[i];
      }
      out.push_back(map_trees(fn, l[i], sub, p));
    }
    return Tree(std::move(out));
  }
  Tree::Dict out;
  for (const auto& [k, v] : t.dict()) {
    std::string p = join(path, k);
    for (size_t r = 0; r < rest.size(); ++r) {
      sub[r] = rest[r]->find(k);
      if (!sub[r]) {
        throw std::invalid_argument("[tree_map] the trees differ at " + where(p) + ": rest[" + std::to_string(r) +
                                    "] has no key '" + k + "'");
      }
    }
    out.emplace_back(k, map_trees(fn, v, sub, p));
  }
  return Tree(std::move(out));
}

Tree map_with_path(const std::function<array(const std::string&, const array&)>& fn, const Tree& t,
                   const std::string& path) {
  if (t.is_leaf()) return Tree(fn(path, t.leaf()));
  if (t.is_list()) {
    Tree::List out;
    for (size_t i = 0; i < t.list().size(); ++i) out.push_back(map_with_path(fn, t.list()[i], join(path, std::to_string(i))));
    return Tree(std::move(out));
  }
  Tree::Dict out;
  for (const auto& [k, v] : t.dict()) out.emplace_back(k, map_with_path(fn, v, join(path, k)));
  return Tree(std::move(out));
}

}  // namespace

// --- Tree
namespace {
Tree::Dict checked_keys(Tree::Dict dict) {
  for (size_t i = 0; i < dict.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (dict[i].first == dict[j].first) throw std::invalid_argument("[Tree] repeated dict key '" + dict[i].first + "'");
    }
  }
  return dict;
}
}  // namespace

Tree::Tree(Dict dict) : node_(checked_keys(std::move(dict))) {}

const array& Tree::leaf() const {
  if (!is_leaf()) wrong_kind("leaf", *this);
  return std::get<0>(node_);
}
const Tree::List& Tree::list() const {
  if (!is_list()) wrong_kind("list", *this);
  return std::get<1>(node_);
}
Tree::List& Tree::list() {
  if (!is_list()) wrong_kind("list", *this);
  return std::get<1>(node_);
}
const Tree::Dict& Tree::dict() const {
  if (!is_dict()) wrong_kind("dict", *this);
  return std::get<2>(node_);
}
Tree::Dict& Tree::dict() {
  if (!is_dict()) wrong_kind("dict", *this);
  return std::get<2>(node_);
}

const Tree& Tree::operator[](size_t i) const {
  const auto& l = list();
  if (i >= l.size()) {
    throw std::invalid_argument("[Tree] index " + std::to_string(i) + " is out of range for a list of " +
                                std::to_string(l.size()));
  }
  return l[i];
}

const Tree* Tree::find(const std::string& key) const {
  for (const auto& [k, v] : dict()) {
    if (k == key) return &v;
  }
  return nullptr;
}

const Tree& Tree::operator[](const std::string& key) const {
  const Tree* t = find(key);
  if (!t) throw std::invalid_argument("[Tree] no key '" + key + "'");
  return *t;
}

void Tree::set(const std::string& key, Tree value) {
  auto& d = dict();
  for (auto& [k, v] : d) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  d.emplace_back(key, std::move(value));
}

const char* Tree::kind() const { return is_leaf() ? "leaf" : is_list() ? "list" : "dict"; }

// --- flatten / unflatten
FlatTree tree_flatten(const Tree& tree, const std::string& prefix) {
  FlatTree out;
  flatten_into(tree, prefix, nullptr, out, [](const Tree& t) { return t.leaf(); });
  return out;
}

std::vector<std::pair<std::string, Tree>> tree_flatten(const Tree& tree, const std::string& prefix,
                                                       const IsLeaf& is_leaf) {
  std::vector<std::pair<std::string, Tree>> out;
  flatten_into(tree, prefix, is_leaf, out, [](const Tree& t) { return t; });
  return out;
}

std::map<std::string, array> tree_flatten_to_map(const Tree& tree) {
  std::map<std::string, array> out;
  for (auto& [k, v] : tree_flatten(tree)) out.emplace(k, v);
  return out;
}

Tree tree_unflatten(const std::vector<std::pair<std::string, Tree>>& flat) {
  std::vector<const std::string*> keys;
  for (const auto& [k, v] : flat) keys.push_back(&k);
  std::sort(keys.begin(), keys.end(), [](auto* a, auto* b) { return *a < *b; });
  for (size_t i = 1; i < keys.size(); ++i) {
    if (*keys[i] == *keys[i - 1]) throw std::invalid_argument("[tree_unflatten] repeated path '" + *keys[i] + "'");
  }
  return unflatten(flat, "");
}

Tree tree_unflatten(const FlatTree& flat) {
  return tree_unflatten(std::vector<std::pair<std::string, Tree>>(flat.begin(), flat.end()));
}

Tree tree_unflatten(const std::map<std::string, array>& flat) {
  return tree_unflatten(std::vector<std::pair<std::string, Tree>>(flat.begin(), flat.end()));
}

// --- map / reduce
Tree tree_map(const std::function<array(const array&)>& fn, const Tree& tree) {
  return map_trees([&](const std::vector<array>& leaves) { return fn(leaves[0]); }, tree, {}, "");
}

Tree tree_map(const std::function<array(const std::vector<array>&)>& fn, const Tree& tree,
              const std::vector<Tree>& rest) {
  std::vector<const Tree*> r;
  for (const auto& t : rest) r.push_back(&t);
  return map_trees(fn, tree, r, "");
}

Tree tree_map_with_path(const std::function<array(const std::string&, const array&)>& fn, const Tree& tree) {
  return map_with_path(fn, tree, "");
}

array tree_reduce(const std::function<array(const array&, const array&)>& fn, const Tree& tree) {
  auto leaves = tree_flatten(tree);
  if (leaves.empty()) throw std::invalid_argument("[tree_reduce] the tree has no leaves and no initial value was given");
  array acc = leaves[0].second;
  for (size_t i = 1; i < leaves.size(); ++i) acc = fn(acc, leaves[i].second);
  return acc;
}

std::map<std::string, array> tree_map(const std::function<array(const array&)>& fn,
                                      const std::map<std::string, array>& tree) {
  std::map<std::string, array> out;
  for (const auto& [k, v] : tree) out.emplace(k, fn(v));
  return out;
}

std::map<std::string, array> tree_map(const std::function<array(const std::vector<array>&)>& fn,
                                      const std::map<std::string, array>& tree,
                                      const std::vector<std::map<std::string, array>>& rest) {
  std::map<std::string, array> out;
  for (const auto& [k, v] : tree) {
    std::vector<array> leaves = {v};
    for (size_t r = 0; r < rest.size(); ++r) {
      auto it = rest[r].find(k);
      if (it == rest[r].end()) {
        throw std::invalid_argument("[tree_map] rest[" + std::to_string(r) + "] has no parameter '" + k + "'");
      }
      leaves.push_back(it->second);
    }
    out.emplace(k, fn(leaves));
  }
  return out;
}

}  // namespace uma::nn
