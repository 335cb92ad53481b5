// JSON Schema -> GBNF (objects keep their properties' declared order, so the
// schema is an ordered_json), for structured output (OpenAI's response_format,
// llama.cpp's --json-schema). Every document the grammar allows parses as
// JSON and validates against the schema; a keyword that cannot be enforced
// is an error, not silently dropped.
//
// Covered: type (one or a list, "null" included; nullable: true), object
// (properties in their declared order, required, additionalProperties true /
// false / a schema), array (items, prefixItems, minItems, maxItems), string
// (minLength, maxLength, pattern as a regular expression of literals, classes,
// groups, alternation and quantifiers, format date / time / date-time /
// uuid; other formats are annotations and ignored), integer (minimum,
// maximum, exclusive bounds, exactly), number (whole-number bounds >= 0),
// boolean, null, enum, const, anyOf / oneOf (as alternatives), allOf of
// object schemas (merged), $ref to local pointers (#/$defs/..,
// #/definitions/.., recursive refs too), and the annotations (title,
// description, default, examples, $schema, $id, $comment, ...).
//
// Whitespace between tokens is optional and bounded (a space, or a newline
// and up to 20 spaces or tabs), so a model cannot pad forever.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace uma::text::grammar {

struct JsonSchemaOptions {
  // OpenAI strict mode: objects without additionalProperties allow no other
  // keys (otherwise, as JSON Schema says, any other key may appear).
  bool strict = false;
  int max_depth = 64;  // nesting of subschemas (not counting $ref)
};

// GBNF whose root matches the documents `schema` allows. Throws
// std::invalid_argument "[json_schema_to_grammar] at /path: ..." naming the
// keyword for unsupported keywords, malformed values and unresolvable $refs.
std::string json_schema_to_grammar(const nlohmann::ordered_json& schema, const JsonSchemaOptions& options = {});

// GBNF of any JSON object (response_format {"type": "json_object"}).
std::string json_object_grammar();

}  // namespace uma::text::grammar
