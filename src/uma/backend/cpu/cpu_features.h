// Run-time CPU feature detection and the ISA tier that kernels run at.
//
// Kernels for each tier live in their own translation units, compiled with
// exactly that tier's flags (see CMakeLists.txt, "ISA tiers"), and are called
// only when cpu_tier() is at least that tier:
//
//   avx2         x86-64-v3: AVX2, FMA, F16C, BMI1/2 (the floor; files *.cpp)
//   avx512       + AVX-512 F, BW, DQ, VL                    (*_avx512.cpp)
//   avx512_bf16  + AVX-512 VNNI, BF16                       (*_avx512_bf16.cpp)
//   avx512_fp16  + AVX-512 FP16                             (*_avx512_fp16.cpp)
//   amx          + AMX tile, BF16, INT8, OS permission      (*_amx.cpp)
//
// A tier includes every tier below it. The build checks each tier's objects
// for instructions of a higher tier (cmake/check_isa.py).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace uma::cpu {

enum class CpuTier : uint8_t { avx2, avx512, avx512_bf16, avx512_fp16, amx };
inline constexpr int num_cpu_tiers = 5;

const char* tier_name(CpuTier t);
// "avx2", "avx512", ...; nullopt for anything else.
std::optional<CpuTier> parse_tier(std::string_view name);

struct CpuFeatures {
  // What the processor and the OS offer, before any cap.
  bool avx2 = false, fma = false, f16c = false, bmi2 = false;
  bool avx512f = false, avx512bw = false, avx512dq = false, avx512vl = false;
  bool avx512vnni = false, avx512bf16 = false, avx512fp16 = false;
  bool amx_tile = false, amx_bf16 = false, amx_int8 = false;
  bool amx_permitted = false;  // Linux granted AMX tile data (arch_prctl)
  std::string vendor, brand;

  CpuTier best = CpuTier::avx2;  // the highest tier this machine supports
  CpuTier tier = CpuTier::avx2;  // the tier in use: best, capped by UMA_CPU_TIER
  std::string cap_source;        // "" or the variable that capped it

  bool at_least(CpuTier t) const { return tier >= t; }
  // Shorthands for the tiers in use (after the cap).
  bool has_avx512() const { return at_least(CpuTier::avx512); }
  bool has_avx512_bf16() const { return at_least(CpuTier::avx512_bf16); }
  bool has_amx() const { return at_least(CpuTier::amx); }
};

// Detected once, on first use. UMA_CPU_TIER=<tier> caps the tier (for tests
// and bug reports); a cap above the machine's best tier changes nothing.
// UMA_DISABLE_AVX512=1 is the same as UMA_CPU_TIER=avx2 and UMA_DISABLE_AMX=1
// as avx512_fp16. Throws std::invalid_argument for an unknown UMA_CPU_TIER
// (again on every call, so the first caller sees it).
const CpuFeatures& cpu_features();
inline CpuTier cpu_tier() { return cpu_features().tier; }

// True when the AMX tier is in use (the OS granted tile data).
bool amx_enabled();

// Human-readable lines for `uma info --system`.
std::string describe_cpu();

}  // namespace uma::cpu
