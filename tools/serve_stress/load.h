// A load generator for `uma serve`: N clients for T seconds, each sending
// one request after another, a seeded mix of chat and text completions,
// streamed and not, n > 1, stop strings, json_object response_format,
// sampled with random max_tokens, and some streams the client hangs up on.
// Every response is checked: status 200, well-formed JSON or server-sent
// events ([DONE] last, one finish_reason per choice, deltas that add up),
// usage counts that add up, stop strings absent, json_object answers that
// parse. Greedy and seeded requests come from a fixed set of templates
// whose answers are first taken one request at a time; under load every
// such answer must equal that reference (batching must not change answers).
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace uma::serve_stress {

struct LoadOptions {
  int port = 8080;
  int clients = 16;
  double seconds = 60;         // the loaded phase, after the references
  uint64_t seed = 1;           // each client draws from seed + its index
  int max_tokens = 48;         // sampled requests draw max_tokens from 1..this
  double hang_up_rate = 0.1;   // of streamed sampled requests: the client goes after a few chunks
  double timeout_s = 300;      // a response slower than this is a failure
  // Called once, warmup_s into the loaded phase (to sample the server's memory).
  double warmup_s = 0;
  std::function<void()> after_warmup;
  std::function<void(const std::string&)> log;  // progress lines (none when empty)
};

struct LoadReport {
  int requests = 0;   // answered and passing every check (hang-ups excluded)
  int failures = 0;   // requests whose answer failed a check or did not come
  int hung_up = 0;    // streams the client left on purpose
  int reference_checked = 0;  // answers compared with their template's reference
  int64_t completion_tokens = 0;
  double wall_s = 0;
  std::vector<double> latency_s;  // each answered request, send to last byte
  std::vector<double> ttft_s;     // streamed requests: send to the first token's chunk
  std::vector<std::string> errors;  // the first failures, each naming its request
  nlohmann::json references;        // template name -> reference texts (choice i: seed + i)

  // The p-th percentile (0-100) of xs, or 0 for none.
  static double percentile(std::vector<double> xs, double p);
  // One line: requests, failures, tokens/s, latency and TTFT percentiles.
  std::string summary() const;
  nlohmann::json to_json() const;
};

// Runs the references (one request at a time), then the loaded phase.
// References that fail are failures too.
LoadReport run_load(const LoadOptions& o);

}  // namespace uma::serve_stress
