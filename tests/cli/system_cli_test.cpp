// `uma info --system` and the UMA_CPU_TIER cap, through the command.
#include <cstdlib>
#include <optional>

#include "cli/cli_util.h"
#include "uma/backend/cpu/cpu_features.h"

namespace uma::cli {
namespace {

using namespace testing;

// Runs uma with some variables set (empty value: unset) for the child only.
Result run_with_env(const std::vector<std::string>& args, const std::vector<std::pair<std::string, std::string>>& env) {
  std::vector<std::pair<std::string, std::optional<std::string>>> saved;
  for (auto& [k, v] : env) {
    const char* old = std::getenv(k.c_str());
    saved.emplace_back(k, old ? std::optional<std::string>(old) : std::nullopt);
    v.empty() ? unsetenv(k.c_str()) : setenv(k.c_str(), v.c_str(), 1);
  }
  Result r = run_uma(args);
  for (auto& [k, v] : saved) v ? setenv(k.c_str(), v->c_str(), 1) : unsetenv(k.c_str());
  return r;
}

std::string line_after(const std::string& text, const std::string& key) {
  size_t p = text.find(key);
  if (p == std::string::npos) return "";
  p += key.size();
  size_t e = text.find('\n', p);
  std::string v = text.substr(p, e - p);
  v.erase(0, v.find_first_not_of(' '));
  return v;
}

TEST(CliSystem, ShowsTierAndCap) {
  const auto& f = cpu::cpu_features();  // this process: uncapped unless the test run caps it
  auto r = run_with_env({"info", "--system"}, {{"UMA_CPU_TIER", ""}});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(line_after(r.out, "best tier:"), cpu::tier_name(f.best)) << r.out;
  EXPECT_EQ(line_after(r.out, "tier in use:"), cpu::tier_name(f.best)) << r.out;
  EXPECT_NE(r.out.find("avx2"), std::string::npos) << r.out;

  // A cap at the floor always applies; a cap above the machine changes nothing.
  r = run_with_env({"info", "--system"}, {{"UMA_CPU_TIER", "avx2"}});
  ASSERT_EQ(r.rc, 0) << r.err;
  std::string want = f.best == cpu::CpuTier::avx2 ? "avx2" : "avx2 (capped by UMA_CPU_TIER=avx2)";
  EXPECT_EQ(line_after(r.out, "tier in use:"), want) << r.out;
  r = run_with_env({"info", "--system"}, {{"UMA_CPU_TIER", "amx"}});
  EXPECT_EQ(line_after(r.out, "tier in use:"), cpu::tier_name(f.best)) << r.out;
  r = run_with_env({"info", "--system"}, {{"UMA_DISABLE_AVX512", "1"}, {"UMA_CPU_TIER", ""}});
  EXPECT_EQ(line_after(r.out, "tier in use:").substr(0, 4), "avx2") << r.out;
}

TEST(CliSystem, BadTierIsOneLineError) {
  auto r = run_with_env({"info", "--system"}, {{"UMA_CPU_TIER", "avx1024"}});
  expect_one_line_error(r, "UMA_CPU_TIER=avx1024 is not a tier; use one of avx2, avx512, avx512_bf16, avx512_fp16, amx");
}

TEST(CliSystem, InfoNeedsModelOrSystem) {
  expect_one_line_error(run_uma({"info"}), "give --model FOLDER, or --system");
}

}  // namespace
}  // namespace uma::cli
