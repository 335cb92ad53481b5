// GPU kernel of Select (where): out = condition ? x : y. The ops broadcast all
// three to one shape; condition is bool, x and y share out's dtype. Values
// are selected as bytes of their size (no conversion), as the CPU does.
#include "uma/backend/cuda/elementwise.cuh"
#include "uma/core/primitives/elementwise.h"

namespace uma::cuda::ew {
namespace {

// c, x, y: strides 0 or 1 (linear_stride).
template <typename T>
__global__ void select_linear(const bool* c, int64_t sc, const T* x, int64_t sx, const T* y, int64_t sy, T* out,
                              int64_t n) {
  UMA_EW_LOOP(i, n) { out[i] = c[i * sc] ? x[i * sx] : y[i * sy]; }
}

template <typename T>
__global__ void select_general(const bool* c, const T* x, const T* y, T* out, int64_t n, Strided<3> layout) {
  UMA_EW_LOOP(i, n) {
    int64_t off[3];
    layout.offsets(i, off);
    out[i] = c[off[0]] ? x[off[1]] : y[off[2]];
  }
}

template <typename T>
void select_launch(const array& c, const array& x, const array& y, array& out, const Stream& s) {
  T* po = static_cast<T*>(out_ptr(out, s));
  int64_t n = int64_t(out.size());
  if (n == 0) return;
  const bool* pc = in<bool>(c, s);
  const T* px = in<T>(x, s);
  const T* py = in<T>(y, s);
  cudaStream_t cs = stream(s);
  int64_t sc = linear_stride(c), sx = linear_stride(x), sy = linear_stride(y);
  if (sc >= 0 && sx >= 0 && sy >= 0) {
    select_linear<<<grid_for(n), kThreads, 0, cs>>>(pc, sc, px, sx, py, sy, po, n);
  } else {
    auto layout = make_strided<3>(out.shape(), {c.strides(), x.strides(), y.strides()}, "Select");
    select_general<<<grid_for(n), kThreads, 0, cs>>>(pc, px, py, po, n, layout);
  }
  UMA_CUDA_LAUNCHED("Select");
}

}  // namespace
}  // namespace uma::cuda::ew

namespace uma {

void Select::eval_gpu(const std::vector<array>& in, array& out) {
  namespace ew = cuda::ew;
  switch (out.itemsize()) {
    case 1: return ew::select_launch<uint8_t>(in[0], in[1], in[2], out, stream());
    case 2: return ew::select_launch<uint16_t>(in[0], in[1], in[2], out, stream());
    case 4: return ew::select_launch<uint32_t>(in[0], in[1], in[2], out, stream());
    case 8: return ew::select_launch<uint64_t>(in[0], in[1], in[2], out, stream());
    default: throw std::invalid_argument(std::string("[Select] no GPU kernel for ") + dtype_name(out.dtype()));
  }
}

}  // namespace uma
