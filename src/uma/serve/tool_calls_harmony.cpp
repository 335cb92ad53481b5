// gpt-oss's harmony format, after the prompt's "<|start|>assistant": messages
// of a header (the channel, a recipient "to=functions.NAME", a content type)
// and a body, <|message|> between them, ended by <|end|>, <|call|> or
// <|return|> (the last two end the generation, so they are seldom seen):
//
//   <|channel|>analysis<|message|>...<|end|>                reasoning
//   <|start|>assistant<|channel|>final<|message|>...        content
//   <|channel|>commentary to=functions.f <|constrain|>json<|message|>{...}   a call to f
//   <|start|>assistant to=functions.f<|channel|>commentary json<|message|>{...}
//
// commentary without a recipient (a preamble) is content too.
#include <algorithm>

#include "uma/serve/tool_calls_stream.h"

namespace uma::serve {

namespace {

constexpr std::string_view kMessage = "<|message|>", kChannel = "<|channel|>", kStart = "<|start|>";
constexpr std::string_view kEnd = "<|end|>", kReturn = "<|return|>", kCall = "<|call|>";
constexpr size_t kMaxHeader = 256;

// The word after `key` in a header, up to a space or the next marker.
std::string header_word(std::string_view header, std::string_view key) {
  size_t at = header.find(key);
  if (at == std::string_view::npos) return "";
  header.remove_prefix(at + key.size());
  size_t end = 0;
  while (end < header.size() && !json_space(header[end]) && header[end] != '<') ++end;
  return std::string(header.substr(0, end));
}

class HarmonyReader : public Reader {
 public:
  explicit HarmonyReader(bool tools) : tools_(tools) {}

  void read(std::string& in, bool eof, Emitter& out) override {
    while (in_body_ ? body(in, eof, out) : header(in, eof, out)) {
    }
  }

 private:
  enum class Kind { content, reasoning, call };

  bool header(std::string& in, bool eof, Emitter& out) {
    if (!in_header_) {
      // A header starts with a marker or a recipient; other text is loose
      // content (a model that does not write harmony).
      if (in.empty()) return false;
      bool starts = false, maybe = false;
      for (std::string_view s : {"<|", "to=", " to="}) {
        starts = starts || in.compare(0, s.size(), s) == 0;
        maybe = maybe || (in.size() < s.size() && s.substr(0, in.size()) == in);
      }
      if (!starts && maybe && !eof) return false;
      if (!starts) return open(Kind::content);
      in_header_ = true;
    }
    size_t at = in.find(kMessage);
    // Where <|message|> starts, or could still start.
    size_t end = at != std::string::npos ? at : in.size() - marker_prefix(in, {kMessage});
    size_t line = in.find('\n');
    if (line < end || end > kMaxHeader) {
      // Not a header after all: text of the answer.
      size_t bad = std::min(line, kMaxHeader);
      out.content(std::string_view(in).substr(0, bad));
      in.erase(0, bad);
      return open(Kind::content);
    }
    if (at == std::string::npos) {
      if (eof) {
        // An unfinished header is dropped; loose text is content.
        if (in.find("<|") == std::string::npos) out.content(in);
        in.clear();
      }
      return false;
    }
    std::string_view h = std::string_view(in).substr(0, at);
    std::string to = header_word(h, "to="), channel = header_word(h, kChannel);
    if (!to.empty() && to != "assistant" && tools_) {
      if (to.rfind("functions.", 0) == 0) to.erase(0, 10);
      out.begin_call(to);
      kind_ = Kind::call;
    } else {
      kind_ = channel == "analysis" ? Kind::reasoning : Kind::content;
    }
    in.erase(0, at + kMessage.size());
    in_header_ = false;
    in_body_ = true;
    out.gap();
    return true;
  }

  // Loose text: the answer's, going on without a break.
  bool open(Kind k) {
    in_header_ = false;
    in_body_ = true;
    kind_ = k;
    return true;
  }

  bool body(std::string& in, bool eof, Emitter& out) {
    auto markers = {kEnd, kReturn, kCall, kStart, kChannel};
    auto [at, n] = find_marker(in, markers);
    size_t shown = at != std::string::npos ? at : in.size() - (eof ? 0 : marker_prefix(in, markers));
    std::string_view s = std::string_view(in).substr(0, shown);
    if (kind_ == Kind::call) {
      out.arguments(s);
    } else if (kind_ == Kind::reasoning) {
      out.reasoning(s);
    } else {
      out.content(s);
    }
    in.erase(0, shown);
    if (at == std::string::npos) return false;
    // <|start|> and <|channel|> begin the next header; the others end this message.
    if (in.compare(0, kStart.size(), kStart) != 0 && in.compare(0, kChannel.size(), kChannel) != 0) {
      in.erase(0, n);
    }
    if (kind_ == Kind::call) out.end_call();
    in_body_ = false;
    return true;
  }

  bool tools_;
  bool in_header_ = false, in_body_ = false;
  Kind kind_ = Kind::content;
};

}  // namespace

std::unique_ptr<Reader> make_harmony_reader(bool tools) { return std::make_unique<HarmonyReader>(tools); }

}  // namespace uma::serve
