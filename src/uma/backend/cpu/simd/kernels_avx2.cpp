// The AVX2/FMA/F16C build of the SIMD kernels, and the run-time choice.
#include "uma/backend/cpu/simd/impl.h"

#include "uma/backend/cpu/cpu_features.h"

namespace uma::cpu::simd {

namespace avx512 {
const Kernels& table();  // kernels_avx512.cpp
}

const Kernels& avx2_kernels() { return avx2::table(); }

const Kernels* avx512_kernels() { return cpu_features().has_avx512() ? &avx512::table() : nullptr; }

const Kernels& kernels() {
  static const Kernels* k = avx512_kernels() ? avx512_kernels() : &avx2_kernels();
  return *k;
}

}  // namespace uma::cpu::simd
