#include <cstring>

#include "core/io_util.h"

using namespace uma;
using namespace uma::test;

namespace {

// A file with the given header text (padded to 8 bytes unless `pad` is
// false) and data section.
std::string st_file(const std::string& header, const std::string& data, bool pad = true) {
  std::string h = header;
  if (pad) h.append((8 - h.size() % 8) % 8, ' ');
  uint64_t n = h.size();
  std::string out(reinterpret_cast<const char*>(&n), 8);
  return out + h + data;
}

std::string f32_bytes(std::vector<float> v) { return std::string(reinterpret_cast<const char*>(v.data()), v.size() * 4); }

}  // namespace

using Safetensors = IoTest;

TEST_F(Safetensors, RoundTripEveryDtypeWithMetadata) {
  auto samples = sample_arrays();
  std::map<std::string, array> tensors;
  for (auto& a : samples) tensors.emplace(std::string("t_") + dtype_name(a.dtype()), a);
  save_safetensors(tmp("all.safetensors"), tensors, {{"format", "mlx"}, {"note", "ünïcode \"quoted\""}});
  auto [loaded, meta] = load_safetensors(tmp("all.safetensors"));
  ASSERT_EQ(loaded.size(), tensors.size());
  for (auto& [name, a] : tensors) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(loaded.count(name));
    expect_same(loaded.at(name), a);
  }
  EXPECT_EQ(meta, (std::map<std::string, std::string>{{"format", "mlx"}, {"note", "ünïcode \"quoted\""}}));
  EXPECT_EQ(files_in_dir(), 1u);  // no temporary left behind
}

TEST_F(Safetensors, NonContiguousZeroSizeAndScalar) {
  array base = reshape(arange(24, float32), {2, 3, 4});
  std::unordered_map<std::string, array> tensors{
      {"transposed", transpose(base, {2, 0, 1})},
      {"sliced", slice(base, {0, 0, 1}, {2, 3, 4}, {1, 2, 2})},
      {"broadcast", broadcast_to(array({1.0f, 2.0f}), {3, 2})},
      {"empty", zeros({0, 5}, int16)},
      {"scalar", array(7.5, float64)},
  };
  save_safetensors(tmp("views.safetensors"), tensors);
  auto [loaded, meta] = load_safetensors(tmp("views.safetensors"));
  EXPECT_TRUE(meta.empty());
  for (auto& [name, a] : tensors) {
    SCOPED_TRACE(name);
    expect_same(loaded.at(name), a);
    EXPECT_TRUE(loaded.at(name).flags().row_contiguous);
  }
  EXPECT_EQ(loaded.at("scalar").ndim(), 0u);
  EXPECT_EQ(loaded.at("scalar").item<double>(), 7.5);
}

// Byte vectors from the reference library's own tests (safetensors/src/tensor.rs:
// test_serialization, test_serialization_forced_alignement, test_empty).
TEST_F(Safetensors, ByteIdenticalToReferenceLibrary) {
  std::vector<float> v{0, 1, 2, 3, 4, 5};
  save_safetensors(tmp("a.safetensors"), std::map<std::string, array>{{"attn.0", array(v.data(), {1, 2, 3})}});
  std::string expect = st_file(R"({"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}})", f32_bytes(v));
  ASSERT_EQ(expect.size(), 8u + 64 + 24);
  EXPECT_EQ(read_file(tmp("a.safetensors")), expect);

  save_safetensors(tmp("b.safetensors"), std::map<std::string, array>{{"attn0", array(v.data(), {1, 1, 2, 3})}});
  EXPECT_EQ(read_file(tmp("b.safetensors")),
            st_file(R"({"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}})", f32_bytes(v)));

  save_safetensors(tmp("c.safetensors"), std::map<std::string, array>{});
  EXPECT_EQ(read_file(tmp("c.safetensors")), std::string("\x08\0\0\0\0\0\0\0{}      ", 16));
  save_safetensors(tmp("d.safetensors"), std::map<std::string, array>{}, {{"framework", "pt"}});
  EXPECT_EQ(read_file(tmp("d.safetensors")), st_file(R"({"__metadata__":{"framework":"pt"}})", ""));
  EXPECT_EQ(load_safetensors(tmp("d.safetensors")).second.at("framework"), "pt");
}

// tests/fixtures/io/reference.safetensors follows the reference writer's
// steps (see make_io_fixtures.py); ours must read it and write it back
// byte for byte (dtype-alignment order, then name).
TEST_F(Safetensors, ReferenceFixtureLoadsAndRewritesIdentically) {
  auto [t, meta] = load_safetensors(fixture("reference.safetensors"));
  EXPECT_EQ(meta.at("format"), "pt");
  ASSERT_EQ(t.size(), 9u);
  expect_close(t.at("layer.weight"), {1, 2, 3, 4});
  EXPECT_EQ(t.at("layer.weight").shape(), (Shape{2, 2}));
  EXPECT_EQ(t.at("layer.bias").dtype(), float16);
  expect_close(t.at("layer.bias"), {0.5, -0.25});
  EXPECT_EQ(t.at("emb").dtype(), bfloat16);
  expect_close(t.at("emb"), {1.0, -2.5, 3.140625});
  EXPECT_EQ(t.at("ids").to_vector<int64_t>(), (std::vector<int64_t>{-1, int64_t(1) << 40}));
  EXPECT_EQ(t.at("flags").to_vector<bool>(), (std::vector<bool>{true, false, true}));
  EXPECT_EQ(t.at("scalar").ndim(), 0u);
  EXPECT_EQ(t.at("scalar").item<double>(), 6.25);
  EXPECT_EQ(t.at("empty").shape(), (Shape{0, 4}));
  EXPECT_EQ(t.at("bytes").to_vector<int>(), (std::vector<int>{0, 1, 128, 255}));
  EXPECT_EQ(t.at("cplx").item<complex64_t>(), complex64_t(1, -1));
  for (auto& [name, a] : t) {
    if (a.size()) {
      EXPECT_FALSE(a.is_donatable()) << name;  // read-only mapping
    }
  }

  save_safetensors(tmp("rewrite.safetensors"), t, meta);
  EXPECT_EQ(read_file(tmp("rewrite.safetensors")), read_file(fixture("reference.safetensors")));
}

TEST_F(Safetensors, ArraysPointIntoTheMappingAndKeepItAlive) {
  // Header of 72 bytes: data starts at byte 80, not 64-aligned, so an aligned
  // pointer congruent to 80 + offset modulo the page size can only be the map.
  std::string header = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"U8","shape":[1],)"
                       R"("data_offsets":[8,9]},"c":{"dtype":"F32","shape":[1],"data_offsets":[9,13]}})";
  std::string data = f32_bytes({1.5f, -2}) + std::string(1, '\x07') + f32_bytes({9.f});
  write_file(tmp("m.safetensors"), st_file(header, data));
  size_t data_start = 8 + ((header.size() + 7) / 8) * 8;
  array a(0.0f), c(0.0f);
  {
    auto [t, meta] = load_safetensors(tmp("m.safetensors"));
    a = t.at("a");
    c = t.at("c");
  }
  std::filesystem::remove(tmp("m.safetensors"));  // the mapping outlives the name and the loader's map
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a.data<float>()) % 4096, data_start % 4096);
  EXPECT_NE(data_start % 64, 0u);
  EXPECT_FALSE(a.is_donatable());
  EXPECT_EQ(a.to_vector<float>(), (std::vector<float>{1.5f, -2}));
  // Misaligned for float32 (offset 9): copied, values intact.
  EXPECT_EQ(reinterpret_cast<uintptr_t>(c.data<float>()) % 4, 0u);
  EXPECT_EQ(c.item<float>(), 9.f);
}

TEST_F(Safetensors, InMemoryLoadReadsEveryDtypeIntoOwnBuffers) {
  // Every dtype, odd offsets (a 1-byte tensor first), a 40 MiB tensor that
  // the reader splits into pieces across threads, and bool bytes that are
  // not 0/1.
  std::map<std::string, array> tensors;
  for (auto& a : sample_arrays()) tensors.emplace(std::string("t_") + dtype_name(a.dtype()), a);
  tensors.emplace("a_byte", array(std::vector<uint8_t>{7}, {1}));
  tensors.emplace("big", astype(arange(0, 10 << 20), float32));
  save_safetensors(tmp("mem.safetensors"), tensors);
  auto [mapped, m1] = load_safetensors(tmp("mem.safetensors"));
  auto [read, m2] = load_safetensors(tmp("mem.safetensors"), true);
  ASSERT_EQ(read.size(), tensors.size());
  for (auto& [name, a] : tensors) {
    SCOPED_TRACE(name);
    expect_same(read.at(name), a);
    expect_same(read.at(name), mapped.at(name));
    // An allocator buffer, 64-byte aligned, not the mapping: donatable.
    EXPECT_EQ(reinterpret_cast<uintptr_t>(read.at(name).raw_ptr()) % 64, 0u);
    EXPECT_TRUE(read.at(name).is_donatable());
  }
  write_file(tmp("b.safetensors"), st_file(R"({"m":{"dtype":"BOOL","shape":[3],"data_offsets":[0,3]}})",
                                           std::string("\x00\x02\x01", 3)));
  EXPECT_EQ(load_safetensors(tmp("b.safetensors"), true).first.at("m").to_vector<int>(),
            (std::vector<int>{0, 1, 1}));
}

TEST_F(Safetensors, MappedArraysAreNeverDonated) {
  std::vector<float> v{1, 2, 3, 4};
  save_safetensors(tmp("d.safetensors"), std::map<std::string, array>{{"w", array(v.data(), {4})}});
  std::string before = read_file(tmp("d.safetensors"));
  array y(0.0f);
  {
    auto [t, meta] = load_safetensors(tmp("d.safetensors"));
    array x = t.at("w");
    t.clear();
    // x is the only holder: an allocator buffer would be reused for the result;
    // the read-only mapping must not be (a write there would fault).
    y = astype(negative(x), float32);
  }
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{-1, -2, -3, -4}));
  EXPECT_EQ(read_file(tmp("d.safetensors")), before);
}

TEST_F(Safetensors, NonCanonicalBoolBytesReadAsTrue) {
  write_file(tmp("b.safetensors"), st_file(R"({"m":{"dtype":"BOOL","shape":[3],"data_offsets":[0,3]}})",
                                           std::string("\x00\x02\x01", 3)));
  EXPECT_EQ(load_safetensors(tmp("b.safetensors")).first.at("m").to_vector<int>(), (std::vector<int>{0, 1, 1}));
}

TEST_F(Safetensors, MalformedFilesGiveClearErrors) {
  const std::string p = tmp("bad.safetensors");
  auto check = load_error_check([](const std::string& f) { load_safetensors(f); }, "[load_safetensors]", p);
  const std::string ok_info = R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  const std::string ok_data = f32_bytes({1, 2});

  expect_error([&] { load_safetensors(tmp("missing.safetensors")); }, {"[load_safetensors]", "missing.safetensors"});
  check("", {"too short"});
  check(std::string("\x05\0\0", 3), {"too short"});
  std::string big(8, '\0');
  uint64_t huge = 200'000'000;
  std::memcpy(big.data(), &huge, 8);
  check(big + "{}", {"100 MB"});
  uint64_t past = 64;
  std::memcpy(big.data(), &past, 8);
  check(big + "{}", {"past the end"});
  huge = ~uint64_t(0);
  std::memcpy(big.data(), &huge, 8);
  check(big + "{}", {"exceeds"});
  check(st_file(ok_info, ok_data).substr(0, 40), {"past the end"});               // truncated header
  check(st_file(ok_info, ok_data).substr(0, st_file(ok_info, ok_data).size() - 3), {"'w'", "truncated"});
  check(st_file(R"({"w":{"dtype":"F32",)", ""), {"not valid JSON"});
  check(st_file("[1,2]", ""), {"not a JSON object"});
  check(st_file(R"({"w":{"dtype":"Q7","shape":[2],"data_offsets":[0,8]}})", ok_data), {"'w'", "unknown dtype 'Q7'"});
  check(st_file(R"({"w":{"dtype":"F8_E4M3","shape":[8],"data_offsets":[0,8]}})", ok_data),
        {"'w'", "F8_E4M3 is not supported"});
  check(st_file(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", ok_data), {"'w'", "needs 12 bytes"});
  check(st_file(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", ok_data), {"'w'"});
  check(st_file(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", ok_data), {"'w'", "gap"});
  check(st_file(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", ok_data + "xx"), {"data section"});
  check(st_file(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"v":{"dtype":"F32","shape":[1],)"
                R"("data_offsets":[4,8]}})",
                ok_data),
        {"overlap"});
  check(st_file(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[100,108]}})", ok_data), {"'w'"});
  check(st_file(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[18446744073709551608,0]}})", ok_data), {"'w'"});
  check(st_file(R"({"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", ok_data), {"'w'", "dimension"});
  check(st_file(R"({"w":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}})", ok_data), {"'w'", "dimension"});
  check(st_file(R"({"w":{"dtype":"U8","shape":[2147483647,2147483647,2147483647],"data_offsets":[0,8]}})", ok_data),
        {"'w'", "too large"});
  check(st_file(R"({"w":{"dtype":"F32","shape":[2]}})", ok_data), {"'w'", "data_offsets"});
  check(st_file(R"({"w":{"dtype":"F32","data_offsets":[0,8]}})", ok_data), {"'w'", "shape"});
  check(st_file(R"({"w":[1,2]})", ok_data), {"'w'", "not a JSON object"});
  check(st_file(R"({"__metadata__":{"k":1},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", ok_data),
        {"__metadata__", "'k'"});
  check(st_file(std::string("{\"\xff\":1}"), ""), {"JSON"});
}

TEST_F(Safetensors, SaveIsAtomicAndChecksNames) {
  const std::string p = tmp("keep.safetensors");
  save_safetensors(p, std::map<std::string, array>{{"x", array({1.0f, 2.0f})}});
  std::string before = read_file(p);
  // Fails while writing the header: the old file stays, no temporary is left.
  EXPECT_THROW(save_safetensors(p, std::map<std::string, array>{{std::string("bad\xff"), array({3.0f})}}),
               std::invalid_argument);
  EXPECT_THROW(save_safetensors(p, std::map<std::string, array>{{"__metadata__", array({3.0f})}}),
               std::invalid_argument);
  EXPECT_EQ(read_file(p), before);
  EXPECT_EQ(files_in_dir(), 1u);
  // Overwriting works and replaces the content.
  save_safetensors(p, std::map<std::string, array>{{"y", array({5, 6, 7})}});
  auto loaded = load_safetensors(p).first;
  EXPECT_EQ(loaded.count("x"), 0u);
  EXPECT_EQ(loaded.at("y").to_vector<int>(), (std::vector<int>{5, 6, 7}));
  EXPECT_EQ(files_in_dir(), 1u);
  expect_error([&] { save_safetensors(tmp("no/such/dir/x.safetensors"), std::map<std::string, array>{}); },
               {"[save_safetensors]", "no/such/dir"});
}

// The header must end inside the file (8 + header_len <= size) and the data
// section is what follows it, so header_len = size - 8 leaves an empty data
// section and size - 7 reaches one byte past the end. Both loaders parse the
// same header; check both.
TEST_F(Safetensors, HeaderLengthBoundIsExact) {
  const std::string p = tmp("h.safetensors");
  auto with_len = [](std::string bytes, uint64_t n) {
    std::memcpy(bytes.data(), &n, 8);
    return bytes;
  };
  for (bool in_memory : {false, true}) {
    SCOPED_TRACE(in_memory ? "in memory" : "mapped");
    auto check = load_error_check([&](const std::string& f) { load_safetensors(f, in_memory); },
                                  "[load_safetensors]", p);

    // header_len = size - 8, no tensor needs data: valid.
    const std::string empty = st_file("{}", "");
    ASSERT_EQ(empty.size(), 16u);
    write_file(p, empty);
    EXPECT_TRUE(load_safetensors(p, in_memory).first.empty());
    const std::string zero =
        st_file(R"({"z":{"dtype":"F32","shape":[0,3],"data_offsets":[0,0]}})", "");
    write_file(p, zero);
    auto t = load_safetensors(p, in_memory).first;
    ASSERT_EQ(t.size(), 1u);
    EXPECT_EQ(t.at("z").shape(), (Shape{0, 3}));
    EXPECT_EQ(t.at("z").dtype(), float32);
    // header_len = size - 8 but a tensor needs 4 bytes of the empty section.
    check(st_file(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", ""),
          {"'w'", "beyond the data section of 0 bytes"});

    // header_len = size - 7: one byte past the end, whatever that byte would
    // make of the JSON and although size - 8 - header_len wraps around.
    check(with_len(empty, empty.size() - 7),
          {"header length 9 runs past the end of the file (16 bytes)"});
    check(with_len(zero, zero.size() - 7), {"runs past the end"});
    // Unpadded: the header's closing brace is the file's last byte.
    check(with_len(std::string(8, '\0') + "{}", 3),
          {"header length 3 runs past the end of the file (10 bytes)"});
    write_file(p, with_len(std::string(8, '\0') + "{}", 2));
    EXPECT_TRUE(load_safetensors(p, in_memory).first.empty());
    // Lengths where 8 + header_len wraps around to a small number.
    for (uint64_t n : {~uint64_t(0) - 7, ~uint64_t(0) - 6, ~uint64_t(0)})
      check(with_len(empty, n), {"exceeds"});
    // A tensor of 2^62 bytes: its end must be compared with the data section,
    // not wrap past it.
    check(
        st_file(
            R"({"w":{"dtype":"U8","shape":[2147483647,2147483647],"data_offsets":[0,4611686014132420609]}})",
            "ab"),
        {"'w'", "beyond the data section of 2 bytes"});
    check(
        st_file(
            R"({"w":{"dtype":"U8","shape":[1073741824,1073741824],"data_offsets":[0,1152921504606846976]}})",
            "ab"),
        {"'w'", "beyond the data section of 2 bytes"});
    // One byte short and one byte over, by the tensors' own offsets.
    check(st_file(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
                  f32_bytes({1, 2}).substr(0, 7)),
          {"'w'", "beyond the data section of 7 bytes"});
    check(st_file(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
                  f32_bytes({1, 2}) + "x"),
          {"tensors cover 8 bytes but the data section holds 9"});
  }
}
