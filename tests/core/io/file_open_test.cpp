// open_regular_file / read_small_file: files from outside are opened only
// when regular (a FIFO must not block, /dev/zero must not be read without
// end) and read whole only up to a cap.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "uma/core/io/file.h"

namespace {

namespace fs = std::filesystem;

fs::path temp_path(const std::string& name) {
  return fs::temp_directory_path() / ("uma_file_open_" + std::to_string(::getpid()) + "_" + name);
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(FileOpen, RefusesSpecialFilesNamingThem) {
  fs::path fifo = temp_path("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // Returns at once (the open does not wait for a writer).
  EXPECT_EQ(error_of([&] { uma::io::read_small_file(fifo.string(), "op"); }),
            "[op] " + fifo.string() + " is a FIFO, not a regular file");
  EXPECT_EQ(error_of([&] { uma::io::MappedFile::open(fifo.string(), "map"); }),
            "[map] " + fifo.string() + " is a FIFO, not a regular file");
  fs::remove(fifo);
  fs::path dir = temp_path("dir");
  fs::create_directory(dir);
  EXPECT_EQ(error_of([&] { uma::io::read_small_file(dir.string(), "op"); }),
            "[op] " + dir.string() + " is a directory, not a regular file");
  fs::remove(dir);
  fs::path zero = temp_path("zero");
  fs::create_symlink("/dev/zero", zero);
  EXPECT_EQ(error_of([&] { uma::io::read_small_file(zero.string(), "op"); }),
            "[op] " + zero.string() + " is a device, not a regular file");
  fs::remove(zero);
  EXPECT_EQ(error_of([&] { uma::io::read_small_file("/no/such/file", "op"); }),
            "[op] cannot open /no/such/file: No such file or directory");
}

TEST(FileOpen, ReadsWholeFilesUpToTheCap) {
  fs::path p = temp_path("text");
  std::string text;
  for (int i = 0; i < 10000; ++i) text += char('a' + i % 26);
  std::ofstream(p, std::ios::binary) << text;
  EXPECT_EQ(uma::io::read_small_file(p.string(), "op"), text);
  EXPECT_EQ(uma::io::read_small_file(p.string(), "op", 10000), text);
  EXPECT_EQ(error_of([&] { uma::io::read_small_file(p.string(), "op", 9999); }),
            "[op] " + p.string() + " is 10000 bytes, more than the 9999 bytes allowed");
  uint64_t size = 0;
  int fd = uma::io::open_regular_file(p.string(), "op", &size);
  EXPECT_EQ(size, 10000u);
  // Blocking mode again: O_NONBLOCK was only for the open.
  EXPECT_EQ(::fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
  ::close(fd);
  fs::remove(p);
  // Files that report size 0 but have contents (procfs) are read to the end.
  std::ifstream f("/proc/self/cmdline", std::ios::binary);
  std::string cmdline((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(cmdline.empty());
  EXPECT_EQ(uma::io::read_small_file("/proc/self/cmdline", "op"), cmdline);
  EXPECT_NE(
      error_of([&] { uma::io::read_small_file("/proc/self/cmdline", "op", 2); }).find("more than"),
      std::string::npos);
}

}  // namespace
