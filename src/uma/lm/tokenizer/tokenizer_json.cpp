// Loading tokenizer.json: the model's vocab and merges are scanned directly
// (they are most of the file); every other section goes through nlohmann.
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "uma/lm/tokenizer/json_scan.h"
#include "uma/lm/tokenizer/json_util.h"
#include "uma/lm/tokenizer/tokenizer.h"

namespace uma::tokenizer {

namespace {

using json_util::json;

json parse_section(std::string_view raw, const std::string& what, const std::string& key) {
  try {
    return json::parse(raw);
  } catch (const json::exception& e) {
    throw std::invalid_argument("[tokenizer] malformed JSON in " + what + " section '" + key +
                                "': " + e.what());
  }
}

void scan_model(JsonScanner& sc, ModelSource& ms) {
  std::string kbuf;
  ms.config = json::object();
  if (sc.peek() != '{') sc.fail("\"model\" must be an object");
  sc.expect('{');
  if (sc.consume('}')) return;
  do {
    std::string key(sc.parse_string(kbuf));
    sc.expect(':');
    std::string_view raw = sc.skip_value();
    if (key == "vocab") {
      ms.vocab = raw;
    } else if (key == "merges") {
      ms.merges = raw;
    } else {
      ms.config[key] = parse_section(raw, ms.what, "model." + key);
    }
  } while (sc.consume(','));
  sc.expect('}');
}

std::vector<AddedToken> parse_added_tokens(const json& j, const std::string& what) {
  std::vector<AddedToken> out;
  if (j.is_null()) return out;
  if (!j.is_array()) throw std::invalid_argument("[tokenizer] " + what + ": added_tokens must be a list");
  for (const json& t : j) {
    if (!t.is_object() || !t.contains("content") || !t["content"].is_string()) {
      throw std::invalid_argument("[tokenizer] " + what + ": added token without content: " +
                                  t.dump().substr(0, 200));
    }
    AddedToken a;
    a.content = t["content"].get<std::string>();
    a.single_word = json_util::get_bool(t, "single_word", false);
    a.lstrip = json_util::get_bool(t, "lstrip", false);
    a.rstrip = json_util::get_bool(t, "rstrip", false);
    a.special = json_util::get_bool(t, "special", false);
    a.normalized = json_util::get_bool(t, "normalized", !a.special);
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace

Tokenizer Tokenizer::from_json(std::string_view text, const std::string& what) {
  JsonScanner sc(text, what);
  json top = json::object();
  ModelSource ms;
  ms.what = what;
  bool have_model = false;
  std::string kbuf;
  if (sc.peek() != '{') sc.fail("a tokenizer.json must be a JSON object");
  sc.expect('{');
  if (!sc.consume('}')) {
    do {
      std::string key(sc.parse_string(kbuf));
      sc.expect(':');
      if (key == "model") {
        scan_model(sc, ms);
        have_model = true;
      } else {
        top[key] = parse_section(sc.skip_value(), what, key);
      }
    } while (sc.consume(','));
    sc.expect('}');
  }
  if (!sc.at_end()) sc.fail("trailing characters after the top-level object");
  if (!have_model) throw std::invalid_argument("[tokenizer] " + what + " has no \"model\"");
  if (top.contains("version") && top["version"] != "1.0") {
    throw std::invalid_argument("[tokenizer] " + what + ": unknown tokenizer version " +
                                top["version"].dump());
  }
  auto section = [&](const char* key) -> const json& {
    static const json null_json;
    auto it = top.find(key);
    return it == top.end() ? null_json : *it;
  };

  TokenizerParts parts;
  parts.model = make_model(ms);
  parts.normalizer = make_normalizer(section("normalizer"));
  parts.pre_tokenizer = make_pre_tokenizer(section("pre_tokenizer"));
  parts.post_processor = make_post_processor(section("post_processor"));
  parts.decoder = make_decoder(section("decoder"));
  parts.added_tokens = parse_added_tokens(section("added_tokens"), what);
  return Tokenizer(std::move(parts));
}

Tokenizer Tokenizer::from_file(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::invalid_argument("[tokenizer] cannot open '" + path.string() + "'");
  std::string text;
  f.seekg(0, std::ios::end);
  auto size = f.tellg();
  if (size < 0) throw std::invalid_argument("[tokenizer] cannot read '" + path.string() + "'");
  text.resize(static_cast<size_t>(size));
  f.seekg(0);
  f.read(text.data(), size);
  if (!f) throw std::invalid_argument("[tokenizer] cannot read '" + path.string() + "'");
  return from_json(text, path.string());
}

}  // namespace uma::tokenizer
