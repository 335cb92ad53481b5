// `uma train`: a CI-sized run learns (its loss ends below the unigram
// entropy of the data, computed here from the trained tokenizer's ids), a
// run killed with SIGKILL and started again reproduces the uninterrupted
// run's loss curve and weights byte for byte, the result loads in `uma
// generate`, and bad configs are one-line errors.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <map>
#include <random>
#include <thread>

#include "cli/cli_util.h"
#include "uma/text/tokenizer/tokenizer.h"

namespace fs = std::filesystem;
using uma::cli::testing::expect_one_line_error;
using uma::cli::testing::run_uma;
using uma::cli::testing::uma_binary;

namespace {

std::string read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// Sentences of a small grammar: each word depends on the one before, so a
// model that reads context beats the unigram distribution by a wide margin.
std::string grammar_corpus(int n) {
  const std::vector<std::string> adj = {"quiet", "red", "old", "clever", "small"},
                                  noun = {"fox", "river", "teacher", "lamp", "garden", "ship"},
                                  verb = {"watches", "follows", "paints", "finds"};
  std::mt19937 rng(7);
  std::string text;
  for (int i = 0; i < n; ++i) {
    auto pick = [&](const std::vector<std::string>& v) { return v[rng() % v.size()]; };
    text += "the " + pick(adj) + " " + pick(noun) + " " + pick(verb) + " the " + pick(noun) + ".";
    text += (i % 4 == 3) ? "\n\n" : " ";
  }
  return text;
}

struct TrainRun {
  fs::path dir;
  explicit TrainRun(const std::string& name)
      : dir(fs::temp_directory_path() / ("uma_train_" + std::to_string(::getpid()) + "_" + name)) {
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~TrainRun() { fs::remove_all(dir); }
  fs::path config(const std::string& extra, int steps, int save_every) const {
    std::ofstream(dir / "corpus.txt") << grammar_corpus(1200);
    std::ofstream(dir / "run.yaml") << "model:\n  model_type: llama\n  hidden_size: 32\n  num_hidden_layers: 2\n"
                                       "  intermediate_size: 64\n  num_attention_heads: 2\n"
                                       "  num_key_value_heads: 1\n  tie_word_embeddings: true\n"
                                       "tokenizer_vocab_size: 300\ntrain: corpus.txt\nvalid_fraction: 0.05\n"
                                       "seq_len: 32\nbatch_size: 4\nsteps: "
                                    << steps << "\nlearning_rate: 5.0e-3\nwarmup_steps: 5\nlog_every: 10\n"
                                    << "eval_every: 50\nsave_every: " << save_every << "\noutput: out\n"
                                    << extra;
    return dir / "run.yaml";
  }
};

int checkpoint_step(const fs::path& out) {
  std::string s = read_file(out / "checkpoint" / "trainer_state.json");
  auto at = s.find("\"step\":");
  return at == std::string::npos ? -1 : std::atoi(s.c_str() + at + 7);
}

// Runs `uma train -c config` in a child, sends it `sig` once `out` holds a
// checkpoint of at least `step` (or after 60 s), and returns its wait status.
int signal_at_checkpoint(const fs::path& config, const fs::path& out, int step, int sig) {
  pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, 1);
    ::dup2(devnull, 2);
    std::string bin = uma_binary().string(), c = config.string();
    ::execl(bin.c_str(), bin.c_str(), "train", "-c", c.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (checkpoint_step(out) < step && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ::kill(pid, sig);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

}  // namespace

TEST(TrainCli, LearnsBelowTheUnigramEntropyAndTheModelGenerates) {
  TrainRun run("learn");
  auto cfg = run.config("", 150, 150);
  auto r = run_uma({"train", "-c", cfg.string()});
  ASSERT_EQ(r.rc, 0) << r.err;
  fs::path out = run.dir / "out";
  for (const char* f : {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                        "generation_config.json", "loss.csv", "loss.png", "train_config.json"}) {
    EXPECT_TRUE(fs::exists(out / f)) << f;
  }
  EXPECT_EQ(read_file(out / "loss.png").substr(1, 3), "PNG");

  // Unigram entropy (nats) of the corpus under the trained tokenizer.
  auto tok = uma::text::tokenizer::Tokenizer::from_file(out / "tokenizer.json");
  auto ids = tok.encode(read_file(run.dir / "corpus.txt"), false);
  std::map<int32_t, double> counts;
  for (int32_t id : ids) counts[id] += 1;
  double entropy = 0;
  for (auto& [id, c] : counts) entropy -= c / double(ids.size()) * std::log(c / double(ids.size()));
  ASSERT_GT(entropy, 1.0);

  // The last validation loss, from loss.csv.
  std::istringstream csv(read_file(out / "loss.csv"));
  std::string line;
  double valid = NAN;
  while (std::getline(csv, line)) {
    if (line.find(",valid,") != std::string::npos) valid = std::stod(line.substr(line.rfind(',') + 1));
  }
  EXPECT_LT(valid, 0.6 * entropy) << "unigram entropy " << entropy;

  auto g = run_uma({"generate", "--model", out.string(), "--prompt", "the quiet", "-m", "12",
                    "--ignore-chat-template"});
  ASSERT_EQ(g.rc, 0) << g.err;
  EXPECT_NE(g.out.find("the"), std::string::npos) << g.out;
}

TEST(TrainCli, AKilledRunResumesToTheSameLossCurveAndWeights) {
  TrainRun a("whole"), b("killed");
  auto cfg_a = a.config("", 120, 10);
  auto cfg_b = b.config("", 120, 10);
  ASSERT_EQ(run_uma({"train", "-c", cfg_a.string()}).rc, 0);

  // Start b, kill it hard once a checkpoint past step 20 exists.
  int status = signal_at_checkpoint(cfg_b, b.dir / "out", 20, SIGKILL);
  ASSERT_NE(status, -1) << "fork failed";
  int at_kill = checkpoint_step(b.dir / "out");
  ASSERT_GE(at_kill, 20);
  if (WIFSIGNALED(status)) {
    EXPECT_LT(at_kill, 120);  // killed mid-run, not after it ended
  }

  auto r = run_uma({"train", "-c", cfg_b.string()});
  ASSERT_EQ(r.rc, 0) << r.err;
  if (WIFSIGNALED(status)) {
    EXPECT_NE(r.err.find("resuming from step " + std::to_string(at_kill)), std::string::npos) << r.err;
  }
  EXPECT_EQ(read_file(a.dir / "out" / "loss.csv"), read_file(b.dir / "out" / "loss.csv"));
  EXPECT_EQ(read_file(a.dir / "out" / "model.safetensors"), read_file(b.dir / "out" / "model.safetensors"));
}

TEST(TrainCli, AnInterruptedRunSavesTheModelSoFarAndResumesExactly) {
  TrainRun a("whole_int"), b("interrupted");
  auto cfg_a = a.config("", 120, 50);
  auto cfg_b = b.config("", 120, 50);
  ASSERT_EQ(run_uma({"train", "-c", cfg_a.string()}).rc, 0);

  // SIGINT once the first checkpoint (step 50) exists: the run stops after
  // its current step, between checkpoints, and saves where it is.
  int status = signal_at_checkpoint(cfg_b, b.dir / "out", 50, SIGINT);
  ASSERT_NE(status, -1) << "fork failed";
  int at_stop = checkpoint_step(b.dir / "out");
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 128 + SIGINT);
  EXPECT_GE(at_stop, 50);
  EXPECT_LT(at_stop, 120);
  // The model so far is a whole model folder that loads and generates.
  auto g = run_uma({"generate", "--model", (b.dir / "out").string(), "--prompt", "the", "-m", "3",
                    "--ignore-chat-template"});
  EXPECT_EQ(g.rc, 0) << g.err;

  auto r = run_uma({"train", "-c", cfg_b.string()});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.err.find("resuming from step " + std::to_string(at_stop)), std::string::npos) << r.err;
  EXPECT_EQ(read_file(a.dir / "out" / "loss.csv"), read_file(b.dir / "out" / "loss.csv"));
  EXPECT_EQ(read_file(a.dir / "out" / "model.safetensors"), read_file(b.dir / "out" / "model.safetensors"));
}

TEST(TrainCli, InitFromStartsAtAModelFoldersWeightsAndTokenizer) {
  TrainRun src("init_src"), dst("init_dst");
  ASSERT_EQ(run_uma({"train", "-c", src.config("", 20, 20).string()}).rc, 0);
  // No `model` and no tokenizer settings: both come from the folder. A step
  // with a learning rate far below float32's resolution at these weights
  // leaves them bit for bit as they were.
  std::ofstream(dst.dir / "corpus.txt") << grammar_corpus(300);
  std::ofstream(dst.dir / "run.yaml") << "init_from: " << (src.dir / "out").string()
                                      << "\ntrain: corpus.txt\nvalid_fraction: 0.05\nseq_len: 32\nbatch_size: 4\n"
                                         "steps: 1\nwarmup_steps: 0\nlearning_rate: 1.0e-30\nmin_learning_rate: 0\n"
                                         "weight_decay: 0\noutput: out\n";
  auto r = run_uma({"train", "-c", (dst.dir / "run.yaml").string()});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.err.find("weights from"), std::string::npos) << r.err;
  EXPECT_EQ(read_file(src.dir / "out" / "tokenizer.json"), read_file(dst.dir / "out" / "tokenizer.json"));
  EXPECT_EQ(read_file(src.dir / "out" / "model.safetensors"), read_file(dst.dir / "out" / "model.safetensors"));
  EXPECT_EQ(nlohmann::json::parse(read_file(src.dir / "out" / "config.json")),
            nlohmann::json::parse(read_file(dst.dir / "out" / "config.json")));

  // A model of another shape does not fit: one clear line.
  std::ofstream(dst.dir / "bad.yaml") << "init_from: " << (src.dir / "out").string()
                                      << "\nmodel:\n  hidden_size: 64\ntrain: corpus.txt\nvalid_fraction: 0.05\n"
                                         "seq_len: 32\nbatch_size: 4\nsteps: 1\nwarmup_steps: 0\noutput: out2\n";
  auto bad = run_uma({"train", "-c", (dst.dir / "bad.yaml").string()});
  EXPECT_NE(bad.rc, 0);
  EXPECT_NE(bad.err.find("uma: error: [train] init_from " + (src.dir / "out").string() + " does not fit"),
            std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("expects (300,64), got (300,32)"), std::string::npos) << bad.err;
}

TEST(TrainCli, BadConfigsAreOneLineErrors) {
  TrainRun run("bad");
  auto cfg = run.config("warmup: 3\n", 10, 10);
  expect_one_line_error(run_uma({"train", "-c", cfg.string()}), "config key 'warmup': unknown key");
  cfg = run.config("", 10, 10);
  std::ofstream(cfg, std::ios::app) << "batch_size: -2\n";
  expect_one_line_error(run_uma({"train", "-c", cfg.string()}), "");
  expect_one_line_error(run_uma({"train", "-c", (run.dir / "missing.yaml").string()}), "missing.yaml");
  std::ofstream(run.dir / "bad.yaml") << "model: [unclosed\n";
  expect_one_line_error(run_uma({"train", "-c", (run.dir / "bad.yaml").string()}), "bad.yaml");

  // A finished run's folder refuses a different config, and a folder that
  // is not a training run is never written into.
  cfg = run.config("", 10, 10);
  ASSERT_EQ(run_uma({"train", "-c", cfg.string()}).rc, 0);
  cfg = run.config("seed: 3\n", 10, 10);
  expect_one_line_error(run_uma({"train", "-c", cfg.string()}), "different 'seed'");
  fs::create_directories(run.dir / "other");
  std::ofstream(run.dir / "other" / "notes.txt") << "keep me";
  expect_one_line_error(run_uma({"train", "-c", cfg.string(), "-o", (run.dir / "other").string()}),
                        "holds no uma training run");
  EXPECT_EQ(read_file(run.dir / "other" / "notes.txt"), "keep me");
}
