// `uma manage`: the models in the Hugging Face cache, as mlx_lm.manage —
// --scan lists them (size, when used and changed, refs and commits),
// --delete removes those whose repo id contains --pattern, after asking.
#include <cmath>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "uma/cli/command.h"
#include "uma/hub/cache.h"

namespace {

struct Options {
  bool scan = false, del = false, yes = false;
  std::string pattern;
};

// huggingface_hub's _format_size: "12.3M".
std::string format_size(uint64_t bytes) {
  double v = double(bytes);
  for (const char* unit : {"", "K", "M", "G", "T", "P"}) {
    if (v < 1000.0) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.1f%s", v, unit);
      return buf;
    }
    v /= 1000.0;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1fE", v);
  return buf;
}

// huggingface_hub's _format_timesince: "3 days ago".
std::string format_since(int64_t t) {
  if (t <= 0) return "never";
  double delta = double(std::time(nullptr) - t);
  if (delta < 20) return "a few seconds ago";
  struct Chunk {
    const char* label;
    double divider;
    double max;
  };
  const Chunk chunks[] = {{"second", 1, 60},         {"minute", 60, 60},        {"hour", 3600, 24},
                          {"day", 86400, 7},         {"week", 604800, 6},       {"month", 2629800, 11},
                          {"year", 31557600, 1e300}};
  long value = 0;
  const char* label = "year";
  for (const auto& c : chunks) {
    value = std::lround(delta / c.divider);
    label = c.label;
    if (value <= c.max) break;
  }
  return std::to_string(value) + " " + label + (value > 1 ? "s" : "") + " ago";
}

std::string join(const std::vector<std::string>& v, size_t shorten = 0) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ",") + (shorten ? x.substr(0, shorten) : x);
  return s.empty() ? "-" : s;
}

// Columns padded to their widest cell, a dashed rule under the headers.
void print_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(rows.front().size(), 0);
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  }
  auto line = [&](const std::vector<std::string>& r) {
    std::string s;
    for (size_t i = 0; i < r.size(); ++i) {
      s += r[i] + (i + 1 < r.size() ? std::string(width[i] - r[i].size() + 2, ' ') : "");
    }
    std::printf("%s\n", s.c_str());
  };
  line(rows.front());
  std::vector<std::string> rule;
  for (size_t w : width) rule.push_back(std::string(w, '-'));
  line(rule);
  for (size_t i = 1; i < rows.size(); ++i) line(rows[i]);
}

std::vector<uma::hub::CachedRepo> matching(const std::string& cache, const std::string& pattern) {
  std::vector<uma::hub::CachedRepo> out;
  for (auto& r : uma::hub::scan_cache(cache)) {
    if (r.repo_id.find(pattern) != std::string::npos) out.push_back(std::move(r));
  }
  return out;
}

// mlx_lm.manage's ask_for_confirmation; end of input is a no.
bool confirm(const std::string& question) {
  std::string answer;
  while (true) {
    std::printf("%s (y/n) ", question.c_str());
    std::fflush(stdout);
    if (!std::getline(std::cin, answer)) return false;
    for (auto& c : answer) c = char(std::tolower(static_cast<unsigned char>(c)));
    if (answer == "y" || answer == "yes" || answer == "1") return true;
    if (answer == "n" || answer == "no" || answer == "0") return false;
    std::printf("Invalid input. Must be one of ('y', 'yes', '1') or ('n', 'no', '0')\n");
  }
}

int run(const Options& o) {
  std::string cache = uma::hub::cache_dir();
  if (o.scan) {
    std::printf("Scanning Hugging Face cache for models with pattern \"%s\".\n", o.pattern.c_str());
    std::vector<std::vector<std::string>> rows = {
        {"REPO ID", "SIZE", "ACCESSED", "MODIFIED", "REFS", "COMMITS", "LOCAL PATH"}};
    for (const auto& r : matching(cache, o.pattern)) {
      rows.push_back({r.repo_id, format_size(r.size_on_disk), format_since(r.last_accessed),
                      format_since(r.last_modified), join(r.refs), join(r.snapshots, 12), r.path});
    }
    print_table(rows);
  }
  if (o.del) {
    if (o.pattern.empty()) throw std::invalid_argument("[manage] --delete needs --pattern (part of the repo ids to delete)");
    std::printf("Deleting models matching pattern \"%s\"\n", o.pattern.c_str());
    auto repos = matching(cache, o.pattern);
    if (repos.empty()) {
      std::printf("No models found.\n");
      return 0;
    }
    for (const auto& r : repos) std::printf("%s  %s\n", r.repo_id.c_str(), format_size(r.size_on_disk).c_str());
    if (!o.yes && !confirm("Confirm deletion ?")) {
      std::printf("Deletion is cancelled. Do nothing.\n");
      return 0;
    }
    for (const auto& r : repos) uma::hub::delete_cached_repo(cache, r);
    std::printf("Model(s) deleted successfully.\n");
  }
  return 0;
}

uma::cli::Registration reg{
    "manage", "List or delete the models in the Hugging Face cache (as mlx_lm.manage)", [](CLI::App& app) {
      auto o = std::make_shared<Options>();
      auto* scan = app.add_flag("--scan", o->scan, "List the cached models (with --pattern: those whose id holds it)");
      auto* del = app.add_flag("--delete", o->del, "Delete the cached models whose repo id contains --pattern");
      app.add_option("--pattern", o->pattern, "Part of the repo ids to list or delete (default: all for --scan)");
      app.add_flag("-y,--yes", o->yes, "Delete without asking");
      (void)scan;
      (void)del;
      return [o]() {
        if (!o->scan && !o->del) throw std::invalid_argument("[manage] give --scan or --delete");
        return run(*o);
      };
    }};

}  // namespace
