// einsum: parses NumPy's subscripts and lowers them to views and matmuls.
// Operands contract left to right; each pairwise contraction becomes one
// batched matmul (batch = labels both keep, K = labels both drop). Repeated
// labels in one operand take a diagonal (a strided view); a label only one
// operand has and the result drops is summed by a product with ones.
#include <algorithm>
#include <cctype>
#include <map>
#include <numeric>
#include <stdexcept>

#include "uma/core/ops/creation.h"
#include "uma/core/ops/linalg.h"
#include "uma/core/ops/shape.h"
#include "uma/core/utils.h"

namespace uma {

namespace {

// Letters label themselves; the dims under "..." get labels 256 + i, counted
// so that they align from the right across operands.
using Labels = std::vector<int>;
constexpr int kEllipsisBase = 256;

[[noreturn]] void fail(const std::string& msg) { throw std::invalid_argument("[einsum] " + msg); }

struct Term {
  std::vector<int> letters;  // -1 marks the ellipsis
  bool ellipsis = false;
};

Term parse_term(const std::string& t, const std::string& all) {
  Term term;
  for (size_t i = 0; i < t.size(); ++i) {
    char ch = t[i];
    if (ch == '.') {
      if (t.compare(i, 3, "...") != 0 || term.ellipsis) fail("bad ellipsis in subscripts '" + all + "'");
      term.ellipsis = true;
      term.letters.push_back(-1);
      i += 2;
    } else if (std::isalpha(static_cast<unsigned char>(ch))) {
      term.letters.push_back(ch);
    } else {
      fail(std::string("invalid character '") + ch + "' in subscripts '" + all + "'");
    }
  }
  return term;
}

Labels expand(const Term& t, int ndim, int max_ell, const std::string& all, size_t which) {
  int named = int(t.letters.size()) - (t.ellipsis ? 1 : 0);
  int ell = ndim - named;
  if (ell < 0 || (!t.ellipsis && ell != 0)) {
    fail("operand " + std::to_string(which) + " has " + std::to_string(ndim) + " dimensions but subscripts '" + all +
         "' give it " + std::to_string(named));
  }
  Labels out;
  for (int l : t.letters) {
    if (l >= 0) {
      out.push_back(l);
    } else {
      for (int i = 0; i < ell; ++i) out.push_back(kEllipsisBase + max_ell - ell + i);
    }
  }
  return out;
}

// A value being contracted: the array and the label of each of its dims.
struct Operand {
  array x;
  Labels labels;
};

// Takes the diagonal over labels repeated within one operand.
Operand diagonalize(Operand op) {
  Labels uniq;
  for (int l : op.labels) {
    if (std::find(uniq.begin(), uniq.end(), l) == uniq.end()) uniq.push_back(l);
  }
  if (uniq.size() == op.labels.size()) return op;
  Strides rs = detail::row_strides(op.x.shape());
  Shape shape;
  Strides strides;
  for (int l : uniq) {
    int32_t size = -1;
    int64_t st = 0;
    for (size_t d = 0; d < op.labels.size(); ++d) {
      if (op.labels[d] != l) continue;
      if (size >= 0 && op.x.shape(int(d)) != size) {
        fail("repeated index '" + std::string(1, char(l)) + "' spans dimensions of sizes " + std::to_string(size) +
             " and " + std::to_string(op.x.shape(int(d))));
      }
      size = op.x.shape(int(d));
      st += rs[d];
    }
    shape.push_back(size);
    strides.push_back(st);
  }
  return {as_strided(op.x, shape, strides, 0), uniq};
}

// Sums the dims whose labels are not in `keep`, as a product with ones.
Operand sum_out(Operand op, const std::vector<int>& keep) {
  std::vector<int> kept_axes, gone_axes;
  Labels kept;
  Shape kept_shape;
  int64_t gone = 1;
  for (size_t d = 0; d < op.labels.size(); ++d) {
    if (std::find(keep.begin(), keep.end(), op.labels[d]) != keep.end()) {
      kept_axes.push_back(int(d));
      kept.push_back(op.labels[d]);
      kept_shape.push_back(op.x.shape(int(d)));
    } else {
      gone_axes.push_back(int(d));
      gone *= op.x.shape(int(d));
    }
  }
  if (gone_axes.empty()) return op;
  std::vector<int> perm = kept_axes;
  perm.insert(perm.end(), gone_axes.begin(), gone_axes.end());
  Shape flat = kept_shape;
  flat.push_back(int32_t(gone));
  array y = reshape(transpose(op.x, perm), flat);
  array summed = matmul(y, ones({int32_t(gone)}, y.dtype()));  // (..., S) @ (S) -> (...)
  return {reshape(summed, kept_shape), kept};
}

bool contains(const Labels& v, int l) { return std::find(v.begin(), v.end(), l) != v.end(); }

// x and y -> one operand holding batch labels, x's own, then y's own.
Operand contract(Operand x, Operand y, const Labels& keep, const std::map<int, int32_t>& sizes) {
  Labels batch, contracted, xo, yo;
  for (int l : x.labels) {
    if (contains(y.labels, l)) {
      (contains(keep, l) ? batch : contracted).push_back(l);
    } else {
      xo.push_back(l);
    }
  }
  for (int l : y.labels) {
    if (!contains(x.labels, l)) yo.push_back(l);
  }
  auto arrange = [&](Operand& op, const std::vector<const Labels*>& groups) {
    std::vector<int> perm;
    Shape shape;
    for (auto* g : groups) {
      for (int l : *g) {
        int d = int(std::find(op.labels.begin(), op.labels.end(), l) - op.labels.begin());
        perm.push_back(d);
        // Dims of size 1 under "..." broadcast to the other operand's size.
        shape.push_back(g == &batch ? sizes.at(l) : op.x.shape(d));
      }
    }
    return broadcast_to(transpose(op.x, perm), shape);
  };
  array xa = arrange(x, {&batch, &xo, &contracted});
  array ya = arrange(y, {&batch, &contracted, &yo});
  auto prod = [&](const Labels& ls, const array& a, int from) {
    int64_t p = 1;
    for (size_t i = 0; i < ls.size(); ++i) p *= a.shape(from + int(i));
    return int32_t(p);
  };
  Shape bshape(xa.shape().begin(), xa.shape().begin() + batch.size());
  int32_t M = prod(xo, xa, int(batch.size())), K = prod(contracted, xa, int(batch.size() + xo.size()));
  int32_t N = prod(yo, ya, int(batch.size() + contracted.size()));
  for (size_t i = 0; i < contracted.size(); ++i) {
    if (xa.shape(int(batch.size() + xo.size() + i)) != ya.shape(int(batch.size() + i))) {
      fail("index '" + std::string(1, char(contracted[i])) + "' has different sizes in two operands");
    }
  }
  Shape s3 = bshape, t3 = bshape, out_shape = bshape;
  s3.insert(s3.end(), {M, K});
  t3.insert(t3.end(), {K, N});
  for (size_t i = 0; i < xo.size(); ++i) out_shape.push_back(xa.shape(int(batch.size() + i)));
  for (size_t i = 0; i < yo.size(); ++i) out_shape.push_back(ya.shape(int(batch.size() + contracted.size() + i)));
  array r = reshape(matmul(reshape(xa, s3), reshape(ya, t3)), out_shape);
  Labels labels = batch;
  labels.insert(labels.end(), xo.begin(), xo.end());
  labels.insert(labels.end(), yo.begin(), yo.end());
  return {r, labels};
}

}  // namespace

array einsum(const std::string& subscripts_in, const std::vector<array>& operands, StreamOrDevice s) {
  std::string sub;
  for (char ch : subscripts_in) {
    if (ch != ' ') sub.push_back(ch);
  }
  if (operands.empty()) fail("needs at least one operand");
  size_t arrow = sub.find("->");
  std::string lhs = sub.substr(0, arrow);
  std::vector<Term> terms;
  for (size_t start = 0;;) {
    size_t comma = lhs.find(',', start);
    terms.push_back(parse_term(lhs.substr(start, comma - start), subscripts_in));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (terms.size() != operands.size()) {
    fail("subscripts '" + subscripts_in + "' name " + std::to_string(terms.size()) + " operands but " +
         std::to_string(operands.size()) + " were given");
  }

  Dtype t = operands[0].dtype();
  for (auto& op : operands) t = promote_types(t, op.dtype());
  if (!is_inexact(t)) fail(std::string("only floating point and complex types multiply, got ") + dtype_name(t));

  int max_ell = 0;
  for (size_t i = 0; i < terms.size(); ++i) {
    int named = int(terms[i].letters.size()) - (terms[i].ellipsis ? 1 : 0);
    if (terms[i].ellipsis) max_ell = std::max(max_ell, int(operands[i].ndim()) - named);
  }
  std::vector<Operand> ops;
  std::map<int, int32_t> sizes;
  for (size_t i = 0; i < terms.size(); ++i) {
    Labels ls = expand(terms[i], int(operands[i].ndim()), max_ell, subscripts_in, i);
    for (size_t d = 0; d < ls.size(); ++d) {
      int32_t n = operands[i].shape(int(d));
      auto it = sizes.find(ls[d]);
      if (it == sizes.end() || it->second == 1) {
        sizes[ls[d]] = n;
      } else if (n != it->second && !(n == 1 && ls[d] >= kEllipsisBase)) {
        fail("index '" + std::string(1, char(ls[d])) + "' has sizes " + std::to_string(it->second) + " and " +
             std::to_string(n) + " in subscripts '" + subscripts_in + "'");
      }
    }
    ops.push_back(diagonalize({astype(operands[i], t, s), ls}));
  }

  // Output labels: explicit, or "..." then letters seen once, sorted.
  Labels out;
  if (arrow != std::string::npos) {
    Term ot = parse_term(sub.substr(arrow + 2), subscripts_in);
    for (int l : ot.letters) {
      if (l >= 0 && sizes.find(l) == sizes.end()) fail("output index '" + std::string(1, char(l)) + "' is in no input");
      if (l >= 0 && contains(out, l)) fail("output index '" + std::string(1, char(l)) + "' repeats");
      if (l < 0) {
        for (int i = 0; i < max_ell; ++i) out.push_back(kEllipsisBase + i);
      } else {
        out.push_back(l);
      }
    }
    if (!ot.ellipsis && max_ell > 0) fail("inputs use '...' but the output '" + sub.substr(arrow + 2) + "' does not");
  } else {
    std::map<int, int> seen;
    for (size_t i = 0; i < terms.size(); ++i) {
      for (int l : terms[i].letters) {
        if (l >= 0) ++seen[l];
      }
    }
    for (int i = 0; i < max_ell; ++i) out.push_back(kEllipsisBase + i);
    for (auto& [l, n] : seen) {
      if (n == 1) out.push_back(l);
    }
  }

  // Labels still needed by the output or by an operand not yet merged.
  auto needed = [&](size_t from) {
    Labels keep = out;
    for (size_t j = from; j < ops.size(); ++j) keep.insert(keep.end(), ops[j].labels.begin(), ops[j].labels.end());
    return keep;
  };
  Operand acc = sum_out(ops[0], needed(1));
  for (size_t i = 1; i < ops.size(); ++i) {
    Labels keep = needed(i + 1);
    Labels keep_y = keep;
    keep_y.insert(keep_y.end(), acc.labels.begin(), acc.labels.end());
    Operand y = sum_out(ops[i], keep_y);
    Labels keep_x = keep;
    keep_x.insert(keep_x.end(), y.labels.begin(), y.labels.end());
    acc = contract(sum_out(acc, keep_x), y, keep, sizes);
  }
  acc = sum_out(acc, out);

  std::vector<int> perm;
  Shape final_shape;
  for (int l : out) {
    perm.push_back(int(std::find(acc.labels.begin(), acc.labels.end(), l) - acc.labels.begin()));
    final_shape.push_back(sizes.at(l));
  }
  return broadcast_to(transpose(acc.x, perm, s), final_shape, s);
}

}  // namespace uma
