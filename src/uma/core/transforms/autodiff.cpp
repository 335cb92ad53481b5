// Reverse and forward mode over traced graphs. A transform calls the user's
// function on fresh copies of the primals, collects the nodes between the
// outputs and those copies (the tape, inputs before users), and runs each
// node's rule: vjp from the outputs back, jvp from the primals forward. The
// rules are written with ops, so the results are graphs again and can be
// differentiated once more (grad of grad).
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "uma/core/ops/creation.h"
#include "uma/core/ops/elementwise.h"
#include "uma/core/ops/shape.h"
#include "uma/core/primitive.h"
#include "uma/core/primitives/custom.h"
#include "uma/core/primitives/elementwise.h"
#include "uma/core/transforms.h"
#include "uma/core/transforms/trace.h"

namespace uma {

namespace {

// Fresh arrays standing for the primals: copies share the data (Copy of a
// row-major array shares its buffer) but have an identity of their own, so
// a primal passed twice is still two primals.
std::vector<array> trace_roots(const std::vector<array>& primals) {
  std::vector<array> roots;
  roots.reserve(primals.size());
  for (auto& p : primals) roots.push_back(copy(p));
  return roots;
}

// The nodes that depend on a root through differentiable inputs, one array
// per node, inputs before users. `depends` receives the ids of every array
// on such a path (the roots included). What a primitive carries only for
// ordering or bookkeeping (the graph behind CustomTransforms' traced
// outputs) is not walked, and stop_gradient cuts the trace (MLX): its result
// depends on no root.
std::vector<array> build_tape(const std::vector<array>& outputs, const std::vector<array>& roots,
                              std::unordered_set<uintptr_t>& depends) {
  for (auto& r : roots) depends.insert(r.id());
  return detail::dependent_nodes(
      outputs, depends, [](const array& a, int i) { return a.primitive().is_differentiable_input(i); },
      [](const array& a) { return dynamic_cast<const StopGradient*>(&a.primitive()) != nullptr; });
}

// The inputs of node `a` that depend on a root and are differentiable.
std::vector<int> traced_inputs(const array& a, const std::unordered_set<uintptr_t>& depends) {
  std::vector<int> argnums;
  const auto& inputs = a.inputs();
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (a.primitive().is_differentiable_input(int(i)) && depends.count(inputs[i].id())) argnums.push_back(int(i));
  }
  return argnums;
}

// A rule's result must match what it stands for; a mismatch is a bug in the
// rule, reported by name rather than as a broadcast error far away.
array checked(const array& g, const array& like, const Primitive& p, const char* transform, size_t index) {
  if (g.shape() != like.shape()) {
    throw std::logic_error(std::string("[") + p.name() + "] " + transform + " rule returned a wrong shape for " +
                           (std::string(transform) == "vjp" ? "input " : "output ") + std::to_string(index));
  }
  return g.dtype() == like.dtype() ? g : astype(g, like.dtype());
}

void accumulate(std::unordered_map<uintptr_t, array>& acc, const array& key, const array& value) {
  auto it = acc.find(key.id());
  if (it == acc.end()) {
    acc.emplace(key.id(), value);
  } else {
    it->second = add(it->second, value);
  }
}

// The backward pass: cotangents of `roots` for `cotangents` of `outputs`
// (traced from the roots); primals give the zeros of unreached roots.
std::vector<array> backward(const std::vector<array>& roots, const std::vector<array>& primals,
                            const std::vector<array>& outputs, const std::vector<array>& cotangents) {
  std::unordered_map<uintptr_t, array> cot;
  for (size_t i = 0; i < outputs.size(); ++i) accumulate(cot, outputs[i], astype(cotangents[i], outputs[i].dtype()));
  std::unordered_set<uintptr_t> depends;
  std::vector<array> tape = build_tape(outputs, roots, depends);
  for (auto it = tape.rbegin(); it != tape.rend(); ++it) {
    const array& a = *it;
    std::vector<array> outs = a.outputs();
    std::vector<array> cots;
    bool any = false;
    for (auto& o : outs) {
      auto c = cot.find(o.id());
      if (c != cot.end()) {
        any = true;
        cots.push_back(c->second);
        cot.erase(c);
      } else {
        cots.push_back(zeros_like(o));
      }
    }
    if (!any) continue;
    std::vector<int> argnums = traced_inputs(a, depends);
    Primitive& p = a.primitive();
    std::vector<array> vjps = p.vjp(a.inputs(), cots, argnums, outs);
    if (vjps.size() != argnums.size()) {
      throw std::logic_error(std::string("[") + p.name() + "] vjp rule returned " + std::to_string(vjps.size()) +
                             " cotangents for " + std::to_string(argnums.size()) + " inputs");
    }
    for (size_t k = 0; k < argnums.size(); ++k) {
      const array& in = a.inputs()[argnums[k]];
      accumulate(cot, in, checked(vjps[k], in, p, "vjp", argnums[k]));
    }
  }
  std::vector<array> grads;
  for (size_t i = 0; i < roots.size(); ++i) {
    auto c = cot.find(roots[i].id());
    grads.push_back(c != cot.end() ? c->second : zeros_like(primals[i]));
  }
  return grads;
}

}  // namespace

std::pair<std::vector<array>, std::vector<array>> vjp(const ArrayFn& fun, const std::vector<array>& primals,
                                                      const std::vector<array>& cotangents) {
  detail::TraceScope scope;
  std::vector<array> roots = trace_roots(primals);
  std::vector<array> outputs = fun(roots);
  if (cotangents.size() != outputs.size()) {
    throw std::invalid_argument("[vjp] " + std::to_string(cotangents.size()) + " cotangents for " +
                                std::to_string(outputs.size()) + " outputs");
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (cotangents[i].shape() != outputs[i].shape()) {
      throw std::invalid_argument("[vjp] cotangent " + std::to_string(i) + " is not shaped like output " +
                                  std::to_string(i));
    }
  }
  return {outputs, backward(roots, primals, outputs, cotangents)};
}

std::pair<array, array> vjp(const std::function<array(const array&)>& fun, const array& primal,
                            const array& cotangent) {
  auto [outs, grads] = vjp([&](const std::vector<array>& xs) { return std::vector<array>{fun(xs[0])}; }, {primal},
                           {cotangent});
  return {outs[0], grads[0]};
}

std::pair<std::vector<array>, std::vector<array>> jvp(const ArrayFn& fun, const std::vector<array>& primals,
                                                      const std::vector<array>& tangents) {
  if (tangents.size() != primals.size()) {
    throw std::invalid_argument("[jvp] " + std::to_string(tangents.size()) + " tangents for " +
                                std::to_string(primals.size()) + " primals");
  }
  for (size_t i = 0; i < primals.size(); ++i) {
    if (tangents[i].shape() != primals[i].shape()) {
      throw std::invalid_argument("[jvp] tangent " + std::to_string(i) + " is not shaped like primal " +
                                  std::to_string(i));
    }
  }
  detail::TraceScope scope;
  std::vector<array> roots = trace_roots(primals);
  std::vector<array> outputs = fun(roots);
  std::unordered_map<uintptr_t, array> tan;
  for (size_t i = 0; i < roots.size(); ++i) tan.emplace(roots[i].id(), astype(tangents[i], roots[i].dtype()));
  std::unordered_set<uintptr_t> depends;
  std::vector<array> tape = build_tape(outputs, roots, depends);
  for (const array& a : tape) {
    std::vector<int> argnums = traced_inputs(a, depends);
    std::vector<array> ts;
    for (int i : argnums) ts.push_back(tan.at(a.inputs()[i].id()));
    Primitive& p = a.primitive();
    std::vector<array> out_t = p.jvp(a.inputs(), ts, argnums);
    std::vector<array> outs = a.outputs();
    if (out_t.size() != outs.size()) {
      throw std::logic_error(std::string("[") + p.name() + "] jvp rule returned " + std::to_string(out_t.size()) +
                             " tangents for " + std::to_string(outs.size()) + " outputs");
    }
    for (size_t j = 0; j < outs.size(); ++j) tan.insert_or_assign(outs[j].id(), checked(out_t[j], outs[j], p, "jvp", j));
  }
  std::vector<array> out_tangents;
  for (auto& o : outputs) {
    auto t = tan.find(o.id());
    out_tangents.push_back(t != tan.end() ? t->second : zeros_like(o));
  }
  return {outputs, out_tangents};
}

std::pair<array, array> jvp(const std::function<array(const array&)>& fun, const array& primal,
                            const array& tangent) {
  auto [outs, tans] = jvp([&](const std::vector<array>& xs) { return std::vector<array>{fun(xs[0])}; }, {primal},
                          {tangent});
  return {outs[0], tans[0]};
}

namespace {

std::vector<int> resolve_argnums(const std::vector<int>& argnums, size_t n, const char* who) {
  std::vector<int> args;
  for (int a : argnums) {
    int k = a < 0 ? a + int(n) : a;
    if (k < 0 || k >= int(n)) {
      throw std::invalid_argument(std::string("[") + who + "] argnum " + std::to_string(a) + " is out of range for " +
                                  std::to_string(n) + " inputs");
    }
    for (int b : args) {
      if (b == k) throw std::invalid_argument(std::string("[") + who + "] argnum " + std::to_string(a) + " repeats");
    }
    args.push_back(k);
  }
  return args;
}

// fun(inputs) and the gradient of its first (scalar) output with respect to
// inputs[argnums]; the other inputs are constants of the trace.
std::pair<std::vector<array>, std::vector<array>> value_and_grad_impl(const ArrayFn& fun,
                                                                      const std::vector<int>& argnums,
                                                                      const std::vector<array>& inputs) {
  std::vector<int> args = resolve_argnums(argnums, inputs.size(), "value_and_grad");
  detail::TraceScope scope;
  std::vector<array> primals;
  for (int k : args) primals.push_back(inputs[k]);
  std::vector<array> roots = trace_roots(primals);
  std::vector<array> all = inputs;
  for (size_t i = 0; i < args.size(); ++i) all[args[i]] = roots[i];
  std::vector<array> values = fun(all);
  if (values.empty() || values[0].size() != 1) {
    throw std::invalid_argument(
        "[value_and_grad] the function's first output must be a scalar, got " +
        (values.empty() ? std::string("no outputs") : std::to_string(values[0].size()) + " elements"));
  }
  std::vector<array> grads = backward(roots, primals, {values[0]}, {ones_like(values[0])});
  return {values, grads};
}

}  // namespace

ValueAndGradFn value_and_grad(const ArrayFn& fun, const std::vector<int>& argnums) {
  if (argnums.empty()) throw std::invalid_argument("[value_and_grad] argnums is empty");
  return [fun, argnums](const std::vector<array>& inputs) { return value_and_grad_impl(fun, argnums, inputs); };
}

ValueAndGradFn value_and_grad(const ArrayFn& fun, int argnum) { return value_and_grad(fun, std::vector<int>{argnum}); }

SimpleValueAndGradFn value_and_grad(const std::function<array(const std::vector<array>&)>& fun,
                                    const std::vector<int>& argnums) {
  if (argnums.empty()) throw std::invalid_argument("[value_and_grad] argnums is empty");
  ArrayFn f = [fun](const std::vector<array>& xs) { return std::vector<array>{fun(xs)}; };
  return [f, argnums](const std::vector<array>& inputs) {
    auto [values, grads] = value_and_grad_impl(f, argnums, inputs);
    return std::make_pair(values[0], grads);
  };
}

SimpleValueAndGradFn value_and_grad(const std::function<array(const std::vector<array>&)>& fun, int argnum) {
  return value_and_grad(fun, std::vector<int>{argnum});
}

std::function<std::pair<array, array>(const array&)> value_and_grad(const std::function<array(const array&)>& fun) {
  ArrayFn f = [fun](const std::vector<array>& xs) { return std::vector<array>{fun(xs[0])}; };
  return [f](const array& x) {
    auto [values, grads] = value_and_grad_impl(f, {0}, {x});
    return std::make_pair(values[0], grads[0]);
  };
}

std::function<std::vector<array>(const std::vector<array>&)> grad(
    const std::function<array(const std::vector<array>&)>& fun, const std::vector<int>& argnums) {
  auto vg = value_and_grad(fun, argnums);
  return [vg](const std::vector<array>& inputs) { return vg(inputs).second; };
}

std::function<std::vector<array>(const std::vector<array>&)> grad(
    const std::function<array(const std::vector<array>&)>& fun, int argnum) {
  return grad(fun, std::vector<int>{argnum});
}

std::function<array(const array&)> grad(const std::function<array(const array&)>& fun) {
  auto vg = value_and_grad(fun);
  return [vg](const array& x) { return vg(x).second; };
}

TreeValueAndGradFn value_and_grad(const TreeLossFn& fun) {
  return [fun](const ParamTree& params, const std::vector<array>& extra) {
    std::vector<std::string> keys;
    std::vector<array> leaves;
    for (auto& [k, v] : params) {
      keys.push_back(k);
      leaves.push_back(v);
    }
    ArrayFn f = [&](const std::vector<array>& xs) {
      ParamTree tree;
      for (size_t i = 0; i < keys.size(); ++i) tree.emplace(keys[i], xs[i]);
      return std::vector<array>{fun(tree, extra)};
    };
    std::vector<int> argnums(keys.size());
    for (size_t i = 0; i < keys.size(); ++i) argnums[i] = int(i);
    if (argnums.empty()) return std::make_pair(fun(params, extra), ParamTree{});
    auto [values, grads] = value_and_grad_impl(f, argnums, leaves);
    ParamTree g;
    for (size_t i = 0; i < keys.size(); ++i) g.emplace(keys[i], grads[i]);
    return std::make_pair(values[0], g);
  };
}

ArrayFn custom_function(ArrayFn fun, CustomVjpFn fun_vjp, CustomJvpFn fun_jvp, CustomVmapFn fun_vmap) {
  return [fun = std::move(fun), fun_vjp = std::move(fun_vjp), fun_jvp = std::move(fun_jvp),
          fun_vmap = std::move(fun_vmap)](const std::vector<array>& args) {
    std::vector<array> outputs = fun(args);
    if (outputs.empty()) return outputs;
    std::vector<Shape> shapes;
    std::vector<Dtype> dtypes;
    for (auto& o : outputs) {
      shapes.push_back(o.shape());
      dtypes.push_back(o.dtype());
    }
    std::vector<array> inputs = outputs;
    inputs.insert(inputs.end(), args.begin(), args.end());
    Stream s = outputs[0].has_primitive() ? outputs[0].primitive().stream() : to_stream({});
    auto prim = std::make_shared<CustomTransforms>(s, int(outputs.size()), fun, fun_vjp, fun_jvp, fun_vmap);
    return array::make_arrays(std::move(shapes), std::move(dtypes), std::move(prim), std::move(inputs));
  };
}

ArrayFn custom_vjp(ArrayFn fun, CustomVjpFn fun_vjp) { return custom_function(std::move(fun), std::move(fun_vjp)); }

ArrayFn checkpoint(ArrayFn fun) {
  CustomVjpFn recompute = [fun](const std::vector<array>& primals, const std::vector<array>& cotangents,
                                const std::vector<array>&) {
    // Tie the recomputation to the cotangents, so it runs in the backward
    // pass and its intermediates live only there.
    return vjp(fun, depends(primals, cotangents), cotangents).second;
  };
  return custom_function(fun, std::move(recompute));
}

std::vector<array> depends(const std::vector<array>& inputs, const std::vector<array>& dependencies) {
  if (inputs.empty()) return {};
  std::vector<Shape> shapes;
  std::vector<Dtype> dtypes;
  for (auto& a : inputs) {
    shapes.push_back(a.shape());
    dtypes.push_back(a.dtype());
  }
  std::vector<array> all = inputs;
  all.insert(all.end(), dependencies.begin(), dependencies.end());
  auto prim = std::make_shared<Depends>(to_stream({}), int(inputs.size()));
  return array::make_arrays(std::move(shapes), std::move(dtypes), std::move(prim), std::move(all));
}

}  // namespace uma
