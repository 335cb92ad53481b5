// A seeded fuzzer of `uma serve`'s requests over plain sockets: mutations of
// valid chat and completion bodies (every field set to values of the wrong
// type, huge strings, arrays and numbers, deep nesting; bodies truncated,
// with bytes flipped, invalid UTF-8, duplicate keys) and malformed HTTP (bad
// methods, paths and versions, giant and broken headers, chunked bodies
// good and bad, Content-Length lies, content types and encodings, Range,
// Expect, binary garbage, pipelining). Every answer must be a 2xx with a
// valid body (JSON, or server-sent events of JSON and a last [DONE]) or a
// 4xx/5xx whose body is an OpenAI error object {"error": {"message",
// "type", ...}}, and must come within the timeout; /health is probed after
// each batch of cases. The same seed sends the same cases.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace uma::serve_stress {

struct FuzzCase {
  std::string name;   // what was done, to reproduce it
  std::string bytes;  // sent as is
  bool half_close = false;  // shut the write side after sending (the server sees the request's end)
  bool head = false;        // a HEAD request: the answer has no body
  bool may_close = false;   // the server may close without answering (nothing complete was sent)
};

// Case k of the sequence that `rng` draws.
FuzzCase make_case(std::mt19937_64& rng, int k);

// What an answer to `c` must be; "" when it is, else why not.
std::string check_answer(const FuzzCase& c, int status, const std::string& content_type, const std::string& body,
                         const std::string& read_error);

struct FuzzOptions {
  int port = 8080;
  uint64_t seed = 1;
  int cases = 300;
  int batch = 25;          // a /health probe after each batch
  double timeout_s = 60;   // no answer within this is a failure (a hang)
  std::function<void(const std::string&)> log;  // progress lines (none when empty)
};

struct FuzzReport {
  int cases = 0, failures = 0, health_probes = 0;
  std::map<int, int> statuses;  // status -> cases (0: closed without an answer, where allowed)
  std::vector<std::string> errors;  // the first failures, each naming its case
  double wall_s = 0;
  std::string summary() const;
};

// Sends the cases one after another, then waits (up to timeout_s) for
// /health to show nothing queued or active.
FuzzReport run_fuzz(const FuzzOptions& o);

}  // namespace uma::serve_stress
