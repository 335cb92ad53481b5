// Sets of code points as sorted ranges [first, last], shared by the GBNF
// parser and the regular expression translator.
#pragma once

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

namespace uma::text::grammar {

constexpr uint32_t kMaxCodePoint = 0x10FFFF;
using Ranges = std::vector<std::pair<uint32_t, uint32_t>>;

// Sorted, disjoint and non-adjacent.
inline Ranges normalize_ranges(Ranges r) {
  std::sort(r.begin(), r.end());
  Ranges out;
  for (auto& x : r) {
    if (!out.empty() && x.first <= out.back().second + 1) {
      out.back().second = std::max(out.back().second, x.second);
    } else {
      out.push_back(x);
    }
  }
  return out;
}

// The complement in [0, U+10FFFF] of normalized ranges.
inline Ranges negate_ranges(const Ranges& r) {
  Ranges out;
  uint32_t next = 0;
  for (auto& x : r) {
    if (x.first > next) out.emplace_back(next, x.first - 1);
    next = x.second + 1;
  }
  if (next <= kMaxCodePoint) out.emplace_back(next, kMaxCodePoint);
  return out;
}

}  // namespace uma::text::grammar
