// CPU kernels of gather, scatter and their along-axis forms.
#include <cstring>

#include "uma/backend/cpu/copy.h"
#include "uma/backend/cpu/indexing_utils.h"
#include "uma/core/primitives/indexing.h"

namespace uma {

namespace cpu {

namespace {

// Element offsets of every position of `shape` (row-major order) under `strides`.
std::vector<int64_t> strided_offsets(const Shape& shape, const Strides& strides) {
  size_t n = 1;
  for (auto d : shape) n *= size_t(d);
  std::vector<int64_t> out(n);
  if (n == 0) return out;
  int nd = int(shape.size());
  std::vector<int32_t> idx(nd, 0);
  int64_t off = 0;
  for (size_t i = 0; i < n; ++i) {
    out[i] = off;
    for (int d = nd - 1; d >= 0; --d) {
      if (++idx[d] < shape[d]) {
        off += strides[d];
        break;
      }
      off -= int64_t(shape[d] - 1) * strides[d];
      idx[d] = 0;
    }
  }
  return out;
}

// Calls f(combiner, type_tag<T>{}) for a scatter reduction over dtype t.
// Assignment only moves bytes, so it dispatches on the item size. Kernels
// that only assign or add pass kProdMaxMin = false to skip instantiations.
template <bool kProdMaxMin = true, typename F>
void dispatch_scatter(ScatterReduce r, Dtype t, F&& f) {
  auto typed = [&](auto combine) { dispatch_all(t, [&](auto tag) { f(combine, tag); }); };
  if (r == ScatterReduce::none) return dispatch_bytes(size_of(t), [&](auto tag) { f(CombineAssign{}, tag); });
  if (r == ScatterReduce::sum) return typed(CombineSum{});
  if constexpr (kProdMaxMin) {
    if (r == ScatterReduce::prod) return typed(CombineProd{});
    if (r == ScatterReduce::max) return typed(CombineMax{});
    if (r == ScatterReduce::min) return typed(CombineMin{});
  }
  throw std::logic_error("[scatter] unsupported reduction for this kernel");
}

}  // namespace

array as_wide_index(const array& idx) {
  if (idx.dtype() == int32 || idx.dtype() == int64) return idx;
  // Unsigned 64-bit values past 2^63 turn negative: still out of range, so
  // still clamped / dropped.
  array wide(idx.shape(), int64, nullptr, {});
  copy_to_new(idx, wide);
  return wide;
}

void copy_or_donate(const array& src, array& out) {
  if (src.is_donatable() && src.dtype() == out.dtype()) {
    out.copy_shared_buffer(src);
  } else {
    copy_to_new(src, out);
  }
}

std::vector<int64_t> window_offsets(const std::vector<array>& indices, const std::vector<int>& axes,
                                    const Shape& shape, const Strides& strides, const Shape& window, bool clamp) {
  size_t n = indices.empty() ? 1 : indices[0].size();
  std::vector<int64_t> out(n, 0);
  for (size_t k = 0; k < indices.size(); ++k) {
    array idx = as_wide_index(indices[k]);
    std::vector<int64_t> pos;
    if (!idx.flags().row_contiguous) pos = strided_offsets(idx.shape(), idx.strides());
    int ax = axes[k];
    int64_t dim = shape[ax], w = window[ax], st = strides[ax];
    dispatch_index(idx.dtype(), [&](auto tag) {
      using I = typename decltype(tag)::type;
      const I* p = static_cast<const I*>(idx.raw_ptr());
      parallel_for(n, 1 << 14, [&](size_t b, size_t e) {
        for (size_t i = b; i < e; ++i) {
          if (out[i] == kDropped) continue;
          int64_t v = fix_index(p[pos.empty() ? i : pos[i]], dim, w, clamp);
          out[i] = v == kDropped ? kDropped : out[i] + v * st;
        }
      });
    });
  }
  return out;
}

}  // namespace cpu

using namespace cpu;

void Gather::eval_cpu(const std::vector<array>& inputs, array& out) {
  const array& a = inputs[0];
  out.set_data(allocator::malloc(out.nbytes()));
  if (out.size() == 0) return;
  std::vector<array> idx(inputs.begin() + 1, inputs.end());
  // base[i]: offset in a of the slice picked by index position i (clamped,
  // or kDropped: that slice reads as zeros).
  auto base = window_offsets(idx, axes_, a.shape(), a.strides(), slice_sizes_, clamp_);
  if (!clamp_) std::memset(out.raw_ptr(), 0, out.nbytes());
  size_t n = base.size(), S = out.size() / n;
  Shape sh = slice_sizes_;
  std::array<Strides, 2> st{a.strides(), detail::row_strides(slice_sizes_)};
  collapse_dims(sh, st);
  size_t isz = a.itemsize();
  dispatch_bytes(isz, [&](auto tag) {
    using U = typename decltype(tag)::type;
    const U* src = static_cast<const U*>(a.raw_ptr());
    U* dst = static_cast<U*>(out.raw_ptr());
    if (S == 1) {
      parallel_for(n, 1 << 14, [&](size_t b, size_t e) {
        for (size_t i = b; i < e; ++i) {
          if (base[i] != kDropped) dst[i] = src[base[i]];
        }
      });
    } else if (sh.size() == 1 && st[0][0] == 1) {
      // Contiguous slices (rows of an embedding table): memcpy, with the n * S
      // elements split evenly across threads.
      parallel_for(n * S, grain_for_bytes(isz), [&](size_t b, size_t e) {
        while (b < e) {
          size_t i = b / S, j = b % S, len = std::min(S - j, e - b);
          if (base[i] != kDropped) std::memcpy(dst + b, src + base[i] + j, len * isz);
          b += len;
        }
      });
    } else {
      auto copy_slice = [&](size_t i, bool parallel) {
        if (base[i] == kDropped) return;
        for_each_row<2>(sh, st, parallel, [&](const std::array<int64_t, 2>& off, int64_t len,
                                              const std::array<int64_t, 2>& inner) {
          const U* s = src + base[i] + off[0];
          U* d = dst + i * S + off[1];
          for (int64_t t = 0; t < len; ++t) d[t * inner[1]] = s[t * inner[0]];
        });
      };
      if (n >= 2 * size_t(num_threads())) {
        parallel_for(n, std::max<size_t>(1, (1u << 14) / S), [&](size_t b, size_t e) {
          for (size_t i = b; i < e; ++i) copy_slice(i, false);
        });
      } else {
        for (size_t i = 0; i < n; ++i) copy_slice(i, true);
      }
    }
  });
}

void Scatter::eval_cpu(const std::vector<array>& inputs, array& out) {
  const array& a = inputs[0];
  const array& upd = inputs.back();
  copy_or_donate(a, out);
  if (upd.size() == 0) return;
  size_t idx_nd = upd.ndim() - a.ndim();
  std::vector<array> idx(inputs.begin() + 1, inputs.end() - 1);
  Shape window(upd.shape().begin() + idx_nd, upd.shape().end());
  auto base = window_offsets(idx, axes_, out.shape(), out.strides(), window, clamp_);
  auto ubase = strided_offsets(Shape(upd.shape().begin(), upd.shape().begin() + idx_nd),
                               Strides(upd.strides().begin(), upd.strides().begin() + idx_nd));
  size_t n = base.size(), W = upd.size() / n;
  Shape wsh = window;
  std::array<Strides, 2> wst{Strides(upd.strides().begin() + idx_nd, upd.strides().end()), out.strides()};
  collapse_dims(wsh, wst);
  dispatch_scatter(reduce_, out.dtype(), [&](auto combine, auto tag) {
    using T = typename decltype(tag)::type;
    const T* u = static_cast<const T*>(upd.raw_ptr());
    T* o = static_cast<T*>(out.raw_ptr());
    // Threads own disjoint ranges of window elements and each walks all index
    // positions in order: duplicates combine in a fixed order, never racing.
    auto body = [&](size_t b, size_t e) {
      for (size_t i = 0; i < n; ++i) {
        if (base[i] == kDropped) continue;
        for_each_span<2>(wsh, wst, b, e, [&](const std::array<int64_t, 2>& off, int64_t len,
                                             const std::array<int64_t, 2>& inner) {
          const T* us = u + ubase[i] + off[0];
          T* os = o + base[i] + off[1];
          for (int64_t t = 0; t < len; ++t) combine(os[t * inner[1]], us[t * inner[0]]);
        });
      }
    };
    if (W >= 1024 && n * W >= (1u << 16)) {
      parallel_for(W, 512, body);
    } else {
      body(0, W);
    }
  });
}

void GatherAxis::eval_cpu(const std::vector<array>& inputs, array& out) {
  const array& a = inputs[0];
  array idx = as_wide_index(inputs[1]);
  out.set_data(allocator::malloc(out.nbytes()));
  if (out.size() == 0) return;
  int64_t n = a.shape(axis_), a_axis_stride = a.strides()[axis_];
  // a's offset along axis_ comes from the index, not from the position.
  Strides as = a.strides();
  as[axis_] = 0;
  Shape sh = out.shape();
  std::array<Strides, 3> st{as, idx.strides(), out.strides()};
  collapse_dims(sh, st);
  dispatch_bytes(a.itemsize(), [&](auto dtag) {
    using U = typename decltype(dtag)::type;
    dispatch_index(idx.dtype(), [&](auto itag) {
      using I = typename decltype(itag)::type;
      const U* ap = static_cast<const U*>(a.raw_ptr());
      const I* ip = static_cast<const I*>(idx.raw_ptr());
      U* op = static_cast<U*>(out.raw_ptr());
      for_each_row<3>(sh, st, true, [&](const std::array<int64_t, 3>& off, int64_t len,
                                        const std::array<int64_t, 3>& inner) {
        for (int64_t t = 0; t < len; ++t) {
          int64_t j = fix_index(ip[off[1] + t * inner[1]], n, 1, clamp_);
          op[off[2] + t * inner[2]] = j == kDropped ? U(0) : ap[off[0] + t * inner[0] + j * a_axis_stride];
        }
      });
    });
  });
}

void ScatterAxis::eval_cpu(const std::vector<array>& inputs, array& out) {
  const array& a = inputs[0];
  array idx = as_wide_index(inputs[1]);
  const array& val = inputs[2];
  copy_or_donate(a, out);
  if (idx.size() == 0) return;
  int64_t n = out.shape(axis_), o_axis_stride = out.strides()[axis_];
  // Iterate with axis_ innermost: a row then holds every write to its output
  // elements, so rows can run in parallel and duplicates apply in order.
  Shape sh;
  std::array<Strides, 3> st;
  for (int d = 0; d < int(idx.ndim()); ++d) {
    if (d == axis_) continue;
    sh.push_back(idx.shape(d));
    st[0].push_back(out.strides()[d]);
    st[1].push_back(idx.strides()[d]);
    st[2].push_back(val.strides()[d]);
  }
  sh.push_back(idx.shape(axis_));
  st[0].push_back(0);
  st[1].push_back(idx.strides()[axis_]);
  st[2].push_back(val.strides()[axis_]);
  collapse_dims(sh, st);
  dispatch_scatter<false>(reduce_, out.dtype(), [&](auto combine, auto tag) {
    using T = typename decltype(tag)::type;
    dispatch_index(idx.dtype(), [&](auto itag) {
      using I = typename decltype(itag)::type;
      const I* ip = static_cast<const I*>(idx.raw_ptr());
      const T* vp = static_cast<const T*>(val.raw_ptr());
      T* op = static_cast<T*>(out.raw_ptr());
      for_each_row<3>(sh, st, true, [&](const std::array<int64_t, 3>& off, int64_t len,
                                        const std::array<int64_t, 3>& inner) {
        for (int64_t t = 0; t < len; ++t) {
          int64_t j = fix_index(ip[off[1] + t * inner[1]], n, 1, clamp_);
          if (j == kDropped) continue;
          combine(op[off[0] + t * inner[0] + j * o_axis_stride], vp[off[2] + t * inner[2]]);
        }
      });
    });
  });
}

}  // namespace uma
