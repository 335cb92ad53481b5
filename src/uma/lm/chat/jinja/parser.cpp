#include "uma/lm/chat/jinja/parser.h"

#include <algorithm>

#include "uma/lm/chat/jinja/builtins.h"
#include "uma/lm/chat/jinja/lexer.h"

namespace uma::chat::jinja {

namespace {

// Deepest syntax tree allowed: nested brackets, statements and operator
// chains (a + b + c ... builds a left-deep tree) all count.
constexpr int kMaxNesting = 300;

std::string quoted(const std::string& s) { return "'" + s + "'"; }

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

  // ---- statements ----

  Body subparse(const std::vector<std::string>& end_tokens) {
    DepthGuard guard(*this, cur());
    Body body;
    if (!end_tokens.empty()) end_stack_.push_back(end_tokens);
    while (cur().type != Tok::eof) {
      const Token& t = cur();
      if (t.type == Tok::data) {
        auto s = node<Stmt>(t);
        s->kind = StmtKind::text;
        s->text = t.value;
        body.push_back(std::move(s));
        next();
      } else if (t.type == Tok::variable_begin) {
        next();
        auto s = node<Stmt>(cur());
        s->kind = StmtKind::print;
        s->expr = parse_tuple(false, true, {}, false);
        expect(Tok::variable_end, "end of print statement");
        body.push_back(std::move(s));
      } else if (t.type == Tok::block_begin) {
        next();
        if (!end_tokens.empty() && cur().type == Tok::name &&
            std::find(end_tokens.begin(), end_tokens.end(), cur().value) != end_tokens.end()) {
          end_stack_.pop_back();
          return body;
        }
        if (auto s = parse_statement()) body.push_back(std::move(s));
        expect(Tok::block_end, "end of statement block");
      } else {
        fail("internal parsing error");
      }
    }
    if (!end_tokens.empty()) end_stack_.pop_back();
    return body;
  }

  // parse_statements: optional colon, block end, body up to an end token.
  Body statements(const std::vector<std::string>& end_tokens, bool drop_needle) {
    skip_op(":");
    expect(Tok::block_end, "end of statement block");
    Body body = subparse(end_tokens);
    if (cur().type == Tok::eof) {
      auto stack = end_stack_;
      stack.push_back(end_tokens);
      fail_tag(nullptr, stack, cur());
    }
    if (drop_needle) next();
    return body;
  }

  StmtPtr parse_statement() {
    const Token& t = cur();
    if (t.type != Tok::name) fail("tag name expected");
    static const char* known[] = {"for", "if", "block", "extends", "print", "macro", "include", "from",
                                  "import", "set", "with", "autoescape", "call", "filter", "break",
                                  "continue", "generation"};
    bool is_known = std::any_of(std::begin(known), std::end(known), [&](const char* k) { return t.value == k; });
    if (!is_known) fail_tag(&t.value, end_stack_, t);
    tag_stack_.push_back(t.value);
    StmtPtr s;
    const std::string& tag = t.value;
    if (tag == "for") s = parse_for();
    else if (tag == "if") s = parse_if();
    else if (tag == "set") s = parse_set();
    else if (tag == "macro") s = parse_macro();
    else if (tag == "call") s = parse_call_block();
    else if (tag == "filter") s = parse_filter_block();
    else if (tag == "with") s = parse_with();
    else if (tag == "print") s = parse_print();
    else if (tag == "block") s = parse_block();
    else if (tag == "autoescape") s = parse_scoped_body("endautoescape", true);
    else if (tag == "generation") s = parse_scoped_body("endgeneration", false);
    else if (tag == "break" || tag == "continue") s = parse_loop_control();
    else s = parse_unsupported();
    tag_stack_.pop_back();
    return s;
  }

  StmtPtr parse_loop_control() {
    const Token& t = next();
    if (loop_depth_ == 0) fail("'" + t.value + "' outside loop", t);
    auto s = node<Stmt>(t);
    s->kind = t.value == "break" ? StmtKind::break_ : StmtKind::continue_;
    return s;
  }

  StmtPtr parse_for() {
    auto s = node<Stmt>(expect_name("for"));
    s->kind = StmtKind::for_;
    s->target = parse_assign_target(true, false, {"in"}, false);
    expect_name("in");
    s->expr = parse_tuple(false, false, {"recursive"}, false);
    if (skip_name("if")) s->cond = parse_expression(true);
    s->recursive = skip_name("recursive");
    ++loop_depth_;
    s->body = statements({"endfor", "else"}, false);
    --loop_depth_;
    if (next().value != "endfor") s->else_body = statements({"endfor"}, true);
    return s;
  }

  StmtPtr parse_if() {
    auto s = node<Stmt>(expect_name("if"));
    s->kind = StmtKind::if_;
    Stmt* node_ = s.get();
    Links links(*this);  // each elif nests one level deeper
    while (true) {
      links.add();
      node_->expr = parse_tuple(false, false, {}, false);
      node_->body = statements({"elif", "else", "endif"}, false);
      const Token& tok = next();
      if (tok.value == "elif") {
        auto elif = node<Stmt>(cur());
        elif->kind = StmtKind::if_;
        Stmt* raw = elif.get();
        node_->else_body.push_back(std::move(elif));
        node_ = raw;
        continue;
      }
      if (tok.value == "else") node_->else_body = statements({"endif"}, true);
      break;
    }
    return s;
  }

  StmtPtr parse_set() {
    auto s = node<Stmt>(next());
    s->target = parse_assign_target(true, false, {}, true);
    if (skip_op("=")) {
      s->kind = StmtKind::set;
      s->expr = parse_tuple(false, true, {}, false);
      return s;
    }
    s->kind = StmtKind::set_block;
    s->expr = parse_filter(nullptr, false);
    s->body = statements({"endset"}, true);
    return s;
  }

  StmtPtr parse_with() {
    auto s = node<Stmt>(next());
    s->kind = StmtKind::with;
    while (cur().type != Tok::block_end) {
      if (!s->targets.empty()) expect_op(",");
      s->targets.push_back(parse_assign_target(true, false, {}, false));
      expect_op("=");
      s->values.push_back(parse_expression(true));
    }
    s->body = statements({"endwith"}, true);
    return s;
  }

  StmtPtr parse_scoped_body(const char* end, bool has_expr) {
    auto s = node<Stmt>(next());
    s->kind = StmtKind::scope;
    if (has_expr) parse_expression(true);  // autoescape's flag: output is never escaped here
    s->body = statements({end}, true);
    return s;
  }

  StmtPtr parse_block() {
    auto s = node<Stmt>(next());
    s->kind = StmtKind::scope;
    s->name = expect(Tok::name, "name").value;
    skip_name("scoped");
    skip_name("required");
    if (is_op("-"))
      fail("Block names in Jinja have to be valid Python identifiers and may not contain hyphens, use an underscore instead.");
    s->body = statements({"endblock"}, true);
    if (cur().type == Tok::name && cur().value == s->name) next();
    return s;
  }

  StmtPtr parse_print() {
    auto s = node<Stmt>(next());
    s->kind = StmtKind::print;
    std::vector<ExprPtr> items;
    while (cur().type != Tok::block_end) {
      if (!items.empty()) expect_op(",");
      items.push_back(parse_expression(true));
    }
    Token at;
    at.line = s->line;
    at.column = s->column;
    auto cat = expr(ExprKind::concat, at);
    cat->items = std::move(items);
    s->expr = std::move(cat);
    return s;
  }

  StmtPtr parse_unsupported() {
    const Token& t = next();
    auto s = node<Stmt>(t);
    s->kind = StmtKind::unsupported;
    s->text = "no loader for this environment specified ('" + t.value + "' is not supported)";
    // Consume the rest of the tag.
    while (cur().type != Tok::block_end && cur().type != Tok::eof) next();
    return s;
  }

  void parse_signature(Stmt& s) {
    expect_op("(");
    while (!is_op(")")) {
      if (!s.params.empty()) expect_op(",");
      s.params.push_back(expect(Tok::name, "name").value);
      if (skip_op("=")) s.defaults.push_back(parse_expression(true));
      else if (!s.defaults.empty()) fail("non-default argument follows default argument");
    }
    expect_op(")");
  }

  StmtPtr parse_macro() {
    auto s = node<Stmt>(next());
    s->kind = StmtKind::macro;
    s->name = expect(Tok::name, "name").value;
    parse_signature(*s);
    int saved = loop_depth_;
    loop_depth_ = 0;
    s->body = statements({"endmacro"}, true);
    loop_depth_ = saved;
    scan_special_names(*s);
    return s;
  }

  StmtPtr parse_call_block() {
    const Token& t = next();
    auto s = node<Stmt>(t);
    s->kind = StmtKind::call_block;
    if (is_op("(")) parse_signature(*s);
    s->expr = parse_expression(true);
    if (s->expr->kind != ExprKind::call) fail("expected call", t);
    int saved = loop_depth_;
    loop_depth_ = 0;
    s->body = statements({"endcall"}, true);
    loop_depth_ = saved;
    scan_special_names(*s);
    return s;
  }

  StmtPtr parse_filter_block() {
    auto s = node<Stmt>(next());
    s->kind = StmtKind::filter_block;
    s->expr = parse_filter(nullptr, true);
    s->body = statements({"endfilter"}, true);
    return s;
  }

  // Which of caller/varargs/kwargs a macro body reads (Jinja's find_undeclared).
  static void scan_expr(const Expr* e, Stmt& m) {
    if (!e) return;
    if (e->kind == ExprKind::name) {
      if (e->name == "caller") m.uses_caller = true;
      if (e->name == "varargs") m.uses_varargs = true;
      if (e->name == "kwargs") m.uses_kwargs = true;
    }
    for (const auto& x : e->items) scan_expr(x.get(), m);
    scan_expr(e->a.get(), m);
    scan_expr(e->b.get(), m);
    scan_expr(e->c.get(), m);
    for (const auto& k : e->kwargs) scan_expr(k.value.get(), m);
    scan_expr(e->dyn_args.get(), m);
    scan_expr(e->dyn_kwargs.get(), m);
  }
  static void scan_body(const Body& body, Stmt& m) {
    for (const auto& s : body) {
      if (s->kind == StmtKind::scope && !s->name.empty()) continue;  // blocks are not visited
      scan_expr(s->expr.get(), m);
      scan_expr(s->cond.get(), m);
      for (const auto& d : s->defaults) scan_expr(d.get(), m);
      for (const auto& v : s->values) scan_expr(v.get(), m);
      scan_body(s->body, m);
      scan_body(s->else_body, m);
    }
  }
  static void scan_special_names(Stmt& m) {
    scan_body(m.body, m);
    for (const auto& d : m.defaults) scan_expr(d.get(), m);
  }

  // ---- expressions ----

  bool is_tuple_end(const std::vector<std::string>& extra) const {
    Tok t = cur().type;
    if (t == Tok::variable_end || t == Tok::block_end || (t == Tok::op && cur().value == ")")) return true;
    if (t == Tok::eof) return false;
    for (const auto& e : extra)
      if (t == Tok::name && cur().value == e) return true;
    return false;
  }

  ExprPtr parse_assign_target(bool with_tuple, bool name_only, const std::vector<std::string>& extra,
                              bool with_namespace) {
    ExprPtr target;
    if (name_only) {
      const Token& t = expect(Tok::name, "name");
      target = expr(ExprKind::name, t);
      target->name = t.value;
    } else if (with_tuple) {
      target = parse_tuple(true, true, extra, false, with_namespace);
    } else {
      target = parse_primary(with_namespace);
    }
    check_assignable(*target);
    return target;
  }

  void check_assignable(const Expr& e) const {
    if (e.kind == ExprKind::name || e.kind == ExprKind::nsref) {
      if (e.kind == ExprKind::name && (e.name == "true" || e.name == "false" || e.name == "none" ||
                                       e.name == "True" || e.name == "False" || e.name == "None"))
        fail("can't assign to 'const'", toks_[i_]);
      return;
    }
    if (e.kind == ExprKind::tuple) {
      for (const auto& x : e.items) check_assignable(*x);
      return;
    }
    static const char* names[] = {"const", "name", "nsref", "tuple", "list", "dict", "getattr", "getitem",
                                  "slice", "call", "filter", "test", "condexpr", "and", "or", "not",
                                  "neg", "pos", "binop", "concat", "compare"};
    Token at;
    at.line = e.line;
    at.column = e.column;
    fail(std::string("can't assign to '") + names[static_cast<int>(e.kind)] + "'", at);
  }

  ExprPtr parse_expression(bool with_condexpr) {
    return with_condexpr ? parse_condexpr() : parse_or();
  }

  ExprPtr parse_condexpr() {
    Token at = cur();
    ExprPtr expr1 = parse_or();
    Links links(*this);
    while (skip_name("if")) {
      links.add();
      auto e = expr(ExprKind::cond, at);
      e->b = parse_or();
      if (skip_name("else")) e->c = parse_condexpr();
      e->a = std::move(expr1);
      expr1 = std::move(e);
      at = cur();
    }
    return expr1;
  }

  ExprPtr parse_or() {
    ExprPtr left = parse_and();
    Links links(*this);
    while (is_name("or")) {
      links.add();
      auto e = expr(ExprKind::or_, next());
      e->a = std::move(left);
      e->b = parse_and();
      left = std::move(e);
    }
    return left;
  }

  ExprPtr parse_and() {
    ExprPtr left = parse_not();
    Links links(*this);
    while (is_name("and")) {
      links.add();
      auto e = expr(ExprKind::and_, next());
      e->a = std::move(left);
      e->b = parse_not();
      left = std::move(e);
    }
    return left;
  }

  ExprPtr parse_not() {
    if (is_name("not")) {
      DepthGuard guard(*this, cur());
      auto e = expr(ExprKind::not_, next());
      e->a = parse_not();
      return e;
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
    Token at = cur();
    ExprPtr first = parse_math1();
    ExprPtr cmp;
    while (true) {
      CmpOp op;
      if (cur().type == Tok::op && (cur().value == "==" || cur().value == "!=" || cur().value == "<" ||
                                    cur().value == "<=" || cur().value == ">" || cur().value == ">=")) {
        const std::string& v = next().value;
        op = v == "==" ? CmpOp::eq : v == "!=" ? CmpOp::ne : v == "<" ? CmpOp::lt
           : v == "<=" ? CmpOp::le : v == ">" ? CmpOp::gt : CmpOp::ge;
      } else if (skip_name("in")) {
        op = CmpOp::in;
      } else if (is_name("not") && look().type == Tok::name && look().value == "in") {
        next();
        next();
        op = CmpOp::notin;
      } else {
        break;
      }
      if (!cmp) {
        cmp = expr(ExprKind::compare, at);
        cmp->a = std::move(first);
      }
      cmp->ops.push_back(op);
      cmp->items.push_back(parse_math1());
    }
    return cmp ? std::move(cmp) : std::move(first);
  }

  ExprPtr binop(ExprPtr left, BinOp op, ExprPtr right, const Token& at) {
    auto e = expr(ExprKind::binop, at);
    e->binop = op;
    e->a = std::move(left);
    e->b = std::move(right);
    return e;
  }

  ExprPtr parse_math1() {
    Token at = cur();
    ExprPtr left = parse_concat();
    Links links(*this);
    while (is_op("+") || is_op("-")) {
      links.add();
      BinOp op = next().value == "+" ? BinOp::add : BinOp::sub;
      left = binop(std::move(left), op, parse_concat(), at);
      at = cur();
    }
    return left;
  }

  ExprPtr parse_concat() {
    Token at = cur();
    ExprPtr first = parse_math2();
    if (!is_op("~")) return first;
    auto e = expr(ExprKind::concat, at);
    e->items.push_back(std::move(first));
    while (skip_op("~")) e->items.push_back(parse_math2());
    return e;
  }

  ExprPtr parse_math2() {
    Token at = cur();
    ExprPtr left = parse_pow();
    Links links(*this);
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      links.add();
      const std::string& v = next().value;
      BinOp op = v == "*" ? BinOp::mul : v == "/" ? BinOp::div : v == "//" ? BinOp::floordiv : BinOp::mod;
      left = binop(std::move(left), op, parse_pow(), at);
      at = cur();
    }
    return left;
  }

  ExprPtr parse_pow() {
    Token at = cur();
    ExprPtr left = parse_unary(true);
    Links links(*this);
    while (skip_op("**")) {
      links.add();
      left = binop(std::move(left), BinOp::pow, parse_unary(true), at);
      at = cur();
    }
    return left;
  }

  ExprPtr parse_unary(bool with_filter) {
    DepthGuard guard(*this, cur());
    ExprPtr node_;
    if (is_op("-") || is_op("+")) {
      const Token& t = next();
      node_ = expr(t.value == "-" ? ExprKind::neg : ExprKind::pos, t);
      node_->a = parse_unary(false);
    } else {
      node_ = parse_primary(false);
    }
    node_ = parse_postfix(std::move(node_));
    if (with_filter) node_ = parse_filter_expr(std::move(node_));
    return node_;
  }

  ExprPtr parse_primary(bool with_namespace) {
    const Token& t = cur();
    if (t.type == Tok::name) {
      next();
      auto e = expr(ExprKind::constant, t);
      if (t.value == "true" || t.value == "True") e->constant = Value::boolean(true);
      else if (t.value == "false" || t.value == "False") e->constant = Value::boolean(false);
      else if (t.value == "none" || t.value == "None") e->constant = Value::none();
      else if (with_namespace && is_op(".")) {
        next();
        e->kind = ExprKind::nsref;
        e->name = t.value;
        e->attr = expect(Tok::name, "name").value;
      } else {
        e->kind = ExprKind::name;
        e->name = t.value;
      }
      return e;
    }
    if (t.type == Tok::string) {
      auto e = expr(ExprKind::constant, t);
      std::string s;
      while (cur().type == Tok::string) s += next().value;
      e->constant = Value::string(std::move(s));
      return e;
    }
    if (t.type == Tok::integer || t.type == Tok::floating) {
      auto e = expr(ExprKind::constant, t);
      e->constant = t.type == Tok::integer ? Value::integer(t.int_value) : Value::floating(t.float_value);
      next();
      return e;
    }
    if (is_op("(")) {
      next();
      ExprPtr e = parse_tuple(false, true, {}, true);
      expect_op(")");
      return e;
    }
    if (is_op("[")) return parse_list();
    if (is_op("{")) return parse_dict();
    fail("unexpected " + quoted(describe(t)));
  }

  ExprPtr parse_tuple(bool simplified, bool with_condexpr, const std::vector<std::string>& extra,
                      bool explicit_parens, bool with_namespace = false) {
    Token at = cur();
    std::vector<ExprPtr> args;
    bool is_tuple = false;
    while (true) {
      if (!args.empty()) expect_op(",");
      if (is_tuple_end(extra)) break;
      args.push_back(simplified ? parse_primary(with_namespace) : parse_expression(with_condexpr));
      if (is_op(",")) is_tuple = true;
      else break;
      at = cur();
    }
    if (!is_tuple) {
      if (!args.empty()) return std::move(args[0]);
      if (!explicit_parens) fail("Expected an expression, got " + quoted(describe(cur())));
    }
    auto e = expr(ExprKind::tuple, at);
    e->items = std::move(args);
    return e;
  }

  ExprPtr parse_list() {
    auto e = expr(ExprKind::list, expect_op("["));
    while (!is_op("]")) {
      if (!e->items.empty()) expect_op(",");
      if (is_op("]")) break;
      e->items.push_back(parse_expression(true));
    }
    expect_op("]");
    return e;
  }

  ExprPtr parse_dict() {
    auto e = expr(ExprKind::dict, expect_op("{"));
    while (!is_op("}")) {
      if (!e->items.empty()) expect_op(",");
      if (is_op("}")) break;
      e->items.push_back(parse_expression(true));
      expect_op(":");
      e->items.push_back(parse_expression(true));
    }
    expect_op("}");
    return e;
  }

  ExprPtr parse_postfix(ExprPtr node_) {
    Links links(*this);
    while (true) {
      links.add();
      if (is_op(".") || is_op("[")) node_ = parse_subscript(std::move(node_));
      else if (is_op("(")) node_ = parse_call(std::move(node_));
      else break;
    }
    return node_;
  }

  ExprPtr parse_filter_expr(ExprPtr node_) {
    Links links(*this);
    while (true) {
      links.add();
      if (is_op("|")) node_ = parse_filter(std::move(node_), false);
      else if (is_name("is")) node_ = parse_test(std::move(node_));
      else if (is_op("(")) node_ = parse_call(std::move(node_));
      else break;
    }
    return node_;
  }

  ExprPtr parse_subscript(ExprPtr node_) {
    const Token& t = next();
    if (t.value == ".") {
      const Token& attr = next();
      if (attr.type == Tok::name) {
        auto e = expr(ExprKind::getattr, t);
        e->a = std::move(node_);
        e->name = attr.value;
        return e;
      }
      if (attr.type != Tok::integer) fail("expected name or number", attr);
      auto e = expr(ExprKind::getitem, t);
      e->a = std::move(node_);
      e->b = expr(ExprKind::constant, attr);
      e->b->constant = Value::integer(attr.int_value);
      return e;
    }
    std::vector<ExprPtr> args;
    while (!is_op("]")) {
      if (!args.empty()) expect_op(",");
      args.push_back(parse_subscribed());
    }
    expect_op("]");
    auto e = expr(ExprKind::getitem, t);
    e->a = std::move(node_);
    if (args.size() == 1) {
      e->b = std::move(args[0]);
    } else {
      e->b = expr(ExprKind::tuple, t);
      e->b->items = std::move(args);
    }
    return e;
  }

  ExprPtr parse_subscribed() {
    Token at = cur();
    std::vector<ExprPtr> args;
    if (is_op(":")) {
      next();
      args.push_back(nullptr);
    } else {
      ExprPtr node_ = parse_expression(true);
      if (!is_op(":")) return node_;
      next();
      args.push_back(std::move(node_));
    }
    if (is_op(":")) args.push_back(nullptr);
    else if (!is_op("]") && !is_op(",")) args.push_back(parse_expression(true));
    else args.push_back(nullptr);
    if (is_op(":")) {
      next();
      if (!is_op("]") && !is_op(",")) args.push_back(parse_expression(true));
      else args.push_back(nullptr);
    } else {
      args.push_back(nullptr);
    }
    auto e = expr(ExprKind::slice, at);
    e->a = std::move(args[0]);
    e->b = std::move(args[1]);
    e->c = std::move(args[2]);
    return e;
  }

  void parse_call_args(Expr& e) {
    const Token& open = expect_op("(");
    bool require_comma = false;
    auto ensure = [&](bool ok) {
      if (!ok) fail("invalid syntax for function call expression", open);
    };
    while (!is_op(")")) {
      if (require_comma) {
        expect_op(",");
        if (is_op(")")) break;
      }
      if (is_op("*")) {
        ensure(!e.dyn_args && !e.dyn_kwargs);
        next();
        e.dyn_args = parse_expression(true);
      } else if (is_op("**")) {
        ensure(!e.dyn_kwargs);
        next();
        e.dyn_kwargs = parse_expression(true);
      } else if (cur().type == Tok::name && look().type == Tok::op && look().value == "=") {
        ensure(!e.dyn_kwargs);
        std::string key = next().value;
        next();
        e.kwargs.push_back({key, parse_expression(true)});
      } else {
        ensure(!e.dyn_args && !e.dyn_kwargs && e.kwargs.empty());
        e.items.push_back(parse_expression(true));
      }
      require_comma = true;
    }
    expect_op(")");
  }

  ExprPtr parse_call(ExprPtr node_) {
    auto e = expr(ExprKind::call, cur());
    e->a = std::move(node_);
    parse_call_args(*e);
    return e;
  }

  ExprPtr parse_filter(ExprPtr node_, bool start_inline) {
    Links links(*this);
    while (is_op("|") || start_inline) {
      links.add();
      if (!start_inline) next();
      const Token& t = expect(Tok::name, "name");
      auto e = expr(ExprKind::filter, t);
      e->name = t.value;
      while (skip_op(".")) e->name += "." + expect(Tok::name, "name").value;
      e->a = std::move(node_);
      if (is_op("(")) parse_call_args(*e);
      node_ = std::move(e);
      start_inline = false;
    }
    return node_;
  }

  ExprPtr parse_test(ExprPtr node_) {
    const Token& is = next();
    bool negated = skip_name("not");
    const Token& t = expect(Tok::name, "name");
    auto e = expr(ExprKind::test, is);
    e->name = t.value;
    while (skip_op(".")) e->name += "." + expect(Tok::name, "name").value;
    e->a = std::move(node_);
    Tok k = cur().type;
    if (is_op("(")) {
      parse_call_args(*e);
    } else if ((k == Tok::name || k == Tok::string || k == Tok::integer || k == Tok::floating ||
                is_op("[") || is_op("{")) &&
               !is_name("else") && !is_name("or") && !is_name("and")) {
      if (is_name("is")) fail("You cannot chain multiple tests with is");
      e->items.push_back(parse_postfix(parse_primary(false)));
    }
    if (!negated) return e;
    auto n = expr(ExprKind::not_, is);
    n->a = std::move(e);
    return n;
  }
};

// Unknown filters and tests are compile-time errors unless they sit in an
// `if` statement or an inline if-expression (Jinja2's "soft frames").
struct DependencyCheck {
  void expr(const Expr* e, bool soft) {
    if (!e) return;
    if (e->kind == ExprKind::cond) soft = true;
    if (!soft && e->kind == ExprKind::filter && !has_filter(e->name))
      throw JinjaError("TemplateAssertionError", "No filter named '" + e->name + "'.", e->line, e->column);
    if (!soft && e->kind == ExprKind::test && !has_test(e->name))
      throw JinjaError("TemplateAssertionError", "No test named '" + e->name + "'.", e->line, e->column);
    for (const auto& x : e->items) expr(x.get(), soft);
    expr(e->a.get(), soft);
    expr(e->b.get(), soft);
    expr(e->c.get(), soft);
    for (const auto& k : e->kwargs) expr(k.value.get(), soft);
    expr(e->dyn_args.get(), soft);
    expr(e->dyn_kwargs.get(), soft);
  }
  void body(const Body& b, bool soft) {
    for (const auto& s : b) stmt(*s, soft);
  }
  void stmt(const Stmt& s, bool soft) {
    switch (s.kind) {
      case StmtKind::if_:
        expr(s.expr.get(), true);
        body(s.body, true);
        body(s.else_body, true);
        return;
      case StmtKind::for_:
        expr(s.expr.get(), soft);
        expr(s.cond.get(), false);
        body(s.body, false);
        body(s.else_body, false);
        return;
      case StmtKind::print: case StmtKind::set:
        expr(s.expr.get(), soft);
        return;
      case StmtKind::with:
        for (const auto& v : s.values) expr(v.get(), soft);
        body(s.body, false);
        return;
      default:
        expr(s.expr.get(), false);
        for (const auto& d : s.defaults) expr(d.get(), false);
        body(s.body, false);
        body(s.else_body, false);
    }
  }
};

}  // namespace

Body parse_template(const std::string& source) {
  Body body = Parser(source).parse();
  DependencyCheck{}.body(body, false);
  return body;
}

}  // namespace uma::chat::jinja
