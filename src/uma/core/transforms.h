// Function transforms, with MLX's C++ signatures (mlx/transforms.h): vjp,
// jvp, grad, value_and_grad, vmap, custom_function/custom_vjp, checkpoint.
// Each takes a function of arrays and returns results or a new function; the
// function is traced by calling it on fresh arrays (so it must build its
// result with ops and not read data it differentiates). The primitives'
// rules (Primitive::vjp/jvp/vmap) do the work; a primitive without a rule
// throws not_implemented naming itself and the transform.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "uma/core/array.h"

namespace uma {

using ArrayFn = std::function<std::vector<array>(const std::vector<array>&)>;

// --- reverse mode
// (outputs of fun(primals), cotangents of the primals) for the given output
// cotangents (one per output, each shaped like its output).
std::pair<std::vector<array>, std::vector<array>> vjp(const ArrayFn& fun, const std::vector<array>& primals,
                                                      const std::vector<array>& cotangents);
std::pair<array, array> vjp(const std::function<array(const array&)>& fun, const array& primal,
                            const array& cotangent);

// --- forward mode
// (outputs of fun(primals), tangents of the outputs) for one tangent per primal.
std::pair<std::vector<array>, std::vector<array>> jvp(const ArrayFn& fun, const std::vector<array>& primals,
                                                      const std::vector<array>& tangents);
std::pair<array, array> jvp(const std::function<array(const array&)>& fun, const array& primal,
                            const array& tangent);

// --- gradients of scalar functions
// value_and_grad(fun, argnums)(xs) = (fun(xs), d fun(xs)[0] / d xs[argnums]):
// the first output must be a scalar (one element); the others ride along.
using ValueAndGradFn = std::function<std::pair<std::vector<array>, std::vector<array>>(const std::vector<array>&)>;
using SimpleValueAndGradFn = std::function<std::pair<array, std::vector<array>>(const std::vector<array>&)>;

ValueAndGradFn value_and_grad(const ArrayFn& fun, const std::vector<int>& argnums);
ValueAndGradFn value_and_grad(const ArrayFn& fun, int argnum = 0);
SimpleValueAndGradFn value_and_grad(const std::function<array(const std::vector<array>&)>& fun,
                                    const std::vector<int>& argnums);
SimpleValueAndGradFn value_and_grad(const std::function<array(const std::vector<array>&)>& fun, int argnum = 0);
std::function<std::pair<array, array>(const array&)> value_and_grad(const std::function<array(const array&)>& fun);

std::function<std::vector<array>(const std::vector<array>&)> grad(
    const std::function<array(const std::vector<array>&)>& fun, const std::vector<int>& argnums);
std::function<std::vector<array>(const std::vector<array>&)> grad(
    const std::function<array(const std::vector<array>&)>& fun, int argnum = 0);
std::function<array(const array&)> grad(const std::function<array(const array&)>& fun);

// Parameter trees as Module::parameters() returns them (dotted name -> array):
// the gradient of a scalar function of the tree, keyed like the tree, and
// `extra` arrays (inputs, targets) passed through without gradients.
using ParamTree = std::map<std::string, array>;
using TreeLossFn = std::function<array(const ParamTree&, const std::vector<array>&)>;
using TreeValueAndGradFn = std::function<std::pair<array, ParamTree>(const ParamTree&, const std::vector<array>&)>;
TreeValueAndGradFn value_and_grad(const TreeLossFn& fun);

// --- vectorizing map
// Maps fun over axis in_axes[i] of input i (-1: not mapped, passed whole to
// every call) and stacks output j along out_axes[j]. Empty in_axes/out_axes
// mean axis 0 for every input/output. Mapped inputs must agree on the size
// of their mapped axis.
std::function<std::vector<array>(const std::vector<array>&)> vmap(const ArrayFn& fun,
                                                                  const std::vector<int>& in_axes = {},
                                                                  const std::vector<int>& out_axes = {});
std::function<array(const array&)> vmap(const std::function<array(const array&)>& fun, int in_axis = 0,
                                        int out_axis = 0);
std::function<array(const array&, const array&)> vmap(const std::function<array(const array&, const array&)>& fun,
                                                      int in_axis_a = 0, int in_axis_b = 0, int out_axis = 0);

// --- custom rules
// (primals, cotangents of the outputs, outputs) -> cotangents of every primal.
using CustomVjpFn =
    std::function<std::vector<array>(const std::vector<array>&, const std::vector<array>&, const std::vector<array>&)>;
// (primals, tangents, argnums) -> tangents of every output.
using CustomJvpFn =
    std::function<std::vector<array>(const std::vector<array>&, const std::vector<array>&, const std::vector<int>&)>;
// (inputs, axes) -> (outputs, output axes).
using CustomVmapFn =
    std::function<std::pair<std::vector<array>, std::vector<int>>(const std::vector<array>&, const std::vector<int>&)>;

// fun, whose transforms use the given rules instead of tracing fun (an absent
// rule falls back to tracing fun).
ArrayFn custom_function(ArrayFn fun, CustomVjpFn fun_vjp = {}, CustomJvpFn fun_jvp = {}, CustomVmapFn fun_vmap = {});
ArrayFn custom_vjp(ArrayFn fun, CustomVjpFn fun_vjp);

// fun, whose intermediates are not kept for the backward pass: its vjp calls
// fun again (trading compute for memory, as MLX's checkpoint).
ArrayFn checkpoint(ArrayFn fun);

// The arrays `inputs`, which now also depend on `dependencies`: whatever
// evaluates them evaluates the dependencies first (orders side computations,
// e.g. a recomputation after its cotangents exist).
std::vector<array> depends(const std::vector<array>& inputs, const std::vector<array>& dependencies);

}  // namespace uma
