#include "uma/hub/cache.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <stdexcept>

#include "uma/core/io/file.h"

namespace uma::hub {

namespace fs = std::filesystem;

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

bool all_hex(const std::string& s, size_t n) {
  return s.size() == n && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

bool valid_repo_part(const std::string& p) {
  if (p.empty()) return false;
  for (char c : p) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') return false;
  }
  // huggingface_hub's \b...\b: a part starts and ends with a word character.
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  return word(p.front()) && word(p.back());
}

// A revision is used as a path under refs/: no "..", no absolute paths.
void check_revision(const std::string& revision, const std::string& repo_id) {
  if (revision.empty() || revision.front() == '/' || revision.find("..") != std::string::npos ||
      revision.find('\0') != std::string::npos) {
    throw std::invalid_argument("[hub] " + repo_id + ": bad revision '" + revision + "'");
  }
}

}  // namespace

bool is_commit_hash(const std::string& s) { return all_hex(s, 40); }
bool is_sha256(const std::string& s) { return all_hex(s, 64); }

std::optional<RepoRef> parse_repo_ref(const std::string& spec) {
  RepoRef r;
  std::string id = spec;
  // "org/name@rev:QUANT" or "org/name:QUANT@rev"; neither ':' nor '@' can be in a repo id.
  size_t colon = id.find(':');
  size_t at = id.find('@');
  if (colon != std::string::npos) {
    size_t end = at != std::string::npos && at > colon ? at : std::string::npos;
    r.quant = id.substr(colon + 1, end == std::string::npos ? std::string::npos : end - colon - 1);
    id.erase(colon, end == std::string::npos ? std::string::npos : end - colon);
    if (r.quant.empty()) return std::nullopt;
    at = id.find('@');
  }
  if (at != std::string::npos) {
    r.revision = id.substr(at + 1);
    id.erase(at);
    if (r.revision.empty()) return std::nullopt;
  }
  size_t slash = id.find('/');
  if (slash == std::string::npos || id.find('/', slash + 1) != std::string::npos) return std::nullopt;
  if (id.size() > 96 || id.find("--") != std::string::npos || id.find("..") != std::string::npos) return std::nullopt;
  if (!valid_repo_part(id.substr(0, slash)) || !valid_repo_part(id.substr(slash + 1))) return std::nullopt;
  r.repo_id = id;
  return r;
}

std::string cache_dir() {
  if (auto v = env("HF_HUB_CACHE"); !v.empty()) return v;
  if (auto v = env("HF_HOME"); !v.empty()) return (fs::path(v) / "hub").string();
  if (auto v = env("XDG_CACHE_HOME"); !v.empty()) return (fs::path(v) / "huggingface" / "hub").string();
  std::string home = env("HOME");
  if (home.empty()) throw std::runtime_error("[hub] cannot find the cache: set HF_HUB_CACHE, HF_HOME or HOME");
  return (fs::path(home) / ".cache" / "huggingface" / "hub").string();
}

std::string repo_folder_name(const std::string& repo_id) {
  std::string name = "models--" + repo_id;
  size_t slash = name.find('/');
  if (slash != std::string::npos) name.replace(slash, 1, "--");
  return name;
}

bool offline() {
  std::string v = env("HF_HUB_OFFLINE");
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::toupper(c); });
  return v == "1" || v == "ON" || v == "YES" || v == "TRUE";
}

RepoCache::RepoCache(std::string cache, std::string repo_id) : cache_(std::move(cache)), repo_id_(std::move(repo_id)) {}

std::string RepoCache::root() const { return (fs::path(cache_) / repo_folder_name(repo_id_)).string(); }

std::string RepoCache::blob_path(const std::string& etag) const {
  return (fs::path(root()) / "blobs" / etag).string();
}

std::string RepoCache::snapshot_dir(const std::string& commit) const {
  return (fs::path(root()) / "snapshots" / commit).string();
}

std::string RepoCache::lock_path(const std::string& etag) const {
  return (fs::path(cache_) / ".locks" / repo_folder_name(repo_id_) / (etag + ".lock")).string();
}

std::optional<std::string> RepoCache::commit_for(const std::string& revision) const {
  if (is_commit_hash(revision)) return revision;
  check_revision(revision, repo_id_);
  fs::path ref = fs::path(root()) / "refs" / revision;
  std::error_code ec;
  if (!fs::is_regular_file(ref, ec)) return std::nullopt;
  std::string commit = io::read_small_file(ref.string(), "hub", 4096);
  while (!commit.empty() && std::isspace(static_cast<unsigned char>(commit.back()))) commit.pop_back();
  if (!is_commit_hash(commit)) {
    throw std::runtime_error("[hub] " + ref.string() + " does not hold a commit hash");
  }
  return commit;
}

void RepoCache::write_ref(const std::string& revision, const std::string& commit) const {
  if (revision == commit) return;
  check_revision(revision, repo_id_);
  fs::path ref = fs::path(root()) / "refs" / revision;
  if (commit_for(revision) == commit) return;
  fs::create_directories(ref.parent_path());
  io::write_file_atomic(ref.string(), commit, "hub");
}

void RepoCache::link_snapshot(const std::string& commit, const std::string& file, const std::string& etag) const {
  fs::path link = fs::path(snapshot_dir(commit)) / file;
  fs::path blob = fs::absolute(blob_path(etag));
  fs::create_directories(link.parent_path());
  // As huggingface_hub's os.path.relpath(abs blob, abs link folder).
  fs::path target = blob.lexically_relative(fs::absolute(link).parent_path());
  std::random_device rd;
  fs::path tmp = link;
  tmp += ".tmp-" + std::to_string(rd());
  std::error_code ec;
  fs::create_symlink(target, tmp, ec);
  if (!ec) fs::rename(tmp, link, ec);
  if (ec) {
    fs::remove(tmp);
    throw std::runtime_error("[hub] cannot link " + link.string() + " to " + target.string() + ": " + ec.message());
  }
}

std::vector<CachedRepo> scan_cache(const std::string& cache) {
  std::vector<CachedRepo> repos;
  std::error_code ec;
  if (!fs::is_directory(cache, ec)) return repos;
  for (const auto& entry : fs::directory_iterator(cache)) {
    std::string name = entry.path().filename().string();
    if (!entry.is_directory() || name.rfind("models--", 0) != 0) continue;
    CachedRepo r;
    std::string id = name.substr(8);
    size_t sep = id.find("--");
    if (sep != std::string::npos) id.replace(sep, 2, "/");
    r.repo_id = id;
    r.path = entry.path().string();
    fs::path blobs = entry.path() / "blobs";
    if (fs::is_directory(blobs, ec)) {
      for (const auto& b : fs::directory_iterator(blobs)) {
        struct stat st {};
        if (::lstat(b.path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
        r.size_on_disk += uint64_t(st.st_blocks) * 512;
        r.last_accessed = std::max<int64_t>(r.last_accessed, st.st_atime);
        r.last_modified = std::max<int64_t>(r.last_modified, st.st_mtime);
      }
    }
    fs::path refs = entry.path() / "refs";
    if (fs::is_directory(refs, ec)) {
      for (const auto& f : fs::recursive_directory_iterator(refs)) {
        if (f.is_regular_file()) r.refs.push_back(f.path().lexically_relative(refs).string());
      }
    }
    fs::path snaps = entry.path() / "snapshots";
    if (fs::is_directory(snaps, ec)) {
      for (const auto& s : fs::directory_iterator(snaps)) r.snapshots.push_back(s.path().filename().string());
    }
    std::sort(r.refs.begin(), r.refs.end());
    std::sort(r.snapshots.begin(), r.snapshots.end());
    repos.push_back(std::move(r));
  }
  std::sort(repos.begin(), repos.end(), [](auto& a, auto& b) { return a.path < b.path; });
  return repos;
}

void delete_cached_repo(const std::string& cache, const CachedRepo& repo) {
  std::error_code ec;
  fs::remove_all(repo.path, ec);
  if (ec) throw std::runtime_error("[hub] cannot delete " + repo.path + ": " + ec.message());
  fs::remove_all(fs::path(cache) / ".locks" / repo_folder_name(repo.repo_id), ec);
}

}  // namespace uma::hub
