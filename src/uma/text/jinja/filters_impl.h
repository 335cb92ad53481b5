// Shared plumbing of the filter implementations (not a public header).
#pragma once

#include <string_view>
#include <unordered_map>

#include "uma/text/jinja/builtins.h"

namespace uma::text::jinja {

using FilterFn = Value (*)(Interpreter&, const Value&, CallArgs&);
using FilterTable = std::unordered_map<std::string_view, FilterFn>;

void add_text_filters(FilterTable& t);
void add_sequence_filters(FilterTable& t);

// Jinja's make_attrgetter: "a.b.0" looked up item by item with getitem.
std::vector<Value> attribute_parts(const Value& attribute);
Value get_attribute(Interpreter& in, Value item, const std::vector<Value>& parts);

}  // namespace uma::text::jinja
