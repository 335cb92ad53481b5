// The formats marked by tags in the text: <think> reasoning, then the answer
// with Hermes, Llama 3 or Mistral calls in it.
#include "uma/serve/tool_calls_stream.h"

namespace uma::serve {

namespace {

constexpr std::string_view kThinkOpen = "<think>", kThinkClose = "</think>";
constexpr std::string_view kHermesOpen = "<tool_call>", kHermesClose = "</tool_call>";
constexpr std::string_view kPythonTag = "<|python_tag|>";
constexpr std::string_view kMistralCalls = "[TOOL_CALLS]", kMistralArgs = "[ARGS]";

size_t skip_space(std::string_view s, size_t at = 0) {
  while (at < s.size() && json_space(s[at])) ++at;
  return at;
}

bool name_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         c == '-' || c == '.';
}

class TaggedReader : public Reader {
 public:
  TaggedReader(ToolFormat tools, bool reasoning, bool in_reasoning)
      : tools_(tools), mode_(in_reasoning ? Mode::think : reasoning ? Mode::start : Mode::content) {}

  void read(std::string& in, bool eof, Emitter& out) override {
    while (step(in, eof, out)) {
    }
  }

 private:
  // content: the answer; call: a JSON call object (obj_ over in[0, scan_)
  // while it has no name); the rest are between and around calls.
  enum class Mode {
    start, think, content, call, hermes_close, llama_next,
    mistral_start, mistral_array, mistral_array_next, mistral_name, mistral_args, mistral_next
  };

  // One decision; false when nothing more can be decided without more text.
  bool step(std::string& in, bool eof, Emitter& out) {
    switch (mode_) {
      case Mode::start: {  // a leading <think>?
        std::string_view rest = std::string_view(in).substr(skip_space(in));
        if (rest.substr(0, kThinkOpen.size()) == kThinkOpen) {
          in.erase(0, in.size() - rest.size() + kThinkOpen.size());
          mode_ = Mode::think;
        } else if (!eof && kThinkOpen.substr(0, rest.size()) == rest) {
          return false;
        } else {
          mode_ = Mode::content;
        }
        return true;
      }
      case Mode::think: {
        auto [at, n] = find_marker(in, {kThinkClose});
        if (at != std::string::npos) {
          out.reasoning(std::string_view(in).substr(0, at));
          in.erase(0, at + n);
          mode_ = Mode::content;
          return true;
        }
        return pass(in, eof ? 0 : marker_prefix(in, {kThinkClose}), [&](auto s) { out.reasoning(s); });
      }
      case Mode::content:
        return content(in, eof, out);
      case Mode::call:
        return call(in, eof, out);
      case Mode::hermes_close: {  // what follows the object, up to </tool_call>, is dropped
        auto [at, n] = find_marker(in, {kHermesClose});
        if (at != std::string::npos) {
          in.erase(0, at + n);
          mode_ = Mode::content;
          return true;
        }
        in.erase(0, in.size() - (eof ? 0 : marker_prefix(in, {kHermesClose})));
        return false;
      }
      case Mode::llama_next:  // "; {" another call, anything else the answer
        return after_call(in, eof, out);
      case Mode::mistral_start: {  // [TOOL_CALLS] is in[0, scan_)
        size_t at = skip_space(in, scan_);
        if (at == in.size() && !eof) return false;
        if (at < in.size() && in[at] == '[') {
          scan_ = at + 1;
          mode_ = Mode::mistral_array;
        } else {
          scan_ = at;
          name_.clear();
          mode_ = Mode::mistral_name;
        }
        return true;
      }
      case Mode::mistral_array: {
        size_t at = skip_space(in, scan_);
        if (at == in.size()) return eof ? revert(in, at, out) : false;
        if (in[at] == '{') return begin_object(at);
        if (in[at] == ']') {
          in.erase(0, at + 1);
          scan_ = 0;
          mode_ = Mode::content;
          return true;
        }
        return revert(in, at, out);
      }
      case Mode::mistral_array_next: {
        size_t at = skip_space(in);
        if (at == in.size()) {
          if (eof) in.clear();
          return false;
        }
        mode_ = in[at] == ',' ? Mode::mistral_array : Mode::content;
        in.erase(0, in[at] == ',' || in[at] == ']' ? at + 1 : at);
        return true;
      }
      case Mode::mistral_name:
        return mistral_name(in, eof, out);
      case Mode::mistral_args:
        return mistral_args(in, eof, out);
      case Mode::mistral_next: {
        size_t at = skip_space(in);
        std::string_view rest = std::string_view(in).substr(at);
        if (rest.substr(0, kMistralCalls.size()) == kMistralCalls) {
          in.erase(0, at);
          scan_ = kMistralCalls.size();
          mode_ = Mode::mistral_start;
          return true;
        }
        if (!eof && kMistralCalls.substr(0, rest.size()) == rest) return false;
        in.erase(0, at);
        mode_ = Mode::content;
        return true;
      }
    }
    return false;
  }

  // Shows in[0, size - keep) with `show`; false when that is nothing.
  template <class F>
  static bool pass(std::string& in, size_t keep, F show) {
    if (in.size() == keep) return false;
    show(std::string_view(in).substr(0, in.size() - keep));
    in.erase(0, in.size() - keep);
    return true;
  }

  bool content(std::string& in, bool eof, Emitter& out) {
    if (tools_ == ToolFormat::llama3 && !out.content_started() && !answer_started_) {
      // Llama 3 writes a call as the whole answer: a leading '{' may be one.
      size_t at = skip_space(in);
      if (at == in.size() && !eof) return false;
      answer_started_ = true;
      if (at < in.size() && in[at] == '{') {
        in.erase(0, at);
        return begin_object(0);
      }
    }
    std::initializer_list<std::string_view> none = {}, hermes = {kHermesOpen}, llama = {kPythonTag},
                                            mistral = {kMistralCalls};
    auto markers = tools_ == ToolFormat::hermes    ? hermes
                   : tools_ == ToolFormat::llama3  ? llama
                   : tools_ == ToolFormat::mistral ? mistral
                                                   : none;
    auto [at, n] = find_marker(in, markers);
    if (at == std::string::npos) {
      return pass(in, eof ? 0 : marker_prefix(in, markers), [&](auto s) { out.content(s); });
    }
    out.content(std::string_view(in).substr(0, at));
    in.erase(0, at);
    answer_started_ = true;
    if (tools_ == ToolFormat::mistral) {
      scan_ = n;
      mode_ = Mode::mistral_start;
      return true;
    }
    return begin_object(n);  // the object may follow whitespace
  }

  bool begin_object(size_t at) {
    obj_ = {};
    scan_ = at;
    named_ = false;
    mode_ = Mode::call;
    return true;
  }

  // Text that looked like the start of a call but is not: in[0, at) is the answer's.
  bool revert(std::string& in, size_t at, Emitter& out) {
    out.content(std::string_view(in).substr(0, at));
    in.erase(0, at);
    scan_ = 0;
    answer_started_ = true;
    mode_ = Mode::content;
    return true;
  }

  bool call(std::string& in, bool eof, Emitter& out) {
    for (; scan_ < in.size(); ++scan_) {
      auto s = obj_.push(in[scan_]);
      if (s == CallScanner::Step::fail || (s == CallScanner::Step::done && !obj_.named())) break;
      if (!named_ && obj_.named()) {
        named_ = true;
        out.begin_call(obj_.name());
      }
      if (named_) out.arguments(obj_.take_arguments());
      if (s == CallScanner::Step::done) {
        out.end_call();
        in.erase(0, scan_ + 1);
        scan_ = 0;
        mode_ = tools_ == ToolFormat::hermes    ? Mode::hermes_close
                : tools_ == ToolFormat::llama3 ? Mode::llama_next
                                                : Mode::mistral_array_next;
        return true;
      }
    }
    if (scan_ == in.size() && !eof) {
      if (named_) {  // shown already: no need to keep it
        in.clear();
        scan_ = 0;
      }
      return false;
    }
    // Not a call object, or the output ended inside one.
    if (!named_) return revert(in, scan_, out);
    out.end_call();
    in.erase(0, scan_);
    scan_ = 0;
    mode_ = tools_ == ToolFormat::hermes ? Mode::hermes_close : Mode::content;
    return true;
  }

  bool after_call(std::string& in, bool eof, Emitter& out) {
    size_t at = skip_space(in);
    if (at == in.size()) {
      if (!eof) in.clear();
      return false;
    }
    if (in[at] != ';') {
      in.erase(0, at);
      mode_ = Mode::content;
      return true;
    }
    size_t next = skip_space(in, at + 1);
    if (next == in.size() && !eof) return false;
    if (next < in.size() && in[next] == '{') {
      in.erase(0, next);
      return begin_object(0);
    }
    return revert(in, next, out);
  }

  bool mistral_name(std::string& in, bool eof, Emitter& out) {
    for (; scan_ < in.size(); ++scan_) {
      std::string_view rest = std::string_view(in).substr(scan_);
      if (rest.substr(0, kMistralArgs.size()) == kMistralArgs) {
        if (name_.empty()) return revert(in, scan_, out);
        out.begin_call(name_);
        in.erase(0, scan_ + kMistralArgs.size());
        scan_ = 0;
        value_ = {};
        mode_ = Mode::mistral_args;
        return true;
      }
      if (kMistralArgs.substr(0, rest.size()) == rest && !eof) return false;
      if (!name_char(in[scan_]) || name_.size() >= 128) return revert(in, scan_, out);
      name_ += in[scan_];
    }
    return eof ? revert(in, scan_, out) : false;
  }

  bool mistral_args(std::string& in, bool eof, Emitter& out) {
    size_t at = value_.started() ? 0 : skip_space(in);
    bool ended = false;
    std::string shown;
    for (; at < in.size() && !ended; ++at) {
      auto s = value_.push(in[at]);
      if (s == ValueScanner::Step::fail || s == ValueScanner::Step::ended_before) {
        ended = true;
        break;  // in[at] is not the value's
      }
      (value_.is_string() ? raw_ : shown) += in[at];
      ended = s == ValueScanner::Step::done;
    }
    out.arguments(shown);
    in.erase(0, at);
    if (!ended && !eof) return false;
    if (value_.is_string()) {
      try {
        out.arguments(nlohmann::json::parse(raw_).get<std::string>());
      } catch (const nlohmann::json::exception&) {
        out.arguments(raw_);
      }
    }
    raw_.clear();
    out.end_call();
    mode_ = Mode::mistral_next;
    return true;
  }

  ToolFormat tools_;
  Mode mode_;
  bool answer_started_ = false;  // Llama 3: past where a leading call could start
  size_t scan_ = 0;
  CallScanner obj_;
  bool named_ = false;
  ValueScanner value_;
  std::string name_, raw_;
};

}  // namespace

std::unique_ptr<Reader> make_tagged_reader(ToolFormat tools, bool reasoning, bool in_reasoning) {
  return std::make_unique<TaggedReader>(tools, reasoning, in_reasoning);
}

}  // namespace uma::serve
