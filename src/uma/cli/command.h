// Subcommand registry of the `uma` tool. Each subcommand lives in its own file
// and registers itself with a static `Registration`:
//
//   static uma::cli::Registration reg{"tokenize", "Encode text", [](CLI::App& app) {
//     auto opts = std::make_shared<Options>();
//     app.add_option("--model", opts->model, "...")->required();
//     return [opts]() -> int { ...; return 0; };
//   }};
//
// The setup function declares the options on `app` and returns the action that
// runs when that subcommand is chosen. Errors are thrown as exceptions; main()
// prints them as one line and exits non-zero.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace uma::cli {

using Action = std::function<int()>;
using Setup = std::function<Action(CLI::App&)>;

struct Command {
  std::string name;
  std::string help;
  Setup setup;
};

std::vector<Command>& commands();

struct Registration {
  Registration(std::string name, std::string help, Setup setup) {
    commands().push_back({std::move(name), std::move(help), std::move(setup)});
  }
};

}  // namespace uma::cli
