#include "uma/text/tokenizer/load.h"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <stdexcept>

#include "uma/core/io/file.h"
#include "uma/core/io/gguf.h"
#include "uma/text/tokenizer/gguf_tokenizer.h"

namespace uma::text::tokenizer {

namespace fs = std::filesystem;
using nlohmann::json;

bool LoadedTokenizer::is_eos(int32_t id) const {
  return std::find(eos_ids.begin(), eos_ids.end(), id) != eos_ids.end();
}

nlohmann::ordered_json LoadedTokenizer::template_variables() const {
  nlohmann::ordered_json vars = nlohmann::ordered_json::object();
  auto put = [&](const char* name, const std::optional<SpecialToken>& t) {
    if (t) vars[name] = t->text;
  };
  put("bos_token", bos);
  put("eos_token", eos);
  put("unk_token", unk);
  put("pad_token", pad);
  return vars;
}

const ChatTemplateSource* LoadedTokenizer::chat_template(std::string_view name, bool with_tools) const {
  auto find = [&](std::string_view n) -> const ChatTemplateSource* {
    for (const auto& t : chat_templates) {
      if (t.name == n) return &t;
    }
    return nullptr;
  };
  if (!name.empty()) return find(name);
  if (with_tools) {
    if (const auto* t = find("tool_use")) return t;
  }
  if (const auto* t = find("default")) return t;
  return chat_templates.size() == 1 ? &chat_templates[0] : nullptr;
}

namespace {

// Regular files only, size-capped: a FIFO, /dev/zero or a directory in the
// folder is an error naming it, never a hang or an unbounded read.
std::string read_file(const fs::path& p) { return io::read_small_file(p.string(), "tokenizer"); }

json read_json_file(const fs::path& p) {
  std::string text = read_file(p);
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    throw std::invalid_argument("[tokenizer] malformed JSON in '" + p.string() + "': " + e.what());
  }
}

// A special token in tokenizer_config.json: a string or an AddedToken dict.
std::optional<std::string> token_text(const json& cfg, const char* key) {
  auto it = cfg.find(key);
  if (it == cfg.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) {
    return (*it)["content"].get<std::string>();
  }
  return std::nullopt;
}

bool is_gguf(const fs::path& p) {
  if (p.extension() == ".gguf") return true;
  // Sniffing the magic opens the file: only a regular one (no FIFO waits).
  int fd = io::open_regular_file(p.string(), "tokenizer");
  char magic[4] = {};
  ssize_t got = ::read(fd, magic, 4);
  ::close(fd);
  return got == 4 && std::string_view(magic, 4) == "GGUF";
}

LoadedTokenizer load_gguf(const fs::path& path) {
  auto file = io::gguf::File::open(path);
  GgufTokenizerInfo info;
  LoadedTokenizer out;
  out.source = path;
  auto tok = std::make_shared<Tokenizer>(tokenizer_from_gguf(file, &info));
  auto special = [&](std::optional<int32_t> id) -> std::optional<SpecialToken> {
    if (!id) return std::nullopt;
    return SpecialToken{tok->id_to_token(*id).value_or(""), id};
  };
  out.bos = special(info.bos_id);
  out.eos = special(info.eos_id);
  out.unk = special(info.unk_id);
  out.pad = special(info.pad_id);
  for (auto id : {info.eos_id, info.eot_id, info.eom_id}) {
    if (id && !out.is_eos(*id)) out.eos_ids.push_back(*id);
  }
  out.add_bos_token = info.add_bos && info.bos_id;
  out.add_eos_token = info.add_eos && info.eos_id;
  const std::string prefix = "tokenizer.chat_template";
  for (const auto& v : file.metadata()) {
    if (v.key() == prefix && v.type() == io::gguf::ValueType::STRING) {
      out.chat_templates.push_back({"default", std::string(v.as_string())});
    } else if (v.key().rfind(prefix + ".", 0) == 0 && v.type() == io::gguf::ValueType::STRING) {
      out.chat_templates.push_back({v.key().substr(prefix.size() + 1), std::string(v.as_string())});
    }
  }
  out.tokenizer = std::move(tok);
  return out;
}

void read_chat_templates(const fs::path& dir, const json& cfg, LoadedTokenizer& out) {
  auto it = cfg.find("chat_template");
  if (it != cfg.end() && it->is_string()) {
    out.chat_templates.push_back({"default", it->get<std::string>()});
  } else if (it != cfg.end() && it->is_array()) {
    for (const auto& t : *it) {
      if (!t.is_object() || !t.contains("name") || !t.contains("template") || !t["name"].is_string() ||
          !t["template"].is_string()) {
        throw std::invalid_argument("[tokenizer] " + (dir / "tokenizer_config.json").string() +
                                    ": chat_template list entries need \"name\" and \"template\"");
      }
      out.chat_templates.push_back({t["name"].get<std::string>(), t["template"].get<std::string>()});
    }
  }
  auto set_template = [&](const std::string& name, std::string source) {
    for (auto& t : out.chat_templates) {
      if (t.name == name) {
        t.source = std::move(source);
        return;
      }
    }
    out.chat_templates.push_back({name, std::move(source)});
  };
  // Files saved by newer transformers take precedence over the config entry.
  if (fs::exists(dir / "chat_template.json")) {
    json j = read_json_file(dir / "chat_template.json");
    if (j.contains("chat_template") && j["chat_template"].is_string()) {
      set_template("default", j["chat_template"].get<std::string>());
    }
  }
  if (fs::exists(dir / "chat_template.jinja")) set_template("default", read_file(dir / "chat_template.jinja"));
  fs::path extra = dir / "additional_chat_templates";
  if (fs::is_directory(extra)) {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(extra)) {
      if (e.path().extension() == ".jinja") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) set_template(f.stem().string(), read_file(f));
  }
}

LoadedTokenizer load_folder(const fs::path& dir) {
  fs::path tj = dir / "tokenizer.json";
  if (!fs::exists(tj)) {
    throw std::invalid_argument("[tokenizer] no tokenizer.json in '" + dir.string() + "'");
  }
  auto tok = std::make_shared<Tokenizer>(Tokenizer::from_file(tj));
  LoadedTokenizer out;
  out.source = dir;
  json cfg = fs::exists(dir / "tokenizer_config.json") ? read_json_file(dir / "tokenizer_config.json")
                                                        : json::object();
  if (!cfg.is_object()) {
    throw std::invalid_argument("[tokenizer] " + (dir / "tokenizer_config.json").string() +
                                " must hold a JSON object");
  }
  json stm = fs::exists(dir / "special_tokens_map.json") ? read_json_file(dir / "special_tokens_map.json")
                                                          : json::object();
  auto special = [&](const char* key) -> std::optional<SpecialToken> {
    auto text = token_text(cfg, key);
    if (!text && !cfg.contains(key) && stm.is_object()) text = token_text(stm, key);
    if (!text) return std::nullopt;
    return SpecialToken{*text, tok->token_to_id(*text)};
  };
  out.bos = special("bos_token");
  out.eos = special("eos_token");
  out.unk = special("unk_token");
  out.pad = special("pad_token");

  bool explicit_flags = cfg.contains("add_bos_token") || cfg.contains("add_eos_token");
  if (explicit_flags || !tok->has_post_processor()) {
    auto flag = [&](const char* key) {
      auto it = cfg.find(key);
      return it != cfg.end() && it->is_boolean() && it->get<bool>();
    };
    bool add_bos = flag("add_bos_token") && out.bos && out.bos->id;
    bool add_eos = flag("add_eos_token") && out.eos && out.eos->id;
    std::vector<int32_t> prefix, suffix;
    if (add_bos) prefix.push_back(*out.bos->id);
    if (add_eos) suffix.push_back(*out.eos->id);
    tok->set_post_processor(make_template_post_processor(prefix, suffix));
    out.add_bos_token = add_bos;
    out.add_eos_token = add_eos;
  } else {
    // Read the flags off what the post-processor does to an empty text.
    std::vector<int32_t> probe = tok->encode("", true);
    out.add_bos_token = out.bos && out.bos->id && !probe.empty() && probe.front() == *out.bos->id;
    out.add_eos_token = out.eos && out.eos->id && !probe.empty() && probe.back() == *out.eos->id;
  }

  if (out.eos && out.eos->id) out.eos_ids.push_back(*out.eos->id);
  read_chat_templates(dir, cfg, out);
  out.config = std::move(cfg);
  out.tokenizer = std::move(tok);
  return out;
}

}  // namespace

LoadedTokenizer load_tokenizer(const fs::path& path, const std::vector<int32_t>& extra_eos_ids) {
  if (!fs::exists(path)) {
    throw std::invalid_argument("[tokenizer] model path '" + path.string() + "' does not exist");
  }
  LoadedTokenizer out;
  if (fs::is_directory(path)) {
    out = load_folder(path);
  } else if (path.filename() == "tokenizer.json") {
    out = load_folder(path.has_parent_path() ? path.parent_path() : ".");
  } else if (is_gguf(path)) {
    out = load_gguf(path);
  } else {
    throw std::invalid_argument("[tokenizer] '" + path.string() +
                                "' is neither a model folder, a tokenizer.json nor a GGUF file");
  }
  for (int32_t id : extra_eos_ids) {
    if (id >= 0 && !out.is_eos(id)) out.eos_ids.push_back(id);
  }
  return out;
}

}  // namespace uma::text::tokenizer
