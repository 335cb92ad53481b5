// While a transform traces a function, evaluation keeps the graph of what it
// computes (eval normally drops a node's inputs once it has run), so that a
// function which evaluates along the way can still be differentiated.
#pragma once

#include <atomic>

namespace uma::detail {

// Number of traces in progress, in any thread.
std::atomic<int>& trace_depth();

struct TraceScope {
  TraceScope() { trace_depth().fetch_add(1, std::memory_order_relaxed); }
  ~TraceScope() { trace_depth().fetch_sub(1, std::memory_order_relaxed); }
  TraceScope(const TraceScope&) = delete;
  TraceScope& operator=(const TraceScope&) = delete;
};

}  // namespace uma::detail
