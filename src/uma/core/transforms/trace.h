// Pieces the transforms share: the trace depth that keeps evaluated graphs
// alive while a function is traced, the walk that collects the nodes
// between a function's outputs and its traced inputs, and a function
// restricted to some of its inputs.
#pragma once

#include <atomic>
#include <functional>
#include <unordered_set>
#include <vector>

#include "uma/core/transforms.h"

namespace uma::detail {

// Number of traces in progress, in any thread. While it is positive, eval
// keeps the graph of what it computes (it normally drops a node's inputs once
// it has run), so a function that evaluates along the way can still be
// transformed.
std::atomic<int>& trace_depth();

struct TraceScope {
  TraceScope() { trace_depth().fetch_add(1, std::memory_order_relaxed); }
  ~TraceScope() { trace_depth().fetch_sub(1, std::memory_order_relaxed); }
  TraceScope(const TraceScope&) = delete;
  TraceScope& operator=(const TraceScope&) = delete;
};

// The nodes between `outputs` and the arrays whose ids are in `seeds` that
// depend on a seed, one array per node, inputs before users; `seeds`
// receives the ids of their outputs. Only inputs for which follows(node, i)
// holds are walked and count as dependencies (empty: all of them); a node
// for which is_leaf(node) holds depends on nothing (empty: none is).
std::vector<array> dependent_nodes(const std::vector<array>& outputs, std::unordered_set<uintptr_t>& seeds,
                                   const std::function<bool(const array&, int)>& follows = {},
                                   const std::function<bool(const array&)>& is_leaf = {});

// fun as a function of inputs[argnums] alone (the other inputs held fixed),
// and those inputs: what a rule differentiates when it traces a function of
// all of a primitive's inputs.
std::pair<ArrayFn, std::vector<array>> restricted(ArrayFn fun, const std::vector<array>& inputs,
                                                  const std::vector<int>& argnums);

}  // namespace uma::detail
