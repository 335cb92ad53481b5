// Running a program without a shell: argv goes to posix_spawnp as it is (no
// word splitting, globbing or quoting of any text), stdin is /dev/null, and
// stdout and stderr come back together.
#pragma once

#include <string>
#include <vector>

namespace uma::cpu::jit {

struct RunResult {
  bool started = false;  // false: the program could not be run (error says why)
  int status = -1;       // its exit status; -1 if it did not exit normally
  std::string output;    // stdout and stderr, interleaved
  std::string error;     // why it did not start or was not waited for
  bool ok() const { return started && status == 0; }
};

// Runs argv[0] (searched on PATH when it has no '/') with argv and waits.
RunResult run_program(const std::vector<std::string>& argv);

}  // namespace uma::cpu::jit
