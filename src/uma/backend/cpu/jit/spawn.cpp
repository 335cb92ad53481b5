#include "uma/backend/cpu/jit/spawn.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <algorithm>
#include <chrono>
#include <cstring>

extern char** environ;

namespace uma::cpu::jit {

RunResult run_program(const std::vector<std::string>& argv, double timeout_seconds, size_t max_output) {
  RunResult r;
  if (argv.empty() || argv[0].empty()) {
    r.error = "no program given";
    return r;
  }
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    r.error = std::string("pipe: ") + std::strerror(errno);
    return r;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);  // dup2 clears close-on-exec
  posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);  // its own group, led by the child
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    r.error = argv[0] + ": " + std::strerror(rc);
    return r;
  }
  // Read until every writer has closed the pipe (the program and whatever
  // it started), or until the deadline: then kill the group, whose members
  // hold the pipe's write end.
  using clock = std::chrono::steady_clock;
  const auto deadline = clock::now() + std::chrono::duration_cast<clock::duration>(
                                           std::chrono::duration<double>(timeout_seconds));
  char buf[4096];
  for (;;) {
    int wait_ms = -1;
    if (timeout_seconds > 0) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
      if (left <= 0) {
        r.timed_out = true;
        kill(-pid, SIGKILL);
        break;
      }
      wait_ms = int(std::min<long long>(left, 1000));
    }
    pollfd pfd{fds[0], POLLIN, 0};
    const int ready = poll(&pfd, 1, wait_ms);
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;
    ssize_t got = read(fds[0], buf, sizeof buf);
    if (got > 0) {
      if (r.output.size() < max_output) r.output.append(buf, std::min(size_t(got), max_output - r.output.size()));
    } else if (got == 0 || errno != EINTR) {
      break;
    }
  }
  close(fds[0]);
  int ws = 0;
  pid_t w;
  do {
    w = waitpid(pid, &ws, 0);
  } while (w < 0 && errno == EINTR);
  if (w < 0) {
    r.error = std::string("waitpid: ") + std::strerror(errno);
    return r;
  }
  r.started = true;
  r.status = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
  if (r.timed_out) {
    char limit[32];
    std::snprintf(limit, sizeof limit, "%g", timeout_seconds);
    r.error = argv[0] + ": killed after " + limit + " s (the time limit; UMA_JIT_TIMEOUT)";
    return r;
  }
  // posix_spawnp reports a missing program as exit status 127 on glibc.
  if (r.status == 127 && r.output.empty()) r.error = argv[0] + ": not found or not executable";
  return r;
}

}  // namespace uma::cpu::jit
