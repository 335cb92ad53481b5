// Helpers for walking strided arrays: collapse dimensions that are contiguous
// in every operand, then visit rows (the last dimension) with per-operand
// offsets, optionally in parallel.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "uma/backend/cpu/thread_pool.h"
#include "uma/core/array.h"

namespace uma::cpu {

// Merges dimension i into i+1 wherever, for every operand, stride[i] ==
// stride[i+1] * shape[i+1]; drops size-1 dims. Keeps at least one dim.
template <size_t K>
void collapse_dims(Shape& shape, std::array<Strides, K>& strides) {
  Shape ns;
  std::array<Strides, K> nst;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 1) continue;
    if (!ns.empty()) {
      bool merge = true;
      for (size_t k = 0; k < K; ++k) merge &= nst[k].back() == strides[k][i] * shape[i];
      if (merge) {
        ns.back() *= shape[i];
        for (size_t k = 0; k < K; ++k) nst[k].back() = strides[k][i];
        continue;
      }
    }
    ns.push_back(shape[i]);
    for (size_t k = 0; k < K; ++k) nst[k].push_back(strides[k][i]);
  }
  if (ns.empty()) {
    ns.push_back(1);
    for (size_t k = 0; k < K; ++k) nst[k].push_back(0);
  }
  shape = std::move(ns);
  strides = std::move(nst);
}

// Calls fn(offsets, n, inner_strides) for each row of `shape` (all dims but
// the last), where offsets are the element offsets of the row's start in each
// operand and n is the row length. Rows are split across the thread pool when
// `parallel` is set and there is enough work.
template <size_t K, typename F>
void for_each_row(const Shape& shape, const std::array<Strides, K>& strides, bool parallel, F&& fn) {
  int nd = int(shape.size());
  int64_t inner = shape.back();
  std::array<int64_t, K> inner_strides;
  for (size_t k = 0; k < K; ++k) inner_strides[k] = strides[k].back();
  size_t rows = 1;
  for (int d = 0; d < nd - 1; ++d) rows *= size_t(shape[d]);
  auto run = [&](size_t begin, size_t end) {
    std::vector<int64_t> idx(nd > 1 ? nd - 1 : 1, 0);
    std::array<int64_t, K> off{};
    size_t r = begin;
    for (int d = nd - 2; d >= 0; --d) {
      idx[d] = int64_t(r % size_t(shape[d]));
      r /= size_t(shape[d]);
      for (size_t k = 0; k < K; ++k) off[k] += idx[d] * strides[k][d];
    }
    for (size_t row = begin; row < end; ++row) {
      fn(off, inner, inner_strides);
      for (int d = nd - 2; d >= 0; --d) {
        if (++idx[d] < shape[d]) {
          for (size_t k = 0; k < K; ++k) off[k] += strides[k][d];
          break;
        }
        for (size_t k = 0; k < K; ++k) off[k] -= (shape[d] - 1) * strides[k][d];
        idx[d] = 0;
      }
    }
  };
  size_t total = rows * size_t(inner);
  if (parallel && total >= (1u << 15) && rows > 1) {
    size_t grain = std::max<size_t>(1, (1u << 14) / size_t(std::max<int64_t>(inner, 1)));
    parallel_for(rows, grain, run);
  } else {
    run(0, rows);
  }
}

}  // namespace uma::cpu
