// The CPU evaluation of Compiled. Where the generated kernel can be had
// (backend/cpu/jit: C++ emitted for these steps and inputs, compiled by the
// system compiler and cached), it runs over ranges of the output with every
// intermediate in registers. Otherwise the interpreter below runs: the
// output is cut into tiles of kTile elements; per tile every step runs over
// float32 values held in L1 (float16/bfloat16 steps are rounded to their
// dtype after each step, so the results equal the unfused primitives'), and
// only the inputs are read and the outputs written in memory. Both use the
// unfused kernels' math: the same SIMD code for exp/log/tanh/sigmoid and the
// arithmetic, std:: for the rest.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "uma/backend/cpu/jit/cache.h"
#include "uma/backend/cpu/jit/codegen.h"
#include "uma/backend/cpu/row_major.h"
#include "uma/backend/cpu/simd/kernels.h"
#include "uma/backend/cpu/thread_pool.h"
#include "uma/core/primitives/compiled.h"

namespace uma {

namespace {

constexpr int64_t kTile = 512;

using cpu::simd::Mode;

template <typename F>
void each(const float* x, float* y, int64_t n, F f) {
  for (int64_t i = 0; i < n; ++i) y[i] = f(x[i]);
}

void unary(FusedOp op, const float* x, float* y, int64_t n) {
  const auto& k = cpu::simd::kernels();
  switch (op) {
    case FusedOp::Abs: return each(x, y, n, [](float v) { return std::abs(v); });
    case FusedOp::Negative: return each(x, y, n, [](float v) { return -v; });
    case FusedOp::Square: return each(x, y, n, [](float v) { return v * v; });
    case FusedOp::Sqrt: return each(x, y, n, [](float v) { return std::sqrt(v); });
    case FusedOp::Rsqrt: return each(x, y, n, [](float v) { return 1.f / std::sqrt(v); });
    case FusedOp::Exp: return k.exp[cpu::simd::f32](x, y, n);
    case FusedOp::Expm1: return each(x, y, n, [](float v) { return std::expm1(v); });
    case FusedOp::Log: return k.log[cpu::simd::f32](x, y, n);
    case FusedOp::Log1p: return each(x, y, n, [](float v) { return std::log1p(v); });
    case FusedOp::Log2: return each(x, y, n, [](float v) { return std::log2(v); });
    case FusedOp::Log10: return each(x, y, n, [](float v) { return std::log10(v); });
    case FusedOp::Sin: return each(x, y, n, [](float v) { return std::sin(v); });
    case FusedOp::Cos: return each(x, y, n, [](float v) { return std::cos(v); });
    case FusedOp::Tanh: return k.tanh[cpu::simd::f32](x, y, n);
    case FusedOp::Sigmoid: return k.sigmoid[cpu::simd::f32](x, y, n);
    case FusedOp::Erf: return each(x, y, n, [](float v) { return std::erf(v); });
    case FusedOp::Floor: return each(x, y, n, [](float v) { return std::floor(v); });
    case FusedOp::Ceil: return each(x, y, n, [](float v) { return std::ceil(v); });
    case FusedOp::AsType: std::memcpy(y, x, size_t(n) * sizeof(float)); return;
    default: break;
  }
  throw std::logic_error("[Compiled] not a unary step");
}

void binary(FusedOp op, const float* a, const float* b, float* y, int64_t n) {
  const auto& k = cpu::simd::kernels();
  constexpr int f = cpu::simd::f32;
  switch (op) {
    case FusedOp::Add: return k.add[f](a, b, y, n, Mode::vv);
    case FusedOp::Subtract: return k.subtract[f](a, b, y, n, Mode::vv);
    case FusedOp::Multiply: return k.multiply[f](a, b, y, n, Mode::vv);
    case FusedOp::Divide: return k.divide[f](a, b, y, n, Mode::vv);
    case FusedOp::Maximum: return k.maximum[f](a, b, y, n, Mode::vv);
    case FusedOp::Minimum: return k.minimum[f](a, b, y, n, Mode::vv);
    case FusedOp::Power:
      for (int64_t i = 0; i < n; ++i) y[i] = std::pow(a[i], b[i]);
      return;
    default: break;
  }
  throw std::logic_error("[Compiled] not a binary step");
}

// Rounds float32 values to `t` and back (the unfused step stores t).
void round_to(Dtype t, float* y, int64_t n) {
  uint16_t tmp[kTile];
  const auto& k = cpu::simd::kernels();
  if (t == float16) {
    k.f32_to_f16(y, tmp, n);
    k.f16_to_f32(tmp, y, n);
  } else if (t == bfloat16) {
    k.f32_to_bf16(y, tmp, n);
    k.bf16_to_f32(tmp, y, n);
  }
}

// Where an input's float32 values come from, tile by tile.
struct Source {
  const void* base = nullptr;  // row-major elements, or the one value of a scalar
  Dtype dtype = float32;
  bool scalar = false;
};

// n values from element `off` as float32: a pointer into the input itself
// for float32, else converted into `buf`.
const float* load(const Source& s, int64_t off, float* buf, int64_t n) {
  const auto& k = cpu::simd::kernels();
  if (s.scalar) return buf;  // filled once per chunk
  switch (s.dtype) {
    case Dtype::float32: return static_cast<const float*>(s.base) + off;
    case Dtype::float16: k.f16_to_f32(static_cast<const uint16_t*>(s.base) + off, buf, n); return buf;
    case Dtype::bfloat16: k.bf16_to_f32(static_cast<const uint16_t*>(s.base) + off, buf, n); return buf;
    case Dtype::bool_: {
      const uint8_t* c = static_cast<const uint8_t*>(s.base) + off;
      for (int64_t i = 0; i < n; ++i) buf[i] = c[i] ? 1.f : 0.f;
      return buf;
    }
    default: throw std::logic_error("[Compiled] unsupported input dtype");
  }
}

float scalar_value(const Source& s) {
  switch (s.dtype) {
    case Dtype::float32: return *static_cast<const float*>(s.base);
    case Dtype::float16: return float(*static_cast<const float16_t*>(s.base));
    case Dtype::bfloat16: return float(*static_cast<const bfloat16_t*>(s.base));
    case Dtype::bool_: return *static_cast<const uint8_t*>(s.base) ? 1.f : 0.f;
    default: throw std::logic_error("[Compiled] unsupported input dtype");
  }
}

void store(const float* x, array& out, int64_t off, int64_t n) {
  const auto& k = cpu::simd::kernels();
  switch (out.dtype()) {
    case Dtype::float32: std::memcpy(static_cast<float*>(out.raw_ptr()) + off, x, size_t(n) * sizeof(float)); return;
    case Dtype::float16: k.f32_to_f16(x, static_cast<uint16_t*>(out.raw_ptr()) + off, n); return;
    case Dtype::bfloat16: k.f32_to_bf16(x, static_cast<uint16_t*>(out.raw_ptr()) + off, n); return;
    default: throw std::logic_error("[Compiled] unsupported output dtype");
  }
}

// The generated kernel for these inputs and outputs, or nullptr (not wanted
// at this size, or not to be had: the interpreter runs).
cpu::jit::KernelFn generated(const Compiled& c, const std::vector<Source>& src, const std::vector<array>& outputs,
                             int64_t n) {
  auto mode = cpu::jit::mode();
  if (mode == cpu::jit::Mode::off || (mode == cpu::jit::Mode::automatic && n < cpu::jit::kJitMinElements)) {
    return nullptr;
  }
  std::vector<cpu::jit::InputKind> kinds;
  for (const Source& s : src) kinds.push_back({s.dtype, s.scalar});
  std::vector<Dtype> outs;
  for (const array& o : outputs) outs.push_back(o.dtype());
  return cpu::jit::get_kernel(cpu::jit::kernel_key(c, kinds, outs),
                              [&] { return cpu::jit::kernel_body(c, kinds, outs); });
}

// Runs a generated kernel over the output in ranges of whole blocks, so every
// thread's range starts vector-aligned (outputs are 64-byte aligned).
void run_generated(cpu::jit::KernelFn fn, const std::vector<Source>& src, std::vector<array>& outputs, int64_t n) {
  constexpr int64_t kBlock = 64, kGrain = 16384;
  std::vector<const void*> in;
  for (const Source& s : src) in.push_back(s.base);
  std::vector<void*> out;
  for (array& o : outputs) out.push_back(o.raw_ptr());
  const size_t blocks = size_t((n + kBlock - 1) / kBlock);
  cpu::parallel_for(blocks, kGrain / kBlock, [&](size_t b, size_t e) {
    fn(in.data(), out.data(), int64_t(b) * kBlock, std::min(n, int64_t(e) * kBlock));
  });
}

}  // namespace

void Compiled::eval_cpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  const int64_t n = int64_t(outputs[0].size());
  for (auto& o : outputs) o.set_data(allocator::malloc(o.nbytes()));
  if (n == 0) return;
  // Inputs are row-major or one broadcast value; others become row-major.
  std::vector<array> held;
  std::vector<Source> src(inputs.size());
  for (size_t j = 0; j < inputs.size(); ++j) {
    const array& in = inputs[j];
    src[j].dtype = in.dtype();
    if (in.data_size() == 1) {
      src[j].scalar = true;
      src[j].base = in.raw_ptr();
    } else {
      held.push_back(cpu::row_major(in));
      src[j].base = held.back().raw_ptr();
    }
  }
  if (cpu::jit::KernelFn fn = generated(*this, src, outputs, n)) return run_generated(fn, src, outputs, n);
  const int nin = num_inputs_;
  const size_t nslots = size_t(nin) + steps_.size();
  const int64_t tiles = (n + kTile - 1) / kTile;
  // One chunk per thread's share (at least 64 tiles): the scratch is set up
  // once per chunk, not per tile.
  cpu::parallel_for(size_t(tiles), 64, [&](size_t b, size_t e) {
    thread_local std::vector<float> scratch;
    thread_local std::vector<const float*> ptr;
    if (scratch.size() < nslots * kTile) scratch.resize(nslots * kTile);
    ptr.assign(nslots, nullptr);
    for (int j = 0; j < nin; ++j) {
      if (src[j].scalar) std::fill_n(&scratch[size_t(j) * kTile], kTile, scalar_value(src[j]));
    }
    for (size_t t = b; t < e; ++t) {
      const int64_t off = int64_t(t) * kTile, m = std::min(kTile, n - off);
      for (int j = 0; j < nin; ++j) ptr[j] = load(src[j], off, &scratch[size_t(j) * kTile], m);
      for (size_t i = 0; i < steps_.size(); ++i) {
        const Step& st = steps_[i];
        float* y = &scratch[(size_t(nin) + i) * kTile];
        if (st.args.size() == 1) {
          unary(st.op, ptr[st.args[0]], y, m);
        } else if (st.args.size() == 2) {
          binary(st.op, ptr[st.args[0]], ptr[st.args[1]], y, m);
        } else {
          const float *c = ptr[st.args[0]], *x = ptr[st.args[1]], *z = ptr[st.args[2]];
          for (int64_t q = 0; q < m; ++q) y[q] = c[q] != 0.f ? x[q] : z[q];
        }
        round_to(st.dtype, y, m);
        ptr[size_t(nin) + i] = y;
      }
      for (size_t k = 0; k < outputs.size(); ++k) store(ptr[output_slots_[k]], outputs[k], off, m);
    }
  });
}

}  // namespace uma
