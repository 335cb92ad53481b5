// Helpers of the vmap rules (see vmap_util.h).
#include "uma/core/primitives/vmap_util.h"

#include <stdexcept>

#include "uma/core/ops/creation.h"
#include "uma/core/ops/elementwise.h"
#include "uma/core/ops/manipulation.h"
#include "uma/core/ops/shape.h"

namespace uma::detail {

int vmap_size(const std::vector<array>& inputs, const std::vector<int>& axes) {
  for (size_t i = 0; i < axes.size(); ++i) {
    if (axes[i] >= 0) return inputs[i].shape(axes[i]);
  }
  throw std::logic_error("[vmap] a rule was called without a batched input");
}

array batch_to_front(const array& x, int ax, int n, Stream s) {
  if (ax >= 0) return ax == 0 ? x : moveaxis(x, ax, 0, s);
  array e = expand_dims(x, 0, s);
  if (n < 0) return e;
  Shape shape = e.shape();
  shape[0] = n;
  return broadcast_to(e, shape, s);
}

std::vector<int> shift_axes(std::vector<int> axes, int batch_axis) {
  for (int& a : axes) a = shift_axis(a, batch_axis);
  return axes;
}

int align_batch_axes(std::vector<array>& xs, const std::vector<int>& axes, Stream s) {
  int to = -1;
  for (int a : axes) {
    if (a >= 0) {
      to = a;
      break;
    }
  }
  if (to < 0) return -1;
  for (size_t i = 0; i < xs.size(); ++i) {
    if (axes[i] < 0) {
      xs[i] = expand_dims(xs[i], to, s);
    } else if (axes[i] != to) {
      xs[i] = moveaxis(xs[i], axes[i], to, s);
    }
  }
  return to;
}

int64_t matrices_per_element(const array& x) {
  int64_t p = 1;
  for (int i = 1; i + 2 < int(x.ndim()); ++i) p *= x.shape(i);
  return p;
}

array offset_batch_indices(const array& idx, int64_t m, Stream s) {
  const int32_t n = idx.shape(0);
  Shape col(idx.ndim(), 1);
  col[0] = n;
  array first = reshape(arange(0.0, double(n) * double(m), double(m), int64, s), col, s);
  return add(first, astype(idx, int64, s), s);
}

array make_node(std::shared_ptr<Primitive> p, std::vector<array> inputs, Dtype dtype) {
  Shape shape = p->output_shapes(inputs)[0];
  return array(std::move(shape), dtype, std::move(p), std::move(inputs));
}

VmapResult vmap_by_loop(const std::vector<array>& inputs, const std::vector<int>& axes,
                        const std::function<std::vector<array>(const std::vector<array>&)>& f, Stream s) {
  int n = vmap_size(inputs, axes);
  if (n == 0) {
    // No slice to take: run f on zeros of a slice's shape for the output
    // shapes; the (empty) results need no values.
    std::vector<array> slices;
    for (size_t i = 0; i < inputs.size(); ++i) {
      Shape shape = inputs[i].shape();
      if (axes[i] >= 0) shape.erase(shape.begin() + axes[i]);
      slices.push_back(axes[i] < 0 ? inputs[i] : zeros(shape, inputs[i].dtype(), s));
    }
    std::vector<array> outs;
    for (auto& o : f(slices)) outs.push_back(batch_to_front(o, -1, 0, s));
    return {outs, std::vector<int>(outs.size(), 0)};
  }
  std::vector<std::vector<array>> per_output;
  for (int b = 0; b < n; ++b) {
    std::vector<array> slices;
    for (size_t i = 0; i < inputs.size(); ++i) {
      const array& x = inputs[i];
      if (axes[i] < 0) {
        slices.push_back(x);
        continue;
      }
      Shape start(x.ndim(), 0), stop = x.shape();
      start[axes[i]] = b;
      stop[axes[i]] = b + 1;
      slices.push_back(squeeze(slice(x, start, stop, s), axes[i], s));
    }
    std::vector<array> outs = f(slices);
    if (per_output.empty()) per_output.resize(outs.size());
    for (size_t j = 0; j < outs.size(); ++j) per_output[j].push_back(outs[j]);
  }
  std::vector<array> outs;
  for (auto& parts : per_output) outs.push_back(stack(parts, 0, s));
  return {outs, std::vector<int>(outs.size(), 0)};
}

}  // namespace uma::detail
