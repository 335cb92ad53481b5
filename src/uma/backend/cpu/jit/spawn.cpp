#include "uma/backend/cpu/jit/spawn.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace uma::cpu::jit {

RunResult run_program(const std::vector<std::string>& argv) {
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
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    r.error = argv[0] + ": " + std::strerror(rc);
    return r;
  }
  char buf[4096];
  for (;;) {
    ssize_t got = read(fds[0], buf, sizeof buf);
    if (got > 0) {
      r.output.append(buf, size_t(got));
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
  // posix_spawnp reports a missing program as exit status 127 on glibc.
  if (r.status == 127 && r.output.empty()) r.error = argv[0] + ": not found or not executable";
  return r;
}

}  // namespace uma::cpu::jit
