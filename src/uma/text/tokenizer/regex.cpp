#include "uma/text/tokenizer/regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <stdexcept>

#include "uma/text/tokenizer/unicode.h"

namespace uma::text::tokenizer {

namespace {

std::string pcre2_message(int code) {
  PCRE2_UCHAR buf[256];
  pcre2_get_error_message(code, buf, sizeof(buf));
  return reinterpret_cast<const char*>(buf);
}

// Per-thread match state: match data for the whole-match offsets and a JIT
// stack large enough for long runs of letters or spaces.
struct MatchState {
  pcre2_match_data* data = nullptr;
  pcre2_match_context* context = nullptr;
  pcre2_jit_stack* stack = nullptr;
  MatchState() {
    data = pcre2_match_data_create(1, nullptr);
    context = pcre2_match_context_create(nullptr);
    stack = pcre2_jit_stack_create(64 * 1024, 8 * 1024 * 1024, nullptr);
    pcre2_jit_stack_assign(context, nullptr, stack);
  }
  ~MatchState() {
    pcre2_jit_stack_free(stack);
    pcre2_match_context_free(context);
    pcre2_match_data_free(data);
  }
};

MatchState& match_state() {
  thread_local MatchState state;
  return state;
}

}  // namespace

Regex::Regex(std::string_view pattern) : pattern_(pattern) {
  int err = 0;
  PCRE2_SIZE offset = 0;
  auto* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                             PCRE2_UTF | PCRE2_UCP, &err, &offset, nullptr);
  if (code == nullptr) {
    throw std::invalid_argument("[tokenizer] invalid regex '" + std::string(pattern) +
                                "' at offset " + std::to_string(offset) + ": " +
                                pcre2_message(err));
  }
  code_ = code;
  jit_ = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
}

Regex::~Regex() { pcre2_code_free(static_cast<pcre2_code*>(code_)); }

bool Regex::search(std::string_view text, size_t start, size_t* match_begin,
                   size_t* match_end) const {
  auto& st = match_state();
  auto* code = static_cast<pcre2_code*>(code_);
  auto subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  int rc = jit_ ? pcre2_jit_match(code, subject, text.size(), start, PCRE2_NO_UTF_CHECK, st.data,
                                  st.context)
                : pcre2_match(code, subject, text.size(), start, PCRE2_NO_UTF_CHECK, st.data,
                              st.context);
  if (rc == PCRE2_ERROR_JIT_STACKLIMIT) {
    // Fall back to the interpreter, which keeps its backtracking on the heap.
    rc = pcre2_match(code, subject, text.size(), start, PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT,
                     st.data, nullptr);
  }
  if (rc == PCRE2_ERROR_NOMATCH) return false;
  if (rc < 0) {
    // A pattern from an untrusted tokenizer.json may backtrack past PCRE2's
    // match limit on some text: bad input, like any other.
    throw std::invalid_argument("[tokenizer] regex '" + pattern_ + "' failed: " + pcre2_message(rc));
  }
  PCRE2_SIZE* ov = pcre2_get_ovector_pointer(st.data);
  *match_begin = ov[0];
  *match_end = ov[1];
  return true;
}

void Regex::find_matches(std::string_view text, std::vector<Span>& out) const {
  if (text.empty()) {
    out.push_back({0, 0, false});
    return;
  }
  size_t prev = 0, last_end = 0;
  bool have_last = false;
  size_t last_match_end = 0;
  while (last_end <= text.size()) {
    size_t s, e;
    if (!search(text, last_end, &s, &e)) break;
    if (s == e) {
      // Empty match: resume one character later; drop it when it touches the
      // previous match (find_iter semantics of the `onig` crate).
      last_end = e < text.size() ? e + unicode::utf8_len(static_cast<unsigned char>(text[e]))
                                 : e + 1;
      if (have_last && last_match_end == e) continue;
    } else {
      last_end = e;
    }
    have_last = true;
    last_match_end = e;
    if (prev != s) out.push_back({prev, s, false});
    out.push_back({s, e, true});
    prev = e;
  }
  if (prev != text.size()) out.push_back({prev, text.size(), false});
}

std::string Regex::escape(std::string_view literal) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(literal.size() * 2);
  for (char ch : literal) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7F) {
      out += "\\x{";
      out += hex[c >> 4];
      out += hex[c & 15];
      out += '}';
    } else if (c < 0x80 && !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                             (c >= 'A' && c <= 'Z'))) {
      out += '\\';
      out += ch;
    } else {
      out += ch;
    }
  }
  return out;
}

}  // namespace uma::text::tokenizer
