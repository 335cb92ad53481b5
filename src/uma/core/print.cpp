// NumPy-like printing: array([[1, 2],
//                             [3, 4]], dtype=int32)
#include <cmath>
#include <iomanip>
#include <sstream>

#include "uma/core/array.h"

namespace uma {

namespace {

std::string format_value(double v, bool is_float) {
  std::ostringstream os;
  if (!is_float) {
    os << static_cast<long long>(v);
    return os.str();
  }
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  os << std::setprecision(6) << v;
  std::string s = os.str();
  if (s.find_first_of(".e") == std::string::npos) s += ".";
  return s;
}

void print_rec(std::ostream& os, const std::vector<std::string>& items, const Shape& shape, size_t dim,
               size_t& pos, int indent) {
  if (dim == shape.size()) {
    os << items[pos++];
    return;
  }
  os << "[";
  for (int i = 0; i < shape[dim]; ++i) {
    if (i) {
      os << ",";
      if (dim + 1 == shape.size()) {
        os << " ";
      } else {
        os << std::string(shape.size() - dim - 1, '\n') << std::string(indent + dim + 1, ' ');
      }
    }
    print_rec(os, items, shape, dim + 1, pos, indent);
  }
  os << "]";
}

}  // namespace

std::ostream& operator<<(std::ostream& os, const array& arr) {
  array a = arr;
  a.eval();
  std::vector<std::string> items;
  items.reserve(a.size());
  if (a.dtype() == complex64) {
    auto v = a.to_vector<complex64_t>();
    for (auto& c : v) {
      items.push_back(format_value(c.real(), true) + (c.imag() < 0 ? "-" : "+") +
                      format_value(std::abs(c.imag()), true) + "j");
    }
  } else if (a.dtype() == bool_) {
    auto v = a.to_vector<bool>();
    for (bool b : v) items.push_back(b ? "true" : "false");
  } else if (a.dtype() == uint64 || a.dtype() == int64) {
    auto v = a.to_vector<int64_t>();
    for (auto x : v) items.push_back(a.dtype() == uint64 ? std::to_string(uint64_t(x)) : std::to_string(x));
  } else {
    auto v = a.to_vector<double>();
    bool f = is_floating_point(a.dtype());
    for (double x : v) items.push_back(format_value(x, f));
  }
  size_t width = 0;
  for (auto& s : items) width = std::max(width, s.size());
  for (auto& s : items) s = std::string(width - s.size(), ' ') + s;
  os << "array(";
  size_t pos = 0;
  if (a.ndim() == 0) {
    os << (items.empty() ? "" : items[0]);
  } else {
    print_rec(os, items, a.shape(), 0, pos, 6);
  }
  os << ", dtype=" << dtype_name(a.dtype()) << ")";
  return os;
}

}  // namespace uma
