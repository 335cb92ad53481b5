// Recursive-descent parser mirroring Jinja2's parser.py: same grammar, same
// precedence, same error messages (with a column added to the line).
#pragma once

#include <string>

#include "uma/text/jinja/ast.h"

namespace uma::text::jinja {

// Throws JinjaError("TemplateSyntaxError" or "TemplateAssertionError").
Body parse_template(const std::string& source);

}  // namespace uma::text::jinja
