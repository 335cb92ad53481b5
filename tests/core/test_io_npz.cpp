#include <cstring>

#include "core/io_util.h"
#include "uma/core/io/zip.h"

using namespace uma;
using namespace uma::test;

using Npz = IoTest;

namespace {
void check_savez_members(std::map<std::string, array> z) {
  ASSERT_TRUE(z.count("weights") && z.count("mask") && z.count("ids") && z.count("scalar"));
  array w = z.at("weights");
  EXPECT_EQ(w.shape(), (Shape{3, 4}));
  expect_close(w, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
  EXPECT_EQ(z.at("mask").to_vector<bool>(), (std::vector<bool>{true, false, true}));
  EXPECT_EQ(z.at("ids").dtype(), int64);
  EXPECT_EQ(z.at("ids").to_vector<int64_t>(), (std::vector<int64_t>{7, 8, 9}));
  EXPECT_EQ(z.at("scalar").ndim(), 0u);
  EXPECT_EQ(z.at("scalar").item<double>(), 2.5);
}
}  // namespace

// numpy.savez (stored, ZIP64 local headers) and numpy.savez_compressed
// (deflated) archives.
TEST_F(Npz, ReadsNumpyArchives) {
  auto z = load_npz(fixture("savez.npz"));
  EXPECT_EQ(z.size(), 4u);
  check_savez_members(z);
  auto c = load_npz(fixture("savez_compressed.npz"));
  EXPECT_EQ(c.size(), 6u);
  check_savez_members(c);
  EXPECT_EQ(c.at("zeros").shape(), (Shape{64, 64}));
  auto ramp = c.at("ramp").to_vector<int>();
  ASSERT_EQ(ramp.size(), 1000u);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(ramp[i], i % 7);
}

TEST_F(Npz, RoundTripStoredAndCompressed) {
  std::map<std::string, array> arrays;
  for (auto& a : sample_arrays()) arrays.emplace(dtype_name(a.dtype()), a);
  arrays.emplace("view", transpose(reshape(arange(12, float32), {3, 4})));
  arrays.emplace("empty", zeros({0}, int8));
  arrays.emplace("zero_d", array(42u));
  arrays.emplace("dir/ünï", ones({2, 2}));
  for (bool compressed : {false, true}) {
    SCOPED_TRACE(compressed);
    std::string p = tmp(compressed ? "c.npz" : "s.npz");
    save_npz(p, arrays, compressed);
    auto back = load_npz(p);
    ASSERT_EQ(back.size(), arrays.size());
    for (auto& [k, a] : arrays) {
      SCOPED_TRACE(k);
      expect_same(back.at(k), a);
    }
  }
  // Each member is exactly the .npy file numpy would write.
  savez(tmp("one.npz"), {{"a", reshape(arange(6, float32), {2, 3})}});
  std::string z = read_file(tmp("one.npz")), npy = read_file(fixture("f4_2x3.npy"));
  EXPECT_NE(z.find(npy), std::string::npos);
  EXPECT_EQ(z.substr(30, 5), "a.npy");
  // A large, repetitive array compresses.
  savez_compressed(tmp("big.npz"), {{"z", zeros({256, 256})}});
  EXPECT_LT(read_file(tmp("big.npz")).size(), 4096u);
  EXPECT_EQ(load_npz(tmp("big.npz")).at("z").shape(), (Shape{256, 256}));
  EXPECT_EQ(files_in_dir(), 4u);
}

TEST_F(Npz, MalformedArchivesGiveClearErrors) {
  const std::string p = tmp("bad.npz");
  auto check = load_error_check([](const std::string& f) { load_npz(f); }, "[load_npz]", p);
  const std::string stored = read_file(fixture("savez.npz"));
  const std::string deflated = read_file(fixture("savez_compressed.npz"));
  check("", {"too short"});
  check(std::string(100, 'x'), {"end-of-central-directory"});
  check(stored.substr(0, stored.size() - 10), {"end-of-central-directory"});
  check(stored.substr(stored.size() - 200), {});  // central directory offset before the start

  // A flipped data byte inside the first stored member: CRC mismatch.
  std::string flipped = stored;
  size_t at = flipped.find("\x93NUMPY") + 130;  // inside the first member
  flipped[at] ^= 0x5a;
  check(flipped, {"CRC-32"});
  // Corrupt deflate data.
  std::string broken = deflated;
  for (size_t i = 60; i < 120; ++i) broken[i] = char(0xff);
  check(broken, {"member"});
  // An unknown compression method in the central directory.
  std::string method = stored;
  size_t cd = method.find("PK\x01\x02");
  ASSERT_NE(cd, std::string::npos);
  method[cd + 10] = 12;  // bzip2
  check(method, {"compression method 12"});
  // A central directory entry pointing past the end of the file.
  std::string offset = stored;
  offset[cd + 42] = char(0xf0);
  offset[cd + 43] = char(0xff);
  offset[cd + 44] = char(0xff);
  offset[cd + 45] = char(0x7f);
  check(offset, {"local header"});
  // A member whose .npy bytes are bad is named (valid zip, CRC included).
  {
    io::AtomicWriter w(p, "test");
    io::ZipWriter zip(w, p, "test");
    zip.begin("x.npy", false);
    zip.write("garbage", 7);
    zip.end();
    zip.finish();
    w.commit();
  }
  expect_error([&] { load_npz(p); }, {"[load_npz]", p, "member 'x.npy'", "bad magic"});
}
