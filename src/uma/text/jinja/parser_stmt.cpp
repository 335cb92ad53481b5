// Statements: {% if %}, {% for %}, {% set %}, {% macro %}, ... and the
// compile-time check for unknown filters and tests.
#include "uma/text/jinja/builtins.h"
#include "uma/text/jinja/parser.h"
#include "uma/text/jinja/parser_impl.h"

namespace uma::text::jinja {

Body Parser::subparse(const std::vector<std::string>& end_tokens) {
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
Body Parser::statements(const std::vector<std::string>& end_tokens, bool drop_needle) {
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

StmtPtr Parser::parse_statement() {
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

StmtPtr Parser::parse_loop_control() {
  const Token& t = next();
  if (loop_depth_ == 0) fail("'" + t.value + "' outside loop", t);
  auto s = node<Stmt>(t);
  s->kind = t.value == "break" ? StmtKind::break_ : StmtKind::continue_;
  return s;
}

StmtPtr Parser::parse_for() {
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

StmtPtr Parser::parse_if() {
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

StmtPtr Parser::parse_set() {
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

StmtPtr Parser::parse_with() {
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

StmtPtr Parser::parse_scoped_body(const char* end, bool has_expr) {
  auto s = node<Stmt>(next());
  s->kind = StmtKind::scope;
  if (has_expr) s->expr = parse_expression(true);  // autoescape's flag
  s->body = statements({end}, true);
  return s;
}

StmtPtr Parser::parse_block() {
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

StmtPtr Parser::parse_print() {
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

StmtPtr Parser::parse_unsupported() {
  const Token& t = next();
  auto s = node<Stmt>(t);
  s->kind = StmtKind::unsupported;
  s->text = "no loader for this environment specified ('" + t.value + "' is not supported)";
  // Consume the rest of the tag.
  while (cur().type != Tok::block_end && cur().type != Tok::eof) next();
  return s;
}

void Parser::parse_signature(Stmt& s) {
  expect_op("(");
  while (!is_op(")")) {
    if (!s.params.empty()) expect_op(",");
    s.params.push_back(expect(Tok::name, "name").value);
    if (skip_op("=")) s.defaults.push_back(parse_expression(true));
    else if (!s.defaults.empty()) fail("non-default argument follows default argument");
  }
  expect_op(")");
}

StmtPtr Parser::parse_macro() {
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

StmtPtr Parser::parse_call_block() {
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

StmtPtr Parser::parse_filter_block() {
  auto s = node<Stmt>(next());
  s->kind = StmtKind::filter_block;
  s->expr = parse_filter(nullptr, true);
  s->body = statements({"endfilter"}, true);
  return s;
}

// Which of caller/varargs/kwargs a macro body reads (Jinja's find_undeclared).
void Parser::scan_expr(const Expr* e, Stmt& m) {
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

void Parser::scan_body(const Body& body, Stmt& m) {
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

void Parser::scan_special_names(Stmt& m) {
  scan_body(m.body, m);
  for (const auto& d : m.defaults) scan_expr(d.get(), m);
}
namespace {

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

}  // namespace uma::text::jinja
