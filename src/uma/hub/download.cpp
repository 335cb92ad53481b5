#include "uma/hub/download.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <vector>

#include "uma/core/io/file.h"
#include "uma/hub/http.h"

namespace uma::hub {

namespace fs = std::filesystem;

namespace {

// "W/\"abc\"" -> "abc", as huggingface_hub's _normalize_etag.
std::string normalize_etag(std::string e) {
  if (e.rfind("W/", 0) == 0) e = e.substr(2);
  if (e.size() >= 2 && e.front() == '"' && e.back() == '"') e = e.substr(1, e.size() - 2);
  return e;
}

bool parse_size(const std::string& s, uint64_t* out) {
  if (s.empty() || s.size() > 19) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + uint64_t(c - '0');
  }
  *out = v;
  return true;
}

// An etag names a file in blobs/: it must be one plain name.
bool safe_file_name(const std::string& s) {
  return !s.empty() && s.size() <= 255 && s != "." && s != ".." && s.find('/') == std::string::npos &&
         s.find('\0') == std::string::npos;
}

// The scheme and host of an absolute URL ("http://h:1" of "http://h:1/a/b").
std::string origin_of(const std::string& url) {
  size_t scheme = url.find("://");
  size_t path = scheme == std::string::npos ? std::string::npos : url.find('/', scheme + 3);
  return path == std::string::npos ? url : url.substr(0, path);
}

// An exclusive flock on `path`, held for the object's lifetime: another
// process (uma or huggingface_hub's FileLock) downloading the same blob waits.
class FileLock {
 public:
  explicit FileLock(const std::string& path) {
    fs::create_directories(fs::path(path).parent_path());
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0 || ::flock(fd_, LOCK_EX) != 0) {
      if (fd_ >= 0) ::close(fd_);
      throw std::runtime_error("[hub] cannot lock " + path);
    }
  }
  ~FileLock() { ::close(fd_); }  // closing releases the lock
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
};

std::string hex(const unsigned char* d, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s += digits[d[i] >> 4];
    s += digits[d[i] & 15];
  }
  return s;
}

uint64_t file_size_or_zero(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? uint64_t(st.st_size) : 0;
}

// One GET of the rest of `meta`'s bytes onto the end of `incomplete`.
// Returns false when the transfer broke off (the bytes so far are kept).
bool fetch_rest(const std::string& incomplete, const std::string& file, const FileMeta& meta,
                const ProgressFn& progress, std::string* error) {
  uint64_t have = file_size_or_zero(incomplete);
  if (have > meta.size) {
    fs::resize_file(incomplete, 0);
    have = 0;
  }
  if (have == meta.size) return true;
  int fd = ::open(incomplete.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("[hub] cannot write " + incomplete);
  std::unique_ptr<int, void (*)(int*)> closer(&fd, [](int* f) { ::close(*f); });
  HttpRequest req;
  req.url = meta.location;
  req.range_from = have;
  // The storage a redirect leads to needs no token; libcurl drops it there anyway.
  uint64_t written = have;
  bool first = true;
  std::string sink_error;
  auto sink = [&](const HttpResponse& head, const char* data, size_t n) {
    if (first) {
      first = false;
      // A server that ignores Range sends the whole file again: start over.
      if (have > 0 && head.status != 206) {
        if (::ftruncate(fd, 0) != 0) return false;
        written = 0;
      }
    }
    if (written + n > meta.size) {
      sink_error = "the server sent more than the " + std::to_string(meta.size) + " bytes announced";
      return false;
    }
    for (size_t off = 0; off < n;) {
      ssize_t w = ::write(fd, data + off, n - off);
      if (w <= 0) {
        sink_error = "cannot write " + incomplete;
        return false;
      }
      off += size_t(w);
    }
    written += n;
    if (progress) progress({file, written, meta.size});
    return true;
  };
  HttpResponse r;
  try {
    r = http_request(req, sink);
  } catch (const std::runtime_error& e) {
    if (!sink_error.empty()) throw std::runtime_error("[hub] " + file + " from " + meta.location + ": " + sink_error);
    *error = e.what();
    return false;
  }
  if (r.status == 416) {  // the range is past the end: the partial file is not of this blob
    fs::resize_file(incomplete, 0);
    *error = "[hub] " + file + ": the server refused to resume (HTTP 416 for " + meta.location + ")";
    return false;
  }
  check_status(r, file, meta.location);
  if (::fsync(fd) != 0) throw std::runtime_error("[hub] cannot write " + incomplete);
  return file_size_or_zero(incomplete) == meta.size;
}

}  // namespace

std::string resolve_url(const std::string& repo_id, const std::string& revision, const std::string& file) {
  return endpoint() + "/" + repo_id + "/resolve/" + url_escape(revision, false) + "/" + url_escape(file, true);
}

FileMeta file_metadata(const std::string& repo_id, const std::string& revision, const std::string& file) {
  std::string url = resolve_url(repo_id, revision, file);
  HttpRequest req;
  req.method = "HEAD";
  req.url = url;
  req.follow_redirects = false;
  HttpResponse r = http_request(req);
  // Relative redirects (a renamed repo) are followed; an absolute one leads to the LFS storage.
  for (int hops = 0; hops < 5 && r.status / 100 == 3 && r.header("location").rfind("/", 0) == 0; ++hops) {
    req.url = origin_of(req.url) + r.header("location");
    r = http_request(req);
  }
  if (r.status / 100 != 3) check_status(r, repo_id + "/" + file, url);
  FileMeta m;
  m.commit = r.header("x-repo-commit");
  m.etag = normalize_etag(r.header("x-linked-etag").empty() ? r.header("etag") : r.header("x-linked-etag"));
  std::string size = r.header("x-linked-size").empty() ? r.header("content-length") : r.header("x-linked-size");
  m.location = r.status / 100 == 3 && !r.header("location").empty() ? r.header("location") : req.url;
  if (m.location.rfind("/", 0) == 0) m.location = origin_of(req.url) + m.location;
  if (!is_commit_hash(m.commit) || !safe_file_name(m.etag) || !parse_size(size, &m.size)) {
    throw std::runtime_error("[hub] " + repo_id + "/" + file + ": the answer to HEAD " + url +
                             " lacks a valid X-Repo-Commit, ETag or size");
  }
  return m;
}

std::string sha256_file(const std::string& path) {
  uint64_t size = 0;
  int fd = io::open_regular_file(path, "hub", &size);
  std::unique_ptr<int, void (*)(int*)> closer(&fd, [](int* f) { ::close(*f); });
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  std::vector<char> buf(size_t(1) << 20);
  ssize_t n;
  while ((n = ::read(fd, buf.data(), buf.size())) > 0) EVP_DigestUpdate(ctx.get(), buf.data(), size_t(n));
  if (n < 0) throw std::runtime_error("[hub] cannot read " + path);
  unsigned char digest[32];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &len);
  return hex(digest, len);
}

std::string download_file(const RepoCache& repo, const std::string& file, const FileMeta& meta,
                          const ProgressFn& progress) {
  std::string link = (fs::path(repo.snapshot_dir(meta.commit)) / file).string();
  std::string blob = repo.blob_path(meta.etag);
  std::error_code ec;
  fs::create_directories(fs::path(blob).parent_path());
  FileLock lock(repo.lock_path(meta.etag));
  if (!fs::is_regular_file(blob, ec)) {
    std::string incomplete = blob + ".incomplete";
    std::string error;
    bool complete = false;
    for (int attempt = 0; attempt < 3 && !complete; ++attempt) {  // each try resumes where the last broke off
      complete = fetch_rest(incomplete, file, meta, progress, &error);
    }
    if (!complete) throw std::runtime_error(error.empty() ? "[hub] " + file + ": download incomplete" : error);
    uint64_t got = file_size_or_zero(incomplete);
    if (got != meta.size) {
      fs::remove(incomplete);
      throw std::runtime_error("[hub] " + file + " from " + meta.location + ": got " + std::to_string(got) +
                               " bytes, expected " + std::to_string(meta.size));
    }
    if (is_sha256(meta.etag)) {
      std::string sum = sha256_file(incomplete);
      if (sum != meta.etag) {
        fs::remove(incomplete);
        throw std::runtime_error("[hub] " + file + " from " + meta.location + ": sha256 " + sum +
                                 " does not match the hub's " + meta.etag + " (corrupt download; removed)");
      }
    }
    fs::rename(incomplete, blob);
  }
  if (progress) progress({file, meta.size, meta.size, 0, 0, 0, 0, true});
  repo.link_snapshot(meta.commit, file, meta.etag);
  return link;
}

ProgressFn stderr_progress() {
  bool tty = ::isatty(2);
  return [tty](const Progress& p) {
    auto bar = [](uint64_t done, uint64_t total) {
      int fill = total ? int(20 * done / total) : 20;
      return std::string(size_t(fill), '#') + std::string(size_t(20 - fill), '.');
    };
    if (!tty) {
      if (p.finished) {
        std::fprintf(stderr, "[hub] %s: %.1f MB (%zu/%zu)\n", p.file.c_str(), double(p.total) / 1e6, p.index + 1,
                     p.count);
      }
      return;
    }
    std::fprintf(stderr, "\r\033[K[hub] %-32.32s [%s] %6.1f/%.1f MB  total [%s] %.1f/%.1f MB%s", p.file.c_str(),
                 bar(p.done, p.total).c_str(), double(p.done) / 1e6, double(p.total) / 1e6,
                 bar(p.all_done, p.all_total).c_str(), double(p.all_done) / 1e6, double(p.all_total) / 1e6,
                 p.finished ? "\n" : "");
  };
}

}  // namespace uma::hub
