// Running a program without a shell: argv goes to posix_spawnp as it is (no
// word splitting, globbing or quoting of any text), stdin is /dev/null, and
// stdout and stderr come back together. The program runs in its own process
// group, so that a run past its time limit is killed with everything it
// started (a compiler's cc1plus and as), and a wedged compiler cannot hang
// the process that asked for a kernel.
#pragma once

#include <string>
#include <vector>

namespace uma::cpu::jit {

struct RunResult {
  bool started = false;  // false: the program could not be run (error says why)
  int status = -1;       // its exit status; -1 if it did not exit normally
  std::string output;    // stdout and stderr, interleaved
  std::string error;     // why it did not start, was not waited for, or was killed
  bool timed_out = false;  // killed at the time limit
  bool ok() const { return started && status == 0; }
};

// Runs argv[0] (searched on PATH when it has no '/') with argv and waits,
// at most timeout_seconds (<= 0: no limit); past it the program's process
// group is killed. Output beyond max_output bytes is read and dropped.
RunResult run_program(const std::vector<std::string>& argv, double timeout_seconds = 0,
                      size_t max_output = size_t(1) << 20);

}  // namespace uma::cpu::jit
