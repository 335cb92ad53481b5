// NumPy goldens stored as JSON (tests/fixtures/<name>/goldens.json, made by
// the make_goldens.py beside them): each case holds its input arrays and the
// expected output as {"shape", "dtype", "data"}.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/util.h"
#include "uma/uma.h"

namespace uma::test {

inline array decode_golden_array(const nlohmann::json& j) {
  Shape shape = j["shape"].get<Shape>();
  auto data = j["data"].get<std::vector<double>>();
  return astype(array(data, shape), dtype_from_string(j["dtype"].get<std::string>()));
}

struct Golden {
  std::vector<array> in;
  mutable array expected{0};  // reading it evaluates it

  // Same shape and values within `tol` (absolute and relative).
  void check(const array& out, double tol = 1e-12) const {
    EXPECT_EQ(out.shape(), expected.shape());
    test::expect_close(out, expected.to_vector<double>(), tol, tol);
  }
};

// Case `name` of tests/fixtures/<fixture>/goldens.json (each file parsed once).
inline Golden load_golden(const std::string& fixture, const std::string& name) {
  static std::map<std::string, nlohmann::json> files;
  auto it = files.find(fixture);
  if (it == files.end()) {
    std::ifstream f(std::string(UMA_SOURCE_DIR) + "/tests/fixtures/" + fixture + "/goldens.json");
    it = files.emplace(fixture, nlohmann::json::parse(f)).first;
  }
  if (!it->second.contains(name)) throw std::runtime_error("no golden named " + name + " in " + fixture);
  const auto& c = it->second[name];
  Golden g;
  for (auto& x : c["inputs"]) g.in.push_back(decode_golden_array(x));
  g.expected = decode_golden_array(c["output"]);
  return g;
}

}  // namespace uma::test
