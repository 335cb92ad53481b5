// compile()'s generated kernels (backend/cpu/jit): on random graphs of every
// fusible op, float32/float16/bfloat16, scalar and array inputs and several
// outputs, the generated kernel, the interpreter and the uncompiled graph
// agree to the bit; kernels are cached on disk and found there again; a
// damaged cache file is rebuilt; without a working compiler or cache folder
// the interpreter runs. Each test compiles few distinct kernels (each costs
// the compiler ~0.5-1 s), in a temporary cache folder.
#include <gtest/gtest.h>

#include <chrono>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <random>
#include <thread>

#include "uma/backend/cpu/cpu_features.h"
#include "uma/backend/cpu/jit/cache.h"
#include "uma/backend/cpu/jit/codegen.h"
#include "uma/backend/cpu/jit/spawn.h"
#include "uma/backend/cpu/simd/jit_prelude.h"
#include "uma/backend/cpu/simd/kernels.h"
#include "uma/core/primitive.h"
#include "uma/core/primitives/compiled.h"
#include "uma/uma.h"

using namespace uma;
namespace fs = std::filesystem;
namespace jit = uma::cpu::jit;

namespace {

// Sets (or unsets, for nullptr) an environment variable for a scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    had_ = std::getenv(name) != nullptr;
    set(value);
  }
  ~ScopedEnv() { set(had_ ? old_.c_str() : nullptr); }
  void set(const char* value) {
    if (value) {
      setenv(name_, value, 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::string old_;
  bool had_ = false;
};

// Values in [-3, 3] with the awkward ones mixed in: NaN, infinities, signed
// zeros, the edges of exp's range, huge and subnormal values.
array test_values(int64_t n, Dtype t, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-3.f, 3.f);
  const float inf = std::numeric_limits<float>::infinity();
  const float odd[] = {std::numeric_limits<float>::quiet_NaN(), inf, -inf, 0.f, -0.f, 88.7f, -87.4f, 1e30f,
                       -1e-40f, 0.5f, 1.f, -1.f};
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = rng() % 16 == 0 ? odd[rng() % std::size(odd)] : d(rng);
  return astype(array(v, Shape{int(n)}), t);
}

bool same_bits(array a, array b) {
  if (a.shape() != b.shape() || a.dtype() != b.dtype()) return false;
  auto x = a.to_vector<double>(), y = b.to_vector<double>();
  for (size_t i = 0; i < x.size(); ++i) {
    if (std::isnan(x[i]) != std::isnan(y[i]) || (!std::isnan(x[i]) && (x[i] != y[i] || std::signbit(x[i]) != std::signbit(y[i])))) {
      ADD_FAILURE() << "element " << i << ": " << x[i] << " vs " << y[i];
      return false;
    }
  }
  return true;
}

// A random graph with every fusible op at least once (in a random order, on
// random earlier values), and three outputs: the last value and two
// intermediates. in: two arrays and a broadcast scalar; constants add more
// scalars.
std::vector<array> random_graph(const std::vector<array>& in, uint32_t seed) {
  std::mt19937 rng(seed);
  const Dtype t = in[0].dtype();
  std::vector<array> pool = in;
  pool.push_back(array(0.75f, t));
  auto pick = [&] { return pool[rng() % pool.size()]; };
  // Values stay moderate: exp and power take their arguments scaled down.
  auto small = [&](const array& x) { return multiply(x, array(0.25f, t)); };
  const Dtype other = t == float32 ? bfloat16 : float32;
  std::vector<std::function<array()>> ops = {
      [&] { return abs(pick()); },        [&] { return negative(pick()); },  [&] { return square(pick()); },
      [&] { return sqrt(pick()); },       [&] { return rsqrt(pick()); },     [&] { return exp(small(pick())); },
      [&] { return expm1(pick()); },      [&] { return log(pick()); },       [&] { return log1p(pick()); },
      [&] { return log2(pick()); },       [&] { return log10(pick()); },     [&] { return sin(pick()); },
      [&] { return cos(pick()); },        [&] { return tanh(pick()); },      [&] { return sigmoid(pick()); },
      [&] { return erf(pick()); },        [&] { return floor(pick()); },     [&] { return ceil(pick()); },
      [&] { return astype(astype(pick(), other), t); },
      [&] { return add(pick(), pick()); }, [&] { return subtract(pick(), pick()); },
      [&] { return multiply(pick(), pick()); }, [&] { return divide(pick(), pick()); },
      [&] { return maximum(pick(), pick()); }, [&] { return minimum(pick(), pick()); },
      [&] { return power(abs(pick()), small(pick())); },
      // The condition comes from the inputs, so the graph stays one kernel.
      [&] { return where(greater(in[0], in[1]), pick(), pick()); }};
  std::vector<size_t> order(ops.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng);
  for (size_t i : order) pool.push_back(ops[i]());
  size_t first = in.size() + 1;
  return {pool.back(), pool[first + 4], pool[first + 11]};
}

// Evaluates f compiled under UMA_COMPILE_JIT=mode (a fresh compile(), so a
// fresh trace) and returns its outputs.
std::vector<array> run_with(const char* mode, const ArrayFn& f, const std::vector<array>& in) {
  ScopedEnv env("UMA_COMPILE_JIT", mode);
  jit::reset();
  auto out = compile(f)(in);
  eval(out);
  return out;
}

class CompileJit : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/uma_jit_test_XXXXXX";
    ASSERT_TRUE(mkdtemp(tmpl));
    dir_ = tmpl;
    env_cache_.set(dir_.c_str());
    jit::reset();
  }
  void TearDown() override {
    env_cache_.set(nullptr);
    jit::reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  // Regular files under the cache folder, by suffix ("" = all).
  int count_files(const std::string& suffix = "") const {
    int n = 0;
    for (auto& e : fs::recursive_directory_iterator(dir_)) {
      std::string p = e.path().string();
      if (e.is_regular_file() && p.size() >= suffix.size() && p.compare(p.size() - suffix.size(), suffix.size(), suffix) == 0) ++n;
    }
    return n;
  }
  fs::path only_kernel() const {
    for (auto& e : fs::directory_iterator(fs::path(dir_) / "kernels")) return e.path();
    return {};
  }

  std::string dir_;
  ScopedEnv env_cache_{"UMA_CACHE_DIR", nullptr};
  ScopedEnv env_verbose_{"UMA_VERBOSE", nullptr};
};

// A small fixed kernel for the cache tests.
std::vector<array> small_chain(const std::vector<array>& in) {
  return {tanh(add(multiply(in[0], array(1.5f)), exp(in[1])))};
}

}  // namespace

TEST_F(CompileJit, RandomGraphsEqualTheInterpreterAndTheUncompiledGraph) {
  // Sizes around the vector width; size 1 makes every input a broadcast
  // value (a kernel of its own, so float32 only), 0 runs nothing.
  const std::map<Dtype, std::vector<int64_t>> sizes = {
      {float32, {0, 1, 7, 4099}}, {float16, {33, 1000}}, {bfloat16, {5, 4099}}};
  for (auto& [t, ns] : sizes) {
    uint32_t seed = 11 + uint32_t(t);
    auto f = [seed](const std::vector<array>& in) { return random_graph(in, seed); };
    for (int64_t n : ns) {
      SCOPED_TRACE(std::string(dtype_name(t)) + " n=" + std::to_string(n));
      std::vector<array> in = {test_values(n, t, 1), test_values(n, t, 2),
                               broadcast_to(array(-1.25f, t), Shape{int(n)})};
      auto want = f(in);
      auto interpreted = run_with("0", f, in);
      EXPECT_EQ(jit::stats().compiled, 0);
      auto generated = run_with("1", f, in);
      if (n > 0) {
        EXPECT_GE(jit::stats().compiled + jit::stats().disk_hits, 1);
        EXPECT_EQ(jit::stats().failed, 0);
      }
      for (size_t k = 0; k < want.size(); ++k) {
        EXPECT_TRUE(same_bits(interpreted[k], want[k])) << "interpreter, output " << k;
        EXPECT_TRUE(same_bits(generated[k], want[k])) << "generated, output " << k;
      }
    }
  }
}

TEST_F(CompileJit, HalfInputsWithFloat32StepsAndBoolConditions) {
  // float16 and bfloat16 inputs promoted to float32, a bool input, outputs
  // of all three dtypes.
  auto f = [](const std::vector<array>& in) {
    array a = multiply(in[0], in[1]);  // float16 * bfloat16 -> float32
    array b = where(in[2], exp(a), sin(in[0]));
    return std::vector<array>{b, astype(b, float16), astype(sqrt(abs(a)), bfloat16)};
  };
  const int64_t n = 1031;
  std::vector<array> in = {test_values(n, float16, 3), test_values(n, bfloat16, 4),
                           greater(test_values(n, float32, 5), array(0.f))};
  auto want = f(in);
  auto generated = run_with("1", f, in);
  EXPECT_EQ(jit::stats().failed, 0);
  for (size_t k = 0; k < want.size(); ++k) EXPECT_TRUE(same_bits(generated[k], want[k])) << "output " << k;
}

TEST_F(CompileJit, KernelsAreCachedOnDiskAndFoundAgain) {
  ScopedEnv mode("UMA_COMPILE_JIT", "1");
  jit::reset();
  std::vector<array> in = {test_values(100, float32, 6), test_values(100, float32, 7)};
  auto want = small_chain(in)[0];
  auto cf = compile(small_chain);
  EXPECT_TRUE(same_bits(cf(in)[0], want));
  EXPECT_EQ(jit::stats().compiled, 1);
  EXPECT_EQ(count_files(".so"), 1);
  EXPECT_EQ(count_files(), 1) << "temporary files left behind";
  EXPECT_EQ(fs::status(fs::path(dir_) / "kernels").permissions(), fs::perms::owner_all);
  // The same process again: loaded once.
  EXPECT_TRUE(same_bits(cf(in)[0], want));
  EXPECT_EQ(jit::stats().compiled, 1);
  EXPECT_EQ(jit::stats().disk_hits, 0);
  // As a new process would: from the disk, not compiled.
  jit::reset();
  EXPECT_TRUE(same_bits(compile(small_chain)(in)[0], want));
  EXPECT_EQ(jit::stats().compiled, 0);
  EXPECT_EQ(jit::stats().disk_hits, 1);
  EXPECT_EQ(count_files(), 1);
}

// Run by ProcessesShareTheDiskCache in child processes (skipped otherwise):
// evaluates small_chain with the environment it was given and exits
// non-zero unless the values are right and the kernel came from where
// UMA_JIT_TEST_CHILD says ("any": built or loaded, "disk": loaded).
TEST(CompileJitChild, EvaluateOnce) {
  const char* want = std::getenv("UMA_JIT_TEST_CHILD");
  if (!want) {
    GTEST_SKIP() << "run by CompileJit.ProcessesShareTheDiskCache";
  }
  jit::reset();
  std::vector<array> in = {test_values(300, float32, 20), test_values(300, float32, 21)};
  EXPECT_TRUE(same_bits(compile(small_chain)(in)[0], small_chain(in)[0]));
  EXPECT_EQ(jit::stats().compiled + jit::stats().disk_hits, 1);
  if (std::string(want) == "disk") {
    EXPECT_EQ(jit::stats().disk_hits, 1);
  }
}

TEST_F(CompileJit, ProcessesShareTheDiskCache) {
  ScopedEnv mode("UMA_COMPILE_JIT", "1");
  auto child = [] { return jit::run_program({"/proc/self/exe", "--gtest_filter=CompileJitChild.EvaluateOnce"}); };
  auto passed = [](const jit::RunResult& r) {
    return r.ok() && r.output.find("[       OK ] CompileJitChild.EvaluateOnce") != std::string::npos;
  };
  // Two processes building the same kernel at once both succeed ...
  jit::RunResult r1, r2;
  {
    ScopedEnv role("UMA_JIT_TEST_CHILD", "any");
    std::thread a([&] { r1 = child(); });
    std::thread b([&] { r2 = child(); });
    a.join();
    b.join();
  }
  EXPECT_TRUE(passed(r1)) << r1.error << r1.output;
  EXPECT_TRUE(passed(r2)) << r2.error << r2.output;
  EXPECT_EQ(count_files(".so"), 1);
  EXPECT_EQ(count_files(), 1) << "temporary files left behind";
  // ... and a third finds the kernel on disk.
  ScopedEnv role("UMA_JIT_TEST_CHILD", "disk");
  jit::RunResult r3 = child();
  EXPECT_TRUE(passed(r3)) << r3.error << r3.output;
}

TEST_F(CompileJit, ThreadsAskingForOneKernelBuildItOnce) {
  ScopedEnv mode("UMA_COMPILE_JIT", "1");
  jit::reset();
  auto cf = compile(small_chain);
  std::vector<array> in = {test_values(64, float32, 8), test_values(64, float32, 9)};
  eval(in);
  std::vector<std::vector<array>> got(2);
  std::thread a([&] { got[0] = cf(in); eval(got[0]); });
  std::thread b([&] { got[1] = cf(in); eval(got[1]); });
  a.join();
  b.join();
  EXPECT_EQ(jit::stats().compiled + jit::stats().disk_hits, 1);
  EXPECT_TRUE(same_bits(got[0][0], small_chain(in)[0]));
  EXPECT_TRUE(same_bits(got[1][0], got[0][0]));
}

TEST_F(CompileJit, DamagedCacheFilesAreRebuilt) {
  ScopedEnv mode("UMA_COMPILE_JIT", "1");
  jit::reset();
  std::vector<array> in = {test_values(50, float32, 10), test_values(50, float32, 11)};
  auto want = small_chain(in)[0];
  EXPECT_TRUE(same_bits(compile(small_chain)(in)[0], want));
  fs::path good = only_kernel();
  ASSERT_FALSE(good.empty());
  const auto size = fs::file_size(good);
  // Truncated, and garbage of the right size, each in a folder of its own
  // (this process has `good` loaded: dlopen would not read that path again).
  for (int damage = 0; damage < 2; ++damage) {
    fs::path other = fs::path(dir_) / ("other" + std::to_string(damage));
    fs::create_directories(other / "kernels");
    fs::path bad = other / "kernels" / good.filename();
    fs::copy_file(good, bad);
    if (damage == 0) {
      fs::resize_file(bad, size / 3);
    } else {
      std::ofstream(bad, std::ios::binary | std::ios::trunc) << std::string(size, '\x7f');
    }
    ScopedEnv cache("UMA_CACHE_DIR", other.c_str());
    jit::reset();
    EXPECT_TRUE(same_bits(compile(small_chain)(in)[0], want));
    EXPECT_EQ(jit::stats().rebuilt, 1);
    EXPECT_EQ(jit::stats().compiled, 1);
    // Rebuilt: a whole object again, with its trailer (not byte-identical
    // to the first build: the temporary source's name is in the object).
    std::ifstream f(bad, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    EXPECT_GT(bytes.size(), size / 2);
    EXPECT_EQ(bytes.compare(bytes.size() - 32, 13, "uma-kernel-v1"), 0);
  }
}

TEST_F(CompileJit, WithoutACompilerTheInterpreterRuns) {
  ScopedEnv mode("UMA_COMPILE_JIT", "1");
  ScopedEnv verbose("UMA_VERBOSE", "1");
  std::vector<array> in = {test_values(40, float32, 12), test_values(40, float32, 13)};
  auto want = small_chain(in)[0];
  // A missing program, one that fails, and a compiler whose build fails.
  for (const char* cxx : {"/nonexistent/c++", "false", "c++ -include /nonexistent/header.h"}) {
    SCOPED_TRACE(cxx);
    ScopedEnv env("UMA_CXX", cxx);
    jit::reset();
    ::testing::internal::CaptureStderr();
    auto cf = compile(small_chain);
    EXPECT_TRUE(same_bits(cf(in)[0], want));
    EXPECT_TRUE(same_bits(cf(in)[0], want));
    std::string err = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(jit::stats().compiled, 0);
    EXPECT_EQ(jit::stats().failed, 1);
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n') >= 1, true) << err;
    EXPECT_NE(err.find("uma: compile:"), std::string::npos) << err;
    EXPECT_EQ(err.find("uma: compile:", 1), std::string::npos) << "warned more than once: " << err;
  }
  EXPECT_EQ(count_files(), 0);
}

// A compiler that never finishes (and starts a child that holds the output
// pipe open) is killed at UMA_JIT_TIMEOUT, with its child, and the
// interpreter computes: a wedged toolchain cannot hang the program.
TEST_F(CompileJit, AHangingCompilerIsKilledAtTheTimeLimit) {
  ScopedEnv mode("UMA_COMPILE_JIT", "1");
  ScopedEnv timeout("UMA_JIT_TIMEOUT", "0.5");
  fs::path script = fs::path(dir_) / "hang.sh";
  std::ofstream(script) << "if [ \"$1\" = --version ]; then echo hang-cc 1.0; exit 0; fi\nsleep 60 &\nsleep 60\n";
  const std::string cxx = "sh " + script.string();
  ScopedEnv env("UMA_CXX", cxx.c_str());
  jit::reset();
  std::vector<array> in = {test_values(40, float32, 14), test_values(40, float32, 15)};
  auto want = small_chain(in)[0];
  ::testing::internal::CaptureStderr();
  const auto start = std::chrono::steady_clock::now();
  auto got = compile(small_chain)(in)[0];
  eval(got);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(same_bits(got, want));
  EXPECT_LT(seconds, 20.0) << "the compiler was not killed at its time limit";
  EXPECT_EQ(jit::stats().failed, 1);
  EXPECT_EQ(jit::stats().compiled, 0);
}

TEST(JitSpawn, TimeLimitAndOutputCap) {
  // The time limit kills the whole group: the background sleep holds the
  // pipe too, so returning at all shows it died.
  const auto start = std::chrono::steady_clock::now();
  jit::RunResult r = jit::run_program({"sh", "-c", "sleep 30 & sleep 30"}, 0.3);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_TRUE(r.started);
  EXPECT_TRUE(r.timed_out);
  EXPECT_FALSE(r.ok());
  EXPECT_LT(seconds, 10.0);
  EXPECT_NE(r.error.find("time limit"), std::string::npos) << r.error;
  // Output past the cap is read (the program finishes) and dropped.
  r = jit::run_program({"sh", "-c", "head -c 300000 /dev/zero | tr '\\0' x"}, 30, 1000);
  EXPECT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.output, std::string(1000, 'x'));
  // Within the limit: the status and the whole output.
  r = jit::run_program({"sh", "-c", "echo hello; exit 3"}, 30);
  EXPECT_TRUE(r.started);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.status, 3);
  EXPECT_EQ(r.output, "hello\n");
}

TEST_F(CompileJit, AnUnwritableCacheFallsBackQuietly) {
  ScopedEnv mode("UMA_COMPILE_JIT", "1");
  fs::path file = fs::path(dir_) / "a_file";
  std::ofstream(file) << "not a folder";
  ScopedEnv cache("UMA_CACHE_DIR", file.c_str());
  jit::reset();
  ::testing::internal::CaptureStderr();
  std::vector<array> in = {test_values(40, float32, 14), test_values(40, float32, 15)};
  EXPECT_TRUE(same_bits(compile(small_chain)(in)[0], small_chain(in)[0]));
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "") << "warnings need UMA_VERBOSE";
  EXPECT_EQ(jit::stats().failed, 1);
}

TEST_F(CompileJit, OffInterpretsAndAutoGeneratesForLargeOutputs) {
  std::vector<array> small = {test_values(1000, float32, 16), test_values(1000, float32, 17)};
  {
    ScopedEnv mode("UMA_COMPILE_JIT", "0");
    jit::reset();
    EXPECT_TRUE(same_bits(compile(small_chain)(small)[0], small_chain(small)[0]));
    EXPECT_EQ(jit::stats().compiled + jit::stats().failed, 0);
  }
  ScopedEnv mode("UMA_COMPILE_JIT", nullptr);
  jit::reset();
  EXPECT_EQ(jit::mode(), jit::Mode::automatic);
  EXPECT_TRUE(same_bits(compile(small_chain)(small)[0], small_chain(small)[0]));
  EXPECT_EQ(jit::stats().compiled, 0);
  // Large enough that each thread's range streams its output past the cache
  // (1M elements or more per call).
  int64_t n = (int64_t(1) << 22) + 37;
  std::vector<array> large = {test_values(n, float32, 18), test_values(n, float32, 19)};
  EXPECT_TRUE(same_bits(compile(small_chain)(large)[0], small_chain(large)[0]));
  EXPECT_EQ(jit::stats().compiled, 1);
}

// The build of a kernel with every kind of step for the tier this CPU does
// not run (AVX-512 here, AVX2 on an AVX-512 machine) compiles too.
TEST_F(CompileJit, GeneratedSourcesBuildForTheOtherTier) {
  if (!jit::run_program({"c++", "--version"}).ok()) GTEST_SKIP() << "no c++ on PATH";
  auto f = [](const std::vector<array>& in) {
    auto out = random_graph(in, 5);  // float16 steps; float32 ones through AsType
    out.push_back(astype(out[0], bfloat16));
    return out;
  };
  const Dtype t = float16;
  std::vector<array> in = {test_values(50, t, 22), test_values(50, t, 23), broadcast_to(array(2.f, t), {50})};
  auto out = compile(f)(in);
  ASSERT_TRUE(out[0].has_primitive());
  ASSERT_EQ(out[0].primitive().name(), std::string("Compiled"));
  std::vector<jit::InputKind> kinds;
  for (const auto& x : out[0].inputs()) kinds.push_back({x.dtype(), x.data_size() == 1 && x.is_available()});
  std::vector<Dtype> dtypes;
  for (const auto& o : out[0].outputs()) dtypes.push_back(o.dtype());
  const auto& c = static_cast<const Compiled&>(out[0].primitive());
  fs::path src = fs::path(dir_) / "kernel.cpp";
  std::ofstream(src) << jit::kernel_source(jit::kernel_body(c, kinds, dtypes));
  std::vector<std::string> argv = {"c++"};
  for (const auto& flag : jit::compile_flags(!uma::cpu::cpu_features().has_avx512())) argv.push_back(flag);
  argv.insert(argv.end(), {"-o", (fs::path(dir_) / "kernel.so").string(), src.string()});
  jit::RunResult r = jit::run_program(argv);
  EXPECT_TRUE(r.ok()) << r.error << r.output.substr(0, 3000);
}

// The prelude's own steps, compiled into this test at the floor tier: the
// half rounding equals the table's conversions, Select's condition is
// "!= 0" (true for NaN).
TEST(JitPrelude, StepsMatchTheTableKernels) {
  using namespace uma::cpu::simd::avx2;
  const auto& k = uma::cpu::simd::avx2_kernels();
  std::mt19937 rng(5);
  for (int round = 0; round < 2000; ++round) {
    float x[W], back[W], got[W];
    uint16_t half[W];
    for (int j = 0; j < W; ++j) {
      uint32_t bits = rng();
      std::memcpy(&x[j], &bits, 4);
    }
    k.f32_to_bf16(x, half, W);
    k.bf16_to_f32(half, back, W);
    storeu(got, jit_round_bf16(loadu(x)));
    ASSERT_EQ(std::memcmp(got, back, sizeof got), 0) << "bfloat16, round " << round;
    k.f32_to_f16(x, half, W);
    k.f16_to_f32(half, back, W);
    storeu(got, jit_round_f16(loadu(x)));
    for (int j = 0; j < W; ++j) {
      if (!std::isnan(back[j])) {
        ASSERT_EQ(got[j], back[j]) << "float16, round " << round;
      }
      ASSERT_EQ(std::isnan(got[j]), std::isnan(back[j]));
    }
  }
  const float c[W] = {0.f, -0.f, 1.f, std::numeric_limits<float>::quiet_NaN(), -2.f, 1e-45f, 0.f, 3.f};
  float one[W], zero[W], sel[W];
  for (int j = 0; j < W; ++j) {
    one[j] = 1.f;
    zero[j] = 0.f;
  }
  storeu(sel, select(jit_nonzero(loadu(c)), loadu(one), loadu(zero)));
  for (int j = 0; j < W; ++j) EXPECT_EQ(sel[j], c[j] != 0.f ? 1.f : 0.f) << j;
  const uint8_t b[W] = {0, 1, 2, 255, 0, 1, 0, 7};
  storeu(sel, jit_load_bool(b, W));
  for (int j = 0; j < W; ++j) EXPECT_EQ(sel[j], b[j] ? 1.f : 0.f) << j;
  storeu(sel, jit_load_bool(b, 3));
  EXPECT_EQ(sel[3], 0.f);
}
