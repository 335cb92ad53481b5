// Tracing a function into a Program and replaying it (program.h).
#include "uma/core/transforms/program.h"

#include <stdexcept>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "uma/core/ops/shape.h"
#include "uma/core/primitive.h"
#include "uma/core/primitives/custom.h"
#include "uma/core/primitives/serialize.h"
#include "uma/core/transforms/trace.h"

namespace uma::detail {

Program trace_program(const ArrayFn& fun, const std::vector<array>& inputs, bool inline_custom) {
  std::vector<array> roots, outs;
  {
    TraceScope scope;  // an eval inside fun keeps the graph
    for (auto& in : inputs) roots.push_back(copy(in));
    outs = fun(roots);
  }

  Program p;
  std::unordered_map<uintptr_t, Ref> refs;
  for (size_t i = 0; i < roots.size(); ++i) refs.emplace(roots[i].id(), Ref{Ref::input, int(i), 0});
  auto as_constant = [&](const array& a) {
    for (auto& o : a.outputs()) {
      refs.emplace(o.id(), Ref{Ref::constant, int(p.constants.size()), 0});
      p.constants.push_back(o);
    }
  };
  // A custom function's node, when inlined, is walked through its first
  // num_outputs inputs only (the wrapped function's outputs).
  auto inlined = [&](const array& a) {
    return inline_custom && dynamic_cast<const CustomTransforms*>(&a.primitive()) != nullptr;
  };
  struct Frame {
    array a;
    size_t next, end;
  };
  std::vector<Frame> stack;
  std::unordered_set<const void*> pushed;  // nodes on the stack or done
  auto visit = [&](const array& a) {
    if (refs.count(a.id())) return;
    if (!a.has_primitive()) return as_constant(a);
    if (!pushed.insert(a.desc()->node.get()).second) return;
    stack.push_back({a, 0, inlined(a) ? a.outputs().size() : a.inputs().size()});
  };
  for (auto& o : outs) {
    visit(o);
    while (!stack.empty()) {
      Frame& f = stack.back();
      if (f.next < f.end) {
        array in = f.a.inputs()[f.next++];
        visit(in);  // may reallocate `stack`
        continue;
      }
      array a = f.a;
      stack.pop_back();
      std::vector<array> node_outs = a.outputs();
      if (inlined(a)) {
        for (size_t k = 0; k < node_outs.size(); ++k) refs.emplace(node_outs[k].id(), refs.at(a.inputs()[k].id()));
        continue;
      }
      TapeNode n;
      bool traced = false;
      for (auto& in : a.inputs()) {
        Ref r = refs.at(in.id());
        traced |= r.kind != Ref::constant;
        n.inputs.push_back(r);
      }
      if (!traced) {
        as_constant(a);
        continue;
      }
      n.prim = a.primitive_ptr();
      for (size_t k = 0; k < node_outs.size(); ++k) {
        refs.emplace(node_outs[k].id(), Ref{Ref::node, int(p.nodes.size()), int(k)});
        n.shapes.push_back(node_outs[k].shape());
        n.dtypes.push_back(node_outs[k].dtype());
      }
      p.nodes.push_back(std::move(n));
    }
  }
  for (auto& o : outs) p.outputs.push_back(refs.at(o.id()));
  // Constant folding: what does not depend on the inputs is computed now.
  if (!p.constants.empty()) eval(p.constants);
  return p;
}

std::vector<array> replay_program(const Program& p, const std::vector<array>& inputs, bool shapeless,
                                  const NodeCheck& check) {
  std::vector<std::vector<array>> vals(p.nodes.size());
  auto get = [&](const Ref& r) -> const array& {
    if (r.kind == Ref::input) return inputs[r.index];
    if (r.kind == Ref::constant) return p.constants[r.index];
    return vals[r.index][r.output];
  };
  for (size_t i = 0; i < p.nodes.size(); ++i) {
    const TapeNode& n = p.nodes[i];
    std::vector<array> ins;
    for (auto& r : n.inputs) ins.push_back(get(r));
    std::vector<Shape> shapes = shapeless ? n.prim->output_shapes(ins) : n.shapes;
    if (shapeless && check) check(i, ins, shapes);
    if (shapes.size() == 1) {
      vals[i].push_back(array(std::move(shapes[0]), n.dtypes[0], n.prim, std::move(ins)));
    } else {
      vals[i] = array::make_arrays(std::move(shapes), n.dtypes, n.prim, std::move(ins));
    }
  }
  std::vector<array> outs;
  for (auto& r : p.outputs) outs.push_back(get(r));
  return outs;
}

void check_shapeless_node(const TapeNode& n, const std::vector<array>& inputs, const std::vector<Shape>& shapes) {
  if (shapes.size() != n.dtypes.size()) throw std::invalid_argument("a node gives another number of outputs");
  NodeTypes types;
  for (auto& x : inputs) types.inputs.push_back({x.shape(), x.dtype()});
  for (size_t k = 0; k < shapes.size(); ++k) types.outputs.push_back({shapes[k], n.dtypes[k]});
  std::string bytes = serialize_primitive(*n.prim);
  deserialize_primitive(primitive_class(*n.prim), reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(),
                        n.prim->stream(), types);
}

}  // namespace uma::detail
