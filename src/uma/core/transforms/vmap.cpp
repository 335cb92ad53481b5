// The vectorizing map. vmap traces the function on placeholders shaped like
// one slice of each mapped input, collects the nodes that depend on a
// placeholder (the tape, inputs before users) and replays them on the batched
// arrays: each node's primitive rule (Primitive::vmap) gets the batched
// inputs with their batch axes (-1 for an input that is not batched) and
// returns the batched outputs with theirs. Nodes that depend on no mapped
// input are kept as they are. The rules are written with ops, so the result
// is a graph again: vmap of vmap and vmap of grad work.
#include <sstream>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "uma/core/ops/reduction.h"
#include "uma/core/ops/shape.h"
#include "uma/core/primitive.h"
#include "uma/core/primitives/custom.h"
#include "uma/core/primitives/serialize.h"
#include "uma/core/transforms.h"
#include "uma/core/transforms/trace.h"
#include "uma/core/utils.h"

namespace uma {

namespace {

// Stands for one slice of a mapped input while the function is traced. It
// has no value: evaluating anything that depends on it is an error (the
// function would see one slice where it stands for all of them).
class VmapPlaceholder : public UnaryPrimitive {
 public:
  using UnaryPrimitive::UnaryPrimitive;
  void eval_cpu(const std::vector<array>&, array&) override { fail(); }
  void eval_gpu(const std::vector<array>&, array&) override { fail(); }
  // Transforms inside the function see the slice as their own input, and
  // never reach here; one that does names the placeholder.
  std::vector<array> vjp(const std::vector<array>&, const std::vector<array>&, const std::vector<int>&,
                         const std::vector<array>&) override {
    refuse("vjp");
  }
  std::vector<array> jvp(const std::vector<array>&, const std::vector<array>&, const std::vector<int>&) override {
    refuse("jvp");
  }
  std::pair<std::vector<array>, std::vector<int>> vmap(const std::vector<array>&, const std::vector<int>&) override {
    refuse("vmap");
  }
  const char* name() const override { return "VmapPlaceholder"; }
  bool is_equivalent(const Primitive& o) const override { return this == &o; }
  std::vector<Shape> output_shapes(const std::vector<array>&) override { detail::throw_no_output_shapes(*this); }
  void serialize(PrimitiveWriter&) const override {
    detail::throw_not_serializable(*this, "it stands for a mapped input while vmap traces");
  }

 private:
  [[noreturn]] static void fail() {
    throw std::invalid_argument(
        "[vmap] cannot evaluate an array that depends on a mapped input while the function is traced");
  }
  [[noreturn]] static void refuse(const char* rule) {
    throw not_implemented(std::string("[VmapPlaceholder] has no ") + rule +
                          " rule: it stands for a mapped input while vmap traces");
  }
};

struct Batched {
  array value;
  int axis;  // -1: not batched
};

std::string shape_of(const array& a) { return shape_str(a.shape()); }

// A rule's output must be the original output with a batch axis of size n
// at the axis it names; anything else is a bug in the rule, reported by name.
void check_rule_output(const Primitive& p, const array& orig, const array& out, int axis, int n, size_t j) {
  Shape expected = orig.shape();
  bool ok = axis >= -1 && axis <= int(orig.ndim());
  if (ok && axis >= 0) expected.insert(expected.begin() + axis, n);
  ok = ok && out.shape() == expected && out.dtype() == orig.dtype();
  if (!ok) {
    std::ostringstream msg;
    msg << "[" << p.name() << "] vmap rule returned output " << j << " of shape " << shape_of(out) << " and "
        << dtype_name(out.dtype()) << " at batch axis " << axis << " for an output of shape " << shape_of(orig)
        << " and " << dtype_name(orig.dtype()) << " (batch size " << n << ")";
    throw std::logic_error(msg.str());
  }
}

std::vector<array> vmap_impl(const ArrayFn& fun, const std::vector<array>& inputs, std::vector<int> in_axes,
                             std::vector<int> out_axes) {
  if (in_axes.empty()) in_axes.assign(inputs.size(), 0);
  if (in_axes.size() != inputs.size()) {
    throw std::invalid_argument("[vmap] " + std::to_string(in_axes.size()) + " in_axes for " +
                                std::to_string(inputs.size()) + " inputs");
  }
  int n = -1;
  for (size_t i = 0; i < inputs.size(); ++i) {
    int ax = in_axes[i];
    if (ax == -1) continue;
    if (ax < -1 || ax >= int(inputs[i].ndim())) {
      throw std::invalid_argument("[vmap] in_axes[" + std::to_string(i) + "] = " + std::to_string(ax) +
                                  " is out of range for input " + std::to_string(i) + " of shape " +
                                  shape_of(inputs[i]) + " (-1 means not mapped)");
    }
    int size = inputs[i].shape(ax);
    if (n >= 0 && size != n) {
      throw std::invalid_argument("[vmap] mapped inputs disagree on the size of their mapped axis: " +
                                  std::to_string(n) + " and " + std::to_string(size) + " (input " +
                                  std::to_string(i) + " of shape " + shape_of(inputs[i]) + ", axis " +
                                  std::to_string(ax) + ")");
    }
    n = size;
  }
  if (n < 0) throw std::invalid_argument("[vmap] no input is mapped (every in_axes entry is -1)");

  // Trace on placeholders.
  std::vector<array> traced;
  std::unordered_map<uintptr_t, Batched> vals;
  std::unordered_set<uintptr_t> batched;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (in_axes[i] == -1) {
      traced.push_back(inputs[i]);
      continue;
    }
    Shape shape = inputs[i].shape();
    shape.erase(shape.begin() + in_axes[i]);
    Stream s = inputs[i].has_primitive() ? inputs[i].primitive().stream() : to_stream({});
    array p(std::move(shape), inputs[i].dtype(), std::make_shared<VmapPlaceholder>(s), {});
    vals.emplace(p.id(), Batched{inputs[i], in_axes[i]});
    batched.insert(p.id());
    traced.push_back(p);
  }
  std::vector<array> outputs = fun(traced);
  if (out_axes.empty()) out_axes.assign(outputs.size(), 0);
  if (out_axes.size() != outputs.size()) {
    throw std::invalid_argument("[vmap] " + std::to_string(out_axes.size()) + " out_axes for " +
                                std::to_string(outputs.size()) + " outputs");
  }

  // Replay the tape on the batched arrays.
  for (const array& a : detail::dependent_nodes(outputs, batched)) {
    std::vector<array> ins;
    std::vector<int> axes;
    for (auto& in : a.inputs()) {
      auto it = vals.find(in.id());
      ins.push_back(it != vals.end() ? it->second.value : in);
      axes.push_back(it != vals.end() ? it->second.axis : -1);
    }
    Primitive& p = a.primitive();
    auto [outs, out_ax] = p.vmap(ins, axes);
    std::vector<array> orig = a.outputs();
    if (outs.size() != orig.size() || out_ax.size() != orig.size()) {
      throw std::logic_error(std::string("[") + p.name() + "] vmap rule returned " + std::to_string(outs.size()) +
                             " outputs and " + std::to_string(out_ax.size()) + " axes for " +
                             std::to_string(orig.size()) + " outputs");
    }
    for (size_t j = 0; j < orig.size(); ++j) {
      check_rule_output(p, orig[j], outs[j], out_ax[j], n, j);
      vals.insert_or_assign(orig[j].id(), Batched{outs[j], out_ax[j]});
    }
  }

  // Batch axes to out_axes; outputs that depend on no mapped input are
  // broadcast along the new axis.
  std::vector<array> results;
  for (size_t j = 0; j < outputs.size(); ++j) {
    auto it = vals.find(outputs[j].id());
    Batched b = it != vals.end() ? it->second : Batched{outputs[j], -1};
    int nd = int(b.value.ndim()) + (b.axis < 0 ? 1 : 0);
    int to = out_axes[j] < 0 ? out_axes[j] + nd : out_axes[j];
    if (to < 0 || to >= nd) {
      throw std::invalid_argument("[vmap] out_axes[" + std::to_string(j) + "] = " + std::to_string(out_axes[j]) +
                                  " is out of range for output " + std::to_string(j) + " of " +
                                  std::to_string(nd) + " dimensions (batch axis included)");
    }
    if (b.axis < 0) {
      Shape shape = b.value.shape();
      shape.insert(shape.begin() + to, n);
      results.push_back(broadcast_to(expand_dims(b.value, to), shape));
    } else {
      results.push_back(b.axis == to ? b.value : moveaxis(b.value, b.axis, to));
    }
  }
  return results;
}

}  // namespace

std::function<std::vector<array>(const std::vector<array>&)> vmap(const ArrayFn& fun, const std::vector<int>& in_axes,
                                                                  const std::vector<int>& out_axes) {
  return [fun, in_axes, out_axes](const std::vector<array>& inputs) {
    return vmap_impl(fun, inputs, in_axes, out_axes);
  };
}

std::function<array(const array&)> vmap(const std::function<array(const array&)>& fun, int in_axis, int out_axis) {
  ArrayFn f = [fun](const std::vector<array>& xs) { return std::vector<array>{fun(xs[0])}; };
  return [f, in_axis, out_axis](const array& x) { return vmap_impl(f, {x}, {in_axis}, {out_axis})[0]; };
}

std::function<array(const array&, const array&)> vmap(const std::function<array(const array&, const array&)>& fun,
                                                      int in_axis_a, int in_axis_b, int out_axis) {
  ArrayFn f = [fun](const std::vector<array>& xs) { return std::vector<array>{fun(xs[0], xs[1])}; };
  return [f, in_axis_a, in_axis_b, out_axis](const array& a, const array& b) {
    return vmap_impl(f, {a, b}, {in_axis_a, in_axis_b}, {out_axis})[0];
  };
}

// ------------------------------------------------------------ the transforms' own primitives

namespace {

// The custom rules of a function batched over `axes` (outputs at axis 0):
// the rules are vmapped too, and the cotangent of an unbatched primal, shared
// by the whole batch, sums over it.
CustomVjpFn batched_vjp(CustomTransforms::VjpFn vjp, std::vector<int> axes, size_t num_outputs) {
  return [vjp = std::move(vjp), axes = std::move(axes), num_outputs](
             const std::vector<array>& primals, const std::vector<array>& cotangents,
             const std::vector<array>& outputs) {
    size_t np = primals.size();
    ArrayFn f = [&](const std::vector<array>& all) {
      std::vector<array> p(all.begin(), all.begin() + np), c(all.begin() + np, all.begin() + np + num_outputs),
          o(all.begin() + np + num_outputs, all.end());
      return vjp(p, c, o);
    };
    std::vector<array> all = primals;
    all.insert(all.end(), cotangents.begin(), cotangents.end());
    all.insert(all.end(), outputs.begin(), outputs.end());
    std::vector<int> in_axes = axes;
    in_axes.resize(np + 2 * num_outputs, 0);
    auto cts = uma::vmap(f, in_axes, std::vector<int>(np, 0))(all);
    for (size_t i = 0; i < cts.size() && i < np; ++i) {
      cts[i] = axes[i] < 0 ? sum(cts[i], 0) : moveaxis(cts[i], 0, axes[i]);
    }
    return cts;
  };
}

CustomJvpFn batched_jvp(CustomTransforms::JvpFn jvp, std::vector<int> axes, size_t num_outputs) {
  return [jvp = std::move(jvp), axes = std::move(axes), num_outputs](
             const std::vector<array>& primals, const std::vector<array>& tangents, const std::vector<int>& argnums) {
    size_t np = primals.size();
    ArrayFn f = [&](const std::vector<array>& all) {
      std::vector<array> p(all.begin(), all.begin() + np), t(all.begin() + np, all.end());
      return jvp(p, t, argnums);
    };
    std::vector<array> all = primals;
    all.insert(all.end(), tangents.begin(), tangents.end());
    std::vector<int> in_axes = axes;
    for (int i : argnums) in_axes.push_back(axes[i]);  // a tangent is batched as its primal
    return uma::vmap(f, in_axes, std::vector<int>(num_outputs, 0))(all);
  };
}

}  // namespace

// The custom vmap rule when given. Otherwise the batched function is vmap of
// fun, and custom vjp/jvp rules carry over, vmapped (so that a gradient of
// the batched function uses them, as the loop's would); without such rules
// the traced outputs, which the replay has batched already, are the answer.
std::pair<std::vector<array>, std::vector<int>> CustomTransforms::vmap(const std::vector<array>& inputs,
                                                                       const std::vector<int>& axes) {
  std::vector<array> args(inputs.begin() + num_outputs_, inputs.end());
  std::vector<int> arg_axes(axes.begin() + num_outputs_, axes.end());
  if (!vmap_) {
    if (!vjp_ && !jvp_) {
      return {std::vector<array>(inputs.begin(), inputs.begin() + num_outputs_),
              std::vector<int>(axes.begin(), axes.begin() + num_outputs_)};
    }
    std::vector<int> zeros_out(num_outputs_, 0);
    ArrayFn batched = uma::vmap(fun_, arg_axes, zeros_out);
    ArrayFn custom = custom_function(batched, vjp_ ? batched_vjp(vjp_, arg_axes, num_outputs_) : CustomVjpFn{},
                                     jvp_ ? batched_jvp(jvp_, arg_axes, num_outputs_) : CustomJvpFn{});
    return {custom(args), zeros_out};
  }
  auto [outs, out_axes] = vmap_(args, arg_axes);
  if (outs.size() != size_t(num_outputs_) || out_axes.size() != outs.size()) {
    throw std::invalid_argument("[custom_function] the vmap rule returned " + std::to_string(outs.size()) +
                                " outputs and " + std::to_string(out_axes.size()) + " axes for " +
                                std::to_string(num_outputs_) + " outputs");
  }
  return {outs, out_axes};
}

// The passed-through arrays keep their batch axes; the dependencies (batched
// or not) still come first.
std::pair<std::vector<array>, std::vector<int>> Depends::vmap(const std::vector<array>& inputs,
                                                              const std::vector<int>& axes) {
  std::vector<array> pass(inputs.begin(), inputs.begin() + num_outputs_);
  std::vector<array> deps(inputs.begin() + num_outputs_, inputs.end());
  return {depends(pass, deps), std::vector<int>(axes.begin(), axes.begin() + num_outputs_)};
}

}  // namespace uma
