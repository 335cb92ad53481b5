#include <algorithm>
#include <optional>
#include <utility>

#include "uma/serve/tool_calls_stream.h"

namespace uma::serve {

bool json_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::pair<size_t, size_t> find_marker(std::string_view s, std::initializer_list<std::string_view> markers) {
  std::pair<size_t, size_t> best{std::string_view::npos, 0};
  for (auto m : markers) {
    size_t at = s.find(m);
    if (at < best.first) best = {at, m.size()};
  }
  return best;
}

size_t marker_prefix(std::string_view s, std::initializer_list<std::string_view> markers) {
  size_t hold = 0;
  for (auto m : markers) {
    for (size_t n = std::min(m.size() - 1, s.size()); n > hold; --n) {
      if (s.substr(s.size() - n) == m.substr(0, n)) {
        hold = n;
        break;
      }
    }
  }
  return hold;
}

namespace {
bool literal_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' ||
         c == '+' || c == '-';
}

// A complete JSON string's value; nullopt when its escapes are broken.
std::optional<std::string> string_value(const std::string& raw) {
  try {
    auto j = nlohmann::json::parse(raw);
    if (j.is_string()) return j.get<std::string>();
  } catch (const nlohmann::json::exception&) {
  }
  return std::nullopt;
}
}  // namespace

ValueScanner::Step ValueScanner::push(char c) {
  if (!started_) {
    started_ = true;
    if (c == '{' || c == '[') {
      depth_ = 1;
      return Step::more;
    }
    if (c == '"') {
      string_ = in_string_ = true;
      return Step::more;
    }
    if (literal_char(c)) {
      literal_ = true;
      return Step::more;
    }
    return Step::fail;
  }
  if (literal_) return literal_char(c) ? Step::more : Step::ended_before;
  if (in_string_) {
    if (escape_) {
      escape_ = false;
    } else if (c == '\\') {
      escape_ = true;
    } else if (c == '"') {
      in_string_ = false;
      if (string_) return Step::done;
    }
    return Step::more;
  }
  if (c == '"') {
    in_string_ = true;
  } else if (c == '{' || c == '[') {
    ++depth_;
  } else if (c == '}' || c == ']') {
    if (--depth_ == 0) return Step::done;
  }
  return Step::more;
}

CallScanner::Step CallScanner::push(char c) {
  switch (state_) {
    case State::open:
      if (json_space(c)) return Step::more;
      if (c != '{') return Step::fail;
      state_ = State::key_or_end;
      return Step::more;
    case State::key_or_end:
      if (json_space(c)) return Step::more;
      if (c == '}' && first_key_) return Step::done;  // {}: no name, the caller's failure
      if (c != '"') return Step::fail;
      value_ = {};
      value_.push(c);
      key_ = "\"";
      state_ = State::key;
      return Step::more;
    case State::key:
      key_ += c;
      if (value_.push(c) == ValueScanner::Step::done) {
        auto k = string_value(key_);
        if (!k) return Step::fail;
        target_ = *k == "name" && !named_                ? Target::name
                  : *k == "arguments" || *k == "parameters" ? Target::args
                                                            : Target::other;
        state_ = State::colon;
      }
      return Step::more;
    case State::colon:
      if (json_space(c)) return Step::more;
      if (c != ':') return Step::fail;
      value_ = {};
      raw_.clear();
      state_ = State::value;
      return Step::more;
    case State::value: {
      if (!value_.started() && json_space(c)) return Step::more;
      auto s = value_.push(c);
      if (s == ValueScanner::Step::fail) return Step::fail;
      if (target_ == Target::name && !value_.is_string()) return Step::fail;
      if (s == ValueScanner::Step::ended_before) {
        end_value();
        return ok_ ? push(c) : Step::fail;
      }
      // Arguments stream as written, except a string's, which is decoded whole.
      if (target_ == Target::args && !value_.is_string()) {
        args_ += c;
      } else if (target_ != Target::other) {
        raw_ += c;
      }
      if (s == ValueScanner::Step::done) end_value();
      return ok_ ? Step::more : Step::fail;
    }
    case State::after_value:
      if (json_space(c)) return Step::more;
      if (c == '}') return Step::done;
      if (c != ',') return Step::fail;
      first_key_ = false;
      state_ = State::key_or_end;
      return Step::more;
  }
  return Step::fail;
}

void CallScanner::end_value() {
  state_ = State::after_value;
  if (target_ == Target::name) {
    auto n = string_value(raw_);
    ok_ = n && !n->empty();
    if (ok_) {
      name_ = *n;
      named_ = true;
    }
  } else if (target_ == Target::args && value_.is_string()) {
    auto v = string_value(raw_);
    args_ += v ? *v : raw_;
  }
}

}  // namespace uma::serve
