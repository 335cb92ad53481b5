// `uma template`: render a model's chat template for a conversation, exactly
// as transformers' apply_chat_template(tokenize=False) does.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>

#include "uma/cli/command.h"
#include "uma/cli/common.h"
#include "uma/core/io/file.h"
#include "uma/text/chat_template.h"
#include "uma/text/tokenizer/load.h"

namespace {

using ojson = nlohmann::ordered_json;

struct Options {
  std::string model;
  std::string messages;
  std::string tools;
  std::string kwargs;
  std::string template_name;
  bool no_generation_prompt = false;
};

ojson read_json(const std::string& path, const char* what) {
  // A regular file only (a FIFO would block), size-capped.
  std::string text = uma::io::read_small_file(path, "template");
  try {
    return ojson::parse(text);
  } catch (const ojson::exception& e) {
    throw std::invalid_argument(std::string("[template] malformed JSON in ") + what + " file '" +
                                path + "': " + e.what());
  }
}

int run(const Options& o) {
  auto loaded = uma::cli::load_tokenizer(uma::cli::resolve_model(o.model, "", false));

  ojson messages = read_json(o.messages, "messages");
  ojson tools = nullptr;
  // A file may hold the list of messages or {"messages": [...], "tools": [...]}.
  if (messages.is_object() && messages.contains("messages")) {
    if (messages.contains("tools")) tools = messages["tools"];
    messages = ojson(messages["messages"]);
  }
  if (!messages.is_array()) {
    throw std::invalid_argument("[template] '" + o.messages + "' must hold a list of messages");
  }
  if (!o.tools.empty()) tools = read_json(o.tools, "tools");
  if (!tools.is_null() && !tools.is_array()) {
    throw std::invalid_argument("[template] tools must be a list");
  }

  const auto* tmpl = loaded.chat_template(o.template_name, !tools.is_null());
  if (tmpl == nullptr) {
    std::string names;
    for (const auto& t : loaded.chat_templates) {
      if (!names.empty()) names += ", ";
      names += t.name;
    }
    if (loaded.chat_templates.empty()) {
      throw std::invalid_argument("[template] model '" + o.model + "' has no chat template");
    }
    throw std::invalid_argument("[template] no chat template named '" + o.template_name +
                                "' (available: " + names + ")");
  }

  // transformers passes the named special tokens that are set, then kwargs.
  ojson extra = loaded.template_variables();
  if (!o.kwargs.empty()) {
    ojson kw = read_json(o.kwargs, "kwargs");
    if (!kw.is_object()) throw std::invalid_argument("[template] kwargs must be a JSON object");
    for (auto it = kw.begin(); it != kw.end(); ++it) extra[it.key()] = it.value();
  }

  uma::text::ChatTemplate engine(tmpl->source);
  std::string text = engine.apply(messages, tools, !o.no_generation_prompt, extra);
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}

uma::cli::Registration reg{
    "template", "Render a model's chat template for a conversation", [](CLI::App& app) {
      auto o = std::make_shared<Options>();
      app.add_option("--model,-m", o->model, "Model folder or .gguf file")->required();
      app.add_option("--messages", o->messages,
                     "JSON file: a list of messages, or {\"messages\": [...], \"tools\": [...]}")
          ->required();
      app.add_option("--tools", o->tools, "JSON file with the list of tool definitions");
      app.add_option("--kwargs", o->kwargs,
                     "JSON file with an object of extra template variables (e.g. enable_thinking)");
      app.add_option("--template-name", o->template_name,
                     "Named template (default: tool_use when tools are given and it exists, else default)");
      app.add_flag("--no-generation-prompt", o->no_generation_prompt,
                   "Render without add_generation_prompt");
      app.footer("Prints exactly the rendered text (no trailing newline is added). A template that\n"
                 "raises (raise_exception) makes the command fail with its message.");
      return [o]() -> int { return run(*o); };
    }};

}  // namespace
