// The parser's class, shared by parser_stmt.cpp (statements) and
// parser_expr.cpp (expressions). Private to the Jinja engine.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "uma/text/jinja/ast.h"
#include "uma/text/jinja/lexer.h"

namespace uma::text::jinja {

// Deepest syntax tree allowed: nested brackets, statements and operator
// chains (a + b + c ... builds a left-deep tree) all count.
constexpr int kMaxNesting = 300;

inline std::string quoted(const std::string& s) { return "'" + s + "'"; }

class Parser {
 public:
  explicit Parser(const std::string& source) : toks_(tokenize(source)) { check(toks_[0]); }

  Body parse() { return subparse({}); }

 private:
  std::vector<Token> toks_;
  size_t i_ = 0;
  std::vector<std::string> tag_stack_;
  std::vector<std::vector<std::string>> end_stack_;
  int depth_ = 0;
  int loop_depth_ = 0;

  struct DepthGuard {
    Parser& p;
    explicit DepthGuard(Parser& p, const Token& at) : p(p) {
      if (++p.depth_ > kMaxNesting) p.fail("template nested too deeply", at);
    }
    ~DepthGuard() { --p.depth_; }
  };

  // Counts the links of a left-deep chain (a.b.c, x|f|g, 1 + 2 + 3) as depth.
  struct Links {
    Parser& p;
    int n = 0;
    explicit Links(Parser& p) : p(p) {}
    void add() {
      ++n;
      if (++p.depth_ > kMaxNesting) p.fail("template nested too deeply");
    }
    ~Links() { p.depth_ -= n; }
  };

  // Raises a lexing error once the parser reaches it.
  static void check(const Token& t) {
    if (t.type == Tok::error) throw JinjaError("TemplateSyntaxError", t.value, t.line, t.column);
  }
  const Token& cur() const { return toks_[i_]; }
  const Token& look() const {
    const Token& t = toks_[std::min(i_ + 1, toks_.size() - 1)];
    check(t);
    return t;
  }
  const Token& next() {
    const Token& t = toks_[i_];
    if (i_ + 1 < toks_.size()) ++i_;
    check(toks_[i_]);
    return t;
  }
  bool is_op(const char* op) const { return cur().type == Tok::op && cur().value == op; }
  bool is_name(const char* n) const { return cur().type == Tok::name && cur().value == n; }
  bool skip_op(const char* op) {
    if (!is_op(op)) return false;
    next();
    return true;
  }
  bool skip_name(const char* n) {
    if (!is_name(n)) return false;
    next();
    return true;
  }

  [[noreturn]] void fail(const std::string& msg, const Token& at) const {
    throw JinjaError("TemplateSyntaxError", msg, at.line, at.column);
  }
  [[noreturn]] void fail(const std::string& msg) const { fail(msg, cur()); }

  [[noreturn]] void fail_expected(const std::string& what) const {
    if (cur().type == Tok::eof) fail("unexpected end of template, expected " + quoted(what) + ".");
    fail("expected token " + quoted(what) + ", got " + quoted(describe(cur())));
  }
  const Token& expect(Tok type, const char* what) {
    if (cur().type != type) fail_expected(what);
    return next();
  }
  const Token& expect_op(const char* op) {
    if (!is_op(op)) fail_expected(op);
    return next();
  }
  const Token& expect_name(const char* n) {
    if (!is_name(n)) fail_expected(n);
    return next();
  }

  // Jinja's _fail_ut_eof: unknown tag or unexpected end of template.
  [[noreturn]] void fail_tag(const std::string* name, std::vector<std::vector<std::string>> stack,
                             const Token& at) const {
    std::vector<std::string> expected;
    for (const auto& v : stack) expected.insert(expected.end(), v.begin(), v.end());
    std::string msg = name ? "Encountered unknown tag " + quoted(*name) + "." : "Unexpected end of template.";
    if (!stack.empty()) {
      std::string looking;
      for (size_t k = 0; k < stack.back().size(); ++k)
        looking += (k ? " or " : "") + quoted(stack.back()[k]);
      if (name && std::find(expected.begin(), expected.end(), *name) != expected.end())
        msg += " You probably made a nesting mistake. Jinja is expecting this tag, but currently looking for " +
               looking + ".";
      else
        msg += " Jinja was looking for the following tags: " + looking + ".";
    }
    if (!tag_stack_.empty()) msg += " The innermost block that needs to be closed is " + quoted(tag_stack_.back()) + ".";
    fail(msg, at);
  }

  template <class T>
  static std::unique_ptr<T> node(const Token& at) {
    auto n = std::make_unique<T>();
    n->line = at.line;
    n->column = at.column;
    return n;
  }
  static ExprPtr expr(ExprKind k, const Token& at) {
    auto e = node<Expr>(at);
    e->kind = k;
    return e;
  }

  // ---- statements (parser_stmt.cpp) ----
  Body subparse(const std::vector<std::string>& end_tokens);
  // parse_statements: optional colon, block end, body up to an end token.
  Body statements(const std::vector<std::string>& end_tokens, bool drop_needle);
  StmtPtr parse_statement();
  StmtPtr parse_loop_control();
  StmtPtr parse_for();
  StmtPtr parse_if();
  StmtPtr parse_set();
  StmtPtr parse_with();
  StmtPtr parse_scoped_body(const char* end, bool has_expr);
  StmtPtr parse_block();
  StmtPtr parse_print();
  StmtPtr parse_unsupported();
  void parse_signature(Stmt& s);
  StmtPtr parse_macro();
  StmtPtr parse_call_block();
  StmtPtr parse_filter_block();
  // Which of caller/varargs/kwargs a macro body reads (Jinja's find_undeclared).
  static void scan_expr(const Expr* e, Stmt& m);
  static void scan_body(const Body& body, Stmt& m);
  static void scan_special_names(Stmt& m);

  // ---- expressions (parser_expr.cpp) ----
  bool is_tuple_end(const std::vector<std::string>& extra) const;
  ExprPtr parse_assign_target(bool with_tuple, bool name_only, const std::vector<std::string>& extra, bool with_namespace);
  void check_assignable(const Expr& e) const;
  ExprPtr parse_expression(bool with_condexpr);
  ExprPtr parse_condexpr();
  ExprPtr parse_or();
  ExprPtr parse_and();
  ExprPtr parse_not();
  ExprPtr parse_compare();
  ExprPtr binop(ExprPtr left, BinOp op, ExprPtr right, const Token& at);
  ExprPtr parse_math1();
  ExprPtr parse_concat();
  ExprPtr parse_math2();
  ExprPtr parse_pow();
  ExprPtr parse_unary(bool with_filter);
  ExprPtr parse_primary(bool with_namespace);
  ExprPtr parse_tuple(bool simplified, bool with_condexpr, const std::vector<std::string>& extra, bool explicit_parens, bool with_namespace = false);
  ExprPtr parse_list();
  ExprPtr parse_dict();
  ExprPtr parse_postfix(ExprPtr node_);
  ExprPtr parse_filter_expr(ExprPtr node_);
  ExprPtr parse_subscript(ExprPtr node_);
  ExprPtr parse_subscribed();
  void parse_call_args(Expr& e);
  ExprPtr parse_call(ExprPtr node_);
  ExprPtr parse_filter(ExprPtr node_, bool start_inline);
  ExprPtr parse_test(ExprPtr node_);
};

}  // namespace uma::text::jinja
