// GGUF writer and quantizers: files the reader (io::gguf::File) reads back
// key for key and byte for byte; quantized blocks equal to llama.cpp's
// (tests/fixtures/gguf/quant_goldens.json, made with gguf-py's quantizers by
// make_quant_goldens.py) and within each type's rounding of the input.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "uma/core/io/gguf.h"
#include "uma/core/io/gguf_quants.h"
#include "uma/core/io/gguf_writer.h"

namespace uma::io::gguf {
namespace {

namespace fs = std::filesystem;

fs::path temp_path(const std::string& name) {
  return fs::temp_directory_path() / ("uma_gguf_writer_" + std::to_string(::getpid()) + "_" + name);
}

std::vector<uint8_t> from_hex(const std::string& h) {
  std::vector<uint8_t> out(h.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) out[i] = uint8_t(std::stoi(h.substr(2 * i, 2), nullptr, 16));
  return out;
}

nlohmann::json read_goldens(const std::string& name) {
  std::ifstream f(std::string(UMA_SOURCE_DIR) + "/tests/fixtures/gguf/" + name);
  return nlohmann::json::parse(f);
}

const nlohmann::json& goldens() {
  static nlohmann::json j = read_goldens("quant_goldens.json");
  return j;
}

TEST(GgufWriter, EveryValueTypeReadsBack) {
  fs::path p = temp_path("kv.gguf");
  fs::remove(p);
  Writer w;
  w.add_uint8("u8", 200);
  w.add_int8("i8", -100);
  w.add_uint16("u16", 60000);
  w.add_int16("i16", -30000);
  w.add_uint32("u32", 4000000000u);
  w.add_int32("i32", -2000000000);
  w.add_uint64("u64", uint64_t(1) << 60);
  w.add_int64("i64", -(int64_t(1) << 60));
  w.add_float32("f32", 0.1f);
  w.add_float64("f64", 0.1);
  w.add_bool("yes", true);
  w.add_string("s", "h\xc3\xa9llo");
  w.add_strings("ss", {"a", "", "b c"});
  w.add_array("ints", ValueType::INT32, std::vector<int32_t>{1, -2, 3});
  w.add_array("floats", ValueType::FLOAT32, std::vector<float>{1.5f, -2.5f});
  w.add_array("flags", ValueType::BOOL, std::vector<uint8_t>{1, 0});
  EXPECT_THROW(w.add_uint8("u8", 1), std::invalid_argument);  // twice
  EXPECT_THROW(w.add_array("bad", ValueType::INT64, std::vector<int32_t>{1}), std::invalid_argument);
  std::vector<float> vec = {1, 2, 3};
  w.add_tensor("v", GgmlType::F32, {3}, [&](uint8_t* out) { std::memcpy(out, vec.data(), 12); });
  std::vector<float> mat(64 * 2);
  for (size_t i = 0; i < mat.size(); ++i) mat[i] = float(i) / 7.0f;
  w.add_tensor("m", GgmlType::Q8_0, {64, 2}, [&](uint8_t* out) { quantize(uint32_t(GgmlType::Q8_0), mat.data(), 128, out); });
  w.write(p.string());

  File f = File::open(p);
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.alignment(), 32u);
  EXPECT_EQ(f.at("general.alignment").as_uint(), 32u);
  EXPECT_EQ(f.at("u8").as_uint(), 200u);
  EXPECT_EQ(f.at("i8").as_int(), -100);
  EXPECT_EQ(f.at("u16").as_uint(), 60000u);
  EXPECT_EQ(f.at("i16").as_int(), -30000);
  EXPECT_EQ(f.at("u32").as_uint(), 4000000000u);
  EXPECT_EQ(f.at("i32").as_int(), -2000000000);
  EXPECT_EQ(f.at("u64").as_uint(), uint64_t(1) << 60);
  EXPECT_EQ(f.at("i64").as_int(), -(int64_t(1) << 60));
  EXPECT_EQ(f.at("f32").type(), ValueType::FLOAT32);
  EXPECT_EQ(float(f.at("f32").as_float()), 0.1f);
  EXPECT_EQ(f.at("f64").as_float(), 0.1);
  EXPECT_TRUE(f.at("yes").as_bool());
  EXPECT_EQ(f.at("s").as_string(), "h\xc3\xa9llo");
  EXPECT_EQ(f.at("ss").as_strings(), (std::vector<std::string_view>{"a", "", "b c"}));
  EXPECT_EQ(f.at("ints").as_ints(), (std::vector<int64_t>{1, -2, 3}));
  EXPECT_EQ(f.at("floats").as_floats(), (std::vector<float>{1.5f, -2.5f}));
  EXPECT_EQ(f.at("flags").element_type(), ValueType::BOOL);
  ASSERT_EQ(f.tensors().size(), 2u);
  const TensorInfo* v = f.tensor("v");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->dims, std::vector<uint64_t>{3});
  EXPECT_EQ(std::memcmp(f.tensor_data(*v).data(), vec.data(), 12), 0);
  const TensorInfo* m = f.tensor("m");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->type, uint32_t(GgmlType::Q8_0));
  EXPECT_EQ(m->dims, (std::vector<uint64_t>{64, 2}));
  EXPECT_EQ(m->offset % 32, 0u);
  EXPECT_EQ(f.data_offset() % 32, 0u);
  std::vector<float> back(128);
  dequantize(m->type, f.tensor_data(*m).data(), 128, back.data());
  for (size_t i = 0; i < back.size(); ++i) EXPECT_NEAR(back[i], mat[i], 18.3 / 127 * 0.6) << i;
  fs::remove(p);
}

TEST(GgufWriter, RefusesAnExistingPathAndLeavesNothingOnFailure) {
  fs::path p = temp_path("exists.gguf");
  std::ofstream(p) << "keep";
  Writer w;
  w.add_string("k", "v");
  EXPECT_THROW(w.write(p.string()), std::invalid_argument);
  EXPECT_EQ(fs::file_size(p), 4u);
  fs::remove(p);

  Writer bad;
  bad.add_tensor("t", GgmlType::F32, {4}, [](uint8_t*) { throw std::runtime_error("fill failed"); });
  EXPECT_THROW(bad.write(p.string()), std::runtime_error);
  EXPECT_FALSE(fs::exists(p));
  for (const auto& e : fs::directory_iterator(p.parent_path())) {
    EXPECT_EQ(e.path().filename().string().rfind(p.filename().string() + ".tmp", 0), std::string::npos) << e.path();
  }
  EXPECT_THROW(bad.add_tensor("q", GgmlType::Q4_0, {48}, [](uint8_t*) {}), std::invalid_argument);  // not whole blocks
}

// Byte for byte what llama.cpp's quantizers write.
TEST(GgufQuantize, MatchesLlamaCppBytes) {
  const auto& cases = goldens()["cases"];
  ASSERT_GE(cases.size(), 5u);
  for (const char* name : {"F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1"}) {
    uint32_t type = 0;
    for (uint32_t t = 0; t < 40; ++t) {
      if (type_traits(t) && std::string(type_traits(t)->name) == name) type = t;
    }
    ASSERT_TRUE(can_quantize(type)) << name;
    for (size_t c = 0; c < cases.size(); ++c) {
      auto in = from_hex(cases[c]["input"]);
      int64_t n = cases[c]["n"];
      auto want = from_hex(cases[c][name]);
      std::vector<float> x(static_cast<size_t>(n));
      std::memcpy(x.data(), in.data(), in.size());
      std::vector<uint8_t> got(want.size());
      quantize(type, x.data(), n, got.data());
      for (size_t i = 0; i < got.size(); ++i) ASSERT_EQ(int(got[i]), int(want[i])) << name << " case " << c << " byte " << i;
    }
  }
}

// The K-quants, byte for byte what llama.cpp's ggml_quantize_chunk (as
// llama-quantize runs it, without an importance matrix) writes
// (tests/fixtures/gguf/kquant_goldens.json, make_kquant_goldens.py): normal,
// weight-like with outliers, heavy-tailed, all-positive, integer-valued and
// edge rows (zeros, constants, 65504, subnormal and beyond-float16 scales).
TEST(GgufQuantize, KQuantsMatchLlamaCppBytes) {
  static const nlohmann::json j = read_goldens("kquant_goldens.json");
  const auto& cases = j["cases"];
  ASSERT_GE(cases.size(), 9u);
  for (auto [name, type] : {std::pair{"Q2_K", GgmlType::Q2_K}, std::pair{"Q3_K", GgmlType::Q3_K},
                            std::pair{"Q4_K", GgmlType::Q4_K}, std::pair{"Q5_K", GgmlType::Q5_K},
                            std::pair{"Q6_K", GgmlType::Q6_K}}) {
    ASSERT_TRUE(can_quantize(uint32_t(type))) << name;
    const size_t block = type_traits(uint32_t(type))->type_size;
    for (size_t c = 0; c < cases.size(); ++c) {
      auto in = from_hex(cases[c]["input"]);
      int64_t n = cases[c]["n"];
      auto want = from_hex(cases[c][name]);
      ASSERT_EQ(want.size(), size_t(n) / 256 * block);
      std::vector<float> x(static_cast<size_t>(n));
      std::memcpy(x.data(), in.data(), in.size());
      std::vector<uint8_t> got(want.size());
      quantize(uint32_t(type), x.data(), n, got.data());
      for (size_t i = 0; i < got.size(); ++i) {
        ASSERT_EQ(int(got[i]), int(want[i])) << name << " case " << c << " block " << i / block << " byte " << i % block;
      }
    }
  }
}

// quantize then dequantize is within half a step of each block's grid.
TEST(GgufQuantize, RoundTripWithinRounding) {
  std::vector<float> x(32 * 64);
  uint32_t s = 1;
  for (auto& v : x) {
    s = s * 1664525u + 1013904223u;
    v = (float(s >> 8) / float(1 << 24) - 0.5f) * 4.0f;
  }
  struct Case { GgmlType type; double levels; };  // steps across a block's range (float types: 1/relative error)
  for (auto [type, levels] : {Case{GgmlType::Q8_0, 254}, Case{GgmlType::Q4_0, 15}, Case{GgmlType::Q4_1, 15},
                              Case{GgmlType::Q5_0, 31}, Case{GgmlType::Q5_1, 31}, Case{GgmlType::F16, 2048},
                              Case{GgmlType::BF16, 256}, Case{GgmlType::F32, 1e9}}) {
    const auto* tr = type_traits(uint32_t(type));
    std::vector<uint8_t> q(x.size() / tr->block_size * tr->type_size);
    quantize(uint32_t(type), x.data(), int64_t(x.size()), q.data());
    std::vector<float> back(x.size());
    dequantize(uint32_t(type), q.data(), int64_t(x.size()), back.data());
    for (size_t b = 0; b < x.size(); b += 32) {
      float lo = x[b], hi = x[b];
      for (size_t j = b; j < b + 32; ++j) lo = std::min(lo, x[j]), hi = std::max(hi, x[j]);
      double range = std::max(std::abs(lo), std::abs(hi)) * 2;
      for (size_t j = b; j < b + 32; ++j) {
        // float types: half an ulp; block types: one step (Q4_0/Q5_0 clip the side opposite the
        // largest value by a step) plus the float16 scale's rounding.
        double bound = type == GgmlType::F32 ? 0
                       : levels > 1000 || type == GgmlType::BF16 ? std::abs(x[j]) / levels
                                                                 : range / levels * 1.01 + range * 1e-3;
        ASSERT_LE(std::abs(back[j] - x[j]), bound) << tr->name << " value " << j;
      }
    }
  }
}

}  // namespace
}  // namespace uma::io::gguf
