// `uma serve` under load for a minute (tools/serve_stress/load.h): 16
// clients, each sending one request after another (chat and completions,
// streamed and not, n > 1, stop strings, json_object, random max_tokens,
// hang-ups). Every answer passes its checks, greedy and seeded ones equal
// the answer their request got alone (itself equal to `uma generate`'s), the
// server settles with nothing queued, and its resident memory after the
// minute stays near what it was after a warm-up. Latencies and throughput
// are printed, not asserted.
#include <cstdio>
#include <fstream>
#include <string>

#include "cli/serve_util.h"
#include "cli_util.h"
#include "serve_stress/load.h"

namespace uma::cli {
namespace {

using namespace testing;

// VmRSS of process `pid` in KiB (0 when it cannot be read).
long resident_kib(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  long value = 0;
  while (f >> key) {
    if (key == "VmRSS:" && f >> value) return value;
  }
  return 0;
}

TEST(ServeSoakCli, SixteenClientsForAMinute) {
  // A small prompt cache, so that its entries stop growing early and the
  // resident memory after the warm-up is comparable with the end's.
  ServeProcess serve({"--prompt-cache-bytes", "4M"});
  ASSERT_GT(serve.port(), 0);
  serve_stress::LoadOptions o;
  o.port = serve.port();
  o.clients = 16;
  o.seconds = 60;
  o.seed = 1;
  o.warmup_s = 15;
  long warm_kib = 0;
  json warm_health;
  o.after_warmup = [&] {
    warm_kib = resident_kib(serve.pid());
    warm_health = health(serve);
  };
  o.log = [](const std::string& line) { std::printf("%s\n", line.c_str()); };
  serve_stress::LoadReport r = serve_stress::run_load(o);
  std::printf("soak, 16 clients, 60 s: %s\n", r.summary().c_str());
  for (auto& e : r.errors) ADD_FAILURE() << e;
  EXPECT_EQ(r.failures, 0);
  EXPECT_GE(r.requests, o.clients);
  EXPECT_GT(r.reference_checked, 0);
  EXPECT_GT(r.completion_tokens, 0);

  // The references (each template's request alone) are what the CLI says.
  ASSERT_TRUE(r.references.contains("garden") && r.references.contains("text-garden")) << r.references.dump();
  EXPECT_EQ(r.references["garden"][0]["text"], generate("What does 'garden' mean?", 24)["text"]);
  EXPECT_EQ(r.references["text-garden"][0]["text"],
            generate("The garden", 16, {"--ignore-chat-template"})["text"]);

  // Healthy afterwards: nothing queued or running, and memory not growing
  // without bound (generous: allocator caches and thread arenas vary).
  EXPECT_TRUE(settles(serve)) << health(serve).dump();
  const long end_kib = resident_kib(serve.pid());
  json h = health(serve);
  std::printf("resident memory: %ld KiB after the warm-up, %ld KiB at the end; arrays %s then %s bytes\n", warm_kib,
              end_kib, warm_health["memory"]["active"].dump().c_str(), h["memory"]["active"].dump().c_str());
  ASSERT_GT(warm_kib, 0);
  EXPECT_LT(end_kib, warm_kib + warm_kib / 2 + 128 * 1024);
  EXPECT_EQ(h["status"], "ok");
}

}  // namespace
}  // namespace uma::cli
