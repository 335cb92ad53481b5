// GGUF reader: metadata and tensor infos of the tiny-llama fixtures against
// gguf-py's dump (dequant_refs.json), and clear errors on damaged files.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "uma/core/io/gguf.h"

namespace uma::io::gguf {
namespace {

std::filesystem::path fixtures() { return std::filesystem::path(UMA_SHARED_DIR) / "fixtures" / "gguf"; }

nlohmann::json refs() {
  std::ifstream f(fixtures() / "dequant_refs.json");
  return nlohmann::json::parse(f);
}

TEST(Gguf, TinyLlamaMatchesReference) {
  auto all = refs();
  ASSERT_GE(all.size(), 8u);
  for (auto it = all.begin(); it != all.end(); ++it) {
    SCOPED_TRACE(it.key());
    File f = File::open(fixtures() / it.key());
    const auto& meta = it.value()["metadata"];
    EXPECT_EQ(f.version(), meta["GGUF.version"].get<uint32_t>());
    EXPECT_EQ(f.tensors().size(), meta["GGUF.tensor_count"].get<size_t>());
    EXPECT_EQ(f.metadata().size(), meta["GGUF.kv_count"].get<size_t>());
    for (auto m = meta.begin(); m != meta.end(); ++m) {
      if (m.key().rfind("GGUF.", 0) == 0) continue;
      const Value* v = f.get(m.key());
      ASSERT_NE(v, nullptr) << m.key();
      if (m->is_string()) {
        EXPECT_EQ(v->as_string(), m->get<std::string>()) << m.key();
      } else if (m->is_number_integer()) {
        EXPECT_EQ(v->as_int(), m->get<int64_t>()) << m.key();
      } else if (m->is_number_float()) {
        EXPECT_FLOAT_EQ(static_cast<float>(v->as_float()), m->get<float>()) << m.key();
      }
    }
    const auto& tensors = it.value()["tensors"];
    ASSERT_EQ(tensors.size(), f.tensors().size());
    for (const auto& t : tensors) {
      const TensorInfo* info = f.tensor(t["name"].get<std::string>());
      ASSERT_NE(info, nullptr) << t["name"];
      EXPECT_STREQ(type_traits(info->type)->name, t["type"].get<std::string>().c_str());
      EXPECT_EQ(info->dims, t["shape"].get<std::vector<uint64_t>>());
      EXPECT_EQ(info->n_elements, t["n"].get<uint64_t>());
      auto data = f.tensor_data(*info);
      EXPECT_EQ(data.size(), info->n_bytes);
      EXPECT_EQ((f.data_offset() + info->offset) % f.alignment(), 0u);
    }
  }
}

TEST(Gguf, VocabArrays) {
  File f = File::open(fixtures() / "ggml-vocab-llama-spm.gguf");
  auto tokens = f.at("tokenizer.ggml.tokens").as_strings();
  ASSERT_EQ(tokens.size(), 32000u);
  EXPECT_EQ(tokens[1], "<s>");
  EXPECT_EQ(tokens[3], "<0x00>");
  auto scores = f.at("tokenizer.ggml.scores").as_floats();
  EXPECT_EQ(scores.size(), 32000u);
  auto types = f.at("tokenizer.ggml.token_type").as_ints();
  EXPECT_EQ(types[0], 2);
  EXPECT_EQ(types[1], 3);
  EXPECT_TRUE(f.at("tokenizer.ggml.add_bos_token").as_bool());
  EXPECT_EQ(f.at("tokenizer.ggml.bos_token_id").as_uint(), 1u);
  EXPECT_THROW(f.at("tokenizer.ggml.tokens").as_string(), std::invalid_argument);
  EXPECT_THROW(f.at("no.such.key"), std::invalid_argument);
  EXPECT_EQ(f.get("no.such.key"), nullptr);
}

std::filesystem::path write_temp(const std::string& name, const std::string& bytes) {
  auto p = std::filesystem::temp_directory_path() / ("uma_gguf_test_" + name);
  std::ofstream(p, std::ios::binary) << bytes;
  return p;
}

std::string read_all(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

void expect_error(const std::filesystem::path& p, const std::string& needle) {
  try {
    File::open(p);
    ADD_FAILURE() << "no error for " << p;
  } catch (const std::invalid_argument& e) {
    std::string msg = e.what();
    EXPECT_EQ(msg.rfind("[gguf]", 0), 0u) << msg;
    EXPECT_NE(msg.find(needle), std::string::npos) << msg;
  }
}

TEST(Gguf, TruncatedFilesFailCleanly) {
  std::string bytes = read_all(fixtures() / "tiny-llama-q4_0.gguf");
  ASSERT_GT(bytes.size(), 10000u);
  // Cut inside the header, the metadata, the tensor table and the data.
  for (size_t cut : {size_t(3), size_t(10), size_t(30), size_t(200), size_t(2000), size_t(5000),
                     bytes.size() - 100}) {
    SCOPED_TRACE(cut);
    auto p = write_temp("cut", bytes.substr(0, cut));
    try {
      File::open(p);
      ADD_FAILURE() << "truncated file at " << cut << " loaded";
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()).rfind("[gguf]", 0), 0u) << e.what();
    }
  }
}

TEST(Gguf, BadHeaders) {
  expect_error(write_temp("magic", "GGUX\x03\0\0\0"), "bad magic");
  std::string v9("GGUF\x09\0\0\0", 8);
  v9 += std::string(16, '\0');
  expect_error(write_temp("version", v9), "version 9");
  // A metadata count far beyond the file size.
  std::string huge("GGUF\x03\0\0\0", 8);
  huge += std::string("\0\0\0\0\0\0\0\0", 8);
  huge += std::string("\xff\xff\xff\xff\0\0\0\0", 8);
  expect_error(write_temp("count", huge), "metadata count");
  // A string length far beyond the file size.
  std::string str("GGUF\x03\0\0\0", 8);
  str += std::string("\0\0\0\0\0\0\0\0", 8);
  str += std::string("\x01\0\0\0\0\0\0\0", 8);
  str += std::string("\xff\xff\xff\xff\xff\0\0\0", 8);
  str += std::string(8, 'k');
  expect_error(write_temp("strlen", str), "truncated");
  expect_error(std::filesystem::path("/nonexistent/model.gguf"), "cannot open");
}

}  // namespace
}  // namespace uma::io::gguf
