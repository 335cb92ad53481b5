// export_function / import_function (core/export.h): traces, signatures,
// shapeless traces, keyword arguments, constants, transforms of imported
// functions, and files that are truncated, corrupted or hostile.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "core/export_util.h"
#include "core/util.h"
#include "uma/core/fast.h"
#include "uma/core/io/function_file.h"
#include "uma/uma.h"

using namespace uma;

namespace {

using namespace test;

// A small model: a linear layer with captured weights, rms_norm, softmax.
struct Model {
  array w = values({4, 3}, 1), b = values({3}, 2), g = values({3}, 3, 0.5f, 1.5f);
  std::vector<array> operator()(const std::vector<array>& in) const {
    array h = add(matmul(in[0], w), b);
    return {softmax(fast::rms_norm(h, g, 1e-5f), -1)};
  }
};

}  // namespace

TEST(Export, RoundTripIsBitIdenticalAndKeepsMetadata) {
  TempFile file("basic");
  Model m;
  array x = values({2, 4}, 10);
  export_function(file.path, std::cref(m), {x}, false, "a small model");
  auto f = import_function(file.path);
  EXPECT_EQ(f.metadata(), "a small model");
  EXPECT_EQ(f.num_traces(), 1u);
  EXPECT_TRUE(bitwise_equal(f({x})[0], m({x})[0]));
  // Other values of the same signature run the same graph.
  array x2 = values({2, 4}, 11);
  EXPECT_TRUE(bitwise_equal(f({x2})[0], m({x2})[0]));
}

TEST(Export, OutputsMayBeInputsOrConstantsAndImportsExportAgain) {
  TempFile file("passthrough"), again("passthrough_again");
  array w = values({3}, 8);
  ArrayFn fn = [w](const std::vector<array>& in) { return std::vector<array>{in[1], w, multiply(in[0], w)}; };
  array x = values({3}, 9), y = values({2}, 10);
  export_function(file.path, fn, {x, y});
  ArrayFn f = import_function(file.path);
  auto got = f({x, y});
  ASSERT_EQ(got.size(), 3u);
  EXPECT_TRUE(bitwise_equal(got[0], y));
  EXPECT_TRUE(bitwise_equal(got[1], w));
  EXPECT_TRUE(bitwise_equal(got[2], multiply(x, w)));
  // An imported function is a function of its inputs like any other.
  export_function(again.path, f, {x, y});
  auto g = import_function(again.path);
  for (size_t i = 0; i < 3; ++i) EXPECT_TRUE(bitwise_equal(g({x, y})[i], got[i]));
}

TEST(Export, ConstantsAreStoredOnceAcrossTraces) {
  TempFile file("constants");
  array w = values({256, 256}, 4);  // 256 KiB
  ArrayFn fn = [w](const std::vector<array>& in) { return std::vector<array>{matmul(in[0], w)}; };
  auto ex = exporter(file.path, fn);
  ex({values({1, 256}, 5)});
  ex({values({3, 256}, 6)});
  ex.close();
  auto size = std::filesystem::file_size(file.path);
  EXPECT_GE(size, w.nbytes());
  EXPECT_LT(size, 2 * w.nbytes());
  auto f = import_function(file.path);
  EXPECT_EQ(f.num_traces(), 2u);
  array x = values({3, 256}, 7);
  EXPECT_TRUE(bitwise_equal(f({x})[0], fn({x})[0]));
}

TEST(Export, PicksTheTraceThatMatchesAndNamesWhatDoesNot) {
  TempFile file("traces");
  ArrayFn fn = [](const std::vector<array>& in) { return std::vector<array>{sum(multiply(in[0], in[0]), -1)}; };
  auto ex = exporter(file.path, fn);
  ex({values({2, 3}, 1)});
  ex({values({5}, 2)});
  ex({astype(values({2, 3}, 3), float16)});
  // The same signature twice is refused; the file keeps its traces.
  EXPECT_NE(error_of([&] { ex({values({2, 3}, 4)}); }).find("already holds a trace for inputs (float32 (2,3))"),
            std::string::npos);
  ex.close();
  EXPECT_NE(error_of([&] { ex({values({7}, 4)}); }).find("is closed"), std::string::npos);

  auto f = import_function(file.path);
  EXPECT_EQ(f.num_traces(), 3u);
  for (auto x : {values({2, 3}, 8), values({5}, 9), astype(values({2, 3}, 10), float16)}) {
    EXPECT_TRUE(bitwise_equal(f({x})[0], fn({x})[0]));
  }
  std::string msg = error_of([&] { f({values({4}, 11)}); });
  EXPECT_NE(msg.find("no trace matches the inputs (float32 (4))"), std::string::npos) << msg;
  EXPECT_NE(msg.find("(float32 (2,3))"), std::string::npos) << msg;
  EXPECT_NE(msg.find("(float16 (2,3))"), std::string::npos) << msg;
  EXPECT_NE(error_of([&] { f({values({2, 3}, 1), values({2, 3}, 2)}); }).find("no trace matches"), std::string::npos);
}

TEST(Export, ShapelessTracesTakeOtherShapesOfTheSameRank) {
  TempFile file("shapeless");
  ArrayFn fn = [](const std::vector<array>& in) {
    array h = multiply(exp(in[0]), in[1]);
    return std::vector<array>{h, sum(h, 0, /*keepdims=*/true), softmax(h, -1)};
  };
  export_function(file.path, fn, {values({2, 3}, 13), values({2, 3}, 14)}, /*shapeless=*/true);
  auto f = import_function(file.path);
  for (int rows : {1, 2, 7}) {
    for (int cols : {1, 3, 5}) {
      array x = values({rows, cols}, 15 + rows), y = values({rows, cols}, 16 + cols);
      auto got = f({x, y});
      auto want = fn({x, y});
      for (size_t k = 0; k < 3; ++k) EXPECT_TRUE(bitwise_equal(got[k], want[k])) << rows << "x" << cols << " " << k;
    }
  }
  std::string msg = error_of([&] { f({values({6}, 20), values({6}, 21)}); });
  EXPECT_NE(msg.find("(float32 of rank 2, float32 of rank 2)"), std::string::npos) << msg;
  EXPECT_NE(error_of([&] { f({astype(values({2, 3}, 21), float16), values({2, 3}, 22)}); }).find("no trace matches"),
            std::string::npos);
}

TEST(Export, ShapelessTracesRefuseShapesTheGraphBakedIn) {
  // A captured array is broadcast to the example input's shape at export:
  // the graph holds that shape, and other shapes are refused by name.
  TempFile file("shapeless_baked");
  array w = values({3}, 23);
  ArrayFn fn = [w](const std::vector<array>& in) { return std::vector<array>{multiply(in[0], w)}; };
  export_function(file.path, fn, {values({2, 3}, 24)}, /*shapeless=*/true);
  auto f = import_function(file.path);
  array x = values({2, 3}, 25);
  EXPECT_TRUE(bitwise_equal(f({x})[0], fn({x})[0]));
  std::string msg = error_of([&] { f({values({7, 3}, 26)}); });
  EXPECT_NE(msg.find("the shapeless trace cannot take the inputs (float32 (7,3))"), std::string::npos) << msg;
  EXPECT_NE(msg.find("Multiply: an input is not shaped like the output"), std::string::npos) << msg;
}

TEST(Export, KeywordArguments) {
  TempFile file("kwargs");
  ArgsKwargsFn fn = [](const Args& args, const Kwargs& kw) {
    return std::vector<array>{add(multiply(args[0], kw.at("scale")), kw.at("bias"))};
  };
  array x = values({2, 3}, 30), scale = values({3}, 31), bias = values({2, 3}, 32);
  export_function(file.path, fn, {x}, {{"scale", scale}, {"bias", bias}});
  auto f = import_function(file.path);
  array want = fn({x}, {{"scale", scale}, {"bias", bias}})[0];
  EXPECT_TRUE(bitwise_equal(f({x}, {{"bias", bias}, {"scale", scale}})[0], want));
  std::string msg = error_of([&] { f({x}, {{"scale", scale}}); });
  EXPECT_NE(msg.find("bias: float32 (2,3), scale: float32 (3)"), std::string::npos) << msg;
  EXPECT_NE(error_of([&] { f({x}, {{"scale", scale}, {"offset", bias}}); }).find("no trace matches"), std::string::npos);

  // Keyword arguments only.
  KwargsFn kfn = [](const Kwargs& kw) { return std::vector<array>{subtract(kw.at("a"), kw.at("b"))}; };
  export_function(file.path, kfn, Kwargs{{"a", x}, {"b", bias}});
  auto g = import_function(file.path);
  EXPECT_TRUE(bitwise_equal(g(Kwargs{{"a", x}, {"b", bias}})[0], subtract(x, bias)));
}

TEST(Export, ImportedFunctionsTransformLikeTheOriginal) {
  TempFile file("transforms");
  Model m;
  array x = values({2, 4}, 40);
  export_function(file.path, std::cref(m), {x});
  ArrayFn f = import_function(file.path);
  auto loss = [](const ArrayFn& fn) {
    return [fn](const std::vector<array>& in) { return sum(multiply(fn(in)[0], array(3.f))); };
  };
  // grad goes through the imported primitives' rules (rms_norm's through
  // the fallback its op rebuilt).
  auto g_imported = grad(loss(f))({x})[0];
  auto g_original = grad(loss(std::cref(m)))({x})[0];
  EXPECT_TRUE(bitwise_equal(g_imported, g_original));
  // jvp
  array t = values({2, 4}, 41);
  auto [o1, t1] = jvp(f, {x}, {t});
  auto [o2, t2] = jvp(std::cref(m), {x}, {t});
  EXPECT_TRUE(bitwise_equal(t1[0], t2[0]));
  // vmap over a new leading axis
  array xs = values({3, 2, 4}, 42);
  auto v1 = vmap(f, {0}, {0})({xs})[0];
  auto v2 = vmap(std::cref(m), {0}, {0})({xs})[0];
  EXPECT_TRUE(bitwise_equal(v1, v2));
  // compile of the imported function, and composition with other ops
  auto c = compile(f);
  test::expect_close(c({x})[0], m({x})[0].to_vector<double>(), 1e-6, 1e-7);
  EXPECT_TRUE(bitwise_equal(exp(f({x})[0]), exp(m({x})[0])));
}

TEST(Export, CustomFunctionsExportTheFunctionTheyWrap) {
  TempFile file("custom");
  // A straight-through estimator: forward round, backward identity.
  ArrayFn ste = custom_vjp([](const std::vector<array>& in) { return std::vector<array>{round(in[0])}; },
                           [](const std::vector<array>&, const std::vector<array>& cot, const std::vector<array>&) {
                             return cot;
                           });
  ArrayFn fn = [ste](const std::vector<array>& in) {
    return std::vector<array>{multiply(ste({in[0]})[0], in[0])};
  };
  array x = values({5}, 50, 0.f, 3.f);
  export_function(file.path, fn, {x});
  ArrayFn f = import_function(file.path);
  EXPECT_TRUE(bitwise_equal(f({x})[0], fn({x})[0]));
  // The custom rule is dropped: the gradient is the wrapped function's own
  // (round's is zero), d(round(x) * x)/dx = round(x).
  auto loss = [](const ArrayFn& g) { return [g](const std::vector<array>& in) { return sum(g(in)[0]); }; };
  EXPECT_TRUE(bitwise_equal(grad(loss(f))({x})[0], round(x)));
  // checkpoint's rule recomputes the same function: the same gradient.
  ArrayFn ck = checkpoint([](const std::vector<array>& in) { return std::vector<array>{tanh(exp(in[0]))}; });
  export_function(file.path, ck, {x});
  ArrayFn h = import_function(file.path);
  EXPECT_TRUE(bitwise_equal(grad(loss(h))({x})[0], grad(loss(ck))({x})[0]));
}

TEST(Export, RandomnessFromAKeyInputStaysAnInput) {
  TempFile file("random");
  ArrayFn fn = [](const std::vector<array>& in) {
    auto [k1, k2] = random::split(in[0]);
    return std::vector<array>{add(random::normal({4}, float32, 0.f, 1.f, k1), random::uniform({4}, float32, k2))};
  };
  export_function(file.path, fn, {random::key(1)});
  auto f = import_function(file.path);
  for (uint64_t seed : {1u, 2u, 99u}) EXPECT_TRUE(bitwise_equal(f({random::key(seed)})[0], fn({random::key(seed)})[0]));
  EXPECT_FALSE(bitwise_equal(f({random::key(1)})[0], f({random::key(2)})[0]));
}

TEST(Export, CompiledFunctionsInsideExportAsFusedNodes) {
  TempFile file("compiled");
  ArrayFn inner = compile([](const std::vector<array>& in) {
    return std::vector<array>{tanh(add(multiply(in[0], in[0]), array(0.5f)))};
  });
  ArrayFn fn = [inner](const std::vector<array>& in) { return std::vector<array>{sum(inner(in)[0], -1)}; };
  array x = values({3, 64}, 60);
  export_function(file.path, fn, {x});
  ArrayFn f = import_function(file.path);
  EXPECT_TRUE(bitwise_equal(f({x})[0], fn({x})[0]));
  auto loss = [](const ArrayFn& g) { return [g](const std::vector<array>& in) { return sum(g(in)[0]); }; };
  EXPECT_TRUE(bitwise_equal(grad(loss(f))({x})[0], grad(loss(fn))({x})[0]));
}

TEST(Export, WritesAreAtomic) {
  TempFile file("atomic");
  ArrayFn fn = [](const std::vector<array>& in) { return std::vector<array>{exp(in[0])}; };
  export_function(file.path, fn, {values({2}, 1)});
  std::string before = read_file(file.path);
  // A failed export leaves the file as it was.
  ArrayFn bad = [](const std::vector<array>&) -> std::vector<array> { throw std::invalid_argument("[test] boom"); };
  EXPECT_EQ(error_of([&] { export_function(file.path, bad, {values({2}, 1)}); }), "[test] boom");
  EXPECT_EQ(read_file(file.path), before);
  auto dir = std::filesystem::temp_directory_path() / "uma_test_export_no_such_dir" / "f.umafn";
  EXPECT_NE(error_of([&] { export_function(dir.string(), fn, {values({2}, 1)}); }).find("export_function"),
            std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir.parent_path()));
  EXPECT_EQ(read_file(file.path), before);
  // No temporary files are left beside the target.
  for (auto& e : std::filesystem::directory_iterator(std::filesystem::temp_directory_path())) {
    EXPECT_EQ(e.path().filename().string().find("uma_test_export_atomic.umafn.tmp"), std::string::npos);
  }
}

TEST(Export, ExportToDotNamesThePrimitives) {
  array x = values({2, 2}, 70);
  array y = exp(add(x, x));
  std::ostringstream os;
  export_to_dot(os, {y});
  std::string dot = os.str();
  EXPECT_EQ(dot.rfind("digraph {", 0), 0u);
  EXPECT_NE(dot.find("label=\"Add\""), std::string::npos) << dot;
  EXPECT_NE(dot.find("label=\"Exp\""), std::string::npos) << dot;
  EXPECT_NE(dot.find("float32 (2,2)"), std::string::npos) << dot;
}

// Files written by the Python encoder in fuzz/make_seeds.py (from
// docs/export_format.md alone) read back and compute what they describe.
TEST(Export, ReadsFilesFromAnIndependentEncoder) {
  std::string dir = std::string(UMA_SOURCE_DIR) + "/tests/fixtures/export/";
  array x = array({0.f, 1.f, -1.f, 2.f, 0.5f, 3.f}, {2, 3});
  auto f = import_function(dir + "exp_add.umafn");
  EXPECT_EQ(f.metadata(), "seed");
  EXPECT_TRUE(bitwise_equal(f({x})[0], add(exp(x), array({1.f, 2.f, 3.f, 4.f, 5.f, 6.f}, {2, 3}))));
  // sum over axis 1, reshaped to (2,): shapeless, so (4, 3) works too
  auto g = import_function(dir + "reduce.umafn");
  EXPECT_TRUE(bitwise_equal(g({x})[0], sum(x, 1)));
  array x4 = values({4, 3}, 90);
  EXPECT_NE(error_of([&] { g({x4}); }).find("Reshape: changes the number of elements"), std::string::npos);
  // a * w + b, with a and b keyword inputs or a positional
  auto h = import_function(dir + "kwargs.umafn");
  EXPECT_EQ(h.num_traces(), 2u);
  array a = array({1.f, 2.f, 3.f}), b = array({0.f, 0.5f, 1.f}), w = array({0.5f, -1.f, 2.f});
  array want = add(multiply(a, w), b);
  EXPECT_TRUE(bitwise_equal(h(Kwargs{{"a", a}, {"b", b}})[0], want));
  EXPECT_TRUE(bitwise_equal(h({a}, {{"b", b}})[0], want));
}

// --- hostile files

namespace {

// A small exported function with a few node kinds and a constant.
std::string small_file(const std::string& path) {
  array w = values({3}, 80);
  ArrayFn fn = [w](const std::vector<array>& in) {
    array h = add(multiply(in[0], w), array(1.f));
    return std::vector<array>{sum(exp(h), -1), transpose(h)};
  };
  export_function(path, fn, {values({2, 3}, 81)});
  return read_file(path);
}

}  // namespace

TEST(ExportHostile, TruncationAtEveryByteIsAnError) {
  TempFile file("truncate");
  std::string bytes = small_file(file.path);
  ASSERT_LT(bytes.size(), 4096u);
  for (size_t n = 0; n < bytes.size(); ++n) {
    write_file(file.path, bytes.substr(0, n));
    std::string msg = error_of([&] { import_function(file.path); });
    EXPECT_EQ(msg.rfind("[import_function]", 0), 0u) << "truncated to " << n << " bytes: " << msg;
  }
}

TEST(ExportHostile, WrongMagicOrVersionIsNamed) {
  TempFile file("magic");
  std::string bytes = small_file(file.path);
  std::string bad = bytes;
  bad[0] = 'X';
  write_file(file.path, bad);
  EXPECT_NE(error_of([&] { import_function(file.path); }).find("bad magic"), std::string::npos);
  bad = bytes;
  bad[8] = 7;
  write_file(file.path, bad);
  EXPECT_NE(error_of([&] { import_function(file.path); }).find("format version 7 is not the one this build reads (1)"),
            std::string::npos);
  bad = bytes;
  bad[100] ^= 0x40;  // inside the graph section
  write_file(file.path, bad);
  EXPECT_NE(error_of([&] { import_function(file.path); }).find("checksum"), std::string::npos);
}

TEST(ExportHostile, RandomByteFlipsNeverCrash) {
  TempFile file("flips");
  std::string bytes = small_file(file.path);
  std::mt19937 rng(1234);
  for (int trial = 0; trial < 1500; ++trial) {
    std::string bad = bytes;
    int flips = 1 + int(rng() % 4);
    for (int k = 0; k < flips; ++k) bad[rng() % bad.size()] ^= char(1 + rng() % 255);
    // Half the trials get a valid checksum, to reach the structural checks.
    if (trial % 2) restamp(bad);
    import_and_run(file.path, bad, {values({2, 3}, 82)});
  }
}

TEST(ExportHostile, HostileCountsAndIndicesAreRefused) {
  TempFile file("hostile");
  std::string bytes = small_file(file.path);
  uint64_t graph_size;
  std::memcpy(&graph_size, bytes.data() + 24, 8);
  // Every byte of the graph set to each of a few values that make counts,
  // lengths and indices huge or negative, with the checksum re-stamped.
  for (size_t pos = 64; pos < 64 + graph_size; ++pos) {
    for (uint8_t v : {0x00, 0x01, 0x7f, 0x80, 0xff}) {
      std::string bad = bytes;
      bad[pos] = char(v);
      restamp(bad);
      import_and_run(file.path, bad, {values({2, 3}, 82)});
    }
  }
}
