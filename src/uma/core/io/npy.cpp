#include "uma/core/io/npy.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "uma/core/io/array_bytes.h"
#include "uma/core/io/file.h"
#include "uma/core/ops/shape.h"

namespace uma {

static_assert(std::endian::native == std::endian::little, ".npy I/O assumes a little-endian host");

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMaxHeader = 1 << 20;  // numpy itself refuses more than 10 kB by default

[[noreturn]] void bad(const std::string& what, const std::string& msg) {
  throw std::invalid_argument(what + ": " + msg);
}

struct Header {
  std::string descr;
  bool fortran = false;
  Shape shape;
};

// The header is a Python dict literal: {'descr': '<f4', 'fortran_order':
// False, 'shape': (2, 3), }. This parses exactly that subset.
class Parser {
 public:
  Parser(std::string_view s, const std::string& what) : s_(s), what_(what) {}

  Header parse() {
    Header h;
    bool seen[3] = {false, false, false};
    expect('{');
    while (!peek('}')) {
      std::string key = string();
      expect(':');
      if (key == "descr") {
        if (peek('[')) bad(what_, "structured dtypes (descr " + rest() + ") are not supported");
        h.descr = string();
        seen[0] = true;
      } else if (key == "fortran_order") {
        h.fortran = boolean();
        seen[1] = true;
      } else if (key == "shape") {
        h.shape = tuple();
        seen[2] = true;
      } else {
        bad(what_, "unexpected header key '" + key + "'");
      }
      if (!peek('}')) expect(',');
    }
    expect('}');
    if (!seen[0] || !seen[1] || !seen[2]) bad(what_, "header lacks 'descr', 'fortran_order' or 'shape'");
    return h;
  }

 private:
  void skip() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool peek(char c) {
    skip();
    return i_ < s_.size() && s_[i_] == c;
  }
  void expect(char c) {
    if (!peek(c)) bad(what_, std::string("malformed header: expected '") + c + "' at " + rest());
    ++i_;
  }
  std::string rest() const {
    std::string r(1, '\'');
    r.append(s_.substr(std::min(i_, s_.size()), 40));
    r.push_back('\'');
    return r;
  }
  std::string string() {
    skip();
    if (i_ >= s_.size() || (s_[i_] != '\'' && s_[i_] != '"')) bad(what_, "malformed header: expected a string at " + rest());
    char q = s_[i_++];
    size_t end = s_.find(q, i_);
    if (end == std::string_view::npos) bad(what_, "malformed header: unterminated string");
    std::string out(s_.substr(i_, end - i_));
    i_ = end + 1;
    return out;
  }
  bool boolean() {
    skip();
    if (s_.substr(i_, 4) == "True") {
      i_ += 4;
      return true;
    }
    if (s_.substr(i_, 5) == "False") {
      i_ += 5;
      return false;
    }
    bad(what_, "malformed header: expected True or False at " + rest());
  }
  Shape tuple() {
    Shape out;
    expect('(');
    while (!peek(')')) {
      skip();
      uint64_t v = 0;
      size_t start = i_;
      while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') {
        v = v * 10 + uint64_t(s_[i_++] - '0');
        if (v > uint64_t(INT32_MAX)) bad(what_, "shape dimension too large at " + rest());
      }
      if (i_ == start) bad(what_, "malformed shape at " + rest());
      if (i_ < s_.size() && s_[i_] == 'L') ++i_;  // Python 2 longs
      out.push_back(int32_t(v));
      if (!peek(')')) expect(',');
    }
    expect(')');
    return out;
  }

  std::string_view s_;
  size_t i_ = 0;
  const std::string& what_;
};

struct Descr {
  Dtype dtype;
  bool swap;          // big-endian data
  size_t swap_unit;   // bytes reversed together (4 for each half of c8)
};

Descr parse_descr(const std::string& d, const std::string& what) {
  std::string_view s = d;
  char order = '|';
  if (!s.empty() && (s[0] == '<' || s[0] == '>' || s[0] == '|' || s[0] == '=')) {
    order = s[0];
    s.remove_prefix(1);
  }
  static const std::pair<const char*, Dtype> table[] = {
      {"b1", bool_},   {"u1", uint8},   {"i1", int8},    {"u2", uint16},    {"i2", int16},
      {"u4", uint32},  {"i4", int32},   {"u8", uint64},  {"i8", int64},     {"f2", float16},
      {"f4", float32}, {"f8", float64}, {"c8", complex64}, {"V2", bfloat16},
  };
  for (auto& [name, t] : table) {
    if (s == name) {
      size_t item = size_of(t);
      bool swap = order == '>' && item > 1;
      return {t, swap, t == complex64 ? 4 : item};
    }
  }
  bad(what, "unsupported dtype descr '" + d + "'");
}

void byteswap(uint8_t* p, size_t nbytes, size_t unit) {
  for (size_t i = 0; i + unit <= nbytes; i += unit) std::reverse(p + i, p + i + unit);
}

std::string shape_repr(const Shape& s) {
  std::string r = "(";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  if (s.size() == 1) r += ",";
  return r + ")";
}

const char* descr_of(Dtype t) {
  switch (t) {
    case Dtype::bool_: return "|b1";
    case Dtype::uint8: return "|u1";
    case Dtype::int8: return "|i1";
    case Dtype::uint16: return "<u2";
    case Dtype::int16: return "<i2";
    case Dtype::uint32: return "<u4";
    case Dtype::int32: return "<i4";
    case Dtype::uint64: return "<u8";
    case Dtype::int64: return "<i8";
    case Dtype::float16: return "<f2";
    case Dtype::bfloat16: return "<V2";  // MLX's convention; numpy sees void2
    case Dtype::float32: return "<f4";
    case Dtype::float64: return "<f8";
    case Dtype::complex64: return "<c8";
  }
  return "";
}

}  // namespace

namespace io {

array npy_from_bytes(const uint8_t* data, size_t size, const std::string& what, std::shared_ptr<const void> keep) {
  if (size < 10 || std::memcmp(data, kMagic, 6) != 0) bad(what, "not a .npy file (bad magic)");
  uint8_t major = data[6];
  size_t prefix, hlen;
  if (major == 1) {
    prefix = 10;
    hlen = size_t(data[8]) | (size_t(data[9]) << 8);
  } else if (major == 2 || major == 3) {
    if (size < 12) bad(what, "truncated header");
    prefix = 12;
    hlen = size_t(data[8]) | (size_t(data[9]) << 8) | (size_t(data[10]) << 16) | (size_t(data[11]) << 24);
  } else {
    bad(what, "unsupported format version " + std::to_string(major) + "." + std::to_string(data[7]));
  }
  if (hlen > kMaxHeader) bad(what, "header length " + std::to_string(hlen) + " is too large");
  if (hlen > size - prefix) bad(what, "header length " + std::to_string(hlen) + " runs past the end: truncated?");
  std::string_view text(reinterpret_cast<const char*>(data + prefix), hlen);
  Header h = Parser(text, what).parse();
  Descr d = parse_descr(h.descr, what);

  uint64_t numel = 1, nbytes;
  for (auto dim : h.shape) {
    if (mul_overflows(numel, uint64_t(dim), &numel)) bad(what, "shape " + shape_repr(h.shape) + " is too large");
  }
  if (mul_overflows(numel, size_of(d.dtype), &nbytes)) bad(what, "shape " + shape_repr(h.shape) + " is too large");
  size_t start = prefix + hlen;
  if (nbytes > size - start) {
    bad(what, "data of shape " + shape_repr(h.shape) + " and dtype " + h.descr + " needs " + std::to_string(nbytes) +
                  " bytes, only " + std::to_string(size - start) + " present: truncated?");
  }
  // Fortran order: the bytes are the C-order array of the reversed shape.
  Shape stored = h.shape;
  bool fortran = h.fortran && h.shape.size() > 1;
  if (fortran) std::reverse(stored.begin(), stored.end());
  array out = d.swap ? copy_bytes(data + start, stored, d.dtype) : wrap_or_copy(data + start, stored, d.dtype, keep);
  if (d.swap) byteswap(static_cast<uint8_t*>(out.raw_ptr()), nbytes, d.swap_unit);
  return fortran ? transpose(out) : out;
}

std::string npy_header(const Shape& shape, Dtype dtype) {
  std::string dict = std::string("{'descr': '") + descr_of(dtype) + "', 'fortran_order': False, 'shape': " +
                     shape_repr(shape) + ", }";
  // numpy leaves room to grow the first axis in place.
  if (!shape.empty()) dict.append(21 - std::to_string(shape[0]).size(), ' ');
  size_t hlen = dict.size() + 1;
  int version = hlen + 64 - (10 + hlen) % 64 <= 0xffff ? 1 : 2;
  size_t prefix = version == 1 ? 10 : 12;
  size_t pad = 64 - (prefix + hlen) % 64;
  size_t total = hlen + pad;
  std::string out(kMagic, 6);
  out.push_back(char(version));
  out.push_back(0);
  for (size_t i = 0; i < prefix - 8; ++i) out.push_back(char((total >> (8 * i)) & 0xff));
  out += dict;
  out.append(pad, ' ');
  out.push_back('\n');
  return out;
}

}  // namespace io

array load_npy(const std::string& path) {
  auto file = io::MappedFile::open(path, "load_npy");
  return io::npy_from_bytes(file->data(), file->size(), "[load_npy] " + path, file);
}

void save_npy(const std::string& path, const array& a) {
  array x = io::row_major(a);
  std::string header = io::npy_header(x.shape(), x.dtype());
  io::AtomicWriter w(path, "save_npy");
  w.write(header.data(), header.size());
  if (x.nbytes()) w.write(x.raw_ptr(), x.nbytes());
  w.commit();
}

array load(const std::string& path) { return load_npy(path); }

void save(std::string path, const array& a) {
  if (path.size() < 4 || path.compare(path.size() - 4, 4, ".npy") != 0) path += ".npy";
  save_npy(path, a);
}

}  // namespace uma
