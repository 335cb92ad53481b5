// eval / async_eval: sort the graph iteratively, run each primitive once on
// its stream's worker, and free intermediates as soon as their last consumer
// has run (a node is dropped right after it runs, releasing its inputs).
#include <algorithm>
#include <mutex>
#include <unordered_set>

#include "uma/core/array.h"
#include "uma/core/gpu.h"
#include "uma/core/primitive.h"
#include "uma/core/scheduler.h"
#include "uma/core/transforms/trace.h"

namespace uma {

namespace {

using detail::Node;

std::mutex& graph_mutex() {
  static std::mutex m;
  return m;
}

// The outputs of a node as arrays; outputs nobody holds come back as scratch.
std::vector<array> node_outputs(const std::shared_ptr<Node>& node) {
  for (auto& w : node->outputs) {
    if (auto d = w.lock()) return array::from_desc(d).outputs();
  }
  // No output is alive any more (all dropped after scheduling): make scratch.
  auto d = std::make_shared<detail::ArrayDesc>(node->shapes[0], node->dtypes[0]);
  d->node = node;
  node->outputs[0] = d;
  return array::from_desc(d).outputs();
}

// Runs the tape's primitives in order. Device kernels are queued
// asynchronously; the tape ends by waiting for them, so that an array whose
// event has fired is computed wherever it lives (eval is a sync point, and
// the host thread that asked for async_eval never waits here).
void run_tape(std::vector<std::shared_ptr<Node>>& tape, bool keep_graph) {
  std::vector<Stream> gpu_streams;
  for (auto& slot : tape) {
    std::shared_ptr<Node> node = std::move(slot);
    for (auto& in : node->inputs) {
      if (in.status() != array::Status::available) in.wait();
    }
    std::vector<array> outs = node_outputs(node);
    if (node->primitive->device().type == Device::gpu) {
      Stream s = node->primitive->stream();
      if (std::find(gpu_streams.begin(), gpu_streams.end(), s) == gpu_streams.end()) gpu_streams.push_back(s);
      node->primitive->eval_gpu(node->inputs, outs);
    } else {
      node->primitive->eval_cpu(node->inputs, outs);
    }
    for (auto& o : outs) {
      o.set_status(array::Status::available);
      if (!keep_graph) o.detach();
    }
  }
  for (auto& s : gpu_streams) detail::gpu_synchronize(s);
}

// Builds the tape of unscheduled nodes that `outputs` need, in dependency
// order, and marks their outputs scheduled. Caller holds graph_mutex().
std::vector<std::shared_ptr<Node>> build_tape(const std::vector<array>& outputs,
                                              const std::shared_ptr<Event>& event) {
  std::vector<std::shared_ptr<Node>> tape;
  std::unordered_set<const Node*> visited;
  struct Frame {
    std::shared_ptr<Node> node;
    size_t next = 0;
  };
  std::vector<Frame> stack;
  auto visit = [&](const array& a) {
    if (a.status() != array::Status::unscheduled) return;
    auto& node = a.desc()->node;
    if (!node || !visited.insert(node.get()).second) return;
    stack.push_back({node, 0});
  };
  for (auto& o : outputs) {
    visit(o);
    while (!stack.empty()) {
      Frame& f = stack.back();
      if (f.next < f.node->inputs.size()) {
        const array& in = f.node->inputs[f.next++];
        visit(in);  // may reallocate `stack`; `f` is not used after this
      } else {
        tape.push_back(std::move(f.node));
        stack.pop_back();
      }
    }
  }
  for (auto& node : tape) {
    for (auto& w : node->outputs) {
      if (auto d = w.lock()) {
        d->event = event;
        d->status.store(array::Status::scheduled, std::memory_order_release);
      }
    }
  }
  return tape;
}

void schedule(const std::vector<array>& outputs) {
  auto event = std::make_shared<Event>();
  std::vector<std::shared_ptr<Node>> tape;
  {
    std::lock_guard lock(graph_mutex());
    tape = build_tape(outputs, event);
  }
  if (tape.empty()) return;
  Stream stream = tape.back()->primitive->stream();
  // A transform tracing a function needs the graph of what it evaluates.
  bool keep_graph = detail::trace_depth().load(std::memory_order_relaxed) > 0;
  if (scheduler::in_worker()) {
    // Evaluation requested from inside a task runs inline.
    try {
      run_tape(tape, keep_graph);
    } catch (...) {
      event->signal(std::current_exception());
      throw;
    }
    event->signal();
    return;
  }
  auto shared_tape = std::make_shared<std::vector<std::shared_ptr<Node>>>(std::move(tape));
  scheduler::enqueue(stream, [shared_tape, event, keep_graph] {
    try {
      run_tape(*shared_tape, keep_graph);
      shared_tape->clear();
      event->signal();
    } catch (...) {
      shared_tape->clear();
      event->signal(std::current_exception());
    }
  });
}

}  // namespace

std::atomic<int>& detail::trace_depth() {
  static std::atomic<int> depth{0};
  return depth;
}

void async_eval(std::vector<array> outputs) { schedule(outputs); }

void eval(std::vector<array> outputs) {
  schedule(outputs);
  for (auto& o : outputs) o.wait();
}

}  // namespace uma
