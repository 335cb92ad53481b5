#include "uma/backend/cpu/cpu_features.h"

#include "uma/core/gpu.h"

#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "uma/core/device.h"

namespace uma::cpu {

namespace {

constexpr const char* kTierNames[num_cpu_tiers] = {"avx2", "avx512", "avx512_bf16", "avx512_fp16", "amx"};

bool env_set(const char* name) {
  const char* v = std::getenv(name);
  return v && *v && std::strcmp(v, "0") != 0;
}

uint64_t xgetbv0() {
  uint32_t eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (uint64_t(edx) << 32) | eax;
}

std::string cpuid_string(unsigned leaf_lo, unsigned leaf_hi) {
  std::string s;
  for (unsigned leaf = leaf_lo; leaf <= leaf_hi; ++leaf) {
    unsigned r[4];
    if (!__get_cpuid(leaf, &r[0], &r[1], &r[2], &r[3])) return s;
    s.append(reinterpret_cast<const char*>(r), sizeof(r));
  }
  s = s.c_str();  // drop the NUL padding
  size_t b = s.find_first_not_of(' ');
  return b == std::string::npos ? "" : s.substr(b);
}

bool request_amx_permission() {
  constexpr long kArchReqXcompPerm = 0x1023;
  constexpr long kXfeatureTileData = 18;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureTileData) == 0;
}

void detect_features(CpuFeatures& f) {
  unsigned a, b, c, d;
  if (__get_cpuid(0, &a, &b, &c, &d)) {
    unsigned v[3] = {b, d, c};
    f.vendor.assign(reinterpret_cast<const char*>(v), sizeof(v));
  }
  unsigned max_ext = __get_cpuid_max(0x80000000u, nullptr);
  if (max_ext >= 0x80000004u) f.brand = cpuid_string(0x80000002u, 0x80000004u);
  if (!__get_cpuid(1, &a, &b, &c, &d)) return;
  bool osxsave = c & (1u << 27);
  f.fma = c & (1u << 12);
  f.f16c = c & (1u << 29);
  uint64_t xcr0 = osxsave ? xgetbv0() : 0;
  bool ymm_os = (xcr0 & 0x6) == 0x6;
  bool zmm_os = (xcr0 & 0xe6) == 0xe6;
  bool amx_os = (xcr0 & (3ull << 17)) == (3ull << 17);
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return;
  f.avx2 = ymm_os && (b & (1u << 5));
  f.bmi2 = b & (1u << 8);
  f.avx512f = zmm_os && (b & (1u << 16));
  f.avx512dq = zmm_os && (b & (1u << 17));
  f.avx512bw = zmm_os && (b & (1u << 30));
  f.avx512vl = zmm_os && (b & (1u << 31));
  f.avx512vnni = zmm_os && (c & (1u << 11));
  f.avx512fp16 = zmm_os && (d & (1u << 23));
  f.amx_bf16 = amx_os && (d & (1u << 22));
  f.amx_tile = amx_os && (d & (1u << 24));
  f.amx_int8 = amx_os && (d & (1u << 25));
  if (__get_cpuid_count(7, 1, &a, &b, &c, &d)) f.avx512bf16 = zmm_os && (a & (1u << 5));
}

// The highest tier whose every feature is present (each tier adds to the one
// below, so the first missing feature ends the climb).
CpuTier best_tier(CpuFeatures& f) {
  if (!(f.avx2 && f.fma && f.f16c && f.bmi2)) return CpuTier::avx2;  // the floor; the binary needs it anyway
  if (!(f.avx512f && f.avx512bw && f.avx512dq && f.avx512vl)) return CpuTier::avx2;
  if (!(f.avx512vnni && f.avx512bf16)) return CpuTier::avx512;
  if (!f.avx512fp16) return CpuTier::avx512_bf16;
  if (!(f.amx_tile && f.amx_bf16 && f.amx_int8)) return CpuTier::avx512_fp16;
  f.amx_permitted = request_amx_permission();
  return f.amx_permitted ? CpuTier::amx : CpuTier::avx512_fp16;
}

struct Detected {
  CpuFeatures f;
  std::string error;  // a bad UMA_CPU_TIER
};

Detected detect() {
  Detected d;
  CpuFeatures& f = d.f;
  detect_features(f);
  f.best = f.tier = best_tier(f);
  auto cap = [&](CpuTier t, const std::string& source) {
    if (t < f.tier) {
      f.tier = t;
      f.cap_source = source;
    }
  };
  if (const char* v = std::getenv("UMA_CPU_TIER"); v && *v) {
    if (auto t = parse_tier(v)) {
      cap(*t, std::string("UMA_CPU_TIER=") + v);
    } else {
      d.error = std::string("[cpu] UMA_CPU_TIER=") + v + " is not a tier; use one of avx2, avx512, avx512_bf16, " +
                "avx512_fp16, amx";
    }
  }
  if (env_set("UMA_DISABLE_AVX512")) cap(CpuTier::avx2, "UMA_DISABLE_AVX512");
  if (env_set("UMA_DISABLE_AMX")) cap(CpuTier::avx512_fp16, "UMA_DISABLE_AMX");
  return d;
}

}  // namespace

const char* tier_name(CpuTier t) { return kTierNames[int(t)]; }

std::optional<CpuTier> parse_tier(std::string_view name) {
  for (int i = 0; i < num_cpu_tiers; ++i) {
    if (name == kTierNames[i]) return CpuTier(i);
  }
  return std::nullopt;
}

const CpuFeatures& cpu_features() {
  static const Detected d = detect();
  if (!d.error.empty()) throw std::invalid_argument(d.error);
  return d.f;
}

bool amx_enabled() { return cpu_features().has_amx(); }

std::string describe_cpu() {
  const CpuFeatures& f = cpu_features();
  std::string s = "cpu:            " + (f.brand.empty() ? f.vendor : f.brand) + "\n";
  s += "threads:        " + std::to_string(sysconf(_SC_NPROCESSORS_ONLN)) + " online\n";
  s += "features:      ";
  auto flag = [&](bool on, const char* name) {
    if (on) s += std::string(" ") + name;
  };
  flag(f.avx2, "avx2");
  flag(f.fma, "fma");
  flag(f.f16c, "f16c");
  flag(f.bmi2, "bmi2");
  flag(f.avx512f, "avx512f");
  flag(f.avx512bw, "avx512bw");
  flag(f.avx512dq, "avx512dq");
  flag(f.avx512vl, "avx512vl");
  flag(f.avx512vnni, "avx512_vnni");
  flag(f.avx512bf16, "avx512_bf16");
  flag(f.avx512fp16, "avx512_fp16");
  flag(f.amx_tile, "amx_tile");
  flag(f.amx_bf16, "amx_bf16");
  flag(f.amx_int8, "amx_int8");
  if (f.amx_tile) s += f.amx_permitted ? " (amx permitted by the OS)" : " (amx not permitted by the OS)";
  s += "\nbest tier:      " + std::string(tier_name(f.best)) + "\n";
  s += "tier in use:    " + std::string(tier_name(f.tier));
  if (!f.cap_source.empty()) s += " (capped by " + f.cap_source + ")";
  s += "\n";
  return s;
}

}  // namespace uma::cpu

namespace uma {

std::string device_info(const Device& d) {
  if (d.type == Device::cpu) return cpu::describe_cpu();
  return detail::gpu_device_info(d.index);
}

}  // namespace uma
