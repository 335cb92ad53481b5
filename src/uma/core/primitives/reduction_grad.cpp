// Gradient rules of the reduction family, written with ops so that they
// differentiate again. Conventions where the derivative is not unique:
//   - max/min (Reduce) split the cotangent equally among the elements equal
//     to the extreme (MLX's rule); the jvp is the matching average, so jvp
//     and vjp stay adjoint at ties too.
//   - cummax/cummin route each position's cotangent to the element holding
//     the running extreme there, the latest in scan order among ties (MLX).
//   - prod and cumprod never divide by an element that is zero: the product
//     of the others comes from exclusive scans (prod) or from the scan with
//     the first zero set to one (cumprod).
// Integer outputs (all, any, argmax, argmin) have zero derivatives.
#include <limits>
#include <numeric>

#include "uma/core/ops/creation.h"
#include "uma/core/ops/elementwise.h"
#include "uma/core/ops/indexing.h"
#include "uma/core/ops/manipulation.h"
#include "uma/core/ops/reduction.h"
#include "uma/core/ops/shape.h"
#include "uma/core/primitives/reduction.h"

namespace uma {

namespace {

array conj_if_complex(const array& a, Stream s) { return is_complex(a.dtype()) ? conjugate(a, s) : a; }

array neg_inf(Dtype t) { return array(-std::numeric_limits<double>::infinity(), t); }

// For each output element of prod over `axes` (sorted), the product of the
// other elements of its group, shaped like x. Two exclusive cumprods over
// the axes merged last, so that zeros need no division.
array product_of_others(const array& x, const std::vector<int>& axes, Stream s) {
  if (axes.size() == 1) {
    return multiply(cumprod(x, axes[0], false, false, s), cumprod(x, axes[0], true, false, s), s);
  }
  std::vector<int> perm;
  Shape merged;
  for (int d = 0, j = 0; d < int(x.ndim()); ++d) {
    if (j < int(axes.size()) && axes[j] == d) {
      ++j;
    } else {
      perm.push_back(d);
      merged.push_back(x.shape(d));
    }
  }
  int32_t n = 1;
  for (int a : axes) n *= x.shape(a);
  perm.insert(perm.end(), axes.begin(), axes.end());
  merged.push_back(n);
  array t = transpose(x, perm, s);
  Shape moved = t.shape();
  array f = reshape(t, merged, s);
  array e = multiply(cumprod(f, -1, false, false, s), cumprod(f, -1, true, false, s), s);
  std::vector<int> inverse(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) inverse[perm[i]] = int(i);
  return transpose(reshape(e, moved, s), inverse, s);
}

}  // namespace

// ------------------------------------------------------------ Reduce
// The output keeps the reduced axes with size 1, so cotangents broadcast
// against the input as they are.

std::vector<array> Reduce::vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                               const std::vector<int>&, const std::vector<array>& outputs) {
  const array& x = primals[0];
  const array& cot = cotangents[0];
  Stream s = stream();
  switch (type_) {
    case Type::sum:
      return {astype(broadcast_to(cot, x.shape(), s), x.dtype(), s)};
    case Type::prod:
      return {astype(multiply(conj_if_complex(product_of_others(x, axes_, s), s), cot, s), x.dtype(), s)};
    case Type::max:
    case Type::min: {
      array mask = equal(x, outputs[0], s);
      array count = sum(mask, axes_, true, s);
      return {astype(multiply(divide(cot, count, s), mask, s), x.dtype(), s)};
    }
    case Type::all:
    case Type::any:
      break;
  }
  return {zeros_like(x, s)};
}

std::vector<array> Reduce::jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                               const std::vector<int>&) {
  const array& x = primals[0];
  const array& t = tangents[0];
  Stream s = stream();
  switch (type_) {
    case Type::sum:
      return {sum(t, axes_, true, s)};
    case Type::prod:
      return {sum(multiply(product_of_others(x, axes_, s), t, s), axes_, true, s)};
    case Type::max:
    case Type::min: {
      array out = type_ == Type::max ? max(x, axes_, true, s) : min(x, axes_, true, s);
      array mask = equal(x, out, s);
      return {divide(sum(multiply(t, mask, s), axes_, true, s), sum(mask, axes_, true, s), s)};
    }
    case Type::all:
    case Type::any:
      break;
  }
  return {zeros(output_shapes(primals)[0], bool_, s)};
}

// ------------------------------------------------------------ ArgReduce

std::vector<array> ArgReduce::vjp(const std::vector<array>& primals, const std::vector<array>&,
                                  const std::vector<int>&, const std::vector<array>&) {
  return {zeros_like(primals[0], stream())};
}

std::vector<array> ArgReduce::jvp(const std::vector<array>& primals, const std::vector<array>&,
                                  const std::vector<int>&) {
  return {zeros(output_shapes(primals)[0], uint32, stream())};
}

// ------------------------------------------------------------ Scan
// S = the scan's cumsum (same axis, direction and inclusiveness); its
// adjoint S^T is the cumsum in the other direction.

namespace {

struct ScanAxis {
  int axis;
  bool reverse, inclusive;
  Stream s;
  array sum(const array& a) const { return cumsum(a, axis, reverse, inclusive, s); }
  array sum_adjoint(const array& a) const { return cumsum(a, axis, !reverse, inclusive, s); }
};

// cumprod, zero-safe. With z0 the first zero in scan order, [z0] its
// indicator, xs = x with every zero set to one and C the scan of x with z0
// set to one:
//   dy = y * S(t * (1 - [z0]) / xs) + C * S(t * [z0])
// (before z0 no element is zero; from z0 on only z0's own term survives).
// The vjp is this map's adjoint. Each term equals the true derivative near x
// (z0's own term does not involve x[z0], the others divide only by nonzero
// elements), so derivatives of the rules are right too, except for the cross
// terms of a second zero in the same scan (they need one scan per zero).
struct CumprodParts {
  array first_zero, divisor, with_one;  // [z0] (bool), xs, C
};

CumprodParts cumprod_parts(const array& x, const ScanAxis& sc) {
  Stream s = sc.s;
  array one(1, x.dtype());
  array zero = equal(x, array(0, x.dtype()), s);
  array first = logical_and(zero, equal(cumsum(zero, sc.axis, sc.reverse, true, s), array(1, int32), s), s);
  array c = cumprod(where(first, one, x, s), sc.axis, sc.reverse, sc.inclusive, s);
  return {first, where(zero, one, x, s), c};
}

// The index along the axis of the element holding the running extreme `run`
// at each position (inclusive scan): the latest in scan order among equal
// ones; a NaN holds every position after it.
array extreme_owner(const array& x, const array& run, const ScanAxis& sc) {
  Stream s = sc.s;
  int n = x.shape(sc.axis);
  Shape ishape(x.ndim(), 1);
  ishape[sc.axis] = n;
  array iota = reshape(arange(0, n, 1, s), ishape, s);
  array holds = logical_or(equal(x, run, s), isnan(x, s), s);
  array marked = where(holds, iota, array(sc.reverse ? n : -1, int32), s);
  array owner = sc.reverse ? cummin(marked, sc.axis, true, true, s) : cummax(marked, sc.axis, false, true, s);
  return stop_gradient(owner, s);
}

// The positions [lo, hi) along the axis.
array window(const array& a, int axis, int lo, int hi, Stream s) {
  Shape start(a.ndim(), 0), stop = a.shape();
  start[axis] = lo;
  stop[axis] = hi;
  return slice(a, start, stop, s);
}

}  // namespace

std::vector<array> Scan::vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                             const std::vector<int>&, const std::vector<array>& outputs) {
  const array& x = primals[0];
  const array& cot = cotangents[0];
  const array& y = outputs[0];
  Stream s = stream();
  ScanAxis sc{axis_, reverse_, inclusive_, s};
  switch (type_) {
    case Type::sum:
      return {astype(sc.sum_adjoint(cot), x.dtype(), s)};
    case Type::prod: {
      auto [first, divisor, with_one] = cumprod_parts(x, sc);
      array others = divide(sc.sum_adjoint(multiply(cot, conj_if_complex(y, s), s)), conj_if_complex(divisor, s), s);
      array own = sc.sum_adjoint(multiply(cot, conj_if_complex(with_one, s), s));
      return {astype(where(first, own, others, s), x.dtype(), s)};
    }
    case Type::max:
    case Type::min: {
      int n = x.shape(axis_);
      if (!inclusive_ && n <= 1) return {zeros_like(x, s)};
      bool mx = type_ == Type::max;
      array run = inclusive_ ? y : (mx ? cummax(x, axis_, reverse_, true, s) : cummin(x, axis_, reverse_, true, s));
      array owner = extreme_owner(x, run, sc);
      array c = cot;
      if (!inclusive_) {
        // Exclusive position i shows the inclusive extreme of the one before.
        owner = reverse_ ? window(owner, axis_, 1, n, s) : window(owner, axis_, 0, n - 1, s);
        c = reverse_ ? window(cot, axis_, 0, n - 1, s) : window(cot, axis_, 1, n, s);
      }
      return {scatter_add_axis(zeros_like(x, s), owner, astype(c, x.dtype(), s), axis_, s)};
    }
    case Type::logaddexp: {
      // g_k = sum over the positions i that include k of c_i exp(x_k - y_i),
      // summed in log space for the positive and negative parts of c.
      array live = logical_not(isneginf(y, s), s);
      array a = subtract(log(abs(cot, s), s), y, s);
      auto part = [&](const array& sign) {
        array l = logcumsumexp(where(logical_and(sign, live, s), a, neg_inf(a.dtype()), s), axis_, !reverse_,
                               inclusive_, s);
        return exp(add(x, l, s), s);
      };
      array zero(0, cot.dtype());
      return {subtract(part(greater(cot, zero, s)), part(less(cot, zero, s)), s)};
    }
  }
  return {zeros_like(x, s)};
}

std::vector<array> Scan::jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                             const std::vector<int>&) {
  const array& x = primals[0];
  const array& t = tangents[0];
  Stream s = stream();
  ScanAxis sc{axis_, reverse_, inclusive_, s};
  switch (type_) {
    case Type::sum:
      return {sc.sum(t)};
    case Type::prod: {
      auto [first, divisor, with_one] = cumprod_parts(x, sc);
      array y = cumprod(x, axis_, reverse_, inclusive_, s);
      array zero(0, t.dtype());
      array others = multiply(y, sc.sum(divide(where(first, zero, t, s), divisor, s)), s);
      return {add(others, multiply(with_one, sc.sum(where(first, t, zero, s)), s), s)};
    }
    case Type::max:
    case Type::min: {
      int n = x.shape(axis_);
      if (!inclusive_ && n <= 1) return {zeros_like(t, s)};
      bool mx = type_ == Type::max;
      array run = mx ? cummax(x, axis_, reverse_, true, s) : cummin(x, axis_, reverse_, true, s);
      array picked = take_along_axis(t, extreme_owner(x, run, sc), axis_, s);
      if (inclusive_) return {picked};
      // Shift by one in scan order; the first position shows the identity.
      int lo = reverse_ ? 0 : 1, hi = reverse_ ? 1 : 0;
      array kept = reverse_ ? window(picked, axis_, 1, n, s) : window(picked, axis_, 0, n - 1, s);
      return {pad(kept, {axis_}, {lo}, {hi}, array(0, t.dtype()), "constant", s)};
    }
    case Type::logaddexp: {
      // dy_i = sum over the k that position i includes of t_k exp(x_k - y_i).
      array y = logcumsumexp(x, axis_, reverse_, inclusive_, s);
      array b = add(x, log(abs(t, s), s), s);
      auto part = [&](const array& sign) {
        array m = logcumsumexp(where(sign, b, neg_inf(b.dtype()), s), axis_, reverse_, inclusive_, s);
        return exp(where(isneginf(m, s), neg_inf(m.dtype()), subtract(m, y, s), s), s);
      };
      array zero(0, t.dtype());
      return {subtract(part(greater(t, zero, s)), part(less(t, zero, s)), s)};
    }
  }
  return {zeros_like(t, s)};
}

// ------------------------------------------------------------ Softmax, LogSumExp
// Over the last axis. With s = softmax(x): J^T c = s * (c - sum(c * s)), and
// J is symmetric, so the jvp is the same expression of t.

namespace {

array softmax_product(const array& sm, const array& v, Stream s) {
  array sv = multiply(sm, v, s);
  return subtract(sv, multiply(sm, sum(sv, std::vector<int>{-1}, true, s), s), s);
}

}  // namespace

std::vector<array> Softmax::vjp(const std::vector<array>&, const std::vector<array>& cotangents,
                                const std::vector<int>&, const std::vector<array>& outputs) {
  return {softmax_product(outputs[0], cotangents[0], stream())};
}

std::vector<array> Softmax::jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                                const std::vector<int>&) {
  array sm = softmax(primals[0], std::vector<int>{-1}, precise_, stream());
  return {softmax_product(sm, tangents[0], stream())};
}

// d logsumexp(x) = softmax(x) . dx; the vjp reads softmax off the output,
// exp(x - y) (y is kept with size 1 on the last axis and broadcasts).
std::vector<array> LogSumExp::vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                                  const std::vector<int>&, const std::vector<array>& outputs) {
  Stream s = stream();
  return {multiply(cotangents[0], exp(subtract(primals[0], outputs[0], s), s), s)};
}

std::vector<array> LogSumExp::jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                                  const std::vector<int>&) {
  Stream s = stream();
  array sm = softmax(primals[0], std::vector<int>{-1}, true, s);
  return {sum(multiply(sm, tangents[0], s), std::vector<int>{-1}, true, s)};
}

}  // namespace uma
