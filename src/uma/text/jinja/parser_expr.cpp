// Expressions, with Jinja2's precedence: conditional, or, and, not,
// comparisons, + -, ~, * / // %, **, unary, filters and tests, postfix.
#include "uma/text/jinja/parser_impl.h"

namespace uma::text::jinja {

bool Parser::is_tuple_end(const std::vector<std::string>& extra) const {
  Tok t = cur().type;
  if (t == Tok::variable_end || t == Tok::block_end || (t == Tok::op && cur().value == ")")) return true;
  if (t == Tok::eof) return false;
  for (const auto& e : extra)
    if (t == Tok::name && cur().value == e) return true;
  return false;
}

ExprPtr Parser::parse_assign_target(bool with_tuple, bool name_only, const std::vector<std::string>& extra, bool with_namespace) {
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

void Parser::check_assignable(const Expr& e) const {
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

ExprPtr Parser::parse_expression(bool with_condexpr) {
  return with_condexpr ? parse_condexpr() : parse_or();
}

ExprPtr Parser::parse_condexpr() {
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

ExprPtr Parser::parse_or() {
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

ExprPtr Parser::parse_and() {
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

ExprPtr Parser::parse_not() {
  if (is_name("not")) {
    DepthGuard guard(*this, cur());
    auto e = expr(ExprKind::not_, next());
    e->a = parse_not();
    return e;
  }
  return parse_compare();
}

ExprPtr Parser::parse_compare() {
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

ExprPtr Parser::binop(ExprPtr left, BinOp op, ExprPtr right, const Token& at) {
  auto e = expr(ExprKind::binop, at);
  e->binop = op;
  e->a = std::move(left);
  e->b = std::move(right);
  return e;
}

ExprPtr Parser::parse_math1() {
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

ExprPtr Parser::parse_concat() {
  Token at = cur();
  ExprPtr first = parse_math2();
  if (!is_op("~")) return first;
  auto e = expr(ExprKind::concat, at);
  e->items.push_back(std::move(first));
  while (skip_op("~")) e->items.push_back(parse_math2());
  return e;
}

ExprPtr Parser::parse_math2() {
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

ExprPtr Parser::parse_pow() {
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

ExprPtr Parser::parse_unary(bool with_filter) {
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

ExprPtr Parser::parse_primary(bool with_namespace) {
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

ExprPtr Parser::parse_tuple(bool simplified, bool with_condexpr, const std::vector<std::string>& extra, bool explicit_parens, bool with_namespace) {
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

ExprPtr Parser::parse_list() {
  auto e = expr(ExprKind::list, expect_op("["));
  while (!is_op("]")) {
    if (!e->items.empty()) expect_op(",");
    if (is_op("]")) break;
    e->items.push_back(parse_expression(true));
  }
  expect_op("]");
  return e;
}

ExprPtr Parser::parse_dict() {
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

ExprPtr Parser::parse_postfix(ExprPtr node_) {
  Links links(*this);
  while (true) {
    links.add();
    if (is_op(".") || is_op("[")) node_ = parse_subscript(std::move(node_));
    else if (is_op("(")) node_ = parse_call(std::move(node_));
    else break;
  }
  return node_;
}

ExprPtr Parser::parse_filter_expr(ExprPtr node_) {
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

ExprPtr Parser::parse_subscript(ExprPtr node_) {
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

ExprPtr Parser::parse_subscribed() {
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

void Parser::parse_call_args(Expr& e) {
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

ExprPtr Parser::parse_call(ExprPtr node_) {
  auto e = expr(ExprKind::call, cur());
  e->a = std::move(node_);
  parse_call_args(*e);
  return e;
}

ExprPtr Parser::parse_filter(ExprPtr node_, bool start_inline) {
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

ExprPtr Parser::parse_test(ExprPtr node_) {
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
}  // namespace uma::text::jinja
