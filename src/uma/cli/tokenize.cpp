// `uma tokenize`: encode text with a model's tokenizer and print the ids.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>

#include "uma/cli/command.h"
#include "uma/cli/common.h"
#include "uma/core/io/file.h"
#include "uma/text/tokenizer/load.h"

namespace {

struct Options {
  std::string model;
  std::string text;
  std::string file;
  bool tokens = false;
  bool no_special = false;
};

std::string dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string format_ids(const uma::text::tokenizer::Tokenizer& tok, const std::vector<int32_t>& ids,
                       bool with_tokens) {
  nlohmann::json out = nlohmann::json::array();
  for (int32_t id : ids) {
    if (with_tokens) {
      out.push_back({{"id", id}, {"token", tok.id_to_token(id).value_or("")}});
    } else {
      out.push_back(id);
    }
  }
  return dump(out);
}

int run(const Options& o) {
  auto loaded = uma::cli::load_tokenizer(uma::cli::resolve_model(o.model, "", false));
  const auto& tok = *loaded.tokenizer;
  const bool add_special = !o.no_special;
  std::string out;
  if (!o.file.empty()) {
    // A regular file only (a FIFO would block); 1 GiB of JSON lines at most.
    std::istringstream in(uma::io::read_small_file(o.file, "tokenize", uint64_t(1) << 30));
    std::string line;
    size_t line_no = 0;
    while (std::getline(in, line)) {
      ++line_no;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      nlohmann::json j;
      try {
        j = nlohmann::json::parse(line);
      } catch (const nlohmann::json::exception& e) {
        throw std::invalid_argument("[tokenize] " + o.file + ":" + std::to_string(line_no) +
                                    ": malformed JSON: " + e.what());
      }
      if (!j.is_string()) {
        throw std::invalid_argument("[tokenize] " + o.file + ":" + std::to_string(line_no) +
                                    ": expected a JSON string, got " + std::string(j.type_name()));
      }
      out += format_ids(tok, tok.encode(j.get<std::string>(), add_special), o.tokens);
      out += '\n';
    }
  } else {
    out = format_ids(tok, tok.encode(o.text, add_special), o.tokens) + "\n";
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

uma::cli::Registration reg{
    "tokenize", "Encode text with a model's tokenizer and print the token ids", [](CLI::App& app) {
      auto o = std::make_shared<Options>();
      app.add_option("--model,-m", o->model, "Model folder (with tokenizer.json) or a .gguf file")
          ->required();
      auto* text = app.add_option("--text,-t", o->text, "Text to encode");
      auto* file = app.add_option(
          "--file,-f", o->file,
          "File of JSON lines, each a JSON string; prints one JSON array of ids per line, in order");
      text->excludes(file);
      file->excludes(text);
      app.add_flag("--tokens", o->tokens,
                   "Print objects {\"id\": ID, \"token\": TOKEN} instead of bare ids; TOKEN is the "
                   "vocabulary string (byte-level form, e.g. \"\u0120the\", for GPT-2 style BPE)");
      app.add_flag("--no-special", o->no_special,
                   "Do not add the special tokens of the post-processor (BOS/EOS)");
      app.footer(
          "Output: a JSON array of token ids on one line, e.g. [791, 10077, 8638], or with --tokens\n"
          "[{\"id\": 791, \"token\": \"The\"}, ...]. Special tokens written in the text (e.g.\n"
          "<|im_start|>) are recognized as such.");
      return [o, text, file]() -> int {
        if (text->count() == 0 && file->count() == 0) {
          throw std::invalid_argument("[tokenize] give --text or --file");
        }
        return run(*o);
      };
    }};

}  // namespace
