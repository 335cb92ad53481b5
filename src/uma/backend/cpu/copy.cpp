#include "uma/backend/cpu/copy.h"

#include <cstring>

#include "uma/backend/cpu/strided.h"

namespace uma::cpu {

namespace {

template <typename From, typename To>
void convert_row(const From* s, int64_t ss, To* d, int64_t ds, int64_t n) {
  if (ss == 1 && ds == 1) {
    for (int64_t i = 0; i < n; ++i) d[i] = convert<To>(s[i]);
  } else {
    for (int64_t i = 0; i < n; ++i) d[i * ds] = convert<To>(s[i * ss]);
  }
}

void copy_general(const void* src, Dtype st, void* dst, Dtype dt, Shape shape, Strides sstr, Strides dstr) {
  std::array<Strides, 2> strides{std::move(sstr), std::move(dstr)};
  collapse_dims(shape, strides);
  size_t ssz = size_of(st), dsz = size_of(dt);
  if (st == dt && strides[0].back() == 1 && strides[1].back() == 1) {
    for_each_row<2>(shape, strides, true, [&](const std::array<int64_t, 2>& off, int64_t n, auto&) {
      std::memcpy(static_cast<char*>(dst) + off[1] * dsz, static_cast<const char*>(src) + off[0] * ssz, n * ssz);
    });
    return;
  }
  dispatch_all(st, [&](auto ftag) {
    using From = typename decltype(ftag)::type;
    dispatch_all(dt, [&](auto ttag) {
      using To = typename decltype(ttag)::type;
      const From* s = static_cast<const From*>(src);
      To* d = static_cast<To*>(dst);
      for_each_row<2>(shape, strides, true, [&](const std::array<int64_t, 2>& off, int64_t n,
                                                const std::array<int64_t, 2>& inner) {
        convert_row(s + off[0], inner[0], d + off[1], inner[1], n);
      });
    });
  });
}

}  // namespace

void copy_to_new(const array& src, array& dst) {
  dst.set_data(allocator::malloc(dst.nbytes()));
  if (dst.size() == 0) return;
  if (src.flags().row_contiguous && src.dtype() == dst.dtype()) {
    const char* s = static_cast<const char*>(src.raw_ptr());
    char* d = static_cast<char*>(dst.raw_ptr());
    size_t bytes = dst.nbytes();
    parallel_for(bytes, size_t(1) << 20, [&](size_t b, size_t e) { std::memcpy(d + b, s + b, e - b); });
    return;
  }
  copy_general(src.raw_ptr(), src.dtype(), dst.raw_ptr(), dst.dtype(), src.shape(), src.strides(),
               detail::row_strides(src.shape()));
}

void copy_strided(const array& src, const Shape& shape, const Strides& src_strides, int64_t src_offset, array& dst,
                  const Strides& dst_strides, int64_t dst_offset) {
  size_t n = 1;
  for (auto d : shape) n *= size_t(d);
  if (n == 0) return;
  const char* s = static_cast<const char*>(src.raw_ptr()) + src_offset * int64_t(src.itemsize());
  char* d = static_cast<char*>(dst.raw_ptr()) + dst_offset * int64_t(dst.itemsize());
  copy_general(s, src.dtype(), d, dst.dtype(), shape, src_strides, dst_strides);
}

void fill(const array& scalar, array& dst) {
  if (dst.size() == 0) return;
  Shape shape = dst.shape();
  copy_general(scalar.raw_ptr(), scalar.dtype(), dst.raw_ptr(), dst.dtype(), shape, Strides(shape.size(), 0),
               detail::row_strides(shape));
}

}  // namespace uma::cpu

namespace uma::detail {

void read_elements(const array& a, void* dst, Dtype dst_dtype) {
  if (a.size() == 0) return;
  Shape shape = a.shape();
  Strides st = a.strides();
  if (shape.empty()) {
    shape = {1};
    st = {0};
  }
  array out(dst, a.shape(), dst_dtype, [](void*) {});  // caller owns dst
  cpu::copy_strided(a, shape, st, 0, out, row_strides(shape), 0);
}

}  // namespace uma::detail
