// nn trees against mlx.utils' documented behaviour (the examples in its
// docstrings and the rules of tree_unflatten): flatten paths and order,
// prefix, is_leaf; unflatten to lists and dicts, gaps, "01" vs "1"; tree_map
// over several trees with errors naming the path; tree_reduce; the flat-map
// overloads on a Module's parameters.
#include <gtest/gtest.h>

#include "uma/nn/layers.h"
#include "uma/nn/tree.h"
#include "uma/uma.h"

using namespace uma;
using nn::Tree;

namespace {

float value(const array& a) { return astype(a, float32).item<float>(); }

std::vector<std::string> paths(const nn::FlatTree& flat) {
  std::vector<std::string> out;
  for (auto& [k, v] : flat) out.push_back(k);
  return out;
}

// {"model": [{"w": 1, "b": 2}, {"w": 3, "b": 4}], "head": 5}
Tree sample() {
  return Tree(Tree::Dict{
      {"model", Tree::List{Tree::Dict{{"w", array(1.0f)}, {"b", array(2.0f)}},
                           Tree::Dict{{"w", array(3.0f)}, {"b", array(4.0f)}}}},
      {"head", array(5.0f)}});
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "no exception";
}

}  // namespace

TEST(Tree, FlattenPathsInOrder) {
  auto flat = nn::tree_flatten(sample());
  EXPECT_EQ(paths(flat), (std::vector<std::string>{"model.0.w", "model.0.b", "model.1.w", "model.1.b", "head"}));
  std::vector<float> values;
  for (auto& [k, v] : flat) values.push_back(value(v));
  EXPECT_EQ(values, (std::vector<float>{1, 2, 3, 4, 5}));
  // mlx.utils: tree_flatten([[[0]]]) == [("0.0.0", 0)]; prefix ".hello" -> "hello.0.0.0".
  Tree nested(Tree::List{Tree::List{Tree::List{array(0.0f)}}});
  EXPECT_EQ(paths(nn::tree_flatten(nested)), std::vector<std::string>{"0.0.0"});
  EXPECT_EQ(paths(nn::tree_flatten(nested, ".hello")), std::vector<std::string>{"hello.0.0.0"});
  EXPECT_EQ(paths(nn::tree_flatten(Tree(array(1.0f)))), std::vector<std::string>{""});
  // Empty containers contribute nothing.
  Tree with_empty(Tree::Dict{{"a", Tree::List{}}, {"b", Tree()}, {"c", array(1.0f)}});
  EXPECT_EQ(paths(nn::tree_flatten(with_empty)), std::vector<std::string>{"c"});
  auto as_map = nn::tree_flatten_to_map(sample());
  EXPECT_EQ(as_map.size(), 5u);
  EXPECT_EQ(value(as_map.at("model.1.b")), 4.0f);
}

TEST(Tree, FlattenWithIsLeafKeepsSubtrees) {
  // Dicts holding "w" are leaves: each layer stays whole.
  auto flat = nn::tree_flatten(sample(), "", [](const Tree& t) { return t.is_dict() && t.find("w"); });
  ASSERT_EQ(flat.size(), 3u);
  EXPECT_EQ(flat[0].first, "model.0");
  EXPECT_TRUE(flat[0].second.is_dict());
  EXPECT_EQ(value(flat[1].second["w"].leaf()), 3.0f);
  EXPECT_EQ(flat[2].first, "head");
}

TEST(Tree, UnflattenAsMlx) {
  // Round trip.
  Tree back = nn::tree_unflatten(nn::tree_flatten(sample()));
  EXPECT_EQ(paths(nn::tree_flatten(back)), paths(nn::tree_flatten(sample())));
  ASSERT_TRUE(back["model"].is_list());
  EXPECT_EQ(value(back["model"][1]["b"].leaf()), 4.0f);
  // mlx.utils: tree_unflatten([("hello.world", 42)]) == {"hello": {"world": 42}}.
  Tree hw = nn::tree_unflatten(nn::FlatTree{{"hello.world", array(42.0f)}});
  EXPECT_EQ(value(hw["hello"]["world"].leaf()), 42.0f);
  // Numeric keys make lists in numeric order ("10" after "2"); gaps are empty dicts.
  Tree l = nn::tree_unflatten(nn::FlatTree{{"10", array(10.0f)}, {"2", array(2.0f)}, {"0", array(0.0f)}});
  ASSERT_TRUE(l.is_list());
  ASSERT_EQ(l.list().size(), 11u);
  EXPECT_EQ(value(l[0].leaf()), 0.0f);
  EXPECT_TRUE(l[1].is_dict() && l[1].dict().empty());
  EXPECT_EQ(value(l[2].leaf()), 2.0f);
  EXPECT_EQ(value(l[10].leaf()), 10.0f);
  // "1" and "01" are one number twice: a dict, as MLX's guard makes it.
  Tree d = nn::tree_unflatten(nn::FlatTree{{"1", array(1.0f)}, {"01", array(2.0f)}});
  ASSERT_TRUE(d.is_dict());
  EXPECT_EQ(value(d["01"].leaf()), 2.0f);
  // Signs are not digits: a dict.
  EXPECT_TRUE(nn::tree_unflatten(nn::FlatTree{{"-1", array(1.0f)}}).is_dict());
  // One value at "" is the value; nothing is an empty list (as MLX's).
  EXPECT_TRUE(nn::tree_unflatten(nn::FlatTree{{"", array(3.0f)}}).is_leaf());
  Tree none = nn::tree_unflatten(nn::FlatTree{});
  EXPECT_TRUE(none.is_list() && none.list().empty());
  // The flat map form, e.g. a model's parameters: "layers.10" is the 11th layer.
  std::map<std::string, array> params;
  for (int i = 0; i < 12; ++i) params.emplace("layers." + std::to_string(i) + ".weight", array(float(i)));
  Tree layers = nn::tree_unflatten(params)["layers"];
  ASSERT_EQ(layers.list().size(), 12u);
  EXPECT_EQ(value(layers[10]["weight"].leaf()), 10.0f);
}

TEST(Tree, UnflattenRejectsRepeatsAndHugeIndices) {
  auto m = message_of([] { nn::tree_unflatten(nn::FlatTree{{"a.b", array(1.0f)}, {"a.b", array(2.0f)}}); });
  EXPECT_EQ(m.rfind("[tree_unflatten]", 0), 0u) << m;
  EXPECT_NE(m.find("'a.b'"), std::string::npos) << m;
  m = message_of([] { nn::tree_unflatten(nn::FlatTree{{"x.99999999999", array(1.0f)}}); });
  EXPECT_EQ(m.rfind("[tree_unflatten]", 0), 0u) << m;
  EXPECT_NE(m.find("'x.99999999999'"), std::string::npos) << m;
  EXPECT_EQ(message_of([] { Tree(Tree::Dict{{"a", array(1.0f)}, {"a", array(2.0f)}}); }).rfind("[Tree]", 0), 0u);
}

TEST(Tree, MapOneAndSeveralTrees) {
  Tree doubled = nn::tree_map([](const array& x) { return x * 2.0; }, sample());
  std::vector<float> v;
  for (auto& [k, x] : nn::tree_flatten(doubled)) v.push_back(value(x));
  EXPECT_EQ(v, (std::vector<float>{2, 4, 6, 8, 10}));
  // An SGD step: p - 0.5 g over (params, grads); rest may hold more keys.
  Tree grads = nn::tree_map([](const array& x) { return x * 0.0 + 1.0; }, sample());
  grads.set("extra", array(7.0f));
  Tree stepped = nn::tree_map([](const std::vector<array>& a) { return a[0] - 0.5 * a[1]; }, sample(), {grads});
  EXPECT_EQ(value(stepped["model"][1]["w"].leaf()), 2.5f);
  EXPECT_EQ(stepped.find("extra"), nullptr);
  // With paths.
  std::vector<std::string> seen;
  nn::tree_map_with_path([&](const std::string& p, const array& x) { seen.push_back(p); return x; }, sample());
  EXPECT_EQ(seen, paths(nn::tree_flatten(sample())));
}

TEST(Tree, MapNamesWhereStructuresDiffer) {
  Tree other(Tree::Dict{{"model", Tree::List{Tree::Dict{{"w", array(1.0f)}, {"b", array(2.0f)}},
                                             Tree::Dict{{"b", array(4.0f)}}}},
                        {"head", array(5.0f)}});
  auto add = [](const std::vector<array>& a) { return a[0] + a[1]; };
  auto m = message_of([&] { nn::tree_map(add, sample(), {other}); });
  EXPECT_EQ(m.rfind("[tree_map]", 0), 0u) << m;
  EXPECT_NE(m.find("'model.1.w'"), std::string::npos) << m;
  Tree short_list(Tree::Dict{{"model", Tree::List{Tree::Dict{{"w", array(1.0f)}, {"b", array(2.0f)}}}},
                             {"head", array(5.0f)}});
  m = message_of([&] { nn::tree_map(add, sample(), {short_list}); });
  EXPECT_NE(m.find("'model.1'"), std::string::npos) << m;
  Tree leaf_head = sample();
  leaf_head.set("head", Tree::List{array(1.0f)});
  m = message_of([&] { nn::tree_map(add, sample(), {sample(), leaf_head}); });
  EXPECT_NE(m.find("'head'"), std::string::npos) << m;
  EXPECT_NE(m.find("rest[1] a list"), std::string::npos) << m;
}

TEST(Tree, Reduce) {
  // mlx.utils: tree_reduce(lambda acc, x: acc + x, {"a": [1, 2, 3], "b": [4, 5]}, 0) == 15.
  Tree t(Tree::Dict{{"a", Tree::List{array(1.0f), array(2.0f), array(3.0f)}},
                    {"b", Tree::List{array(4.0f), array(5.0f)}}});
  EXPECT_EQ(nn::tree_reduce([](double acc, const array& x) { return acc + value(x); }, t, 0.0), 15.0);
  EXPECT_EQ(value(nn::tree_reduce([](const array& a, const array& b) { return a + b; }, t)), 15.0f);
  EXPECT_EQ(nn::tree_reduce([](size_t n, const array& x) { return n + x.size(); }, sample(), size_t(0)), 5u);
  EXPECT_THROW(nn::tree_reduce([](const array& a, const array& b) { return a + b; }, Tree()), std::invalid_argument);
}

TEST(Tree, FlatParameterMaps) {
  nn::Linear lin(3, 2);
  auto params = lin.parameters();
  auto grads = nn::tree_map([](const array& p) { return ones_like(p); }, params);
  ASSERT_EQ(grads.size(), params.size());
  auto stepped = nn::tree_map([](const std::vector<array>& a) { return a[0] - 0.1 * a[1]; }, params, {grads});
  lin.update(stepped);
  EXPECT_EQ(lin.weight.to_vector<float>(), std::vector<float>(6, -0.1f));
  size_t count = nn::tree_reduce([](size_t n, const array& x) { return n + x.size(); }, params, size_t(0));
  EXPECT_EQ(count, lin.num_parameters());
  grads.erase("bias");
  auto m = message_of([&] { nn::tree_map([](const std::vector<array>& a) { return a[0]; }, params, {grads}); });
  EXPECT_EQ(m.rfind("[tree_map]", 0), 0u) << m;
  EXPECT_NE(m.find("'bias'"), std::string::npos) << m;
  // Between the forms.
  auto nested = nn::tree_unflatten(params);
  EXPECT_EQ(nn::tree_flatten_to_map(nested).size(), params.size());
}

TEST(Tree, AccessorsCheckTheKind) {
  Tree t = sample();
  EXPECT_EQ(message_of([&] { t.leaf(); }).rfind("[Tree]", 0), 0u);
  EXPECT_THROW(t["model"][2], std::invalid_argument);
  EXPECT_THROW(t["nope"], std::invalid_argument);
  EXPECT_THROW(t["head"].list(), std::invalid_argument);
  EXPECT_STREQ(t["model"].kind(), "list");
}
