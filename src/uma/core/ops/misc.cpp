#include "uma/core/ops/misc.h"

#include "uma/core/ops.h"
#include "uma/core/utils.h"

namespace uma {

array kron(const array& a, const array& b, StreamOrDevice s) {
  size_t n = std::max(a.ndim(), b.ndim());
  Shape as(n - a.ndim(), 1), bs(n - b.ndim(), 1);
  as.insert(as.end(), a.shape().begin(), a.shape().end());
  bs.insert(bs.end(), b.shape().begin(), b.shape().end());
  Shape ai, bi, out;
  for (size_t i = 0; i < n; ++i) {
    ai.push_back(as[i]);
    ai.push_back(1);
    bi.push_back(1);
    bi.push_back(bs[i]);
    out.push_back(as[i] * bs[i]);
  }
  return reshape(multiply(reshape(a, ai, s), reshape(b, bi, s), s), out, s);
}

array number_of_elements(const array& a, std::vector<int> axes, bool inverted, Dtype dtype, StreamOrDevice s) {
  auto ax = normalize_axes(axes, int(a.ndim()), "number_of_elements");
  double n = 1;
  for (int i : ax) n *= double(a.shape(i));
  if (inverted) {
    if (n == 0) throw std::invalid_argument("[number_of_elements] cannot invert a zero count");
    n = 1.0 / n;
  }
  return astype(array(n), dtype, s);
}

}  // namespace uma
