// --model org/name: a repo id resolved to a folder (or .gguf file) in the
// Hugging Face cache, downloading what is missing, as mlx-lm's
// snapshot_download(repo, revision, allow_patterns=[...]) does.
#pragma once

#include <string>
#include <vector>

#include "uma/hub/cache.h"
#include "uma/hub/download.h"

namespace uma::hub {

// The files a model needs: mlx-lm's allow_patterns less "*.py" (uma runs no
// code from a repo): *.json, model*.safetensors, tokenizer.model, *.tiktoken,
// tiktoken.model, *.txt, *.jsonl, *.jinja.
std::vector<std::string> model_patterns();
// The files a tokenizer needs (model_patterns without the weights).
std::vector<std::string> tokenizer_patterns();

// fnmatch as huggingface_hub's filter_repo_objects uses it: '*' also matches
// '/', and a pattern ending in '/' matches everything below that folder.
bool matches_pattern(const std::string& pattern, const std::string& file);
std::vector<std::string> select_files(const std::vector<std::string>& files, const std::vector<std::string>& patterns);

// The .gguf files to fetch: `name` exactly, else the first (sorted) .gguf
// whose file name holds `quant` in any case (mmproj files never); a split
// model (NAME-00001-of-0000N.gguf) comes with all its parts, first part
// first. Throws std::invalid_argument naming the repo and the .gguf files it
// has when none matches.
std::vector<std::string> select_gguf(const std::vector<std::string>& files, const std::string& name,
                                     const std::string& quant, const std::string& repo_id);

// GET {endpoint}/api/models/{repo}/revision/{revision}: the commit and the
// repo's files (siblings[].rfilename, each checked to be a safe relative path).
struct RepoInfo {
  std::string commit;
  std::vector<std::string> files;
};
RepoInfo repo_info(const std::string& repo_id, const std::string& revision);

struct ResolveOptions {
  std::vector<std::string> allow_patterns;  // empty: model_patterns()
  bool weights = true;    // a cached snapshot is complete only with its weights
  std::string gguf_file;  // fetch only this .gguf (and its split parts)
  ProgressFn progress;    // totals filled in; none: quiet
  std::string cache;      // empty: cache_dir()
};

// Where `ref` lives in the cache, downloading what is missing: the snapshot
// folder, or for a GGUF pick (ref.quant, opts.gguf_file) the .gguf file's
// path. With HF_HUB_OFFLINE the network is never touched; when the hub cannot
// be reached, a complete cached snapshot is used. Throws std::runtime_error
// "[hub] ..." naming the repo, file or URL.
std::string snapshot_download(const RepoRef& ref, const ResolveOptions& opts = {});

// --model's value as a local path: `spec` itself when it exists (a local
// path always wins) or is no repo id; else snapshot_download of it.
std::string resolve_model(const std::string& spec, const ResolveOptions& opts = {});

}  // namespace uma::hub
