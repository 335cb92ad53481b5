// Loading tokenizer.json: the model's vocab and merges are scanned directly
// (they are most of the file); every other section goes through nlohmann.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stdexcept>

#include "uma/core/io/file.h"
#include "uma/text/tokenizer/json_scan.h"
#include "uma/text/tokenizer/json_util.h"
#include "uma/text/tokenizer/tokenizer.h"

namespace uma::text::tokenizer {

namespace {

using json_util::json;

// Hugging Face tokenizers reads tokenizer.json with serde_json, whose
// recursion limit (128) refuses deeper nesting. Components nest (a Sequence
// of Sequences...) and are built recursively, so the limit also bounds uma's
// stack use.
constexpr int kMaxJsonDepth = 128;

// Whether `j` nests more than `limit` arrays/objects deep; recurses at most
// `limit` + 1 levels.
bool nested_deeper_than(const json& j, int limit) {
  if (!j.is_structured()) return false;
  if (limit == 0) return true;
  for (const json& v : j) {
    if (nested_deeper_than(v, limit - 1)) return true;
  }
  return false;
}

json parse_section(std::string_view raw, const std::string& what, const std::string& key) {
  json j;
  try {
    j = json::parse(raw);
  } catch (const json::exception& e) {
    throw std::invalid_argument("[tokenizer] malformed JSON in " + what + " section '" + key +
                                "': " + e.what());
  }
  // The section sits one level below the top-level object.
  if (nested_deeper_than(j, kMaxJsonDepth - 1)) {
    throw std::invalid_argument("[tokenizer] " + what + ": section '" + key + "' nests deeper than " +
                                std::to_string(kMaxJsonDepth) + " levels");
  }
  return j;
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
  bool have_model = false;
  std::string kbuf;
  if (sc.peek() != '{') sc.fail("a tokenizer.json must be a JSON object");
  sc.expect('{');
  if (!sc.consume('}')) {
    do {
      std::string key(sc.parse_string(kbuf));
      sc.expect(':');
      if (key == "model") {
        ms = scan_model(sc, what);
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
  try {
    parts.model = make_model(std::move(ms));
    parts.normalizer = make_normalizer(section("normalizer"));
    parts.pre_tokenizer = make_pre_tokenizer(section("pre_tokenizer"));
    parts.post_processor = make_post_processor(section("post_processor"));
    parts.decoder = make_decoder(section("decoder"));
    parts.added_tokens = parse_added_tokens(section("added_tokens"), what);
  } catch (const json::exception& e) {
    // A field of the wrong JSON type somewhere in a component.
    throw std::invalid_argument("[tokenizer] " + what + ": " + e.what());
  }
  return Tokenizer(std::move(parts));
}

Tokenizer Tokenizer::from_file(const std::filesystem::path& path) {
  // Map the file rather than copy it: it is read once, front to back.
  // Only a regular file: a FIFO or device would block or never end.
  uint64_t size64 = 0;
  int fd = io::open_regular_file(path.string(), "tokenizer", &size64);
  size_t size = static_cast<size_t>(size64);
  if (size64 > io::kMaxTextFileBytes) {
    ::close(fd);
    throw std::invalid_argument("[tokenizer] " + path.string() + " is " + std::to_string(size64) +
                                " bytes, more than the " + std::to_string(io::kMaxTextFileBytes >> 20) +
                                " MiB allowed");
  }
  if (size == 0) {
    ::close(fd);
    throw std::invalid_argument("[tokenizer] '" + path.string() + "' is empty");
  }
  void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
  ::close(fd);
  if (p == MAP_FAILED) throw std::invalid_argument("[tokenizer] cannot map '" + path.string() + "'");
  struct Unmap {
    void* p;
    size_t n;
    ~Unmap() { ::munmap(p, n); }
  } unmap{p, size};
  return from_json(std::string_view(static_cast<const char*>(p), size), path.string());
}

}  // namespace uma::text::tokenizer
