// Python's text formatting: float repr, str repr, `%` formatting and the
// format-spec mini-language used by str.format.
#pragma once

#include <string>
#include <string_view>

#include "uma/text/jinja/value.h"

namespace uma::text::jinja {

std::string float_repr(double x);           // repr(float): shortest round-trip
std::string str_repr(std::string_view s);   // repr(str) with Python's quoting
std::string int_to_string(int64_t i);
// markupsafe's escape: & < > " ' become entities.
std::string html_escape(std::string_view s);
// escape(v): a Markup value; Markup input comes back unchanged.
Value escape_value(const Value& v);
// `fmt % args` for str (printf-style); args is a tuple, a dict or one value.
// With escape_args (Markup % args), %s and %r results are HTML-escaped.
std::string percent_format(const std::string& fmt, const Value& args, bool escape_args = false);
// format(value, spec) for str, int, float and bool.
std::string format_with_spec(const Value& v, std::string_view spec);

}  // namespace uma::text::jinja
