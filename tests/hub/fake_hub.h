// A fake Hugging Face hub for tests: a cpp-httplib server on 127.0.0.1 (a
// free port) answering as huggingface.co does for what uma asks:
//   GET  /api/models/{org}/{name}/revision/{rev}  -> {"sha": commit, "siblings": [{"rfilename": f}]}
//   HEAD/GET /{org}/{name}/resolve/{rev}/{file}
//        small files: 200, ETag "<40-hex oid>", X-Repo-Commit, the bytes
//        LFS files:   302 to /cdn/{sha256}, X-Linked-Etag "<sha256>", X-Linked-Size, X-Repo-Commit
//   GET  /cdn/{sha256}                             -> the bytes, with Range support
// A gated repo answers 401 without "Authorization: Bearer <its token>";
// unknown repos, revisions and files 404. Every request is logged with its
// Range and Authorization headers, and faults can be injected.
#pragma once

#include <httplib.h>
#include <openssl/evp.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace uma::hub::testing {

inline std::string sha256_hex(const std::string& bytes) {
  unsigned char d[32];
  unsigned int n = 0;
  EVP_Digest(bytes.data(), bytes.size(), d, &n, EVP_sha256(), nullptr);
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (unsigned i = 0; i < n; ++i) {
    s += digits[d[i] >> 4];
    s += digits[d[i] & 15];
  }
  return s;
}

struct FakeRepo {
  std::string commit;                         // 40 hex
  std::map<std::string, std::string> files;   // name -> bytes
  std::set<std::string> lfs;                  // names served as LFS files
  std::set<std::string> branches;             // more branch names that point at `commit` ("main" always does)
  std::string token;                          // non-empty: gated, needs this Bearer token
};

struct Logged {
  std::string method, path, range, auth;
};

class FakeHub {
 public:
  FakeHub() {
    server_.Get(R"(/api/models/([^/]+/[^/]+)/revision/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
      log(req);
      const FakeRepo* repo = find(req.matches[1], req.matches[2], req, res);
      if (!repo) return;
      std::string json = "{\"id\": \"" + std::string(req.matches[1]) + "\", \"sha\": \"" + repo->commit +
                         "\", \"siblings\": [";
      bool first = true;
      for (auto& [name, bytes] : repo->files) {
        json += std::string(first ? "" : ", ") + "{\"rfilename\": \"" + name + "\"}";
        first = false;
      }
      res.set_content(json + "]}", "application/json");
    });
    server_.Get(R"(/([^/]+/[^/]+)/resolve/([^/]+)/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
      log(req);
      const FakeRepo* repo = find(req.matches[1], req.matches[2], req, res);
      if (!repo) return;
      auto it = repo->files.find(req.matches[3]);
      if (it == repo->files.end()) {
        res.status = 404;
        res.set_header("X-Error-Code", "EntryNotFound");
        return;
      }
      res.set_header("X-Repo-Commit", repo->commit);
      if (repo->lfs.count(it->first)) {
        std::string sha = sha256_hex(it->second);
        res.status = 302;
        res.set_header("Location", endpoint() + "/cdn/" + sha);
        res.set_header("X-Linked-Etag", "\"" + sha + "\"");
        res.set_header("X-Linked-Size", std::to_string(it->second.size()));
        res.set_header("ETag", "W/\"not-the-blob\"");
        std::lock_guard<std::mutex> g(mu_);
        cdn_[sha] = it->second;
        return;
      }
      res.set_header("ETag", "\"" + sha256_hex("blob " + it->second).substr(0, 40) + "\"");
      res.set_content(it->second, "application/octet-stream");
    });
    server_.Get(R"(/cdn/([0-9a-f]{64}))", [this](const httplib::Request& req, httplib::Response& res) {
      log(req);
      std::string bytes;
      {
        std::lock_guard<std::mutex> g(mu_);
        auto it = cdn_.find(req.matches[1]);
        if (it == cdn_.end()) {
          res.status = 404;
          return;
        }
        bytes = it->second;
        if (corrupt_.count(req.matches[1])) bytes = corrupt_[req.matches[1]];
      }
      if (drops_left_ > 0) {  // send half of what was asked, then cut the connection
        --drops_left_;
        auto data = std::make_shared<std::string>(bytes);
        res.set_content_provider(bytes.size(), "application/octet-stream",
                                 [data](size_t offset, size_t length, httplib::DataSink& sink) {
                                   sink.write(data->data() + offset, length / 2);
                                   return false;
                                 });
        return;
      }
      if (int ms = throttle_ms_.load(); ms > 0) {  // 256 KiB at a time, `ms` apart
        auto data = std::make_shared<std::string>(bytes);
        res.set_content_provider(bytes.size(), "application/octet-stream",
                                 [data, ms](size_t offset, size_t length, httplib::DataSink& sink) {
                                   std::this_thread::sleep_for(std::chrono::milliseconds(ms));
                                   return sink.write(data->data() + offset, std::min<size_t>(length, 256 << 10));
                                 });
        return;
      }
      res.set_content(bytes, "application/octet-stream");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");  // listening from here on: connections queue
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() before the accept loop runs would leave that loop waiting forever.
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeHub() { stop(); }
  FakeHub(const FakeHub&) = delete;
  FakeHub& operator=(const FakeHub&) = delete;

  void stop() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

  void add(const std::string& repo_id, FakeRepo repo) {
    std::lock_guard<std::mutex> g(mu_);
    repos_[repo_id] = std::move(repo);
  }
  // The CDN answers for the blob of `good` with `bad` (same etag) from now on.
  void corrupt(const std::string& good, const std::string& bad) {
    std::lock_guard<std::mutex> g(mu_);
    corrupt_[sha256_hex(good)] = bad;
  }
  // The next `n` CDN downloads send half of the bytes asked for, then drop.
  void drop_next(int n) { drops_left_ = n; }
  // CDN downloads from now on come 256 KiB at a time, `ms` apart (slow enough to overlap).
  void throttle(int ms) { throttle_ms_ = ms; }

  std::vector<Logged> requests() const {
    std::lock_guard<std::mutex> g(mu_);
    return log_;
  }
  void clear_log() {
    std::lock_guard<std::mutex> g(mu_);
    log_.clear();
  }

 private:
  void log(const httplib::Request& req) {
    std::lock_guard<std::mutex> g(mu_);
    log_.push_back({req.method, req.path, req.get_header_value("Range"), req.get_header_value("Authorization")});
  }

  // The repo at `rev` (a branch or its commit), or null with the error answer set.
  const FakeRepo* find(const std::string& id, const std::string& rev, const httplib::Request& req,
                       httplib::Response& res) {
    std::lock_guard<std::mutex> g(mu_);
    auto it = repos_.find(id);
    if (it == repos_.end()) {
      res.status = 401;  // as the hub: an unknown repo looks private
      res.set_header("X-Error-Code", "RepoNotFound");
      return nullptr;
    }
    const FakeRepo& repo = it->second;
    if (!repo.token.empty() && req.get_header_value("Authorization") != "Bearer " + repo.token) {
      res.status = 401;
      res.set_header("X-Error-Code", "GatedRepo");
      return nullptr;
    }
    bool known = rev == "main" || rev == repo.commit || repo.branches.count(rev) > 0;
    if (!known) {
      res.status = 404;
      res.set_header("X-Error-Code", "RevisionNotFound");
      return nullptr;
    }
    return &repo;
  }

  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  mutable std::mutex mu_;
  std::map<std::string, FakeRepo> repos_;
  std::map<std::string, std::string> cdn_, corrupt_;
  std::atomic<int> drops_left_{0}, throttle_ms_{0};
  std::vector<Logged> log_;
};

}  // namespace uma::hub::testing
