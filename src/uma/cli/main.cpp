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
  // CLI11 would call an unknown command "A subcommand is required".
  if (argc > 1 && argv[1][0] != '-' &&
      std::none_of(cmds.begin(), cmds.end(), [&](const Command& c) { return c.name == argv[1]; })) {
    std::string names;
    for (auto& c : cmds) names += (names.empty() ? "" : ", ") + c.name;
    std::fprintf(stderr, "uma: error: unknown command '%s' (commands: %s)\n", argv[1], names.c_str());
    return 1;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; a usage error is one line like any other.
    if (e.get_exit_code() == int(CLI::ExitCodes::Success)) return app.exit(e);
    std::fprintf(stderr, "uma: error: %s\n", e.what());
    return 1;
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
