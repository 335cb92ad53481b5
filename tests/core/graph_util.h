// Graph helpers of the suites that enumerate primitive classes: every class
// of the family lists, and the nodes of a class in a graph.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "uma/core/primitives/all.h"
#include "uma/core/primitives/serialize.h"
#include "uma/uma.h"

namespace uma::test {

// Every primitive class of the family lists (primitives/all.h, fast.h).
inline std::vector<std::string> every_primitive_class() {
  std::vector<std::string> all;
#define UMA_CLASS(P) all.push_back(#P);
  UMA_CORE_PRIMITIVES(UMA_CLASS)
  UMA_CORE_MULTI_PRIMITIVES(UMA_CLASS)
  UMA_FAST_PRIMITIVES(UMA_CLASS)
#undef UMA_CLASS
  return all;
}

// The nodes of class `cls` (detail::primitive_class) in the graph of
// `outputs`, not evaluated.
inline std::vector<array> nodes_of(const std::vector<array>& outputs, const std::string& cls) {
  std::vector<array> found, stack = outputs;
  std::set<uintptr_t> seen;
  while (!stack.empty()) {
    array a = stack.back();
    stack.pop_back();
    if (!seen.insert(a.id()).second || !a.has_primitive()) continue;
    if (cls == detail::primitive_class(a.primitive())) found.push_back(a);
    for (auto& in : a.inputs()) stack.push_back(in);
  }
  return found;
}

}  // namespace uma::test
