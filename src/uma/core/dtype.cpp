#include "uma/core/dtype.h"

#include <array>
#include <stdexcept>

namespace uma {

namespace {
struct DtypeInfo {
  const char* name;
  size_t size;
  DtypeKind kind;
};
constexpr std::array<DtypeInfo, num_dtypes> kInfo = {{
    {"bool", 1, DtypeKind::boolean},
    {"uint8", 1, DtypeKind::unsigned_int},
    {"uint16", 2, DtypeKind::unsigned_int},
    {"uint32", 4, DtypeKind::unsigned_int},
    {"uint64", 8, DtypeKind::unsigned_int},
    {"int8", 1, DtypeKind::signed_int},
    {"int16", 2, DtypeKind::signed_int},
    {"int32", 4, DtypeKind::signed_int},
    {"int64", 8, DtypeKind::signed_int},
    {"float16", 2, DtypeKind::floating},
    {"bfloat16", 2, DtypeKind::floating},
    {"float32", 4, DtypeKind::floating},
    {"float64", 8, DtypeKind::floating},
    {"complex64", 8, DtypeKind::complex},
}};

// MLX's promotion table (mlx/dtype.cpp), rows and columns in Dtype order.
#define b bool_
#define u1 uint8
#define u2 uint16
#define u4 uint32
#define u8 uint64
#define i1 int8
#define i2 int16
#define i4 int32
#define i8 int64
#define f2 float16
#define bf bfloat16
#define f4 float32
#define f8 float64
#define c8 complex64
constexpr Dtype kPromote[num_dtypes][num_dtypes] = {
    // b   u1  u2  u4  u8  i1  i2  i4  i8  f2  bf  f4  f8  c8
    {b, u1, u2, u4, u8, i1, i2, i4, i8, f2, bf, f4, f8, c8},       // b
    {u1, u1, u2, u4, u8, i2, i2, i4, i8, f2, bf, f4, f8, c8},      // u1
    {u2, u2, u2, u4, u8, i4, i4, i4, i8, f2, bf, f4, f8, c8},      // u2
    {u4, u4, u4, u4, u8, i8, i8, i8, i8, f2, bf, f4, f8, c8},      // u4
    {u8, u8, u8, u8, u8, f4, f4, f4, f4, f2, bf, f4, f8, c8},      // u8
    {i1, i2, i4, i8, f4, i1, i2, i4, i8, f2, bf, f4, f8, c8},      // i1
    {i2, i2, i4, i8, f4, i2, i2, i4, i8, f2, bf, f4, f8, c8},      // i2
    {i4, i4, i4, i8, f4, i4, i4, i4, i8, f2, bf, f4, f8, c8},      // i4
    {i8, i8, i8, i8, f4, i8, i8, i8, i8, f2, bf, f4, f8, c8},      // i8
    {f2, f2, f2, f2, f2, f2, f2, f2, f2, f2, f4, f4, f8, c8},      // f2
    {bf, bf, bf, bf, bf, bf, bf, bf, bf, f4, bf, f4, f8, c8},      // bf
    {f4, f4, f4, f4, f4, f4, f4, f4, f4, f4, f4, f4, f8, c8},      // f4
    {f8, f8, f8, f8, f8, f8, f8, f8, f8, f8, f8, f8, f8, c8},      // f8
    {c8, c8, c8, c8, c8, c8, c8, c8, c8, c8, c8, c8, c8, c8},      // c8
};
#undef b
#undef u1
#undef u2
#undef u4
#undef u8
#undef i1
#undef i2
#undef i4
#undef i8
#undef f2
#undef bf
#undef f4
#undef f8
#undef c8
}  // namespace

size_t size_of(Dtype t) { return kInfo[static_cast<int>(t)].size; }
const char* dtype_name(Dtype t) { return kInfo[static_cast<int>(t)].name; }
DtypeKind kind_of(Dtype t) { return kInfo[static_cast<int>(t)].kind; }

Dtype promote_types(Dtype a, Dtype b) {
  return kPromote[static_cast<int>(a)][static_cast<int>(b)];
}

Dtype dtype_from_string(const std::string& name) {
  for (int i = 0; i < num_dtypes; ++i) {
    if (name == kInfo[i].name) return static_cast<Dtype>(i);
  }
  if (name == "bool_") return bool_;
  if (name == "half") return float16;
  if (name == "float") return float32;
  if (name == "double") return float64;
  throw std::invalid_argument("[dtype] unknown dtype '" + name + "'");
}

std::ostream& operator<<(std::ostream& os, Dtype t) { return os << dtype_name(t); }

}  // namespace uma
