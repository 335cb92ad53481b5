// One file from the hub into the cache, as huggingface_hub's hf_hub_download
// does it: a HEAD request on {endpoint}/{repo}/resolve/{revision}/{file}
// (redirects not followed, so an LFS file's X-Linked-Etag and X-Linked-Size
// are read before the 302 to its storage), then the bytes into
// blobs/<etag>.incomplete under .locks/<repo>/<etag>.lock, resumed with a
// Range request where a previous try left off, checked (size; sha256 for an
// LFS file, whose etag is its sha256) and only then renamed to blobs/<etag>
// and linked from snapshots/<commit>/<file>.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "uma/hub/cache.h"

namespace uma::hub {

struct FileMeta {
  std::string commit;    // X-Repo-Commit
  std::string etag;      // X-Linked-Etag, else ETag; without quotes or W/
  uint64_t size = 0;     // X-Linked-Size, else Content-Length
  std::string location;  // where the bytes are (the redirect's target for LFS files)
};

// Bytes of one file so far, and of the whole download.
struct Progress {
  std::string file;
  uint64_t done = 0, total = 0;          // this file
  uint64_t all_done = 0, all_total = 0;  // every file of this download
  size_t index = 0, count = 0;           // this is file index+1 of count
  bool finished = false;                 // the file is complete (last call for it)
};
using ProgressFn = std::function<void(const Progress&)>;

// A progress printer for stderr: a bar for the file and the total, redrawn in
// place when stderr is a terminal; one line per finished file otherwise.
ProgressFn stderr_progress();

// {endpoint}/{repo}/resolve/{revision}/{file}
std::string resolve_url(const std::string& repo_id, const std::string& revision, const std::string& file);

// The HEAD request. Throws the hub's errors (check_status) naming the file.
FileMeta file_metadata(const std::string& repo_id, const std::string& revision, const std::string& file);

// Makes snapshots/<meta.commit>/<file> point at a complete, verified blob,
// downloading it unless the blob is already there; returns the link's path.
// `progress` is called with p.file, p.done, p.total filled in (the caller
// adds the totals).
std::string download_file(const RepoCache& repo, const std::string& file, const FileMeta& meta,
                          const ProgressFn& progress = {});

// The sha256 of a file's bytes, as 64 lowercase hex digits.
std::string sha256_file(const std::string& path);

}  // namespace uma::hub
