#include "uma/text/tokenizer/post_processor.h"

#include <map>

#include "uma/text/tokenizer/json_util.h"

namespace uma::text::tokenizer {

namespace {

using json_util::json;

// A template is a list of pieces; -1 stands for the sequence.
class TemplateProcessor : public PostProcessor {
 public:
  explicit TemplateProcessor(std::vector<std::vector<int32_t>> pieces) : pieces_(std::move(pieces)) {}
  void process(std::vector<int32_t>& ids, bool add_special) const override {
    if (!add_special) return;
    thread_local std::vector<int32_t> out;
    out.clear();
    for (const auto& p : pieces_) {
      if (p.size() == 1 && p[0] == kSequence) {
        out.insert(out.end(), ids.begin(), ids.end());
      } else {
        out.insert(out.end(), p.begin(), p.end());
      }
    }
    ids.swap(out);
  }
  static constexpr int32_t kSequence = -1;

 private:
  std::vector<std::vector<int32_t>> pieces_;
};

class NoOpProcessor : public PostProcessor {
 public:
  void process(std::vector<int32_t>&, bool) const override {}
};

class SequenceProcessor : public PostProcessor {
 public:
  explicit SequenceProcessor(std::vector<PostProcessorPtr> items) : items_(std::move(items)) {}
  void process(std::vector<int32_t>& ids, bool add_special) const override {
    for (const auto& p : items_) p->process(ids, add_special);
  }

 private:
  std::vector<PostProcessorPtr> items_;
};

int32_t pair_id(const json& j, const char* key, const char* component) {
  const json& v = json_util::require(j, key, component);
  if (!v.is_array() || v.size() != 2 || !v[1].is_number_integer()) {
    throw std::invalid_argument(std::string("[tokenizer] ") + component + " field '" + key +
                                "' must be [token, id]");
  }
  return v[1].get<int32_t>();
}

// "$A", "$B:1", "$0", "[CLS]", "[SEP]:1" -> sequence name or special token name.
struct PieceRef {
  bool sequence;
  std::string name;  // "A"/"B" for sequences, token for special tokens
};

PieceRef parse_piece_string(const std::string& s) {
  std::string base = s;
  auto colon = s.rfind(':');
  if (colon != std::string::npos && colon + 1 < s.size() &&
      s.find_first_not_of("0123456789", colon + 1) == std::string::npos) {
    base = s.substr(0, colon);
  }
  if (!base.empty() && base[0] == '$') {
    std::string rest = base.substr(1);
    if (rest.empty() || rest == "A" || rest == "a") return {true, "A"};
    if (rest == "B" || rest == "b") return {true, "B"};
    if (rest.find_first_not_of("0123456789") == std::string::npos) return {true, "A"};
    throw std::invalid_argument("[tokenizer] bad TemplateProcessing piece '" + s + "'");
  }
  return {false, base};
}

PieceRef parse_piece(const json& p) {
  if (p.is_string()) return parse_piece_string(p.get<std::string>());
  if (p.is_object() && p.contains("Sequence")) {
    return {true, json_util::get_string(p["Sequence"], "id", "A")};
  }
  if (p.is_object() && p.contains("SpecialToken")) {
    return {false, json_util::require(p["SpecialToken"], "id", "TemplateProcessing piece").get<std::string>()};
  }
  throw std::invalid_argument("[tokenizer] bad TemplateProcessing piece " + p.dump());
}

PostProcessorPtr make_template(const json& j) {
  std::map<std::string, std::vector<int32_t>> specials;
  auto st = j.find("special_tokens");
  if (st != j.end() && st->is_object()) {
    for (auto it = st->begin(); it != st->end(); ++it) {
      specials[it.key()] = json_util::require(it.value(), "ids", "TemplateProcessing special token")
                               .get<std::vector<int32_t>>();
    }
  }
  const json& single = json_util::require(j, "single", "TemplateProcessing");
  std::vector<json> items;
  if (single.is_string()) {
    std::string s = single.get<std::string>();
    size_t i = 0;
    while (i < s.size()) {
      size_t k = s.find(' ', i);
      if (k == std::string::npos) k = s.size();
      if (k > i) items.emplace_back(s.substr(i, k - i));
      i = k + 1;
    }
  } else if (single.is_array()) {
    items.assign(single.begin(), single.end());
  } else {
    throw std::invalid_argument("[tokenizer] TemplateProcessing 'single' must be a list or a string");
  }
  std::vector<std::vector<int32_t>> pieces;
  for (const auto& item : items) {
    PieceRef ref = parse_piece(item);
    if (ref.sequence) {
      if (ref.name != "A") {
        throw std::invalid_argument("[tokenizer] TemplateProcessing single template uses sequence $" + ref.name);
      }
      pieces.push_back({TemplateProcessor::kSequence});
    } else {
      auto it = specials.find(ref.name);
      if (it == specials.end()) {
        throw std::invalid_argument("[tokenizer] TemplateProcessing special token '" + ref.name +
                                    "' is missing from special_tokens");
      }
      pieces.push_back(it->second);
    }
  }
  return std::make_unique<TemplateProcessor>(std::move(pieces));
}

}  // namespace

PostProcessorPtr make_template_post_processor(std::vector<int32_t> prefix,
                                              std::vector<int32_t> suffix) {
  std::vector<std::vector<int32_t>> pieces;
  for (int32_t id : prefix) pieces.push_back({id});
  pieces.push_back({TemplateProcessor::kSequence});
  for (int32_t id : suffix) pieces.push_back({id});
  return std::make_unique<TemplateProcessor>(std::move(pieces));
}

PostProcessorPtr make_post_processor(const json& j) {
  if (j.is_null()) return nullptr;
  std::string type = json_util::type_of(j, "post-processor");
  if (type == "TemplateProcessing") return make_template(j);
  if (type == "ByteLevel") return std::make_unique<NoOpProcessor>();
  if (type == "BertProcessing" || type == "RobertaProcessing") {
    const char* name = type == "BertProcessing" ? "BertProcessing" : "RobertaProcessing";
    int32_t cls = pair_id(j, "cls", name), sep = pair_id(j, "sep", name);
    return make_template_post_processor({cls}, {sep});
  }
  if (type == "Sequence") {
    std::vector<PostProcessorPtr> items;
    for (const auto& sub : json_util::require(j, "processors", "Sequence post-processor")) {
      if (auto p = make_post_processor(sub)) items.push_back(std::move(p));
    }
    return std::make_unique<SequenceProcessor>(std::move(items));
  }
  json_util::unknown_type("post-processor", type);
}

}  // namespace uma::text::tokenizer
