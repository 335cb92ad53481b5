// The `uma` command: dispatches to the subcommands registered in cli/*.cpp.
#include "uma/cli/command.h"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <map>
#include <new>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

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
  // Errors are checked where files are read and name the file and key; these
  // catch blocks are the net below that, so that no library's own text
  // (nlohmann, libstdc++) reaches the user and every failure is one line.
  std::string command = argc > 1 ? argv[1] : "uma";
  auto fail = [&](const std::string& msg) {
    std::string line = msg;
    std::replace(line.begin(), line.end(), '\n', ' ');
    std::fprintf(stderr, "uma: error: %s\n", line.c_str());
    return 1;
  };
  try {
    for (auto& [sub, action] : actions) {
      if (sub->parsed()) return action();
    }
  } catch (const nlohmann::json::exception& e) {
    // "[json.exception.type_error.302] type must be number, but is string"
    std::string what = e.what();
    size_t close = what.find("] ");
    if (what.rfind("[json.exception.", 0) == 0 && close != std::string::npos)
      what = what.substr(close + 2);
    return fail("[" + command + "] a JSON file holds a value of the wrong kind: " + what);
  } catch (const std::filesystem::filesystem_error& e) {
    return fail("[" + command + "] cannot access " + e.path1().string() + ": " +
                e.code().message());
  } catch (const std::bad_alloc&) {
    return fail("[" + command +
                "] out of memory: an input asks for more memory than this machine has");
  } catch (const std::length_error&) {
    return fail("[" + command + "] an input asks for a size larger than this program can hold");
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  return 1;
}
