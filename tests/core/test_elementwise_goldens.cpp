// Elementwise results against NumPy goldens (tests/fixtures/elementwise,
// made by make_goldens.py there): integer floor division and remainder
// (division by zero gives 0), wraparound, shifts, float16 rounding, round
// half to even with decimals, NaN propagation.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "core/elementwise_util.h"

using namespace uma;
using namespace uma::test;

namespace {

std::vector<double> values(const nlohmann::json& j) {
  std::vector<double> v;
  for (auto& x : j) {
    if (x.is_string()) {
      std::string s = x;
      v.push_back(s == "nan" ? NAN : s == "inf" ? INFINITY : -INFINITY);
    } else {
      v.push_back(x.get<double>());
    }
  }
  return v;
}

array make(const nlohmann::json& j, Dtype t) {
  auto v = values(j);
  // int64 goldens stay below 2^53: doubles carry them exactly.
  return astype(array(v, {int32_t(v.size())}), t);
}

using Binary = array (*)(const array&, const array&, StreamOrDevice);
using Unary = array (*)(const array&, StreamOrDevice);

}  // namespace

TEST(ElementwiseGoldens, NumpyAgrees) {
  std::ifstream f(std::string(UMA_SOURCE_DIR) + "/tests/fixtures/elementwise/goldens.json");
  ASSERT_TRUE(f.good());
  auto doc = nlohmann::json::parse(f);
  const std::map<std::string, Binary> binary = {
      {"add", add},           {"subtract", subtract},       {"multiply", multiply},   {"divide", divide},
      {"floor_divide", floor_divide}, {"remainder", remainder}, {"power", power},    {"maximum", maximum},
      {"minimum", minimum},   {"left_shift", left_shift},   {"right_shift", right_shift}, {"arctan2", arctan2},
      {"logaddexp", logaddexp}};
  const std::map<std::string, Unary> unary = {{"exp", exp}, {"tanh", tanh}, {"sign", sign}};
  int checked = 0;
  for (auto& c : doc["cases"]) {
    std::string op = c["op"];
    Dtype t = dtype_from_string(c["dtype"]);
    SCOPED_TRACE(op + " " + dtype_name(t));
    array a = make(c["a"], t);
    array out = a;
    if (op == "round") {
      out = round(a, c["decimals"].get<int>());
    } else if (c.contains("b")) {
      ASSERT_TRUE(binary.count(op)) << op;
      out = binary.at(op)(a, make(c["b"], t), {});
    } else {
      ASSERT_TRUE(unary.count(op)) << op;
      out = unary.at(op)(a, {});
    }
    EXPECT_EQ(out.dtype(), dtype_from_string(c["out_dtype"]));
    double tol = c["tol"];
    expect_close(out, values(c["out"]), tol, tol);
    ++checked;
  }
  EXPECT_GE(checked, 38);
}
