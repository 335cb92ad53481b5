// GBNF text -> Grammar. Groups and repetitions become generated rules (as
// llama.cpp does), so every element of a sequence is one symbol.
#include <algorithm>
#include <map>
#include <stdexcept>
#include <unordered_map>

#include "uma/text/grammar/char_ranges.h"
#include "uma/text/grammar/gbnf_text.h"
#include "uma/text/grammar/grammar.h"
#include "uma/text/grammar/utf8.h"
#include "uma/text/tokenizer/unicode.h"

namespace uma::text::grammar {

bool CharClass::intersects(uint32_t first, uint32_t last) const {
  auto it = std::lower_bound(ranges.begin(), ranges.end(), first,
                             [](const std::pair<uint32_t, uint32_t>& r, uint32_t v) { return r.second < v; });
  return it != ranges.end() && it->first <= last;
}

bool CharClass::covers(uint32_t first, uint32_t last) const {
  auto it = std::lower_bound(ranges.begin(), ranges.end(), first,
                             [](const std::pair<uint32_t, uint32_t>& r, uint32_t v) { return r.second < v; });
  return it != ranges.end() && it->first <= first && it->second >= last;
}

namespace {

using Seq = std::vector<int32_t>;

bool is_word(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

class Parser {
 public:
  Parser(std::string_view text, const GrammarLimits& limits) : s_(text), limits_(limits) {}

  std::shared_ptr<const Grammar> parse() {
    skip_space(true);
    while (pos_ < s_.size()) {
      parse_rule();
      skip_space(true);
    }
    for (size_t r = 0; r < names_.size(); ++r) {
      if (!defined_[r]) fail_at(first_use_[r], "rule '" + names_[r] + "' is used but never defined");
    }
    auto root = ids_.find("root");
    if (root == ids_.end()) fail_at(s_.size(), "the grammar has no 'root' rule");
    check_left_recursion();
    check_productive(root->second);
    return flatten(root->second);
  }

 private:
  [[noreturn]] void fail_at(size_t at, const std::string& what) const {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < at && i < s_.size(); ++i) {
      if (s_[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    throw std::invalid_argument("[parse_gbnf] line " + std::to_string(line) + ", column " + std::to_string(col) +
                                ": " + what);
  }
  [[noreturn]] void fail(const std::string& what) const { fail_at(pos_, what); }

  // Spaces and comments; newlines too when `newlines`.
  void skip_space(bool newlines) {
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (c == '#') {
        while (pos_ < s_.size() && s_[pos_] != '\n') ++pos_;
      } else if (c == ' ' || c == '\t' || (newlines && (c == '\n' || c == '\r'))) {
        ++pos_;
      } else {
        break;
      }
    }
  }

  std::string parse_name() {
    size_t start = pos_;
    while (pos_ < s_.size() && is_word(s_[pos_])) ++pos_;
    if (pos_ == start) fail("expected a rule name");
    return std::string(s_.substr(start, pos_ - start));
  }

  int32_t rule_id(const std::string& name, size_t at) {
    auto [it, inserted] = ids_.emplace(name, int32_t(names_.size()));
    if (inserted) {
      names_.push_back(name);
      rules_.emplace_back();
      defined_.push_back(false);
      first_use_.push_back(at);
      def_at_.push_back(at);
    }
    return it->second;
  }

  int32_t new_rule(int32_t parent, std::vector<Seq> alts) {
    std::string name = names_[size_t(parent)] + "_" + std::to_string(++generated_[parent]);
    while (ids_.count(name)) name += "_";
    int32_t id = rule_id(name, pos_);
    defined_[size_t(id)] = true;
    rules_[size_t(id)] = std::move(alts);
    count(0);
    return id;
  }

  void count(size_t symbols) {
    total_ += symbols + 1;
    if (total_ > limits_.max_symbols) {
      fail("the grammar grows past " + std::to_string(limits_.max_symbols) + " symbols (repetitions expanded)");
    }
  }

  void parse_rule() {
    size_t at = pos_;
    std::string name = parse_name();
    int32_t id = rule_id(name, at);
    if (defined_[size_t(id)]) fail_at(at, "rule '" + name + "' is defined twice");
    defined_[size_t(id)] = true;
    def_at_[size_t(id)] = at;
    skip_space(false);
    if (s_.substr(pos_, 3) != "::=") fail("expected '::=' after rule name '" + name + "'");
    pos_ += 3;
    skip_space(true);
    rules_[size_t(id)] = parse_alternatives(id, 0);
    skip_space(false);
    if (pos_ < s_.size() && s_[pos_] != '\n' && s_[pos_] != '\r') {
      fail(std::string("unexpected '") + s_[pos_] + "' in rule '" + name + "'");
    }
  }

  std::vector<Seq> parse_alternatives(int32_t rule, int depth) {
    std::vector<Seq> alts;
    alts.push_back(parse_sequence(rule, depth));
    while (pos_ < s_.size() && s_[pos_] == '|') {
      ++pos_;
      skip_space(true);
      alts.push_back(parse_sequence(rule, depth));
    }
    return alts;
  }

  Seq parse_sequence(int32_t rule, int depth) {
    Seq seq;
    size_t last = 0;  // where the last element starts in seq (a literal is several terminals)
    bool have_last = false;
    bool nested = depth > 0;
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      size_t at = pos_;
      if (c == '"') {
        ++pos_;
        last = seq.size();
        have_last = true;
        while (pos_ < s_.size() && s_[pos_] != '"') {
          uint32_t cp = parse_char();
          seq.push_back(terminal({{cp, cp}}));
        }
        if (pos_ >= s_.size()) fail_at(at, "unterminated string literal");
        ++pos_;
        if (seq.size() == last) have_last = false;  // "" is the empty sequence
      } else if (c == '[') {
        ++pos_;
        bool neg = pos_ < s_.size() && s_[pos_] == '^';
        if (neg) ++pos_;
        Ranges r;
        while (pos_ < s_.size() && s_[pos_] != ']') {
          uint32_t lo = parse_char();
          uint32_t hi = lo;
          if (pos_ + 1 < s_.size() && s_[pos_] == '-' && s_[pos_ + 1] != ']') {
            ++pos_;
            hi = parse_char();
            if (hi < lo) fail("character range is backwards (end below start)");
          }
          r.emplace_back(lo, hi);
        }
        if (pos_ >= s_.size()) fail_at(at, "unterminated character class");
        ++pos_;
        r = normalize_ranges(std::move(r));
        if (neg) r = negate_ranges(r);
        if (r.empty()) fail_at(at, "the character class matches nothing");
        last = seq.size();
        have_last = true;
        seq.push_back(terminal(std::move(r)));
      } else if (c == '.') {
        ++pos_;
        last = seq.size();
        have_last = true;
        seq.push_back(terminal({{0, kMaxCodePoint}}));
      } else if (c == '(') {
        ++pos_;
        if (depth + 1 > limits_.max_nesting) fail("groups nested deeper than " + std::to_string(limits_.max_nesting));
        skip_space(true);
        auto alts = parse_alternatives(rule, depth + 1);
        if (pos_ >= s_.size() || s_[pos_] != ')') fail_at(at, "unclosed '('");
        ++pos_;
        last = seq.size();
        have_last = true;
        seq.push_back(new_rule(rule, std::move(alts)));
      } else if (is_word(c)) {
        std::string name = parse_name();
        last = seq.size();
        have_last = true;
        seq.push_back(rule_id(name, at));
      } else if (c == '*' || c == '+' || c == '?' || c == '{') {
        if (!have_last) fail(std::string("'") + c + "' has nothing before it to repeat");
        parse_repetition(rule, seq, last);
        have_last = false;  // x** is an error, as in llama.cpp
      } else {
        break;
      }
      skip_space(nested);
    }
    count(seq.size());
    return seq;
  }

  uint32_t parse_number() {
    size_t start = pos_;
    uint64_t v = 0;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
      v = v * 10 + uint64_t(s_[pos_] - '0');
      if (v > limits_.max_repetition) fail("repetition count is over the limit of " + std::to_string(limits_.max_repetition));
      ++pos_;
    }
    if (pos_ == start) fail("expected a number in '{m,n}'");
    return uint32_t(v);
  }

  // Replaces seq[last:] by its repetition.
  void parse_repetition(int32_t rule, Seq& seq, size_t last) {
    char op = s_[pos_++];
    uint32_t lo = 0, hi = 0;
    bool unbounded = false;
    if (op == '*') {
      unbounded = true;
    } else if (op == '+') {
      lo = 1;
      unbounded = true;
    } else if (op == '?') {
      hi = 1;
    } else {
      skip_space(true);
      lo = parse_number();
      skip_space(true);
      hi = lo;
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        skip_space(true);
        if (pos_ < s_.size() && s_[pos_] == '}') {
          unbounded = true;
        } else {
          hi = parse_number();
          if (hi < lo) fail("in '{m,n}', n is below m");
        }
        skip_space(true);
      }
      if (pos_ >= s_.size() || s_[pos_] != '}') fail("expected '}' to close '{m,n}'");
      ++pos_;
    }
    Seq x(seq.begin() + std::ptrdiff_t(last), seq.end());
    seq.resize(last);
    if (x.size() > 1) x = {new_rule(rule, {x})};
    int32_t one = x[0];
    count(size_t(lo));
    for (uint32_t i = 0; i < lo; ++i) seq.push_back(one);
    if (unbounded) {
      // star ::= x star | ""   (right recursion: the matcher keeps its stacks flat)
      int32_t star = new_rule(rule, {});
      rules_[size_t(star)] = {{one, star}, {}};
      seq.push_back(star);
    } else if (hi > lo) {
      int32_t opt = new_rule(rule, {{one}, {}});
      count(size_t(hi - lo) * 3);
      for (uint32_t i = lo + 1; i < hi; ++i) opt = new_rule(rule, {{one, opt}, {}});
      seq.push_back(opt);
    }
  }

  // One character of a literal or class, with escapes.
  uint32_t parse_char() {
    if (pos_ >= s_.size()) fail("unexpected end of grammar");
    if (s_[pos_] != '\\') {
      size_t n = 0;
      uint32_t cp = 0;
      if (!utf8_decode(s_.substr(pos_), &cp, &n)) fail("invalid UTF-8 in the grammar");
      pos_ += n;
      return cp;
    }
    size_t at = pos_++;
    if (pos_ >= s_.size()) fail_at(at, "unfinished escape");
    char e = s_[pos_++];
    switch (e) {
      case 'n': return '\n';
      case 'r': return '\r';
      case 't': return '\t';
      case '\\': case '"': case '[': case ']': case '-': case '/': case '\'': case '^': return uint32_t(e);
      case 'x': return parse_hex(2, at);
      case 'u': return parse_hex(4, at);
      case 'U': return parse_hex(8, at);
      default: fail_at(at, std::string("unknown escape '\\") + e + "'");
    }
  }

  uint32_t parse_hex(int digits, size_t at) {
    uint32_t v = 0;
    for (int i = 0; i < digits; ++i) {
      if (pos_ >= s_.size()) fail_at(at, "unfinished hex escape");
      char c = s_[pos_++];
      int d = tokenizer::unicode::hex_digit(c);
      if (d < 0) fail_at(at, "bad hex digit in escape");
      v = v * 16 + uint32_t(d);
    }
    if (v > kMaxCodePoint) fail_at(at, "escape is beyond U+10FFFF");
    return v;
  }

  int32_t terminal(Ranges r) {
    auto [it, inserted] = class_ids_.emplace(r, int32_t(classes_.size()));
    if (inserted) classes_.push_back(std::move(r));
    return -2 - it->second;
  }

  // A root that can never finish (rules that only refer to each other, as
  // a ::= b, b ::= a) would leave a model with nothing it may say.
  void check_productive(int32_t root) {
    std::vector<char> ok(rules_.size(), 0);
    for (bool changed = true; changed;) {
      changed = false;
      for (size_t r = 0; r < rules_.size(); ++r) {
        if (ok[r]) continue;
        for (auto& alt : rules_[r]) {
          if (std::all_of(alt.begin(), alt.end(), [&](int32_t x) { return x < 0 || ok[size_t(x)]; })) {
            ok[r] = changed = true;
            break;
          }
        }
      }
    }
    if (!ok[size_t(root)]) {
      fail_at(def_at_[size_t(root)], "rule 'root' can never be completed (its rules only refer to each other "
                                     "without reaching text)");
    }
  }

  // A rule reachable from itself through a chain of rule references each
  // preceded only by symbols that can match nothing.
  void check_left_recursion() {
    const size_t n = rules_.size();
    std::vector<char> nullable(n, 0);
    for (bool changed = true; changed;) {
      changed = false;
      for (size_t r = 0; r < n; ++r) {
        if (nullable[r]) continue;
        for (auto& alt : rules_[r]) {
          bool all = std::all_of(alt.begin(), alt.end(), [&](int32_t s) { return s >= 0 && nullable[size_t(s)]; });
          if (all) {
            nullable[r] = changed = true;
            break;
          }
        }
      }
    }
    // r -> s when s can come first in r. Such a cycle only loops forever
    // when a reference in it has something after it (the stack grows each
    // time round); a cycle of references that end their alternatives, as
    // in ("a"?)*, returns to the same stack, which the matcher sees.
    struct Edge {
      int32_t to;
      bool grows;
    };
    std::vector<std::vector<Edge>> edges(n);
    for (size_t r = 0; r < n; ++r) {
      for (auto& alt : rules_[r]) {
        for (size_t k = 0; k < alt.size() && alt[k] >= 0; ++k) {
          edges[r].push_back({alt[k], k + 1 < alt.size()});
          if (!nullable[size_t(alt[k])]) break;
        }
      }
    }
    // Strongly connected components (Tarjan's, iterative).
    std::vector<int32_t> index(n, -1), low(n, 0), comp(n, -1), stack;
    std::vector<char> on(n, 0);
    int32_t next_index = 0, comps = 0;
    for (size_t start = 0; start < n; ++start) {
      if (index[start] >= 0) continue;
      std::vector<std::pair<int32_t, size_t>> call = {{int32_t(start), 0}};
      index[start] = low[start] = next_index++;
      stack.push_back(int32_t(start));
      on[start] = 1;
      while (!call.empty()) {
        const int32_t v = call.back().first;
        if (call.back().second < edges[size_t(v)].size()) {
          const int32_t w = edges[size_t(v)][call.back().second++].to;
          if (index[size_t(w)] < 0) {
            index[size_t(w)] = low[size_t(w)] = next_index++;
            stack.push_back(w);
            on[size_t(w)] = 1;
            call.emplace_back(w, 0);
          } else if (on[size_t(w)]) {
            low[size_t(v)] = std::min(low[size_t(v)], index[size_t(w)]);
          }
          continue;
        }
        if (low[size_t(v)] == index[size_t(v)]) {
          int32_t w;
          do {
            w = stack.back();
            stack.pop_back();
            on[size_t(w)] = 0;
            comp[size_t(w)] = comps;
          } while (w != v);
          ++comps;
        }
        call.pop_back();
        if (!call.empty()) low[size_t(call.back().first)] = std::min(low[size_t(call.back().first)], low[size_t(v)]);
      }
    }
    for (size_t u = 0; u < n; ++u) {
      for (const Edge& e : edges[u]) {
        if (e.grows && comp[size_t(e.to)] == comp[u]) report_cycle(int32_t(u), e.to, edges, comp);
      }
    }
  }

  // The cycle u -> v -> ... -> u inside one component, as an error.
  template <typename Edges>
  [[noreturn]] void report_cycle(int32_t u, int32_t v, const Edges& edges, const std::vector<int32_t>& comp) {
    std::vector<int32_t> from(rules_.size(), -1), queue = {v};
    from[size_t(v)] = v;
    for (size_t q = 0; q < queue.size() && from[size_t(u)] < 0; ++q) {
      for (const auto& e : edges[size_t(queue[q])]) {
        if (comp[size_t(e.to)] == comp[size_t(u)] && from[size_t(e.to)] < 0) {
          from[size_t(e.to)] = queue[q];
          queue.push_back(e.to);
        }
      }
    }
    std::vector<int32_t> path = {u};
    for (int32_t at = u; at != v; at = from[size_t(at)]) path.push_back(from[size_t(at)]);
    std::string cycle = names_[size_t(u)];
    for (size_t i = path.size(); i-- > 0;) cycle += " -> " + names_[size_t(path[i])];
    fail_at(def_at_[size_t(u)], "left recursion (" + cycle + "): rewrite it with repetition, e.g. "
                                "'expr ::= term (\"+\" term)*'");
  }

  std::shared_ptr<const Grammar> flatten(int32_t root) {
    auto g = std::make_shared<Grammar>();
    g->root = root;
    g->rule_names = names_;
    for (auto& r : classes_) {
      CharClass c;
      c.ranges = r;
      for (auto& [a, b] : r) {
        for (uint32_t cp = a; cp <= std::min<uint32_t>(b, 127); ++cp) c.ascii[cp >> 6] |= uint64_t(1) << (cp & 63);
      }
      g->classes.push_back(std::move(c));
    }
    g->alternatives.resize(rules_.size());
    for (size_t r = 0; r < rules_.size(); ++r) {
      for (auto& alt : rules_[r]) {
        g->alternatives[r].push_back(int32_t(g->code.size()));
        g->code.insert(g->code.end(), alt.begin(), alt.end());
        g->code.push_back(Grammar::kEnd);
      }
    }
    return g;
  }

  std::string_view s_;
  GrammarLimits limits_;
  size_t pos_ = 0;
  size_t total_ = 0;
  std::unordered_map<std::string, int32_t> ids_;
  std::vector<std::string> names_;
  std::vector<std::vector<Seq>> rules_;
  std::vector<char> defined_;
  std::vector<size_t> first_use_, def_at_;
  std::map<int32_t, int> generated_;
  std::map<Ranges, int32_t> class_ids_;
  std::vector<Ranges> classes_;
};

}  // namespace

std::shared_ptr<const Grammar> parse_gbnf(std::string_view text, const GrammarLimits& limits) {
  return Parser(text, limits).parse();
}

std::string Grammar::to_gbnf() const {
  std::string out;
  for (size_t r = 0; r < alternatives.size(); ++r) {
    out += rule_names[r] + " ::=";
    for (size_t a = 0; a < alternatives[r].size(); ++a) {
      if (a) out += " |";
      for (size_t i = size_t(alternatives[r][a]); code[i] != kEnd; ++i) {
        int32_t s = code[i];
        out += ' ';
        if (s >= 0) {
          out += rule_names[size_t(s)];
          continue;
        }
        const auto& c = classes[size_t(terminal_class(s))];
        if (c.ranges.size() == 1 && c.ranges[0].first == c.ranges[0].second) {
          std::string one;
          utf8_append(one, c.ranges[0].first);
          out += gbnf_literal(one);
          continue;
        }
        out += '[';
        for (auto& [lo, hi] : c.ranges) {
          out += gbnf_class_char(lo);
          if (hi != lo) out += '-' + gbnf_class_char(hi);
        }
        out += ']';
      }
      if (code[size_t(alternatives[r][a])] == kEnd) out += " \"\"";
    }
    out += '\n';
  }
  return out;
}

}  // namespace uma::text::grammar
