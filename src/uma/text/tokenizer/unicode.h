// UTF-8 and Unicode helpers for the tokenizers: decoding, lossy repair with
// Rust's `String::from_utf8_lossy` semantics, character classes with the
// definitions Hugging Face `tokenizers` uses (Rust `char` methods), Unicode
// normalization (through utf8proc) and the GPT-2 byte-to-unicode table.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace uma::text::tokenizer::unicode {

inline constexpr uint32_t kReplacementChar = 0xFFFD;

// Length of the UTF-8 sequence that starts with `lead` (1 for a stray byte).
inline int utf8_len(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 1;
}

// Decodes the code point at s[i]; the text must be valid UTF-8. Sets *len.
inline uint32_t decode(std::string_view s, size_t i, int* len) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data()) + i;
  unsigned char c = p[0];
  if (c < 0x80) { *len = 1; return c; }
  if ((c & 0xE0) == 0xC0) { *len = 2; return ((c & 0x1Fu) << 6) | (p[1] & 0x3Fu); }
  if ((c & 0xF0) == 0xE0) {
    *len = 3;
    return ((c & 0x0Fu) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu);
  }
  *len = 4;
  return ((c & 0x07u) << 18) | ((p[1] & 0x3Fu) << 12) | ((p[2] & 0x3Fu) << 6) | (p[3] & 0x3Fu);
}

// Code point that ends just before s[end] (valid UTF-8). Sets *len.
uint32_t decode_last(std::string_view s, size_t end, int* len);

void append_utf8(std::string& out, uint32_t cp);
inline std::string to_utf8(uint32_t cp) {
  std::string s;
  append_utf8(s, cp);
  return s;
}

// Number of code points of valid UTF-8 text.
size_t count_chars(std::string_view s);

bool is_valid_utf8(std::string_view s);
// Appends `bytes`, replacing each maximal invalid subpart by U+FFFD exactly
// as Rust's `String::from_utf8_lossy` does.
void append_lossy(std::string& out, std::string_view bytes);
inline std::string to_valid_utf8(std::string_view bytes) {
  std::string out;
  append_lossy(out, bytes);
  return out;
}

// --- character classes (Rust / Hugging Face definitions) -------------------
bool is_white_space(uint32_t cp);    // Unicode White_Space (Rust char::is_whitespace)
bool is_letter(uint32_t cp);         // general category L*
bool is_numeric(uint32_t cp);        // N* (Rust char::is_numeric)
bool is_punctuation(uint32_t cp);    // P* (unicode_categories is_punctuation)
bool is_other(uint32_t cp);          // C* incl. unassigned (unicode_categories is_other)
bool is_mark(uint32_t cp);           // M* (unicode-normalization is_combining_mark)
bool is_mark_nonspacing(uint32_t cp);// Mn
bool is_ascii_punctuation(uint32_t cp);
// Rust regex `\w` (Unicode): Alphabetic, M, Nd, Pc, Join_Control.
bool is_word_char(uint32_t cp);

// --- normalization ---------------------------------------------------------
enum class NormForm { NFC, NFD, NFKC, NFKD };
// Appends the normalized form of valid UTF-8 `in` to `out`. ASCII runs are
// copied straight through; only the segments around non-ASCII characters go
// through utf8proc.
void normalize(std::string_view in, NormForm form, std::string& out);
// Rust char::to_lowercase (full mapping: U+0130 becomes "i\u0307").
void lowercase(std::string_view in, std::string& out);

// --- GPT-2 byte-level alphabet ---------------------------------------------
struct ByteLevelTable {
  // UTF-8 encoding of the code point standing for each byte.
  std::array<std::array<char, 2>, 256> utf8{};
  std::array<uint8_t, 256> utf8_len{};
  std::array<uint32_t, 256> byte_to_cp{};
  // Inverse: code point (< 324) to byte, -1 when not in the alphabet.
  std::array<int16_t, 324> cp_to_byte{};
};
const ByteLevelTable& byte_level_table();
// The bytes a string of byte-level symbols stands for, appended to out; false
// (out unchanged) when a character is outside the alphabet.
bool byte_level_to_bytes(std::string_view symbols, std::string& out);

// The value of a hex digit, -1 for any other character.
int hex_digit(char c);
// The byte of a SentencePiece byte-fallback symbol "<0xNN>", -1 for any
// other symbol.
int byte_fallback_byte(std::string_view symbol);

}  // namespace uma::text::tokenizer::unicode
