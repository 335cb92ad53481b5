// CPU kernel of Select (where): out = condition ? x : y. The ops broadcast all
// three to one shape; condition is bool, x and y share out's dtype.
#include "uma/backend/cpu/elementwise.h"
#include "uma/core/primitives/elementwise.h"

namespace uma {

namespace {

using namespace cpu;

// out[i] = c[i*sc] ? x[i*sx] : y[i*sy]; the common layouts get their own
// loops so that they vectorize (selects are bit copies: no conversion).
template <typename T>
void select_row(const bool* c, int64_t sc, const T* x, int64_t sx, const T* y, int64_t sy, T* out, int64_t n) {
  if (sc == 1 && sx == 1 && sy == 1) {
    for (int64_t i = 0; i < n; ++i) out[i] = c[i] ? x[i] : y[i];
  } else if (sc == 1 && sx == 1 && sy == 0) {
    T v = y[0];
    for (int64_t i = 0; i < n; ++i) out[i] = c[i] ? x[i] : v;
  } else if (sc == 1 && sx == 0 && sy == 1) {
    T v = x[0];
    for (int64_t i = 0; i < n; ++i) out[i] = c[i] ? v : y[i];
  } else {
    for (int64_t i = 0; i < n; ++i) out[i] = c[i * sc] ? x[i * sx] : y[i * sy];
  }
}

// Values are selected as bytes of their size (see Select::eval_cpu).
template <typename T>
void select_apply(const array& c, const array& x, const array& y, array& out) {
  if (out.size() == 0) {
    out.set_data(allocator::malloc(0));
    return;
  }
  const bool* pc = static_cast<const bool*>(c.raw_ptr());
  const T* px = static_cast<const T*>(x.raw_ptr());
  const T* py = static_cast<const T*>(y.raw_ptr());
  bool all_rows = c.flags().row_contiguous && x.flags().row_contiguous && y.flags().row_contiguous;
  if (!donate(x, out) && !donate(y, out) && !(sizeof(T) == 1 && donate(c, out))) {
    out.set_data(allocator::malloc(out.nbytes()));
  }
  T* po = static_cast<T*>(out.raw_ptr());
  if (all_rows) {
    parallel_for(out.size(), grain(sizeof(T), 1), [&](size_t b, size_t e) {
      select_row(pc + b, 1, px + b, 1, py + b, 1, po + b, int64_t(e - b));
    });
    return;
  }
  Shape shape = out.shape();
  std::array<Strides, 4> st{c.strides(), x.strides(), y.strides(), out.strides()};
  collapse_dims(shape, st);
  for_each_row<4>(shape, st, true, [&](const std::array<int64_t, 4>& off, int64_t n, const std::array<int64_t, 4>& s) {
    select_row(pc + off[0], s[0], px + off[1], s[1], py + off[2], s[2], po + off[3], n);
  });
}

}  // namespace

void Select::eval_cpu(const std::vector<array>& in, array& out) {
  switch (out.itemsize()) {
    case 1: return select_apply<uint8_t>(in[0], in[1], in[2], out);
    case 2: return select_apply<uint16_t>(in[0], in[1], in[2], out);
    case 4: return select_apply<uint32_t>(in[0], in[1], in[2], out);
    case 8: return select_apply<uint64_t>(in[0], in[1], in[2], out);
    default: throw std::invalid_argument(std::string("[Select] no CPU kernel for ") + dtype_name(out.dtype()));
  }
}

}  // namespace uma
