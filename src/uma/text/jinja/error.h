// Internal error type of the Jinja engine. Carries the Python exception class
// name Jinja2 would raise (TypeError, UndefinedError, SecurityError, ...) so
// that messages read like transformers' own, plus the template position.
#pragma once

#include <exception>
#include <string>

namespace uma::text::jinja {

class JinjaError : public std::exception {
 public:
  JinjaError(std::string kind, std::string message, int line = 0, int column = 0)
      : kind_(std::move(kind)), message_(std::move(message)), line_(line), column_(column) {
    text_ = kind_ + ": " + message_;
  }
  const char* what() const noexcept override { return text_.c_str(); }
  const std::string& kind() const { return kind_; }
  const std::string& message() const { return message_; }
  int line() const { return line_; }
  int column() const { return column_; }
  // Sets the position once: the innermost node that saw the error wins.
  void locate(int line, int column) {
    if (line_ == 0) {
      line_ = line;
      column_ = column;
    }
  }

 private:
  std::string kind_, message_, text_;
  int line_, column_;
};

[[noreturn]] inline void throw_error(const char* kind, std::string message) {
  throw JinjaError(kind, std::move(message));
}
[[noreturn]] inline void type_error(std::string message) { throw_error("TypeError", std::move(message)); }
[[noreturn]] inline void value_error(std::string message) { throw_error("ValueError", std::move(message)); }
[[noreturn]] inline void runtime_error(std::string message) {
  throw_error("TemplateRuntimeError", std::move(message));
}

}  // namespace uma::text::jinja
