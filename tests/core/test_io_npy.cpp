#include <complex>
#include <cstring>

#include "core/io_util.h"

using namespace uma;
using namespace uma::test;

using Npy = IoTest;

// Files written by numpy itself (tests/fixtures/io/make_io_fixtures.py).
TEST_F(Npy, ReadsNumpyFiles) {
  array a = load_npy(fixture("f4_2x3.npy"));
  EXPECT_EQ(a.dtype(), float32);
  EXPECT_EQ(a.shape(), (Shape{2, 3}));
  expect_close(a, {0, 1, 2, 3, 4, 5});
  EXPECT_FALSE(a.is_donatable());  // a view of the read-only mapping

  array h = load_npy(fixture("f2_4.npy"));
  EXPECT_EQ(h.dtype(), float16);
  expect_close(h, {0.5, -1.25, 65504, 1e-4}, 1e-3);
  EXPECT_EQ(load_npy(fixture("b1_5.npy")).to_vector<bool>(), (std::vector<bool>{true, false, true, true, false}));
  array c = load_npy(fixture("c8_3.npy"));
  EXPECT_EQ(c.dtype(), complex64);
  EXPECT_EQ(c.to_vector<complex64_t>(), (std::vector<complex64_t>{{1, 2}, {0, -3.5f}, {4, 0}}));
  EXPECT_EQ(load_npy(fixture("i8_3.npy")).to_vector<int64_t>(),
            (std::vector<int64_t>{-(int64_t(1) << 40), 0, int64_t(1) << 62}));
  array u = load_npy(fixture("u1_4.npy"));
  EXPECT_EQ(u.dtype(), uint8);
  EXPECT_EQ(u.to_vector<int>(), (std::vector<int>{0, 1, 200, 255}));

  array s = load_npy(fixture("f4_0d.npy"));
  EXPECT_EQ(s.ndim(), 0u);
  EXPECT_EQ(s.item<float>(), 3.5f);
  array e = load_npy(fixture("f4_0x3.npy"));
  EXPECT_EQ(e.shape(), (Shape{0, 3}));
  EXPECT_EQ(e.size(), 0u);
  for (const char* v : {"i2_10_v2.npy", "i2_10_v3.npy"}) {
    array x = load_npy(fixture(v));
    EXPECT_EQ(x.dtype(), int16) << v;
    EXPECT_EQ(x.to_vector<int>(), (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})) << v;
  }
}

TEST_F(Npy, BigEndianIsConverted) {
  array f = load_npy(fixture("f8_big_2x2.npy"));
  EXPECT_EQ(f.dtype(), float64);
  EXPECT_EQ(f.to_vector<double>(), (std::vector<double>{1.5, -2.0, 3.25, 1e300}));
  EXPECT_EQ(load_npy(fixture("i4_big_3.npy")).to_vector<int>(), (std::vector<int>{1, -2, 70000}));
  EXPECT_EQ(load_npy(fixture("c8_big_2.npy")).to_vector<complex64_t>(),
            (std::vector<complex64_t>{{1, 2}, {-3, -0.5f}}));
}

TEST_F(Npy, FortranOrderReadsTheLogicalArray) {
  array f = load_npy(fixture("i4_fortran_2x3x4.npy"));
  ASSERT_EQ(f.shape(), (Shape{2, 3, 4}));
  auto v = f.to_vector<int>();
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k) EXPECT_EQ(v[(i * 3 + j) * 4 + k], 100 * i + 10 * j + k);
}

// numpy.save output, byte for byte (header dict, growth padding, 64-byte
// alignment, '|' for one-byte types).
TEST_F(Npy, SaveIsByteIdenticalToNumpy) {
  auto same = [&](const array& a, const char* name) {
    save_npy(tmp(name), a);
    EXPECT_EQ(read_file(tmp(name)), read_file(fixture(name))) << name;
  };
  same(reshape(arange(6, float32), {2, 3}), "f4_2x3.npy");
  same(astype(array({0.5, -1.25, 65504.0, 1e-4}), float16), "f2_4.npy");
  same(array(std::vector<bool>{true, false, true, true, false}, {5}), "b1_5.npy");
  std::vector<complex64_t> c{{1, 2}, {-0.0f, -3.5f}, {4, 0}};  // numpy's -3.5j has real part -0.0
  same(array(c.data(), {3}), "c8_3.npy");
  same(array({-(int64_t(1) << 40), int64_t(0), int64_t(1) << 62}), "i8_3.npy");
  same(astype(array({0, 1, 200, 255}), uint8), "u1_4.npy");
  same(array(3.5f), "f4_0d.npy");
  same(zeros({0, 3}), "f4_0x3.npy");
}

TEST_F(Npy, RoundTripEveryDtypeAndLayout) {
  for (auto& a : sample_arrays()) {
    SCOPED_TRACE(dtype_name(a.dtype()));
    save_npy(tmp("x.npy"), a);
    expect_same(load_npy(tmp("x.npy")), a);
    save_npy(tmp("t.npy"), transpose(a));  // a view: stored in C order
    expect_same(load_npy(tmp("t.npy")), transpose(a));
  }
  array base = reshape(arange(60, int32), {3, 4, 5});
  for (array v : {slice(base, {2, 0, 1}, {-4, 4, 5}, {-1, 3, 2}), broadcast_to(array({1, 2}), {2, 2, 2}),
                  array(std::vector<int>{}, {2, 0, 3}), array(int16_t(-9))}) {
    save_npy(tmp("v.npy"), v);
    expect_same(load_npy(tmp("v.npy")), v);
  }
  // MLX's `save` appends the extension.
  save(tmp("plain"), array({1.0f}));
  EXPECT_EQ(load(tmp("plain.npy")).item<float>(), 1.0f);
  EXPECT_EQ(files_in_dir(), 4u);
}

TEST_F(Npy, MalformedFilesGiveClearErrors) {
  const std::string p = tmp("bad.npy");
  const std::string good = read_file(fixture("f4_2x3.npy"));
  auto with_header = [](std::string dict) {
    dict += "\n";
    std::string out("\x93NUMPY\x01\x00", 8);
    out.push_back(char(dict.size() & 0xff));
    out.push_back(char(dict.size() >> 8));
    return out + dict;
  };
  auto check = load_error_check([](const std::string& f) { load_npy(f); }, "[load_npy]", p);
  expect_error([&] { load_npy(tmp("missing.npy")); }, {"[load_npy]", "missing.npy"});
  check("", {"bad magic"});
  check("PK\x03\x04 not npy at all", {"bad magic"});
  check(good.substr(0, 9), {"bad magic"});
  check(good.substr(0, 40), {"truncated"});
  check(good.substr(0, good.size() - 1), {"needs 24 bytes", "truncated"});
  std::string v9 = good;
  v9[6] = 9;
  check(v9, {"version 9"});
  check(with_header("{'descr': '<U4', 'fortran_order': False, 'shape': (2,), }") + std::string(32, 'a'),
        {"'<U4'"});
  check(with_header("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }"), {"structured"});
  check(with_header("{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }") + std::string(16, '\0'),
        {"'<c16'"});
  check(with_header("{'descr': '<f4', 'shape': (2,), }") + std::string(8, '\0'), {"lacks"});
  check(with_header("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,), }"), {"True or False"});
  check(with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -1), }"), {"malformed shape"});
  check(with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999,), }"), {"too large"});
  check(with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2147483647, 2147483647, 2147483647), }"),
        {"too large"});
  check(with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2,"), {"malformed"});
  check(with_header("{'descr': '<f4, 'fortran_order': False}"), {"expected"});
  // A 2.0 header whose length runs past the file.
  check(std::string("\x93NUMPY\x02\x00\xff\xff\x00\x00{}", 14), {"past the end"});
  check(std::string("\x93NUMPY\x02\x00\xff\xff\xff\x7f{}", 14), {"too large"});
}
