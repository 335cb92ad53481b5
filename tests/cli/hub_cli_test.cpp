// `uma generate --model org/name` against a fake Hugging Face hub serving
// uma's built-in model (models/uma-dict): downloaded into the cache, then
// used offline; `uma manage --scan` and `--delete`.
#include <cstdlib>
#include <future>
#include <nlohmann/json.hpp>

#include "cli_util.h"
#include "hub/fake_hub.h"

namespace uma::cli {
namespace {

using namespace testing;
namespace fs = std::filesystem;
using hub::testing::FakeHub;
using hub::testing::FakeRepo;

const std::string kCommit = "c0ffee0123456789abcdef0123456789abcdef01";

// The tokens and text of a `generate --json` run (its speeds vary).
std::string answer(const Result& r) {
  auto j = nlohmann::json::parse(r.out);
  return j["tokens"].dump() + " " + j["text"].dump();
}

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

class HubCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("uma_hub_cli_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    FakeRepo repo;
    repo.commit = kCommit;
    for (const auto& e : fs::directory_iterator(model_dir_)) {
      repo.files[e.path().filename().string()] = slurp(e.path());
    }
    repo.lfs = {"model.safetensors"};
    hub_.add("uma-test/dict", repo);
    ::setenv("HF_HUB_CACHE", (dir_ / "hub").c_str(), 1);
    ::setenv("HF_ENDPOINT", hub_.endpoint().c_str(), 1);
    ::setenv("HF_TOKEN_PATH", (dir_ / "no-token").c_str(), 1);
    ::unsetenv("HF_TOKEN");
    ::unsetenv("HF_HUB_OFFLINE");
  }
  void TearDown() override {
    for (const char* v : {"HF_HUB_CACHE", "HF_ENDPOINT", "HF_TOKEN_PATH", "HF_HUB_OFFLINE"}) ::unsetenv(v);
    fs::remove_all(dir_);
  }
  std::vector<std::string> generate(const std::string& model) {
    return {"generate", "--model", model, "--prompt", "What does 'garden' mean?", "-m", "12", "--json"};
  }

  fs::path model_dir_ = fs::path(UMA_SOURCE_DIR) / "models" / "uma-dict";
  fs::path dir_;
  FakeHub hub_;
};

TEST_F(HubCli, GenerateDownloadsARepoThenRunsOffline) {
  Result local = run_uma(generate(model_dir_.string()));
  ASSERT_EQ(local.rc, 0) << local.err;

  Result fetched = run_uma(generate("uma-test/dict"));
  ASSERT_EQ(fetched.rc, 0) << fetched.err;
  EXPECT_EQ(answer(fetched), answer(local));  // the same model, the same greedy tokens
  EXPECT_NE(answer(local).rfind("[]", 0), 0u) << local.out;  // it did generate
  // stderr is no terminal here: one plain line per file.
  EXPECT_NE(fetched.err.find("[hub] model.safetensors: 12.3 MB"), std::string::npos) << fetched.err;
  fs::path snap = dir_ / "hub" / "models--uma-test--dict" / "snapshots" / kCommit;
  std::vector<std::string> cached;
  for (const auto& e : fs::directory_iterator(snap)) cached.push_back(e.path().filename().string());
  std::sort(cached.begin(), cached.end());
  // mlx-lm's allow-patterns: no README.md, loss.csv, loss.png, make_data.py or train.yaml.
  EXPECT_EQ(cached, (std::vector<std::string>{"config.json", "generation_config.json", "model.safetensors",
                                              "tokenizer.json", "tokenizer_config.json"}));
  EXPECT_EQ(slurp(dir_ / "hub" / "models--uma-test--dict" / "refs" / "main"), kCommit);

  hub_.clear_log();
  ::setenv("HF_HUB_OFFLINE", "1", 1);
  Result offline = run_uma(generate("uma-test/dict"));
  ASSERT_EQ(offline.rc, 0) << offline.err;
  EXPECT_EQ(answer(offline), answer(local));
  EXPECT_EQ(offline.err, "");
  EXPECT_TRUE(hub_.requests().empty());

  Result missing = run_uma(generate("uma-test/other"));
  expect_one_line_error(missing, "[hub] uma-test/other is not in the cache");
  EXPECT_NE(missing.err.find("HF_HUB_OFFLINE"), std::string::npos);
}

// Two processes fetch the same repo at once, the CDN slowed so that their
// downloads overlap: the lock on each blob lets one process download it while
// the other waits and then finds it whole; both answer as the local model,
// each file came from the CDN once, and nothing partial is left.
TEST_F(HubCli, TwoProcessesFetchingOneRepoShareOneDownload) {
  Result local = run_uma(generate(model_dir_.string()));
  ASSERT_EQ(local.rc, 0) << local.err;
  hub_.throttle(20);  // model.safetensors: 48 pieces, about a second
  hub_.clear_log();
  auto launch = [&](int i) {
    std::string cmd = "timeout -k 5 120 " + quote(uma_binary().string());
    for (const auto& a : generate("uma-test/dict")) cmd += " " + quote(a);
    cmd += " >" + quote((dir_ / ("out" + std::to_string(i))).string()) + " 2>" +
           quote((dir_ / ("err" + std::to_string(i))).string());
    return std::system(cmd.c_str());
  };
  auto a = std::async(std::launch::async, launch, 0), b = std::async(std::launch::async, launch, 1);
  ASSERT_EQ(a.get(), 0) << slurp(dir_ / "err0");
  ASSERT_EQ(b.get(), 0) << slurp(dir_ / "err1");
  for (int i = 0; i < 2; ++i) {
    Result r;
    r.out = slurp(dir_ / ("out" + std::to_string(i)));
    EXPECT_EQ(answer(r), answer(local)) << i;
  }
  int cdn = 0, head_or_api = 0;
  for (const auto& q : hub_.requests()) (q.path.rfind("/cdn/", 0) == 0 ? cdn : head_or_api) += 1;
  EXPECT_EQ(cdn, 1) << "model.safetensors downloaded " << cdn << " times";
  EXPECT_GT(head_or_api, 0);
  fs::path blobs = dir_ / "hub" / "models--uma-test--dict" / "blobs";
  int n = 0;
  for (const auto& e : fs::directory_iterator(blobs)) {
    EXPECT_EQ(e.path().extension(), "") << "left behind: " << e.path();
    ++n;
  }
  EXPECT_EQ(n, 5);  // one blob per file
  EXPECT_EQ(slurp(dir_ / "hub" / "models--uma-test--dict" / "snapshots" / kCommit / "model.safetensors"),
            slurp(model_dir_ / "model.safetensors"));
}

TEST_F(HubCli, GatedRepoWithoutATokenIsOneClearLine) {
  FakeRepo gated;
  gated.commit = kCommit;
  gated.files = {{"config.json", "{}"}};
  gated.token = "hf_x";
  hub_.add("uma-test/gated", gated);
  Result r = run_uma({"info", "--model", "uma-test/gated"});
  expect_one_line_error(r, "[hub] uma-test/gated: gated or private repo");
  EXPECT_NE(r.err.find("set HF_TOKEN"), std::string::npos) << r.err;
}

TEST_F(HubCli, ManageScansAndDeletesTheCache) {
  ASSERT_EQ(run_uma({"tokenize", "--model", "uma-test/dict", "--text", "garden"}).rc, 0);
  Result scan = run_uma({"manage", "--scan"});
  ASSERT_EQ(scan.rc, 0) << scan.err;
  EXPECT_NE(scan.out.find("REPO ID"), std::string::npos) << scan.out;
  std::string row = scan.out.substr(scan.out.find("uma-test/dict"));
  EXPECT_NE(row.find("main"), std::string::npos) << scan.out;
  EXPECT_NE(row.find(kCommit.substr(0, 12)), std::string::npos) << scan.out;
  // tokenize fetched the tokenizer only: no weights in the cache.
  EXPECT_FALSE(fs::exists(dir_ / "hub" / "models--uma-test--dict" / "snapshots" / kCommit / "model.safetensors"));

  Result no = run_uma({"manage", "--delete", "--pattern", "dict"}, "n\n");
  ASSERT_EQ(no.rc, 0) << no.err;
  EXPECT_NE(no.out.find("Deletion is cancelled"), std::string::npos) << no.out;
  EXPECT_TRUE(fs::exists(dir_ / "hub" / "models--uma-test--dict"));

  Result yes = run_uma({"manage", "--delete", "--pattern", "dict", "--yes"});
  ASSERT_EQ(yes.rc, 0) << yes.err;
  EXPECT_NE(yes.out.find("uma-test/dict"), std::string::npos) << yes.out;
  EXPECT_FALSE(fs::exists(dir_ / "hub" / "models--uma-test--dict"));
  Result empty = run_uma({"manage", "--scan"});
  EXPECT_EQ(empty.out.find("uma-test/dict"), std::string::npos) << empty.out;
}

}  // namespace
}  // namespace uma::cli
