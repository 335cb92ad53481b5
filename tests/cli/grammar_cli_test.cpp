// uma generate --grammar / --json-schema on the built-in model: sampled
// answers at several seeds parse and satisfy the schema (checked by hand);
// a grammar from a file or as text; the flags' errors are one clear line.
#include <nlohmann/json.hpp>

#include "cli_util.h"

namespace uma::cli {
namespace {

using namespace testing;
using json = nlohmann::json;

const std::string kModel = std::string(UMA_SOURCE_DIR) + "/models/uma-dict";

json generate(const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"generate", "--model", kModel, "--json"};
  args.insert(args.end(), extra.begin(), extra.end());
  Result r = run_uma(args);
  EXPECT_EQ(r.rc, 0) << r.err;
  return json::parse(r.out);
}

TEST(GrammarCli, JsonSchemaAnswersParseAndValidate) {
  const std::string schema = R"({"type": "object",
    "properties": {"fortune": {"type": "string", "maxLength": 40},
                   "lucky": {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 99},
                             "minItems": 1, "maxItems": 3},
                   "mood": {"enum": ["happy", "sad", "wise"]},
                   "date": {"type": "string", "format": "date"}},
    "required": ["fortune", "lucky", "mood", "date"], "additionalProperties": false})";
  auto file = write_temp("schema.json", schema);
  for (int seed : {1, 2, 3, 4}) {
    // The schema once as a file, once as text.
    json out = generate({"--prompt", "Give me a fortune.", "--temp", "0.8", "--seed", std::to_string(seed), "-m",
                         "300", "--json-schema", seed % 2 ? file.string() : schema});
    EXPECT_EQ(out["finish_reason"], "stop") << out["text"];
    json v;
    ASSERT_NO_THROW(v = json::parse(out["text"].get<std::string>())) << out["text"];
    ASSERT_TRUE(v.is_object());
    EXPECT_EQ(v.size(), 4u) << v.dump();
    ASSERT_TRUE(v["fortune"].is_string());
    ASSERT_TRUE(v["lucky"].is_array());
    EXPECT_GE(v["lucky"].size(), 1u);
    EXPECT_LE(v["lucky"].size(), 3u);
    for (auto& n : v["lucky"]) EXPECT_TRUE(n.is_number_integer() && n.get<int>() >= 0 && n.get<int>() <= 99) << n;
    EXPECT_TRUE(v["mood"] == "happy" || v["mood"] == "sad" || v["mood"] == "wise");
    std::string d = v["date"];
    ASSERT_EQ(d.size(), 10u) << d;
    EXPECT_TRUE(d[4] == '-' && d[7] == '-') << d;
    int month = std::stoi(d.substr(5, 2)), day = std::stoi(d.substr(8, 2));
    EXPECT_TRUE(month >= 1 && month <= 12 && day >= 1 && day <= 31) << d;
  }
  std::filesystem::remove(file);
}

TEST(GrammarCli, GbnfFromAFileOrText) {
  const std::string gbnf = "root ::= answer \".\"\nanswer ::= \"yes\" | \"no\" | \"it depends\"  # a choice\n";
  auto file = write_temp("answer.gbnf", gbnf);
  for (int seed : {1, 2, 3}) {
    for (const std::string& g : {file.string(), gbnf}) {
      json out = generate({"--prompt", "Is it raining?", "--temp", "1", "--seed", std::to_string(seed), "--grammar", g});
      std::string text = out["text"];
      EXPECT_TRUE(text == "yes." || text == "no." || text == "it depends.") << text;
      EXPECT_EQ(out["finish_reason"], "stop");
    }
  }
  std::filesystem::remove(file);
}

TEST(GrammarCli, BadGrammarsAreOneLineErrors) {
  expect_one_line_error(run_uma({"generate", "--model", kModel, "--prompt", "hi", "--grammar", "root ::= x"}),
                        "--grammar: [parse_gbnf] line 1, column 10: rule 'x' is used but never defined");
  expect_one_line_error(run_uma({"generate", "--model", kModel, "--prompt", "hi", "--json-schema", "{\"type\": 3"}),
                        "--json-schema is not a JSON file or JSON text");
  expect_one_line_error(
      run_uma({"generate", "--model", kModel, "--prompt", "hi", "--json-schema", R"({"type": "string", "not": {}})"}),
      "--json-schema: [json_schema_to_grammar] at /: unsupported keyword 'not'");
  Result both = run_uma({"generate", "--model", kModel, "--prompt", "hi", "--grammar", "root ::= \"a\"",
                         "--json-schema", "{}"});
  EXPECT_NE(both.rc, 0);
  EXPECT_NE(both.err.find("excludes"), std::string::npos) << both.err;
}

}  // namespace
}  // namespace uma::cli
