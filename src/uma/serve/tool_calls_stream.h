// The pieces of serve::OutputParser (tool_calls.h): where parsed output goes
// (Emitter), the readers of each family's format, and the JSON scanners that
// find where a call's object and its arguments end while they are written.
#pragma once

#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

#include "uma/serve/tool_calls.h"

namespace uma::serve {

// Text shown with its leading and trailing whitespace trimmed while it
// arrives in pieces: trailing whitespace waits until more text follows.
class TrimmedText {
 public:
  // What of `s` can be shown now.
  std::string add(std::string_view s);
  // A new message follows: its text, if any, starts a new paragraph.
  void gap() {
    if (started_) held_ = "\n\n";
  }
  bool started() const { return started_; }

 private:
  bool started_ = false;
  std::string held_;
};

// The parsed message so far and the delta since the last take().
class Emitter {
 public:
  explicit Emitter(std::string salt) : salt_(std::move(salt)) {}
  void content(std::string_view s);
  void reasoning(std::string_view s);
  void gap() {
    content_.gap();
    reasoning_.gap();
  }
  bool content_started() const { return content_.started(); }
  void begin_call(const std::string& name);
  void arguments(std::string_view s);
  // Ends the open call, if any; "{}" when no arguments came.
  void end_call();
  bool in_call() const { return in_call_; }
  OutputDelta take();
  const ParsedOutput& message() const { return msg_; }

 private:
  std::string salt_;
  ParsedOutput msg_;
  OutputDelta delta_;
  TrimmedText content_, reasoning_, args_;
  bool in_call_ = false, args_seen_ = false;
};

// One family's format. read() consumes from the front of `in` what it can
// decide and leaves the rest (a possible marker start, a call not yet
// named) for the next piece; with eof, it decides everything.
class Reader {
 public:
  virtual ~Reader() = default;
  virtual void read(std::string& in, bool eof, Emitter& out) = 0;
};

std::unique_ptr<Reader> make_tagged_reader(ToolFormat tools, bool reasoning, bool in_reasoning);
std::unique_ptr<Reader> make_harmony_reader(bool tools);

// Where the first of `markers` starts in `s` (npos: none) and its length.
std::pair<size_t, size_t> find_marker(std::string_view s, std::initializer_list<std::string_view> markers);
// The length of the longest end of `s` that begins one of `markers`: it
// must wait for the next piece.
size_t marker_prefix(std::string_view s, std::initializer_list<std::string_view> markers);
bool json_space(char c);

// One JSON value read character by character: where it ends. Strings,
// escapes and bracket depth are followed; the rest is not validated.
class ValueScanner {
 public:
  enum class Step { more, done, ended_before, fail };  // ended_before: a number or literal ended at c
  Step push(char c);
  bool started() const { return started_; }
  bool is_string() const { return string_; }

 private:
  int depth_ = 0;
  bool started_ = false, string_ = false, literal_ = false, in_string_ = false, escape_ = false;
};

// One {"name": "...", "arguments" | "parameters": ...} object read
// character by character: the name once it is complete, the arguments'
// text as it comes (a JSON string's value once the string ends). Other
// keys are skipped.
class CallScanner {
 public:
  enum class Step { more, done, fail };
  Step push(char c);
  bool named() const { return named_; }
  const std::string& name() const { return name_; }
  // The arguments' text since the last take.
  std::string take_arguments() { return std::exchange(args_, {}); }

 private:
  enum class State { open, key_or_end, key, colon, value, after_value };
  enum class Target { other, name, args };
  void end_value();
  State state_ = State::open;
  Target target_ = Target::other;
  ValueScanner value_;
  bool first_key_ = true, named_ = false, ok_ = true;
  std::string key_, raw_, name_, args_;
};

}  // namespace uma::serve
