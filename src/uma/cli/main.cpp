// The `uma` command: dispatches to the subcommands registered in cli/*.cpp.
#include "uma/cli/command.h"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <map>

namespace uma::cli {
std::vector<Command>& commands() {
  static std::vector<Command> all;
  return all;
}
}  // namespace uma::cli

int main(int argc, char** argv) {
  using namespace uma::cli;
  CLI::App app{"uma: local machine learning on x86 CPUs and NVIDIA GPUs"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "uma 0.1.0");

  auto& cmds = commands();
  std::sort(cmds.begin(), cmds.end(), [](auto& a, auto& b) { return a.name < b.name; });
  std::map<CLI::App*, Action> actions;
  for (auto& c : cmds) {
    CLI::App* sub = app.add_subcommand(c.name, c.help);
    actions[sub] = c.setup(*sub);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    for (auto& [sub, action] : actions) {
      if (sub->parsed()) return action();
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "uma: error: %s\n", e.what());
    return 1;
  }
  return 1;
}
