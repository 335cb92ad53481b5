// serve_stress: load, fuzzing and slow clients against a running `uma serve`
// (127.0.0.1 only). bench/serve_soak.sh starts a server and runs `load`.
//
//   serve_stress load --port 8080 --clients 64 --seconds 600 [--json]
//   serve_stress fuzz --port 8080 --seed 1 --cases 2000
//   serve_stress slow --port 8080 --connections 500 --seconds 60
//
// Each exits 1 when a request failed its checks (and prints the first ones).
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <thread>

#include "serve_stress/fuzz.h"
#include "serve_stress/load.h"
#include "serve_stress/slow.h"

using namespace uma::serve_stress;

namespace {

void print_errors(const std::vector<std::string>& errors) {
  for (auto& e : errors) std::fprintf(stderr, "  failed: %s\n", e.c_str());
}

// Slow clients held for `seconds`, with one ordinary request at the start.
int run_slow(int port, int n, double seconds) {
  SlowClients slow(port, n);
  std::printf("%d slow connections open\n", slow.opened());
  const double t0 = now_seconds();
  Connection c(port);
  c.send(http_request("POST", "/v1/chat/completions", R"({"messages":[{"role":"user","content":"Hi"}],"max_tokens":8})"));
  HttpResponse r = c.read_response(120, [&](std::string_view) { return true; });
  std::printf("an ordinary request beside them: status %d in %.3f s\n", r.status, now_seconds() - t0);
  int closed = 0;
  while (now_seconds() - t0 < seconds && closed < slow.opened()) {
    closed = slow.tick();
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  std::printf("%d of %d slow connections closed by the server after %.1f s\n", closed, slow.opened(), now_seconds() - t0);
  return r.status == 200 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Load, fuzzing and slow clients against a running `uma serve` on 127.0.0.1"};
  app.require_subcommand(1);
  int port = 8080;
  LoadOptions lo;
  FuzzOptions fo;
  int slow_n = 200;
  double slow_s = 60;
  bool as_json = false;
  auto* load = app.add_subcommand("load", "N clients for T seconds, every answer checked");
  load->add_option("--port", port)->capture_default_str();
  load->add_option("--clients", lo.clients)->capture_default_str();
  load->add_option("--seconds", lo.seconds)->capture_default_str();
  load->add_option("--seed", lo.seed)->capture_default_str();
  load->add_option("--max-tokens", lo.max_tokens, "Sampled requests draw max_tokens from 1..this")->capture_default_str();
  load->add_option("--hang-up", lo.hang_up_rate, "Share of sampled streams the client leaves early")->capture_default_str();
  load->add_flag("--json", as_json, "Print the report as JSON");
  auto* fuzz = app.add_subcommand("fuzz", "Malformed requests; every answer must be valid or an OpenAI error");
  fuzz->add_option("--port", port)->capture_default_str();
  fuzz->add_option("--seed", fo.seed)->capture_default_str();
  fuzz->add_option("--cases", fo.cases)->capture_default_str();
  auto* slow = app.add_subcommand("slow", "Slow connections (a byte at a time) beside an ordinary request");
  slow->add_option("--port", port)->capture_default_str();
  slow->add_option("--connections", slow_n)->capture_default_str();
  slow->add_option("--seconds", slow_s)->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  auto log = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
  if (load->parsed()) {
    lo.port = port;
    lo.log = log;
    LoadReport r = run_load(lo);
    if (as_json) {
      std::cout << r.to_json().dump(2) << "\n";
    } else {
      std::printf("%s\n", r.summary().c_str());
    }
    print_errors(r.errors);
    return r.failures == 0 && r.requests > 0 ? 0 : 1;
  }
  if (fuzz->parsed()) {
    fo.port = port;
    fo.log = log;
    FuzzReport r = run_fuzz(fo);
    std::printf("%s\n", r.summary().c_str());
    print_errors(r.errors);
    return r.failures == 0 ? 0 : 1;
  }
  return run_slow(port, slow_n, slow_s);
}
