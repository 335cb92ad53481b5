// Tier-capped runs of a test binary (tests/CMakeLists.txt): UMA_TEST_TIER=t
// runs the suite with the CPU's kernels capped at tier t (UMA_CPU_TIER), and
// exits 77 (ctest: skipped, with the reason) where the cap would change
// nothing: t is this CPU's best tier (the uncapped run covers it) or above.
#include <cstdio>
#include <cstdlib>

#include "uma/backend/cpu/cpu_features.h"

namespace {

const bool kTierSet = [] {
  const char* want = std::getenv("UMA_TEST_TIER");
  if (!want || !*want) return false;
  auto tier = uma::cpu::parse_tier(want);
  if (!tier) {
    std::fprintf(stderr, "UMA_TEST_TIER=%s is not a tier\n", want);
    std::exit(2);
  }
  // The cap is read once, at detection: set it before anything runs a kernel.
  // cpu_features() keeps the machine's best tier beside the capped one.
  setenv("UMA_CPU_TIER", want, 1);
  const auto& f = uma::cpu::cpu_features();
  if (f.best <= *tier) {
    std::printf("tier %s: this CPU's best tier is %s, so the uncapped run covers it\n", want,
                uma::cpu::tier_name(f.best));
    std::exit(77);
  }
  std::printf("[ tier ] kernels capped at %s (this CPU: %s)\n", uma::cpu::tier_name(f.tier),
              uma::cpu::tier_name(f.best));
  return true;
}();

}  // namespace
