// End-to-end: --kv-bits on generate and bench, `uma cache-prompt` and
// --prompt-cache-file on generate, on tiny random models: a generation that
// continues a saved prompt cache makes the prompt and tokens of a run over
// the whole prompt; bad flags, a cache of another model and a damaged file
// are one clear error line.
#include "tiny_models.h"
#include "uma/uma.h"

namespace uma::cli {
namespace {

using namespace testing;
namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

ojson run_json(const std::vector<std::string>& args) {
  Result r = run_uma(args);
  EXPECT_EQ(r.rc, 0) << r.err;
  return parse_json_output(r);
}

// The sharp tiny-qwen3 with head_dim 32 (2 heads, 1 KV head: the projections
// keep their shapes; the q/k norms grow to 32), so KV groups of 32 fit.
fs::path head32_model() {
  static fs::path dir = [] {
    fs::path d = copy_model(sharp_model(), "sharp-qwen3-hd32");
    auto c = read_json(d / "config.json");
    c["num_attention_heads"] = 2;
    c["num_key_value_heads"] = 1;
    c["head_dim"] = 32;
    std::ofstream(d / "config.json") << c.dump(2);
    auto w = load_safetensors((d / "model.safetensors").string()).first;
    for (auto& [name, a] : w) {
      if (name.find("q_norm") != std::string::npos || name.find("k_norm") != std::string::npos) a = ones({32}, a.dtype());
    }
    save_safetensors((d / "w.tmp").string(), w);
    fs::rename(d / "w.tmp", d / "model.safetensors");
    return d;
  }();
  return dir;
}

std::string temp_file(const std::string& name) {
  return (tiny_models().root() / name).string();
}

TEST(KvBitsCli, BadValuesAreClearErrors) {
  std::string m = tiny_model("tiny-llama", "llama2").string();  // head_dim 16
  struct Case {
    std::vector<std::string> flags;
    std::string message;
  };
  std::vector<Case> cases = {
      {{"--kv-bits", "7"}, "--kv-bits must be 2, 3, 4, 5, 6 or 8, got 7"},
      {{"--kv-bits", "4", "--kv-group-size", "48"}, "--kv-group-size must be 32, 64 or 128, got 48"},
      {{"--kv-bits", "4", "--quantized-kv-start", "-1"}, "--quantized-kv-start must be >= 0, got -1"},
      {{"--kv-bits", "8", "--kv-group-size", "32"},
       "--kv-group-size 32 does not divide the model's head_dim 16; choose 32, 64 or 128 dividing it"},
  };
  for (auto& c : cases) {
    for (std::string cmd : {"generate", "bench"}) {
      std::vector<std::string> args = {cmd, "--model", m};
      if (cmd == "generate") args.insert(args.end(), {"--prompt", "hi", "-m", "2"});
      if (cmd == "bench") args.insert(args.end(), {"-p", "4", "-g", "2", "-n", "1"});
      args.insert(args.end(), c.flags.begin(), c.flags.end());
      Result r = run_uma(args);
      EXPECT_NE(r.rc, 0) << cmd;
      EXPECT_NE(r.err.find(c.message), std::string::npos) << cmd << ": " << r.err;
      EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    }
  }
}

// At 8 bits, quantized from the first token, greedy tokens equal the float
// cache's on this model (checked over 16 tokens); bench runs with --kv-bits.
TEST(KvBitsCli, EightBitGenerationMatchesFloat) {
  std::string m = head32_model().string();
  std::vector<std::string> base = {"generate", "--json", "--model", m, "--prompt", "Once upon a time", "-m", "16",
                                   "--ignore-chat-template"};
  ojson f = run_json(base);
  auto q = base;
  q.insert(q.end(), {"--kv-bits", "8", "--kv-group-size", "32", "--quantized-kv-start", "0"});
  ojson k = run_json(q);
  EXPECT_EQ(k["tokens"], f["tokens"]);
  EXPECT_EQ(k["tokens"].size(), 16u);
  ojson b = run_json({"bench", "--model", m, "-p", "8", "-g", "4", "-n", "1", "--json", "--kv-bits", "4",
                      "--kv-group-size", "32", "--quantized-kv-start", "0"});
  EXPECT_GT(b["tg_tok_s"].get<double>(), 0);
}

// cache-prompt then generate --prompt-cache-file: the prompt continues the
// cached one (as mlx_lm.generate), so the run has the prompt tokens and the
// greedy tokens of a run over the concatenated prompt, with and without the
// chat template. The fox/jumps boundary splits cleanly in this BPE.
TEST(CachePromptCli, GenerateContinuesTheCache) {
  std::string m = head32_model().string();
  for (bool templ : {false, true}) {
    SCOPED_TRACE(templ ? "chat template" : "plain");
    std::string file = temp_file(templ ? "fox_t" : "fox_p");
    std::vector<std::string> plain;
    if (!templ) plain = {"--ignore-chat-template"};
    std::vector<std::string> cp = {"cache-prompt", "--model", m, "--prompt", "The quick brown fox",
                                   "--prompt-cache-file", file};
    cp.insert(cp.end(), plain.begin(), plain.end());
    Result r = run_uma(cp);
    ASSERT_EQ(r.rc, 0) << r.err;
    EXPECT_TRUE(fs::exists(file + ".safetensors"));  // the extension is added, as MLX does
    std::vector<std::string> g = {"generate", "--json", "--model", m, "-m", "8"};
    g.insert(g.end(), plain.begin(), plain.end());
    auto cached = g, whole = g;
    cached.insert(cached.end(), {"--prompt", " jumps over the lazy dog", "--prompt-cache-file", file + ".safetensors"});
    whole.insert(whole.end(), {"--prompt", "The quick brown fox jumps over the lazy dog"});
    ojson a = run_json(cached), b = run_json(whole);
    EXPECT_EQ(a["prompt_tokens"], b["prompt_tokens"]);
    EXPECT_EQ(a["tokens"], b["tokens"]);
  }
  // With a quantized cache file: --kv-bits must agree, as mlx_lm.generate checks.
  std::string qfile = temp_file("fox_q.safetensors");
  Result r = run_uma({"cache-prompt", "--model", m, "--prompt", "The quick brown fox", "--prompt-cache-file", qfile,
                      "--kv-bits", "4", "--kv-group-size", "32", "--quantized-kv-start", "0"});
  ASSERT_EQ(r.rc, 0) << r.err;
  r = run_uma({"generate", "--model", m, "--prompt", " jumps", "--prompt-cache-file", qfile, "--kv-group-size", "32",
               "--kv-bits", "8"});
  EXPECT_NE(r.err.find("--kv-bits 8 does not match the 4-bit KV cache in " + qfile), std::string::npos) << r.err;
  r = run_uma({"generate", "--model", m, "--prompt", " jumps", "--prompt-cache-file", qfile, "-m", "3"});
  EXPECT_NE(r.err.find("--kv-group-size 64 does not match the KV cache in " + qfile + " (group size 32)"),
            std::string::npos) << r.err;
  r = run_uma({"generate", "--model", m, "--prompt", " jumps", "--prompt-cache-file", qfile, "-m", "3",
               "--kv-group-size", "32"});
  EXPECT_EQ(r.rc, 0) << r.err;
}

TEST(CachePromptCli, WrongModelAndDamagedFilesAreClearErrors) {
  std::string m = head32_model().string(), file = temp_file("other.safetensors");
  ASSERT_EQ(run_uma({"cache-prompt", "--model", m, "--prompt", "hello", "--prompt-cache-file", file}).rc, 0);
  Result r = run_uma({"generate", "--model", tiny_model("tiny-qwen3", "qwen3", "float32").string(), "--prompt", "x",
                      "--prompt-cache-file", file});
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.err.find("[prompt_cache] " + file + " does not fit this model: it was made by the model 'qwen3"),
            std::string::npos) << r.err;
  std::string bad = temp_file("truncated.safetensors");
  fs::copy_file(file, bad, fs::copy_options::overwrite_existing);
  fs::resize_file(bad, fs::file_size(file) - 100);
  r = run_uma({"generate", "--model", m, "--prompt", "x", "--prompt-cache-file", bad});
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.err.find("[load_prompt_cache] "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(bad), std::string::npos) << r.err;
  r = run_uma({"generate", "--model", m, "--prompt", "x", "--prompt-cache-file", file, "--system-prompt", "s"});
  EXPECT_NE(r.err.find("--system-prompt cannot be used with --prompt-cache-file"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace uma::cli
