// Building, caching and loading compile()'s generated kernels (cache.h).
// A kernel is looked up in this process's map, then on disk (checked by its
// trailer, then dlopen'ed), then built: the source is written to a temporary
// file beside its final name, compiled there, given its trailer and renamed
// into place, so a reader never sees a partial file.
#include "uma/backend/cpu/jit/cache.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <fstream>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string_view>
#include <unordered_map>

#include "uma/backend/cpu/cpu_features.h"
#include "uma/backend/cpu/jit/embedded.h"
#include "uma/backend/cpu/jit/spawn.h"

namespace uma::cpu::jit {

namespace {

// --- hashing (cache keys and the trailer; not adversarial input)

uint64_t mix(uint64_t x) {  // splitmix64's finalizer: a bijection
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

uint64_t hash64(std::string_view s, uint64_t seed) {
  uint64_t h = mix(seed ^ (uint64_t(s.size()) * 0x9e3779b97f4a7c15ull));
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = mix(h ^ w) + 0x9e3779b97f4a7c15ull;
  }
  uint64_t w = 0;
  std::memcpy(&w, s.data() + i, s.size() - i);
  return mix(h ^ w ^ (uint64_t(s.size() - i) << 59));
}

std::string hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// --- the cached file's trailer: magic, then the size and hash of the bytes
// before it (the shared object; the loader ignores what follows its sections).

constexpr char kMagic[16] = "uma-kernel-v1";
constexpr size_t kTrailerBytes = 32;

std::string trailer_for(std::string_view object) {
  std::string t(kMagic, sizeof kMagic);
  uint64_t size = object.size(), hash = hash64(object, 0x7472);
  t.append(reinterpret_cast<const char*>(&size), 8);
  t.append(reinterpret_cast<const char*>(&hash), 8);
  return t;
}

enum class OnDisk { missing, good, damaged };

OnDisk check_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return access(path.c_str(), F_OK) == 0 ? OnDisk::damaged : OnDisk::missing;
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (bytes.size() < kTrailerBytes) return OnDisk::damaged;
  std::string_view object(bytes.data(), bytes.size() - kTrailerBytes);
  return bytes.compare(object.size(), kTrailerBytes, trailer_for(object)) == 0 ? OnDisk::good : OnDisk::damaged;
}

bool append_trailer(const std::string& path) {
  std::string bytes;
  {
    std::ifstream f(path, std::ios::binary);
    if (!f) return false;
    bytes.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  }
  std::ofstream f(path, std::ios::binary | std::ios::app);
  f << trailer_for(bytes);
  f.flush();
  return bool(f);
}

// --- settings and the compiler

std::vector<std::string> split_words(const std::string& s) {
  std::vector<std::string> words;
  std::istringstream is(s);
  for (std::string w; is >> w;) words.push_back(w);
  return words;
}

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

Settings read_settings() {
  Settings s;
  std::string mode = env("UMA_COMPILE_JIT");
  s.mode = mode == "0" || mode == "off" ? Mode::off : mode == "1" || mode == "on" ? Mode::on : Mode::automatic;
  std::string verbose = env("UMA_VERBOSE");
  s.verbose = !verbose.empty() && verbose != "0";
  if (std::string t = env("UMA_JIT_TIMEOUT"); !t.empty()) {
    // A bad value keeps the default: the interpreter is always there to fall back on.
    char* end = nullptr;
    const double v = std::strtod(t.c_str(), &end);
    if (end && *end == '\0' && v >= 0 && std::isfinite(v)) s.timeout_seconds = v;
  }
  s.compiler = split_words(env("UMA_CXX"));
  if (s.compiler.empty()) s.compiler = split_words(env("CXX"));
  std::string root = env("UMA_CACHE_DIR");
  if (root.empty() && !env("XDG_CACHE_HOME").empty()) root = env("XDG_CACHE_HOME") + "/uma";
  if (root.empty() && !env("HOME").empty()) root = env("HOME") + "/.cache/uma";
  if (!root.empty()) s.kernel_dir = root + "/kernels";
  return s;
}

struct Compiler {
  bool ok = false;
  std::vector<std::string> argv;
  std::string identity;  // argv and its --version output
  std::string error;
};

std::string join(const std::vector<std::string>& words) {
  std::string s;
  for (const auto& w : words) s += (s.empty() ? "" : " ") + w;
  return s;
}

// One line saying why a run failed: its own error, or its status and the
// start of its output.
std::string describe_failure(const std::vector<std::string>& argv, const RunResult& r, size_t max_output) {
  if (!r.error.empty()) return r.error;
  std::string s = join(argv).substr(0, 200) + " exited with status " + std::to_string(r.status);
  if (!r.output.empty()) s += ":\n" + r.output.substr(0, max_output);
  return s;
}

Compiler find_compiler(const Settings& s) {
  std::vector<std::vector<std::string>> candidates;
  if (!s.compiler.empty()) {
    candidates.push_back(s.compiler);
  } else {
    candidates = {{"c++"}, {"g++"}};
  }
  Compiler c;
  for (const auto& argv : candidates) {
    std::vector<std::string> probe = argv;
    probe.push_back("--version");
    RunResult r = run_program(probe, s.timeout_seconds);
    if (r.ok()) {
      c.ok = true;
      c.argv = argv;
      c.identity = join(argv) + "\n" + r.output;
      return c;
    }
    c.error = describe_failure(probe, r, 200);
  }
  return c;
}

// --- process state

struct Entry {
  std::mutex building;
  std::atomic<bool> tried{false};
  std::atomic<KernelFn> fn{nullptr};
};

struct State {
  std::mutex mutex;  // guards everything but the atomics and the compiler
  Settings settings = read_settings();
  std::mutex compiler_mutex;           // held while the compiler is looked for
  std::unique_ptr<Compiler> compiler;  // found at first use
  std::unordered_map<std::string, std::shared_ptr<Entry>> kernels;
  std::set<std::string> warned;
  std::atomic<int64_t> compiled{0}, disk_hits{0}, rebuilt{0}, failed{0};
  std::atomic<uint64_t> temp_counter{0};
};

State& state() {
  static State* s = new State;  // lives for the whole program: loaded kernels may run at exit
  return *s;
}

// Verbose only; once per `key` (a kind of failure) per reset.
void warn_once(const Settings& s, const std::string& key, const std::string& message) {
  if (!s.verbose) return;
  {
    std::lock_guard lock(state().mutex);
    if (!state().warned.insert(key).second) return;
  }
  std::fprintf(stderr, "uma: compile: %s; fused kernels run in the interpreter\n", message.c_str());
}

const Compiler& compiler(const Settings& s) {
  State& st = state();
  std::lock_guard lock(st.compiler_mutex);
  if (!st.compiler) st.compiler = std::make_unique<Compiler>(find_compiler(s));
  return *st.compiler;
}

KernelFn open_kernel(const std::string& path, const std::string& name, std::string* error) {
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* e = dlerror();
    *error = e ? e : "dlopen failed";
    return nullptr;
  }
  void* sym = dlsym(handle, name.c_str());
  if (!sym) {
    *error = path + " lacks " + name;
    dlclose(handle);
    return nullptr;
  }
  return reinterpret_cast<KernelFn>(sym);
}

std::string kernel_name(const std::string& body) { return "uma_fused_" + hex64(hash64(body, 1)); }

// Compiles `source` into `path` (through a temporary file); "" or the error.
std::string build(const Compiler& cc, const std::vector<std::string>& flags, const std::string& source,
                  const std::string& path, double timeout_seconds) {
  std::string tmp = path + ".tmp-" + std::to_string(getpid()) + "-" + std::to_string(state().temp_counter++);
  std::string src = tmp + ".cpp", obj = tmp + ".so";
  {
    std::ofstream f(src, std::ios::binary);
    f << source;
    f.flush();
    if (!f) {
      std::remove(src.c_str());
      return "cannot write " + src;
    }
  }
  std::vector<std::string> argv = cc.argv;
  argv.insert(argv.end(), flags.begin(), flags.end());
  argv.insert(argv.end(), {"-o", obj, src});
  RunResult r = run_program(argv, timeout_seconds);
  std::remove(src.c_str());
  std::string error;
  if (!r.ok()) {
    error = describe_failure(argv, r, 2000);
  } else if (!append_trailer(obj)) {
    error = "cannot append to " + obj;
  } else if (std::rename(obj.c_str(), path.c_str()) != 0) {
    error = "cannot rename " + obj + " to " + path + ": " + std::strerror(errno);
  }
  if (!error.empty()) std::remove(obj.c_str());
  return error;
}

KernelFn obtain(const std::string& body, bool avx512, const Settings& s) {
  const Compiler& cc = compiler(s);
  if (!cc.ok) {
    warn_once(s, "compiler", "no working C++ compiler (" + cc.error + ")");
    return nullptr;
  }
  if (s.kernel_dir.empty()) {
    warn_once(s, "dir", "no cache folder (set UMA_CACHE_DIR or HOME)");
    return nullptr;
  }
  const std::string name = kernel_name(body), source = kernel_source(body);
  const std::vector<std::string> flags = compile_flags(avx512);
  std::string id = source + '\0' + cc.identity + '\0' + join(flags);
  const std::string path = s.kernel_dir + "/" + hex64(hash64(id, 2)) + hex64(hash64(id, 3)) + ".so";
  std::string error;
  OnDisk disk = check_file(path);
  if (disk == OnDisk::good) {
    if (KernelFn f = open_kernel(path, name, &error)) {
      ++state().disk_hits;
      return f;
    }
    disk = OnDisk::damaged;  // checked, yet not loadable: build it again
  }
  const bool damaged = disk == OnDisk::damaged;
  if (damaged) {
    ++state().rebuilt;
    std::remove(path.c_str());
  }
  // Whatever lies in the folder is loaded as code: a folder made here is
  // its owner's only.
  std::error_code ec;
  if (std::filesystem::create_directories(s.kernel_dir, ec)) {
    std::filesystem::permissions(s.kernel_dir, std::filesystem::perms::owner_all, ec);
  }
  if (ec) {
    warn_once(s, "dir", "cannot create " + s.kernel_dir + ": " + ec.message());
    return nullptr;
  }
  auto start = std::chrono::steady_clock::now();
  error = build(cc, flags, source, path, s.timeout_seconds);
  if (!error.empty()) {
    warn_once(s, "build " + name, "building " + name + " failed: " + error);
    return nullptr;
  }
  ++state().compiled;
  KernelFn f = open_kernel(path, name, &error);
  if (!f) {
    warn_once(s, "load " + name, "cannot load " + path + ": " + error);
    return nullptr;
  }
  if (s.verbose) {
    double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::fprintf(stderr, "uma: compile: built %s in %.2f s%s\n", path.c_str(), sec,
                 damaged ? " (the cached file was damaged)" : "");
  }
  return f;
}

std::shared_ptr<Entry> entry(const std::string& key) {
  std::string k = (cpu_features().has_avx512() ? "avx512\n" : "avx2\n") + key;
  State& st = state();
  std::lock_guard lock(st.mutex);
  auto& e = st.kernels[k];
  if (!e) e = std::make_shared<Entry>();
  return e;
}

}  // namespace

std::string kernel_source(const std::string& body) {
  return "// A fused elementwise kernel generated by uma's compile (backend/cpu/jit).\n#define UMA_KERNEL " +
         kernel_name(body) + "\n" + kPreludeSource + "\n" + body;
}

std::vector<std::string> compile_flags(bool avx512) {
  std::vector<std::string> f = {"-std=c++20", "-O2", "-fPIC", "-shared", "-pipe",
                                // Steps must not merge (a multiply and an add into one FMA): the
                                // unfused kernels round each step.
                                "-ffp-contract=off"};
  for (const auto& w : split_words(kBaseFlags)) f.push_back(w);
  if (avx512) {
    for (const auto& w : split_words(kAvx512Flags)) f.push_back(w);
  }
  return f;
}

Settings settings() {
  std::lock_guard lock(state().mutex);
  return state().settings;
}

Mode mode() {
  std::lock_guard lock(state().mutex);
  return state().settings.mode;
}

Stats stats() {
  const State& st = state();
  return {st.compiled.load(), st.disk_hits.load(), st.rebuilt.load(), st.failed.load()};
}

KernelFn get_kernel(const std::string& key, const std::function<std::string()>& make_body) {
  std::shared_ptr<Entry> e = entry(key);
  if (e->tried.load(std::memory_order_acquire)) return e->fn.load(std::memory_order_relaxed);
  std::lock_guard lock(e->building);
  if (!e->tried.load(std::memory_order_relaxed)) {
    KernelFn f = obtain(make_body(), cpu_features().has_avx512(), settings());
    if (!f) ++state().failed;
    e->fn.store(f, std::memory_order_relaxed);
    e->tried.store(true, std::memory_order_release);
  }
  return e->fn.load(std::memory_order_relaxed);
}

void reset() {
  State& st = state();
  std::scoped_lock lock(st.mutex, st.compiler_mutex);
  st.settings = read_settings();
  st.compiler.reset();
  st.kernels.clear();
  st.warned.clear();
  st.compiled = st.disk_hits = st.rebuilt = st.failed = 0;
}

}  // namespace uma::cpu::jit
