// `uma convert` end to end: mlx-lm's flags, the folder it writes, refusals,
// and that a converted 4-bit model generates what its dequantized float copy
// does (the tensor-level checks are in tests/lm/test_convert.cpp).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "cli_util.h"
#include "tiny_models.h"

using namespace uma::cli::testing;
namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

namespace {

fs::path out_path(const std::string& name) {
  fs::path p = tiny_models().root() / ("convert_" + name);
  fs::remove_all(p);
  return p;
}

std::string bytes_of(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// Greedy tokens with float32 compute (--dtype float32 and quantized_matmul
// in MLX's float arithmetic, UMA_QMM_PRECISION=float32 for the child).
ojson greedy(const fs::path& model) {
  ::setenv("UMA_QMM_PRECISION", "float32", 1);
  Result r = run_uma({"generate", "--json", "--model", model.string(), "-p", "The quick brown fox",
                      "--ignore-chat-template", "--temp", "0", "-m", "16", "--dtype", "float32"});
  ::unsetenv("UMA_QMM_PRECISION");
  EXPECT_EQ(r.rc, 0) << r.err;
  return parse_json_output(r);
}

}  // namespace

TEST(ConvertCli, QuantizedModelGeneratesAsItsDequantizedCopy) {
  fs::path src = sharp_model();  // float32 qwen3, tokens depend on the context
  fs::path q = out_path("q4");
  Result r = run_uma({"convert", "--hf-path", src.string(), "--mlx-path", q.string(), "-q"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("[INFO] Loading\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[INFO] Using dtype: float32\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[INFO] Quantizing\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("bits per weight."), std::string::npos) << r.out;
  // The progress bar ends full.
  EXPECT_NE(r.err.find("[convert] [##############################]"), std::string::npos) << r.err;
  for (const char* f : {"tokenizer.json", "tokenizer_config.json"})
    EXPECT_EQ(bytes_of(q / f), bytes_of(src / f)) << f;
  ojson cfg = read_json(q / "config.json");
  EXPECT_EQ(cfg["quantization"]["bits"], 4);
  EXPECT_EQ(cfg["quantization"]["group_size"], 64);

  fs::path d = out_path("q4_dequantized");
  r = run_uma({"convert", "--model", q.string(), "--mlx-path", d.string(), "-d"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("[INFO] Dequantizing\n"), std::string::npos) << r.out;
  EXPECT_FALSE(read_json(d / "config.json").contains("quantization"));

  ojson a = greedy(q), b = greedy(d);
  ASSERT_TRUE(a.contains("tokens"));
  EXPECT_EQ(a["tokens"], b["tokens"]);
  EXPECT_EQ(a["tokens"].size(), 16u);
  // `uma info` reads the quantized folder as 4-bit.
  Result info = run_uma({"info", "--model", q.string()});
  EXPECT_EQ(info.rc, 0) << info.err;
}

TEST(ConvertCli, DefaultPathAndRefusals) {
  fs::path src = tiny_model("tiny-llama", "llama2");
  fs::path q = out_path("exists");
  fs::create_directories(q);
  {
    std::ofstream(q / "mine.txt") << "keep";
  }
  Result r = run_uma({"convert", "--hf-path", src.string(), "--mlx-path", q.string(), "-q"});
  expect_one_line_error(r, "as it already exists. Please delete the file/directory or specify a new path to save to.");
  EXPECT_EQ(bytes_of(q / "mine.txt"), "keep");

  fs::path fresh = out_path("fresh");
  expect_one_line_error(run_uma({"convert", "--hf-path", src.string(), "--mlx-path", fresh.string(), "-q", "-d"}),
                        "Choose either quantize or dequantize");
  expect_one_line_error(
      run_uma({"convert", "--hf-path", src.string(), "--mlx-path", fresh.string(), "--upload-repo", "me/model"}),
      "--upload-repo is not supported");
  expect_one_line_error(
      run_uma({"convert", "--hf-path", src.string(), "--mlx-path", fresh.string(), "-q", "--q-mode", "int4"}),
      "--q-mode");
  expect_one_line_error(run_uma({"convert", "--hf-path", src.string(), "--mlx-path", fresh.string(), "-q",
                                 "--quant-predicate", "mixed_9_9"}),
                        "--quant-predicate");
  expect_one_line_error(
      run_uma({"convert", "--hf-path", src.string(), "--mlx-path", fresh.string(), "--dtype", "float64"}),
      "--dtype");
  EXPECT_FALSE(fs::exists(fresh));

  // mlx-lm's default --mlx-path is mlx_model in the working directory.
  fs::path cwd = out_path("cwd");
  fs::create_directories(cwd);
  std::string cmd = "cd " + quote(cwd.string()) + " && " + quote(uma_binary().string()) + " convert --hf-path " +
                    quote(src.string()) + " --dtype float16 >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  auto tensors = uma::load_safetensors((cwd / "mlx_model" / "model.safetensors").string());
  EXPECT_EQ(tensors.first.at("model.norm.weight").dtype(), uma::float16);
  EXPECT_EQ(tensors.second.at("format"), "mlx");
}

namespace {

// --gguf-path: one GGUF file that `uma generate` runs as the folder does; an
// existing file is refused and left alone (the writer's own checks are in
// tests/lm/test_gguf_write.cpp).
TEST(ConvertCli, GgufFileGeneratesAsTheFolder) {
  fs::path src = tiny_model("tiny-llama", "llama2");
  fs::path dir = out_path("gguf");
  fs::create_directories(dir);
  fs::path gguf = dir / "tiny.gguf";
  Result r = run_uma({"convert", "--hf-path", src.string(), "--gguf-path", gguf.string(), "--gguf-type", "f32"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("Wrote " + gguf.string()), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("[convert] ["), std::string::npos) << r.err;  // the progress bar
  auto gen = [](const fs::path& m) {
    return run_uma({"generate", "--model", m.string(), "-p", "The quick brown fox", "--max-tokens", "8", "--temp", "0"});
  };
  Result a = gen(src), b = gen(gguf);
  ASSERT_EQ(a.rc, 0) << a.err;
  ASSERT_EQ(b.rc, 0) << b.err;
  auto text = [](const std::string& out) { return out.substr(0, out.find("==========")); };
  EXPECT_EQ(text(b.out), text(a.out));
  // uma info names the file type, as llama.cpp does (general.file_type).
  Result info = run_uma({"info", "--model", gguf.string()});
  ASSERT_EQ(info.rc, 0) << info.err;
  EXPECT_NE(info.out.find("file type:      F32 (general.file_type 0)"), std::string::npos) << info.out;
  fs::path km = dir / "tiny-q4_k_m.gguf";
  ASSERT_EQ(run_uma({"convert", "--hf-path", src.string(), "--gguf-path", km.string(), "--gguf-type", "q4_k_m"}).rc, 0);
  info = run_uma({"info", "--model", km.string()});
  EXPECT_NE(info.out.find("file type:      Q4_K_M (general.file_type 15)"), std::string::npos) << info.out;

  expect_one_line_error(run_uma({"convert", "--hf-path", src.string(), "--gguf-path", gguf.string()}),
                        "as it already exists");
  expect_one_line_error(
      run_uma({"convert", "--hf-path", src.string(), "--gguf-path", (dir / "b.gguf").string(), "--gguf-type", "iq2_xxs"}),
      "--gguf-type");
  expect_one_line_error(
      run_uma({"convert", "--hf-path", src.string(), "--gguf-path", (dir / "b.gguf").string(), "-q"}),
      "--gguf-path takes --gguf-type");
  EXPECT_FALSE(fs::exists(dir / "b.gguf"));
  Result help = run_uma({"convert", "--help"});
  EXPECT_NE(help.out.find("--gguf-type"), std::string::npos);
}

}  // namespace
