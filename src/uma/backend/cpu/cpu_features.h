// Run-time CPU feature detection: kernels built for AVX-512 or AMX are chosen
// only where the processor (and, for AMX, the kernel) supports them.
#pragma once

namespace uma::cpu {

struct CpuFeatures {
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512bf16 = false;
  bool avx512fp16 = false;
  bool avx512vnni = false;
  bool amx_tile = false;
  bool amx_bf16 = false;
  bool amx_int8 = false;
  // AVX-512 kernels need F, BW, VL together.
  bool has_avx512() const { return avx512f && avx512bw && avx512vl; }
};

// Detected once. UMA_DISABLE_AVX512=1 / UMA_DISABLE_AMX=1 turn paths off (tests
// use them to exercise the fallbacks).
const CpuFeatures& cpu_features();

// Asks the kernel for permission to use AMX tile data (Linux arch_prctl);
// returns false where AMX is absent or refused. Call once per process.
bool amx_enabled();

}  // namespace uma::cpu
