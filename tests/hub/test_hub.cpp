// The hub client against a fake hub (fake_hub.h): the cache layout
// huggingface_hub writes, offline use, resume, corruption, tokens, revisions,
// file selection and GGUF picks.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "hub/fake_hub.h"
#include "uma/hub/cache.h"
#include "uma/hub/resolve.h"

namespace fs = std::filesystem;
using namespace uma::hub;
using uma::hub::testing::FakeHub;
using uma::hub::testing::FakeRepo;
using uma::hub::testing::sha256_hex;

namespace {

const std::string kCommit = "0123456789abcdef0123456789abcdef01234567";
const std::string kOther = "fedcba9876543210fedcba9876543210fedcba98";

std::string read(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

std::string weights(size_t n, char seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = char(seed + i * 31 % 251);
  return s;
}

std::string oid(const std::string& bytes) { return sha256_hex("blob " + bytes).substr(0, 40); }

FakeRepo model_repo() {
  FakeRepo r;
  r.commit = kCommit;
  r.files = {{"config.json", "{\"model_type\": \"llama\"}"},
             {"tokenizer.json", "{\"version\": \"1.0\"}"},
             {"model.safetensors", weights(300000, 7)},
             {"nested/extra.json", "{}"},
             {"README.md", "# readme"},
             {"train.py", "print('no')"},
             {"pytorch_model.bin", "torch"}};
  r.lfs = {"model.safetensors"};
  return r;
}

class HubTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("uma_hub_test_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    cache_ = (dir_ / "hub").string();
    ::setenv("HF_HUB_CACHE", cache_.c_str(), 1);
    ::setenv("HF_ENDPOINT", hub_.endpoint().c_str(), 1);
    ::setenv("HF_TOKEN_PATH", (dir_ / "no-token").c_str(), 1);
    ::unsetenv("HF_TOKEN");
    ::unsetenv("HF_HUB_OFFLINE");
    hub_.add("org/model", model_repo());
  }
  void TearDown() override {
    for (const char* v : {"HF_HUB_CACHE", "HF_ENDPOINT", "HF_TOKEN_PATH", "HF_TOKEN", "HF_HUB_OFFLINE"}) ::unsetenv(v);
    fs::remove_all(dir_);
  }
  fs::path repo_dir() const { return fs::path(cache_) / "models--org--model"; }
  std::vector<std::string> blobs() const {
    std::vector<std::string> out;
    if (fs::exists(repo_dir() / "blobs")) {
      for (auto& e : fs::directory_iterator(repo_dir() / "blobs")) out.push_back(e.path().filename().string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  int requests_to(const std::string& prefix) {
    int n = 0;
    for (auto& r : hub_.requests()) n += r.path.rfind(prefix, 0) == 0;
    return n;
  }

  FakeHub hub_;
  fs::path dir_;
  std::string cache_;
};

TEST(HubRef, ParsesRepoIdsRevisionsAndQuantTags) {
  auto r = parse_repo_ref("mlx-community/Llama-3.2-1B-Instruct-4bit");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->repo_id, "mlx-community/Llama-3.2-1B-Instruct-4bit");
  EXPECT_EQ(r->revision, "main");
  EXPECT_EQ(r->quant, "");
  r = parse_repo_ref("org/name@v1.0:Q4_K_M");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->repo_id, "org/name");
  EXPECT_EQ(r->revision, "v1.0");
  EXPECT_EQ(r->quant, "Q4_K_M");
  r = parse_repo_ref("org/name:q8_0@" + kCommit);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->quant, "q8_0");
  EXPECT_EQ(r->revision, kCommit);
  for (const char* bad : {"name", "a/b/c", "/abs/path", "./x/y", "org/na--me", "org/a..b", "org/", "org/x@", "org/x:"}) {
    EXPECT_FALSE(parse_repo_ref(bad)) << bad;
  }
  EXPECT_EQ(repo_folder_name("org/name"), "models--org--name");
}

TEST(HubRef, CacheFolderFollowsHuggingfaceHubsVariables) {
  ::unsetenv("HF_HUB_CACHE");
  ::setenv("HF_HOME", "/x/hf", 1);
  EXPECT_EQ(cache_dir(), "/x/hf/hub");
  ::setenv("HF_HUB_CACHE", "/y/cache", 1);
  EXPECT_EQ(cache_dir(), "/y/cache");
  ::unsetenv("HF_HUB_CACHE");
  ::unsetenv("HF_HOME");
  ::unsetenv("XDG_CACHE_HOME");
  EXPECT_EQ(cache_dir(), std::string(std::getenv("HOME")) + "/.cache/huggingface/hub");
}

TEST(HubPatterns, SelectsModelFilesAsMlxLm) {
  std::vector<std::string> files = {"config.json", "model-00001-of-00002.safetensors", "model.safetensors.index.json",
                                    "README.md", "train.py", "pytorch_model.bin", "tokenizer.model",
                                    "chat_template.jinja", "sub/dir/x.json", "consolidated.safetensors"};
  auto got = select_files(files, model_patterns());
  std::vector<std::string> want = {"config.json", "model-00001-of-00002.safetensors", "model.safetensors.index.json",
                                   "tokenizer.model", "chat_template.jinja", "sub/dir/x.json"};
  EXPECT_EQ(got, want);
  EXPECT_TRUE(matches_pattern("sub/", "sub/dir/x.json"));
  EXPECT_FALSE(matches_pattern("sub/", "other/x.json"));
  EXPECT_EQ(select_files(files, {"*.md"}), std::vector<std::string>{"README.md"});
}

TEST(HubPatterns, PicksGgufByQuantTagWithSplitParts) {
  std::vector<std::string> files = {"model-Q8_0.gguf", "model-Q4_K_M.gguf", "mmproj-model-Q4_K_M.gguf",
                                    "big/Model-Q5_K_M-00002-of-00002.gguf", "big/Model-Q5_K_M-00001-of-00002.gguf",
                                    "config.json"};
  EXPECT_EQ(select_gguf(files, "", "q4_k_m", "o/r"), std::vector<std::string>{"model-Q4_K_M.gguf"});
  EXPECT_EQ(select_gguf(files, "", "Q5_K_M", "o/r"),
            (std::vector<std::string>{"big/Model-Q5_K_M-00001-of-00002.gguf", "big/Model-Q5_K_M-00002-of-00002.gguf"}));
  EXPECT_EQ(select_gguf(files, "model-Q8_0.gguf", "", "o/r"), std::vector<std::string>{"model-Q8_0.gguf"});
  try {
    select_gguf(files, "", "IQ2_XS", "o/r");
    FAIL() << "no IQ2_XS file, yet one was picked";
  } catch (const std::invalid_argument& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("[hub] o/r has no .gguf file with 'IQ2_XS'"), std::string::npos) << m;
    EXPECT_NE(m.find("model-Q8_0.gguf"), std::string::npos) << m;
  }
}

TEST_F(HubTest, DownloadsOnlyModelFilesInHuggingfaceHubsLayout) {
  auto repo = model_repo();
  std::string dir = resolve_model("org/model");
  EXPECT_EQ(dir, (repo_dir() / "snapshots" / kCommit).string());
  EXPECT_EQ(read(repo_dir() / "refs" / "main"), kCommit);  // no newline, as huggingface_hub writes it
  // blobs/<etag>: the sha256 for the LFS file, the git oid for the others.
  std::vector<std::string> want = {oid(repo.files["config.json"]), oid(repo.files["nested/extra.json"]),
                                   oid(repo.files["tokenizer.json"]), sha256_hex(repo.files["model.safetensors"])};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(blobs(), want);
  fs::path snap = repo_dir() / "snapshots" / kCommit;
  EXPECT_EQ(fs::read_symlink(snap / "config.json").string(), "../../blobs/" + oid(repo.files["config.json"]));
  EXPECT_EQ(fs::read_symlink(snap / "model.safetensors").string(),
            "../../blobs/" + sha256_hex(repo.files["model.safetensors"]));
  EXPECT_EQ(fs::read_symlink(snap / "nested" / "extra.json").string(),
            "../../../blobs/" + oid(repo.files["nested/extra.json"]));
  EXPECT_EQ(read(snap / "model.safetensors"), repo.files["model.safetensors"]);
  EXPECT_EQ(read(snap / "tokenizer.json"), repo.files["tokenizer.json"]);
  for (const char* skipped : {"README.md", "train.py", "pytorch_model.bin"}) EXPECT_FALSE(fs::exists(snap / skipped));
  EXPECT_TRUE(fs::exists(fs::path(cache_) / ".locks" / "models--org--model"));

  // A second call downloads nothing: only the file list is asked for.
  hub_.clear_log();
  EXPECT_EQ(resolve_model("org/model"), dir);
  EXPECT_EQ(requests_to("/api/"), 1);
  EXPECT_EQ(requests_to("/org/model/resolve/"), 0);
  EXPECT_EQ(requests_to("/cdn/"), 0);
}

TEST_F(HubTest, UsesACacheWrittenByPythonOfflineAndWithTheHubDown) {
  // As huggingface_hub leaves it: blobs named by etag, relative links, refs/main.
  fs::path snap = repo_dir() / "snapshots" / kOther;
  fs::create_directories(snap);
  fs::create_directories(repo_dir() / "blobs");
  fs::create_directories(repo_dir() / "refs");
  std::map<std::string, std::string> files = {{"config.json", "{\"a\": 1}"}, {"model.safetensors", "weights"}};
  for (auto& [name, bytes] : files) {
    std::string etag = name == "model.safetensors" ? sha256_hex(bytes) : oid(bytes);
    std::ofstream(repo_dir() / "blobs" / etag, std::ios::binary) << bytes;
    fs::create_symlink("../../blobs/" + etag, snap / name);
  }
  std::ofstream(repo_dir() / "refs" / "main", std::ios::binary) << kOther;

  ::setenv("HF_HUB_OFFLINE", "1", 1);
  EXPECT_EQ(resolve_model("org/model"), snap.string());
  EXPECT_TRUE(hub_.requests().empty());
  ::unsetenv("HF_HUB_OFFLINE");
  hub_.stop();
  EXPECT_EQ(resolve_model("org/model"), snap.string());  // the hub is down: the cached snapshot serves
}

TEST_F(HubTest, OfflineWithoutTheFilesFailsClearly) {
  ::setenv("HF_HUB_OFFLINE", "1", 1);
  try {
    resolve_model("org/model");
    FAIL() << "offline and not cached, yet resolved";
  } catch (const std::runtime_error& e) {
    std::string m = e.what();
    EXPECT_EQ(m.rfind("[hub] org/model is not in the cache", 0), 0u) << m;
    EXPECT_NE(m.find("HF_HUB_OFFLINE"), std::string::npos) << m;
  }
  // A snapshot without its weights is no model either.
  fs::create_directories(repo_dir() / "snapshots" / kCommit);
  fs::create_directories(repo_dir() / "refs");
  std::ofstream(repo_dir() / "refs" / "main") << kCommit;
  std::ofstream(repo_dir() / "snapshots" / kCommit / "config.json") << "{}";
  try {
    resolve_model("org/model");
    FAIL() << "a snapshot without weights resolved";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("lacks model.safetensors"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(hub_.requests().empty());
}

TEST_F(HubTest, ResumesAnIncompleteDownloadWithARangeRequest) {
  std::string bytes = model_repo().files["model.safetensors"];
  std::string sha = sha256_hex(bytes);
  fs::create_directories(repo_dir() / "blobs");
  size_t half = bytes.size() / 2;
  std::ofstream(repo_dir() / "blobs" / (sha + ".incomplete"), std::ios::binary) << bytes.substr(0, half);
  resolve_model("org/model");
  std::vector<std::string> ranges;
  for (auto& r : hub_.requests()) {
    if (r.path == "/cdn/" + sha) ranges.push_back(r.range);
  }
  EXPECT_EQ(ranges, std::vector<std::string>{"bytes=" + std::to_string(half) + "-"});
  EXPECT_EQ(sha256_file((repo_dir() / "blobs" / sha).string()), sha);
  EXPECT_FALSE(fs::exists(repo_dir() / "blobs" / (sha + ".incomplete")));
}

TEST_F(HubTest, AConnectionDroppedMidFileIsResumed) {
  std::string bytes = model_repo().files["model.safetensors"];
  std::string sha = sha256_hex(bytes);
  hub_.drop_next(1);
  resolve_model("org/model");
  std::vector<std::string> ranges;
  for (auto& r : hub_.requests()) {
    if (r.path == "/cdn/" + sha) ranges.push_back(r.range);
  }
  ASSERT_EQ(ranges.size(), 2u);
  EXPECT_EQ(ranges[0], "");
  EXPECT_EQ(ranges[1], "bytes=" + std::to_string(bytes.size() / 2) + "-");
  EXPECT_EQ(read(repo_dir() / "snapshots" / kCommit / "model.safetensors"), bytes);
}

TEST_F(HubTest, ACorruptDownloadIsRejectedAndLeavesNothing) {
  std::string bytes = model_repo().files["model.safetensors"];
  std::string bad = bytes;
  bad[1234] ^= 0x55;
  hub_.corrupt(bytes, bad);
  try {
    resolve_model("org/model");
    FAIL() << "a corrupt file was accepted";
  } catch (const std::runtime_error& e) {
    std::string m = e.what();
    EXPECT_EQ(m.rfind("[hub] model.safetensors from " + hub_.endpoint() + "/cdn/", 0), 0u) << m;
    EXPECT_NE(m.find("sha256 " + sha256_hex(bad) + " does not match"), std::string::npos) << m;
  }
  std::string sha = sha256_hex(bytes);
  EXPECT_FALSE(fs::exists(repo_dir() / "blobs" / sha));
  EXPECT_FALSE(fs::exists(repo_dir() / "blobs" / (sha + ".incomplete")));
  EXPECT_FALSE(fs::is_symlink(repo_dir() / "snapshots" / kCommit / "model.safetensors"));
  EXPECT_FALSE(fs::exists(repo_dir() / "refs" / "main"));
}

TEST_F(HubTest, GatedReposNeedAToken) {
  FakeRepo gated = model_repo();
  gated.token = "hf_secret";
  hub_.add("org/gated", gated);
  try {
    resolve_model("org/gated");
    FAIL() << "a gated repo was fetched without a token";
  } catch (const std::runtime_error& e) {
    std::string m = e.what();
    EXPECT_EQ(m.rfind("[hub] org/gated: gated or private repo", 0), 0u) << m;
    EXPECT_NE(m.find("HTTP 401 for " + hub_.endpoint() + "/api/models/org/gated/revision/main"), std::string::npos) << m;
    EXPECT_NE(m.find("set HF_TOKEN"), std::string::npos) << m;
  }
  ::setenv("HF_TOKEN", "hf_secret", 1);
  EXPECT_TRUE(fs::exists(fs::path(resolve_model("org/gated")) / "model.safetensors"));
  int with_token = 0;
  for (auto& r : hub_.requests()) {
    if (r.path.rfind("/api/models/org/gated", 0) == 0 && r.auth.empty()) continue;  // the first, tokenless try
    if (r.path.rfind("/cdn/", 0) != 0) {
      EXPECT_EQ(r.auth, "Bearer hf_secret") << r.path;
      ++with_token;
    }
  }
  EXPECT_EQ(with_token, 8);  // the file list, a HEAD for each of the 4 files, a GET for the 3 small ones
}

TEST_F(HubTest, TheTokenFileIsReadToo) {
  FakeRepo gated = model_repo();
  gated.token = "hf_from_file";
  hub_.add("org/gated", gated);
  std::ofstream(dir_ / "token") << "hf_from_file\n";
  ::setenv("HF_TOKEN_PATH", (dir_ / "token").c_str(), 1);
  resolve_model("org/gated");
  auto log = hub_.requests();
  ASSERT_FALSE(log.empty());
  EXPECT_EQ(log.front().auth, "Bearer hf_from_file");
}

TEST_F(HubTest, UnknownRevisionsAndReposAreClearErrors) {
  try {
    resolve_model("org/model@nope");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("[hub] org/model: repo or file not found (HTTP 404"), std::string::npos)
        << e.what();
  }
  ::setenv("HF_ENDPOINT", "http://127.0.0.1:1", 1);  // nothing listens there
  try {
    resolve_model("org/model");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("[hub] cannot reach http://127.0.0.1:1/api/models/org/model/revision/main"),
              std::string::npos)
        << e.what();
  }
}

TEST_F(HubTest, RevisionsByBranchAndByCommit) {
  FakeRepo r = model_repo();
  r.branches = {"dev"};
  hub_.add("org/model", r);
  std::string by_branch = resolve_model("org/model@dev");
  EXPECT_EQ(by_branch, (repo_dir() / "snapshots" / kCommit).string());
  EXPECT_EQ(read(repo_dir() / "refs" / "dev"), kCommit);
  EXPECT_FALSE(fs::exists(repo_dir() / "refs" / "main"));
  // By commit: no ref is written, and offline the commit's snapshot is found without refs.
  fs::remove_all(repo_dir() / "refs");
  EXPECT_EQ(resolve_model("org/model@" + kCommit), by_branch);
  EXPECT_FALSE(fs::exists(repo_dir() / "refs"));
  ::setenv("HF_HUB_OFFLINE", "1", 1);
  EXPECT_EQ(resolve_model("org/model@" + kCommit), by_branch);
}

TEST_F(HubTest, AnExistingLocalPathWins) {
  fs::create_directories(dir_ / "org" / "model");
  auto old = fs::current_path();
  fs::current_path(dir_);
  std::string got = resolve_model("org/model");
  fs::current_path(old);
  EXPECT_EQ(got, "org/model");
  EXPECT_TRUE(hub_.requests().empty());
}

TEST_F(HubTest, GgufQuantTagFetchesOnlyThatFileAndItsParts) {
  FakeRepo r;
  r.commit = kCommit;
  r.files = {{"m-Q8_0.gguf", weights(5000, 1)},
             {"m-Q4_K_M-00001-of-00002.gguf", weights(4000, 2)},
             {"m-Q4_K_M-00002-of-00002.gguf", weights(3000, 3)},
             {"README.md", "x"}};
  r.lfs = {"m-Q8_0.gguf", "m-Q4_K_M-00001-of-00002.gguf", "m-Q4_K_M-00002-of-00002.gguf"};
  hub_.add("org/gguf", r);
  std::string path = resolve_model("org/gguf:q4_k_m");
  fs::path snap = fs::path(cache_) / "models--org--gguf" / "snapshots" / kCommit;
  EXPECT_EQ(path, (snap / "m-Q4_K_M-00001-of-00002.gguf").string());
  EXPECT_EQ(read(snap / "m-Q4_K_M-00002-of-00002.gguf"), r.files["m-Q4_K_M-00002-of-00002.gguf"]);
  EXPECT_FALSE(fs::exists(snap / "m-Q8_0.gguf"));
  EXPECT_FALSE(fs::exists(snap / "README.md"));
  // --gguf-file by name; offline, the cached pick is found again.
  ResolveOptions o;
  o.gguf_file = "m-Q8_0.gguf";
  EXPECT_EQ(resolve_model("org/gguf", o), (snap / "m-Q8_0.gguf").string());
  ::setenv("HF_HUB_OFFLINE", "1", 1);
  EXPECT_EQ(resolve_model("org/gguf:Q4_K_M"), path);
}

TEST_F(HubTest, TwoDownloadsOfOneRepoAtOnceShareTheCache) {
  // Each blob's flock (.locks/...) serializes the writers: the second finds the blob complete.
  std::string a, b, error;
  std::thread t1([&] {
    try {
      a = resolve_model("org/model");
    } catch (const std::exception& e) {
      error = e.what();
    }
  });
  std::thread t2([&] {
    try {
      b = resolve_model("org/model");
    } catch (const std::exception& e) {
      error = e.what();
    }
  });
  t1.join();
  t2.join();
  EXPECT_EQ(error, "");
  EXPECT_EQ(a, b);
  std::string bytes = model_repo().files["model.safetensors"];
  EXPECT_EQ(read(fs::path(a) / "model.safetensors"), bytes);
  EXPECT_EQ(blobs().size(), 4u);  // no .incomplete left behind
}

TEST_F(HubTest, ScanAndDeleteTheCache) {
  resolve_model("org/model");
  auto repos = scan_cache(cache_);
  ASSERT_EQ(repos.size(), 1u);
  EXPECT_EQ(repos[0].repo_id, "org/model");
  EXPECT_EQ(repos[0].refs, std::vector<std::string>{"main"});
  EXPECT_EQ(repos[0].snapshots, std::vector<std::string>{kCommit});
  EXPECT_GE(repos[0].size_on_disk, model_repo().files["model.safetensors"].size());
  EXPECT_GT(repos[0].last_modified, 0);
  delete_cached_repo(cache_, repos[0]);
  EXPECT_FALSE(fs::exists(repo_dir()));
  EXPECT_TRUE(scan_cache(cache_).empty());
}

}  // namespace
