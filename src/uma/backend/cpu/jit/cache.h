// compile()'s generated kernels (codegen.h), built by the system compiler
// into shared objects, cached on disk and loaded with dlopen.
//
// Environment (read at first use; reset() reads it again):
//   UMA_COMPILE_JIT  0 (or off): never generate (the interpreter runs every
//                    fused kernel); 1 (or on): always; auto, the default and
//                    any other value: for outputs of kJitMinElements or more
//   UMA_CXX, CXX     the compiler (split at spaces into argv, no shell); else
//                    c++, else g++, on PATH
//   UMA_CACHE_DIR    the cache root; else $XDG_CACHE_HOME/uma, else
//                    $HOME/.cache/uma. Kernels go to its kernels/ folder as
//                    <hash of source, compiler identity and flags>.so (a
//                    folder made here is its owner's only: files there are
//                    loaded as code)
//   UMA_VERBOSE      set (not 0): one line on stderr when a kernel cannot be
//                    had (and why), or when one is built
//
// Nothing here fails an evaluation: without a compiler, on a compile error,
// an unwritable cache or a dlopen failure the caller gets nullptr and
// interprets. Files are written under a temporary name and renamed, so
// processes that build the same kernel at once all succeed; each cached file
// ends in a trailer (size and hash of what precedes it) that is checked
// before dlopen, so a truncated or damaged file is removed and rebuilt.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace uma::cpu::jit {

using KernelFn = void (*)(const void* const* in, void* const* out, int64_t begin, int64_t end);

enum class Mode : uint8_t { off, on, automatic };

// Below this many output elements `auto` interprets: compiling costs
// ~0.5-1 s once per kernel and machine, the interpreter is fast enough there.
inline constexpr int64_t kJitMinElements = int64_t(1) << 16;

struct Settings {
  Mode mode = Mode::automatic;
  std::vector<std::string> compiler;  // argv before the flags
  std::string kernel_dir;             // <cache root>/kernels; "" if none could be named
  bool verbose = false;
  double timeout_seconds = 120;  // per compiler run (UMA_JIT_TIMEOUT; 0: no limit)
};

// The settings in use (from the environment).
Settings settings();
Mode mode();

struct Stats {
  int64_t compiled = 0;   // kernels built by the compiler
  int64_t disk_hits = 0;  // kernels loaded from the disk cache without compiling
  int64_t rebuilt = 0;    // cached files found damaged, removed and built again
  int64_t failed = 0;     // kernels that could not be had (their calls interpret)
};
Stats stats();

// The kernel for `key` at the CPU's tier: already loaded in this process,
// else from the disk cache, else built now from make_body() (kernel_body's
// text; `key` must determine it, and is what this process looks kernels up
// by, so a call that finds its kernel never generates source). nullptr when
// it cannot be had (remembered: not tried again until reset()).
// Thread-safe; each kernel is built or loaded at most once per process.
KernelFn get_kernel(const std::string& key, const std::function<std::string()>& make_body);

// The whole source get_kernel compiles for `body`: the prelude, the name and
// the body.
std::string kernel_source(const std::string& body);

// The flags get_kernel compiles with after the compiler's name: the
// language, -O2 -fPIC -shared, no FMA contraction, and the tier's flags.
std::vector<std::string> compile_flags(bool avx512);

// Forgets the loaded kernels and the statistics and reads the environment
// again (for tests; loaded objects stay mapped). Not during evaluation.
void reset();

}  // namespace uma::cpu::jit
