// The Hugging Face hub cache, laid out exactly as huggingface_hub writes it,
// so that models fetched by Python tools are found here and ours are found
// by them:
//
//   <cache>/models--<org>--<name>/
//     blobs/<etag>                    the bytes; <etag>.incomplete while downloading
//     snapshots/<commit>/<file>       relative symlink ../../blobs/<etag>
//     refs/<revision>                 the commit hash the revision pointed to (no newline)
//   <cache>/.locks/models--<org>--<name>/<etag>.lock   held while a blob downloads
//
// <cache> is $HF_HUB_CACHE, else $HF_HOME/hub, else
// $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace uma::hub {

// A model reference as --model takes it: "org/name", "org/name@revision",
// "org/name:Q4_K_M" (a GGUF quantization tag, as llama.cpp's -hf), or both.
struct RepoRef {
  std::string repo_id;           // "org/name"
  std::string revision = "main"; // branch, tag or 40-hex commit
  std::string quant;             // "" unless ":TAG" was given
};

// Parses `spec`; nullopt when it is not a repo id (huggingface_hub's rules:
// [A-Za-z0-9_.-] parts, one '/', no "--" or "..", at most 96 characters).
std::optional<RepoRef> parse_repo_ref(const std::string& spec);

bool is_commit_hash(const std::string& s);  // 40 lowercase hex digits
bool is_sha256(const std::string& s);       // 64 lowercase hex digits

// The cache folder (see above); $HF_HUB_CACHE and friends are read each call.
std::string cache_dir();
// "models--org--name".
std::string repo_folder_name(const std::string& repo_id);
// True when $HF_HUB_OFFLINE is 1, ON, YES or TRUE (any case).
bool offline();

// One repository's folder in the cache.
class RepoCache {
 public:
  RepoCache(std::string cache, std::string repo_id);

  const std::string& repo_id() const { return repo_id_; }
  std::string root() const;                           // <cache>/models--org--name
  std::string blob_path(const std::string& etag) const;
  std::string snapshot_dir(const std::string& commit) const;
  std::string lock_path(const std::string& etag) const;

  // The commit `revision` names: itself when it is a commit hash, else the
  // content of refs/<revision>; nullopt when unknown.
  std::optional<std::string> commit_for(const std::string& revision) const;
  // Writes refs/<revision> = commit (atomically; not for a commit hash).
  void write_ref(const std::string& revision, const std::string& commit) const;
  // Points snapshots/<commit>/<file> at blobs/<etag> with a relative symlink
  // (replacing an old link atomically).
  void link_snapshot(const std::string& commit, const std::string& file, const std::string& etag) const;

 private:
  std::string cache_, repo_id_;
};

// What `uma manage --scan` lists about one cached model repository.
struct CachedRepo {
  std::string repo_id;
  std::string path;
  uint64_t size_on_disk = 0;  // the blobs, each counted once
  int64_t last_accessed = 0;  // unix seconds (the newest atime of its blobs)
  int64_t last_modified = 0;  // unix seconds (the newest mtime of its blobs)
  std::vector<std::string> refs;       // "main", ...
  std::vector<std::string> snapshots;  // commit hashes
};

// The model repositories under `cache` (none when it does not exist), sorted
// by path; datasets and spaces are skipped.
std::vector<CachedRepo> scan_cache(const std::string& cache);
// Removes a repository's folder and its locks folder.
void delete_cached_repo(const std::string& cache, const CachedRepo& repo);

}  // namespace uma::hub
