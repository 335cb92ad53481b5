#include "uma/hub/resolve.h"

#include <fnmatch.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <stdexcept>

#include "uma/core/io/file.h"
#include "uma/hub/http.h"

namespace uma::hub {

namespace fs = std::filesystem;

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

bool is_gguf(const std::string& f) { return f.size() > 5 && lower(f.substr(f.size() - 5)) == ".gguf"; }

// A file name from the hub becomes a path under snapshots/: relative, no "..".
bool safe_relative_path(const std::string& f) {
  if (f.empty() || f.front() == '/' || f.find('\0') != std::string::npos || f.find('\\') != std::string::npos) {
    return false;
  }
  for (const auto& part : fs::path(f)) {
    if (part == ".." || part == "." || part.empty()) return false;
  }
  return true;
}

// NAME-00001-of-00003.gguf -> {"NAME", "00003"}; empty when not a split part.
std::pair<std::string, std::string> split_of(const std::string& f) {
  static const std::regex re(R"(^(.*)-(\d{5})-of-(\d{5})\.gguf$)", std::regex::icase);
  std::smatch m;
  if (!std::regex_match(f, m, re)) return {};
  return {m[1].str(), m[3].str()};
}

std::string describe(const RepoRef& ref) {
  return ref.repo_id + (ref.revision == "main" ? "" : "@" + ref.revision);
}

std::vector<std::string> files_under(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (fs::is_regular_file(it->path(), ec)) out.push_back(it->path().lexically_relative(dir).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool wants_gguf(const RepoRef& ref, const ResolveOptions& opts) { return !ref.quant.empty() || !opts.gguf_file.empty(); }

// The path a cached snapshot answers with, or an error naming what is missing.
std::string from_cache(const RepoCache& rc, const RepoRef& ref, const ResolveOptions& opts, const std::string& why) {
  auto commit = rc.commit_for(ref.revision);
  std::string where = " (cache: " + rc.root() + ")";
  if (!commit) throw std::runtime_error("[hub] " + describe(ref) + " is not in the cache" + where + "; " + why);
  std::string dir = rc.snapshot_dir(*commit);
  std::vector<std::string> have = files_under(dir);
  if (wants_gguf(ref, opts)) {
    auto picked = select_gguf(have, opts.gguf_file, ref.quant, ref.repo_id);
    return (fs::path(dir) / picked.front()).string();
  }
  auto has = [&](const std::string& f) { return std::binary_search(have.begin(), have.end(), f); };
  std::vector<std::string> missing;
  if (!has("config.json")) missing.push_back("config.json");
  if (opts.weights) {
    if (has("model.safetensors.index.json")) {
      auto index = nlohmann::json::parse(io::read_small_file(dir + "/model.safetensors.index.json", "hub"), nullptr, false);
      if (index.is_object() && index.contains("weight_map") && index["weight_map"].is_object()) {
        for (auto& [k, v] : index["weight_map"].items()) {
          if (v.is_string() && !has(v.get<std::string>()) &&
              std::find(missing.begin(), missing.end(), v.get<std::string>()) == missing.end()) {
            missing.push_back(v.get<std::string>());
          }
        }
      }
    } else if (std::none_of(have.begin(), have.end(), [](auto& f) { return f.ends_with(".safetensors"); })) {
      missing.push_back("model.safetensors");
    }
  }
  if (!missing.empty()) {
    std::string list;
    for (auto& m : missing) list += (list.empty() ? "" : ", ") + m;
    throw std::runtime_error("[hub] " + describe(ref) + ": the cached snapshot " + dir + " lacks " + list + "; " + why);
  }
  return dir;
}

}  // namespace

std::vector<std::string> model_patterns() {
  return {"*.json", "model*.safetensors", "tokenizer.model", "*.tiktoken", "tiktoken.model", "*.txt", "*.jsonl",
          "*.jinja"};
}

std::vector<std::string> tokenizer_patterns() {
  return {"*.json", "tokenizer.model", "*.tiktoken", "tiktoken.model", "*.txt", "*.jinja"};
}

bool matches_pattern(const std::string& pattern, const std::string& file) {
  std::string p = pattern;
  if (!p.empty() && p.back() == '/') p += '*';
  return ::fnmatch(p.c_str(), file.c_str(), 0) == 0;
}

std::vector<std::string> select_files(const std::vector<std::string>& files, const std::vector<std::string>& patterns) {
  std::vector<std::string> out;
  for (const auto& f : files) {
    if (std::any_of(patterns.begin(), patterns.end(), [&](auto& p) { return matches_pattern(p, f); })) out.push_back(f);
  }
  return out;
}

std::vector<std::string> select_gguf(const std::vector<std::string>& files, const std::string& name,
                                     const std::string& quant, const std::string& repo_id) {
  std::vector<std::string> ggufs;
  for (const auto& f : files) {
    if (is_gguf(f) && lower(fs::path(f).filename().string()).find("mmproj") == std::string::npos) ggufs.push_back(f);
  }
  std::sort(ggufs.begin(), ggufs.end());
  std::string first;
  for (const auto& f : ggufs) {
    bool hit = !name.empty() ? f == name || fs::path(f).filename() == name
                             : lower(fs::path(f).filename().string()).find(lower(quant)) != std::string::npos;
    if (hit) {
      first = f;
      break;
    }
  }
  if (first.empty()) {
    std::string list;
    for (auto& f : ggufs) list += (list.empty() ? "" : ", ") + f;
    throw std::invalid_argument("[hub] " + repo_id + " has no .gguf file " +
                                (name.empty() ? "with '" + quant + "' in its name" : "named " + name) +
                                " (it has: " + (list.empty() ? "none" : list) + ")");
  }
  auto [base, count] = split_of(first);
  if (base.empty()) return {first};
  std::vector<std::string> parts;
  for (const auto& f : ggufs) {
    auto [b, c] = split_of(f);
    if (b == base && c == count) parts.push_back(f);
  }
  return parts;  // sorted: part 00001 first
}

RepoInfo repo_info(const std::string& repo_id, const std::string& revision) {
  std::string url = endpoint() + "/api/models/" + repo_id + "/revision/" + url_escape(revision, false);
  HttpRequest req;
  req.url = url;
  HttpResponse r = http_request(req);
  check_status(r, repo_id, url);
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  RepoInfo info;
  if (j.is_object() && j.contains("sha") && j["sha"].is_string()) info.commit = j["sha"].get<std::string>();
  if (!is_commit_hash(info.commit) || !j.contains("siblings") || !j["siblings"].is_array()) {
    throw std::runtime_error("[hub] " + repo_id + ": " + url + " did not answer with a commit sha and siblings");
  }
  for (const auto& s : j["siblings"]) {
    if (!s.is_object() || !s.contains("rfilename") || !s["rfilename"].is_string()) continue;
    std::string f = s["rfilename"].get<std::string>();
    if (!safe_relative_path(f)) throw std::runtime_error("[hub] " + repo_id + ": unsafe file name '" + f + "' in " + url);
    info.files.push_back(f);
  }
  return info;
}

std::string snapshot_download(const RepoRef& ref, const ResolveOptions& opts) {
  RepoCache rc(opts.cache.empty() ? cache_dir() : opts.cache, ref.repo_id);
  if (offline()) return from_cache(rc, ref, opts, "HF_HUB_OFFLINE is set, so nothing is downloaded");
  RepoInfo info;
  try {
    info = repo_info(ref.repo_id, ref.revision);
  } catch (const NetworkError& e) {
    try {
      return from_cache(rc, ref, opts, "and the hub cannot be reached");
    } catch (const std::exception&) {
      throw e;
    }
  }
  std::vector<std::string> files;
  bool gguf = wants_gguf(ref, opts);
  if (!gguf && std::find(info.files.begin(), info.files.end(), "config.json") == info.files.end() &&
      std::any_of(info.files.begin(), info.files.end(), is_gguf)) {
    gguf = true;  // a GGUF-only repo: llama.cpp's default pick
    RepoRef q = ref;
    q.quant = "Q4_K_M";
    try {
      files = select_gguf(info.files, "", q.quant, ref.repo_id);
    } catch (const std::invalid_argument&) {
      files = select_gguf(info.files, "", ".gguf", ref.repo_id);
    }
  } else if (gguf) {
    files = select_gguf(info.files, opts.gguf_file, ref.quant, ref.repo_id);
  } else {
    files = select_files(info.files, opts.allow_patterns.empty() ? model_patterns() : opts.allow_patterns);
    if (files.empty()) throw std::runtime_error("[hub] " + describe(ref) + " has no model files to download");
  }
  // What is missing from the snapshot, with each file's metadata.
  std::string dir = rc.snapshot_dir(info.commit);
  std::vector<std::pair<std::string, FileMeta>> todo;
  uint64_t all_total = 0;
  std::error_code ec;
  for (const auto& f : files) {
    if (fs::exists(fs::path(dir) / f, ec)) continue;  // exists() follows the link: its blob is there
    FileMeta m = file_metadata(ref.repo_id, info.commit, f);
    all_total += m.size;
    todo.emplace_back(f, std::move(m));
  }
  uint64_t all_done = 0;
  for (size_t i = 0; i < todo.size(); ++i) {
    auto& [f, meta] = todo[i];
    ProgressFn each;
    if (opts.progress) {
      each = [&, i](const Progress& p) {
        Progress q = p;
        q.all_done = all_done + p.done;
        q.all_total = all_total;
        q.index = i;
        q.count = todo.size();
        opts.progress(q);
      };
    }
    download_file(rc, f, meta, each);
    all_done += meta.size;
  }
  rc.write_ref(ref.revision, info.commit);
  if (gguf) return (fs::path(dir) / files.front()).string();
  return dir;
}

std::string resolve_model(const std::string& spec, const ResolveOptions& opts) {
  std::error_code ec;
  if (spec.empty() || fs::exists(spec, ec)) return spec;
  auto ref = parse_repo_ref(spec);
  if (!ref) return spec;
  return snapshot_download(*ref, opts);
}

}  // namespace uma::hub
