// Every manipulation and indexing op on every dtype: the result in dtype T
// must equal the float64 result converted to T (values are small integers,
// exact in every type, so any byte-size or conversion slip shows).
#include <gtest/gtest.h>

#include <functional>

#include "core/util.h"
#include "uma/uma.h"

using namespace uma;

namespace {

const Dtype kAllDtypes[] = {bool_, uint8,   uint16,   uint32,  uint64,  int8,    int16,
                            int32, int64,   float16,  bfloat16, float32, float64, complex64};

// (2, 3, 4) with values (7 i) % 11: zeros and non-zeros for bool.
array sample(Dtype dt) {
  std::vector<double> v(24);
  for (int i = 0; i < 24; ++i) v[i] = double((7 * i) % 11);
  return astype(array(v, {2, 3, 4}), dt);
}

using Op = std::function<array(const array&)>;

std::vector<std::pair<std::string, Op>> ops() {
  auto upd = [](const array& a, Shape shape, std::vector<double> vals) { return astype(array(vals, shape), a.dtype()); };
  return {
      {"concatenate",
       [](const array& a) {
         return concatenate({a, flip(a, {1}), broadcast_to(slice(a, {0, 0, 0}, {2, 1, 4}), {2, 2, 4})}, 1);
       }},
      {"stack", [](const array& a) { return stack({a, a}, -1); }},
      {"split", [](const array& a) { return split(a, Shape{1, 3}, 2)[1]; }},
      {"pad_constant", [](const array& a) { return pad(a, {{0, 1}, {1, 0}, {2, 1}}, array(3)); }},
      {"pad_edge", [](const array& a) { return pad(a, {{1, 1}, {0, 2}, {1, 0}}, array(0), "edge"); }},
      {"repeat", [](const array& a) { return repeat(a, 2, 1); }},
      {"tile", [](const array& a) { return tile(a, {2, 1, 2}); }},
      {"roll", [](const array& a) { return roll(a, Shape{1, -2}, {0, 2}); }},
      {"flip", [](const array& a) { return flip(a, {1}); }},
      {"slice_update",
       [=](const array& a) { return slice_update(a, upd(a, {3, 1}, {1, 2, 0}), {1, 0, 1}, {2, 3, 2}); }},
      {"slice_update_strided",
       [=](const array& a) { return slice_update(a, upd(a, {2}, {5, 6}), {0, 2, 0}, {2, 3, 4}, {1, 1, 3}); }},
      {"dynamic_slice", [](const array& a) { return slice(a, array({1, 2}), {1, 2}, {2, 2, 2}); }},
      {"dynamic_slice_update",
       [=](const array& a) { return slice_update(a, upd(a, {1, 1, 2}, {9, 8}), array({-1}), {1}); }},
      {"diagonal", [](const array& a) { return diagonal(a, 1, 1, 2); }},
      {"diag", [](const array& a) { return diag(flatten(slice(a, {0, 0, 0}, {1, 1, 4})), 1); }},
      {"take", [](const array& a) { return take(a, array({2, -1, 0}), 2); }},
      {"take_flat", [](const array& a) { return take(a, array({23, 5, 0})); }},
      {"take_along_axis",
       [](const array& a) { return take_along_axis(a, array({0, 2, 1, 1}, {1, 1, 4}), 1); }},
      {"put_along_axis",
       [=](const array& a) { return put_along_axis(a, array({3, 0}, {1, 1, 2}), upd(a, {1}, {4}), 2); }},
      {"scatter_add_axis",
       [=](const array& a) { return scatter_add_axis(a, array({1, 1}, {1, 2, 1}), upd(a, {1}, {2}), 1); }},
      {"gather",
       [](const array& a) { return gather(a, {array({1, 0}), array({3, 1})}, {0, 2}, {1, 2, 1}); }},
      {"scatter",
       [=](const array& a) { return scatter(a, array({0, 1}), upd(a, {2, 1, 3, 4}, std::vector<double>(24, 1)), 0); }},
  };
}

// Scatter reductions with duplicate indices: small values so products fit int8.
std::vector<std::pair<std::string, Op>> reduce_ops() {
  auto run = [](auto fn) {
    return [fn](const array& a) {
      std::vector<double> u{2, 0, 1, 2, 1, 2, 0, 1, 1, 1, 2, 2};
      return fn(a, array({1, 1, 0}), astype(array(u, {3, 1, 1, 4}), a.dtype()), 1);
    };
  };
  return {
      {"scatter_add", run([](auto... x) { return scatter_add(x...); })},
      {"scatter_prod", run([](auto... x) { return scatter_prod(x...); })},
      {"scatter_max", run([](auto... x) { return scatter_max(x...); })},
      {"scatter_min", run([](auto... x) { return scatter_min(x...); })},
  };
}

void check_all(const std::vector<std::pair<std::string, Op>>& list) {
  for (auto& [name, op] : list) {
    array ref = op(sample(float64));
    for (Dtype dt : kAllDtypes) {
      array got = op(sample(dt));
      EXPECT_EQ(got.dtype(), dt) << name;
      EXPECT_EQ(got.shape(), ref.shape()) << name << " " << dtype_name(dt);
      EXPECT_EQ(got.to_vector<double>(), astype(ref, dt).to_vector<double>()) << name << " " << dtype_name(dt);
    }
  }
}

}  // namespace

TEST(ManipulationDtypes, EveryOpEveryDtype) { check_all(ops()); }

TEST(ManipulationDtypes, ScatterReductionsEveryDtype) { check_all(reduce_ops()); }

TEST(ManipulationDtypes, ConcatenatePromotesAcrossAllPairs) {
  for (Dtype x : kAllDtypes) {
    for (Dtype y : kAllDtypes) {
      array r = concatenate({astype(array({1, 0}), x), astype(array({3}), y)}, 0);
      EXPECT_EQ(r.dtype(), promote_types(x, y)) << dtype_name(x) << "+" << dtype_name(y);
      auto v = r.to_vector<double>();
      EXPECT_EQ(v[0], 1.0);
      EXPECT_EQ(v[2], y == bool_ ? 1.0 : 3.0);  // 3 became true first
    }
  }
}
