// Hostile inputs found by fuzzing the commands: each must end in one line
// "uma: error: ..." naming the file, key or flag (never a crash, a hang, a
// library's own exception text or silent garbage), and no command may lose
// or mix up the user's files.
#include <sys/stat.h>

#include <cmath>
#include <functional>

#include "tiny_models.h"

namespace uma::cli {
namespace {

using namespace testing;
namespace fs = std::filesystem;
using nlohmann::json;

// Library texts that must never reach the user.
void expect_no_library_text(const Result& r) {
  for (const char* s : {"json.exception", "type_error", "basic_filebuf", "vector::", "bad_alloc",
                        "filesystem error", "terminate called"}) {
    EXPECT_EQ(r.err.find(s), std::string::npos) << s << " in: " << r.err;
  }
}

void expect_error(const Result& r, const std::string& needle) {
  expect_one_line_error(r, needle);
  expect_no_library_text(r);
}

// info, generate, bench and chat all load the model first.
void expect_error_from_all(const fs::path& dir, const std::string& needle) {
  expect_error(run_uma({"info", "--model", dir.string()}), needle);
  expect_error(run_uma({"generate", "--model", dir.string(), "-p", "hi", "-m", "2"}), needle);
  expect_error(run_uma({"bench", "-m", dir.string(), "-p", "4", "-g", "2", "-n", "1"}), needle);
  expect_error(run_uma({"chat", "--model", dir.string()}, "hi\n"), needle);
}

fs::path with_config(const std::string& name, const std::function<void(json&)>& edit) {
  fs::path dir = copy_model(tiny_model("tiny-llama", "llama2"), name);
  json cfg = read_json(dir / "config.json");
  edit(cfg);
  std::ofstream(dir / "config.json") << cfg.dump(2);
  return dir;
}


// num_attention_heads 0 without head_dim divided by zero (SIGFPE).
TEST(HostileCli, ZeroHeadsIsAnErrorNotACrash) {
  fs::path dir = with_config("zero_heads", [](json& c) {
    c.erase("head_dim");
    c["num_attention_heads"] = 0;
  });
  expect_error_from_all(dir, "config.json: num_attention_heads must be a positive integer");
}

// Each config.json value, and what the error must say about it.
TEST(HostileCli, ConfigValuesAreTypeAndRangeChecked) {
  const std::vector<std::tuple<std::string, json, std::string>> cases = {
      {"num_hidden_layers", 1000000000,
       "num_hidden_layers must be a positive integer up to 1024, got 1000000000"},
      {"hidden_size", "64", "config.json: hidden_size must be a positive integer"},
      {"vocab_size", 4294999296ull,
       "vocab_size must be a positive integer up to 16777216, got 4294999296"},
      {"vocab_size", -5, "vocab_size must be a positive integer"},
      {"rope_theta", 0, "config.json: rope_theta must be a finite number > 0, got 0"},
      {"rms_norm_eps", -1e-5, "config.json: rms_norm_eps must be a number in"},
      {"sliding_window", 0, "config.json: sliding_window must be a positive integer"},
      {"num_key_value_heads", 3, "num_key_value_heads (3) must divide num_attention_heads (4)"},
      {"num_attention_heads", 6, "num_attention_heads (6) must divide hidden_size (64)"},
      {"tie_word_embeddings", "yes", "tie_word_embeddings must be true or false"},
      {"rope_scaling", json{{"rope_type", "linear"}, {"factor", "x"}},
       "rope_scaling.factor must be a finite number > 0"},
      {"max_position_embeddings", 1e300, "max_position_embeddings must be a positive integer"},
  };
  int i = 0;
  for (const auto& [key, value, needle] : cases) {
    SCOPED_TRACE(key + " = " + value.dump());
    fs::path dir = with_config("cfg" + std::to_string(i++), [&](json& c) { c[key] = value; });
    expect_error(run_uma({"info", "--model", dir.string()}), needle);
    expect_error(run_uma({"generate", "--model", dir.string(), "-p", "hi", "-m", "2"}), needle);
  }
}

// A config that describes far more parameters than the files hold fails
// before the weights are read, naming both sizes.
TEST(HostileCli, ConfigLargerThanTheWeightsFailsBeforeLoading) {
  fs::path dir = with_config("big_config", [](json& c) { c["num_hidden_layers"] = 1000; });
  json c = read_json(dir / "config.json");
  std::string params = std::to_string(expected_parameters(c));
  std::string bytes = std::to_string(fs::file_size(dir / "model.safetensors"));
  expect_error_from_all(dir, "describes " + params + " parameters");
  expect_error(run_uma({"info", "--model", dir.string()}), "hold only " + bytes + " bytes");
}

// NaN weights used to print token 0 forever with exit status 0.
TEST(HostileCli, NonFiniteLogitsAreAnErrorNamingTheLayer) {
  fs::path dir = with_weights("nan_layer", [](auto& w) {
    auto& a = w.at("model.layers.1.mlp.down_proj.weight");
    a = astype(multiply(astype(a, float32), array(NAN)), bfloat16);
  });
  const std::string needle = "logits are not finite (NaN or inf)";
  for (const Result& r :
       {run_uma({"generate", "--model", dir.string(), "-p", "hello world", "-m", "4"}),
        run_uma({"bench", "-m", dir.string(), "-p", "4", "-g", "2", "-n", "1"})}) {
    expect_error(r, needle);
    EXPECT_NE(r.err.find("model.layers.1's"), std::string::npos) << r.err;
  }
  fs::path inf = with_weights("inf_embed", [](auto& w) {
    auto& a = w.at("model.embed_tokens.weight");
    a = astype(multiply(astype(a, float32), array(INFINITY)), bfloat16);
  });
  Result r = run_uma({"generate", "--model", inf.string(), "-p", "hello", "-m", "4"});
  expect_error(r, needle);
  EXPECT_NE(r.err.find("model.embed_tokens's"), std::string::npos) << r.err;
}

// An int16 checkpoint was described by `uma info` as float32.
TEST(HostileCli, IntegerWeightsAreRejectedByEveryCommand) {
  fs::path dir = with_weights("int16", [](auto& w) {
    auto& a = w.at("model.norm.weight");
    a = astype(a, int16);
  });
  expect_error_from_all(
      dir,
      "tensor model.norm.weight has dtype int16; weights must be float32, float16 or bfloat16");
}

// FIFOs blocked open() forever; a directory gave basic_filebuf::underflow;
// /dev/zero was read without end.
TEST(HostileCli, SpecialFilesAreRefusedNotWaitedOn) {
  fs::path base = tiny_model("tiny-llama", "llama3");
  struct Case {
    std::string file, kind;
    std::function<void(const fs::path&)> make;
  };
  auto fifo = [](const fs::path& p) { ASSERT_EQ(::mkfifo(p.c_str(), 0644), 0); };
  auto dir = [](const fs::path& p) { fs::create_directory(p); };
  auto zero = [](const fs::path& p) { fs::create_symlink("/dev/zero", p); };
  const std::vector<Case> cases = {
      {"config.json", "a FIFO", fifo},           {"tokenizer.json", "a FIFO", fifo},
      {"tokenizer_config.json", "a FIFO", fifo}, {"chat_template.jinja", "a FIFO", fifo},
      {"config.json", "a directory", dir},       {"tokenizer_config.json", "a device", zero},
      {"model.safetensors", "a FIFO", fifo},
  };
  int i = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.file + " as " + c.kind);
    fs::path m = copy_model(base, "special" + std::to_string(i++));
    fs::remove(m / c.file);
    c.make(m / c.file);
    std::string needle = (m / c.file).string() + " is " + c.kind + ", not a regular file";
    expect_error(run_uma({"generate", "--model", m.string(), "-p", "hi", "-m", "2"}), needle);
    if (c.file.find("token") != std::string::npos || c.file == "chat_template.jinja") {
      expect_error(run_uma({"tokenize", "--model", m.string(), "--text", "hi"}), needle);
      expect_error(
          run_uma({"template", "--model", m.string(), "--messages", (m / "config.json").string()}),
          needle);
    }
  }
  // A GGUF path and the files tokenize and template read.
  fs::path gguf = tiny_models().root() / "fifo.gguf";
  ASSERT_EQ(::mkfifo(gguf.c_str(), 0644), 0);
  expect_error(run_uma({"tokenize", "--model", gguf.string(), "--text", "hi"}),
               gguf.string() + " is a FIFO");
  fs::path lines = tiny_models().root() / "fifo.jsonl";
  ASSERT_EQ(::mkfifo(lines.c_str(), 0644), 0);
  expect_error(run_uma({"tokenize", "--model", base.string(), "--file", lines.string()}),
               lines.string() + " is a FIFO");
  expect_error(run_uma({"template", "--model", base.string(), "--messages", lines.string()}),
               lines.string() + " is a FIFO");
}

// A dangling shard symlink gave "filesystem error: cannot get file size".
TEST(HostileCli, FilesystemErrorsNameThePath) {
  fs::path dir = copy_model(tiny_model("tiny-llama", "llama2"), "dangling");
  fs::remove(dir / "model.safetensors");
  fs::create_symlink(dir / "gone.bin", dir / "model.safetensors");
  expect_error(run_uma({"info", "--model", dir.string()}), (dir / "model.safetensors").string());
}

// A token id of 2^31-1 in tokenizer.json allocated ~2^31 vocabulary slots.
TEST(HostileCli, HugeTokenIdIsAnError) {
  fs::path dir = copy_model(tiny_model("tiny-llama", "llama2"), "huge_id");
  json tok = read_json(dir / "tokenizer.json");
  ASSERT_TRUE(tok["model"]["vocab"].is_object());
  tok["model"]["vocab"]["<huge>"] = 2147483647;
  std::ofstream(dir / "tokenizer.json") << tok.dump();
  Result r = run_uma({"tokenize", "--model", dir.string(), "--text", "hi"});
  EXPECT_EQ(r.rc, 1) << r.err;
  EXPECT_EQ(r.err.rfind("uma: error: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  expect_no_library_text(r);
}

// UMA_NUM_THREADS garbage is a warning and the default; running out of
// threads (here: 1 GiB stacks under a 4 GiB address-space limit) falls back
// to the threads that started instead of "terminate called".
TEST(HostileCli, ThreadCountProblemsAreWarningsNotCrashes) {
  std::string m = tiny_model("tiny-llama", "llama2").string();
  Result ref = run_uma({"generate", "--model", m, "-p", "hello", "-m", "3"});
  ASSERT_EQ(ref.rc, 0) << ref.err;
  auto run_env = [&](const std::string& prefix) {
    auto err = tiny_models().root() / "env.err";
    std::string cmd = "sh -c " + quote(prefix + " exec timeout 60 " + quote(uma_binary().string()) +
                                       " generate --model " + quote(m) + " -p hello -m 3 2>" +
                                       quote(err.string()) + " </dev/null");
    Result r;
    FILE* p = ::popen(cmd.c_str(), "r");
    std::array<char, 4096> buf;
    size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
    int status = ::pclose(p);
    r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::ifstream e(err);
    r.err.assign(std::istreambuf_iterator<char>(e), std::istreambuf_iterator<char>());
    return r;
  };
  for (const char* v : {"abc", "0", "-3", "99999999999", "4x"}) {
    SCOPED_TRACE(v);
    Result r = run_env(std::string("UMA_NUM_THREADS=") + v);
    EXPECT_EQ(r.rc, 0) << r.err;
    EXPECT_EQ(r.out, ref.out);
    EXPECT_EQ(r.err, ref.err + "uma: warning: UMA_NUM_THREADS='" + v +
                         "' is not an integer in 1..1024; using " +
                         std::to_string(std::max(1u, std::thread::hardware_concurrency())) +
                         " threads\n");
  }
  // OPENBLAS_NUM_THREADS=1: OpenBLAS starts its own pool (one thread per
  // core) when the library loads, before main; on a many-core host these
  // limits make that fail, and OpenBLAS then exits by itself. This case is
  // about uma's pool.
  Result r = run_env("ulimit -s 1048576; ulimit -v 4194304; OPENBLAS_NUM_THREADS=1 UMA_NUM_THREADS=64");
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out, ref.out);
  EXPECT_NE(r.err.find("uma: warning: could start only "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(" of 64 threads"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'),
            std::count(ref.err.begin(), ref.err.end(), '\n') + 1)
      << r.err;
}

// Files beside `dir` left by an init (temporary folders are ".NAME.tmp-*").
std::vector<std::string> leftovers(const fs::path& dir) {
  std::vector<std::string> out;
  for (auto& e : fs::directory_iterator(dir.parent_path())) {
    std::string n = e.path().filename().string();
    if (n.rfind("." + dir.filename().string() + ".tmp-", 0) == 0) out.push_back(n);
  }
  return out;
}

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> out;
  for (auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

// init replaced the user's config.json in an existing folder, and a re-run
// over a sharded output left the old index and shards, which won at load.
TEST(HostileCli, InitNeverLosesOrMixesUserFiles) {
  std::string tok = npm_model("llama2").string();
  fs::path out = tiny_models().root() / "init_out";
  fs::create_directories(out);
  std::ofstream(out / "config.json") << "{\"mine\": true}";
  auto init = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"init", "--preset", "tiny-llama", "--tokenizer",
                                     tok,    "--out",    out.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_uma(args);
  };
  expect_error(init({}),
               "--out: " + out.string() + " exists and is not empty (pass --force to replace it)");
  EXPECT_EQ(read_json(out / "config.json"), json({{"mine", true}}));
  EXPECT_EQ(names_in(out), std::vector<std::string>{"config.json"});

  // --force with small shards: the user's folder is replaced as a whole.
  Result sharded = init({"--force", "--shard-gb", "0.001"});
  ASSERT_EQ(sharded.rc, 0) << sharded.err;
  ASSERT_TRUE(fs::exists(out / "model.safetensors.index.json"));
  EXPECT_FALSE(read_json(out / "config.json").contains("mine"));
  size_t shards = 0;
  for (auto& n : names_in(out)) shards += n.rfind("model-", 0) == 0;
  EXPECT_GT(shards, 1u);

  // Re-run unsharded: no old index or shard survives, and the model loads.
  Result single = init({"--force"});
  ASSERT_EQ(single.rc, 0) << single.err;
  EXPECT_EQ(names_in(out),
            (std::vector<std::string>{"config.json", "generation_config.json", "model.safetensors",
                                      "tokenizer.json", "tokenizer_config.json"}));
  EXPECT_EQ(run_uma({"info", "--model", out.string()}).rc, 0);
  EXPECT_TRUE(leftovers(out).empty());

  // --shard-gb is range-checked (1e11 GB overflowed into one shard per tensor).
  for (const char* v : {"1e11", "inf", "0", "-1"}) {
    SCOPED_TRACE(v);
    Result r = init({"--force", "--shard-gb", v});
    expect_one_line_error(r, "--shard-gb");
  }
  expect_error(init({"--force", "--shard-gb", "1e11"}),
               "--shard-gb must be in (0, 1024], got 1e+11");

  // A failure after writing started (a FIFO among the tokenizer files)
  // leaves the previous folder as it was and no temporary folder behind.
  fs::path bad_tok = tiny_models().root() / "bad_tok";
  fs::create_directories(bad_tok);
  fs::copy_file(npm_model("llama2") / "tokenizer.json", bad_tok / "tokenizer.json");
  ASSERT_EQ(::mkfifo((bad_tok / "chat_template.jinja").c_str(), 0644), 0);
  auto before = names_in(out);
  expect_error(run_uma({"init", "--preset", "tiny-llama", "--tokenizer", bad_tok.string(), "--out",
                        out.string(), "--force"}),
               (bad_tok / "chat_template.jinja").string() + " is a FIFO");
  EXPECT_EQ(names_in(out), before);
  EXPECT_TRUE(leftovers(out).empty());
}

}  // namespace
}  // namespace uma::cli
