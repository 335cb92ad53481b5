// Helpers of the I/O suites: a scratch directory, whole-file reads and
// writes, row-major bytes of arrays, and error-message checks.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/util.h"
#include "uma/uma.h"

namespace uma::test {

inline std::string fixture(const std::string& name) { return std::string(UMA_SOURCE_DIR) + "/tests/fixtures/io/" + name; }

// A fresh directory per test, removed afterwards.
class IoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("uma_io_" + std::to_string(::getpid()) + "_" + info->test_suite_name() + "_" + info->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string tmp(const std::string& name) const { return (dir_ / name).string(); }
  size_t files_in_dir() const {
    return size_t(std::distance(std::filesystem::directory_iterator(dir_), std::filesystem::directory_iterator()));
  }
  std::filesystem::path dir_;
};

inline std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(bytes.data(), std::streamsize(bytes.size()));
}

// Row-major bytes of `a` in its own dtype.
inline std::string bytes_of(array a) {
  a.eval();
  std::string out(a.nbytes(), '\0');
  if (a.nbytes()) detail::read_elements(a, out.data(), a.dtype());
  return out;
}

inline void expect_same(const array& got, const array& want) {
  EXPECT_EQ(got.dtype(), want.dtype());
  EXPECT_EQ(got.shape(), want.shape());
  EXPECT_EQ(bytes_of(got), bytes_of(want));
}

// Every dtype, each holding a (2, 3) array with distinct, exactly
// representable values (complex ones with an imaginary part).
inline std::vector<array> sample_arrays() {
  std::vector<array> out;
  for (int t = 0; t < num_dtypes; ++t) {
    Dtype dt = static_cast<Dtype>(t);
    if (dt == complex64) {
      std::vector<complex64_t> v{{1, -1}, {2, 0.5f}, {-3, 0}, {0, 4}, {5, 5}, {-6, -0.25f}};
      out.push_back(array(v.data(), {2, 3}));
    } else if (dt == bool_) {
      out.push_back(array(std::vector<bool>{true, false, false, true, true, false}, {2, 3}));
    } else {
      out.push_back(astype(reshape(arange(1, 7), {2, 3}), dt));
    }
  }
  return out;
}

// Runs `f`, expecting std::invalid_argument whose message holds every
// fragment.
template <typename F>
void expect_error(F&& f, const std::vector<std::string>& fragments) {
  try {
    f();
    ADD_FAILURE() << "no exception; expected one mentioning " << fragments[0];
  } catch (const std::invalid_argument& e) {
    std::string msg = e.what();
    for (auto& frag : fragments) EXPECT_NE(msg.find(frag), std::string::npos) << "'" << frag << "' not in: " << msg;
  }
}

// Writes bytes to `path` and expects `load(path)` to throw a message naming
// `op`, the path and the fragments; numbers its checks in failure traces.
template <typename Load>
struct LoadErrorCheck {
  Load load;
  std::string op, path;
  int count = 0;
  void operator()(const std::string& bytes, std::vector<std::string> fragments) {
    SCOPED_TRACE("check #" + std::to_string(++count));
    write_file(path, bytes);
    fragments.insert(fragments.begin(), {op, path});
    expect_error([&] { load(path); }, fragments);
  }
};
template <typename Load>
LoadErrorCheck<Load> load_error_check(Load load, std::string op, std::string path) {
  return {std::move(load), std::move(op), std::move(path)};
}

}  // namespace uma::test
