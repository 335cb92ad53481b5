// Syntax tree of a parsed template. Expressions and statements are plain
// structs with a kind tag; fields not used by a kind stay empty.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "uma/text/jinja/value.h"

namespace uma::text::jinja {

struct Expr;
struct Stmt;
using ExprPtr = std::unique_ptr<Expr>;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

enum class ExprKind : uint8_t {
  constant,  // constant
  name,      // name
  nsref,     // name.attr as an assignment target
  tuple,     // items
  list,      // items
  dict,      // items = key0, value0, key1, value1, ...
  getattr,   // a.name
  getitem,   // a[b]
  slice,     // a:b:c, each may be null
  call,      // a(items, kwargs, *dyn_args, **dyn_kwargs)
  filter,    // a|name(items, kwargs...); a is null in a filter block
  test,      // a is name(items, kwargs...)
  cond,      // a if b else c (c may be null)
  and_, or_, not_, neg, pos,
  binop,     // a op b
  concat,    // items joined by ~
  compare,   // a ops[0] items[0] ops[1] items[1] ...
};

enum class BinOp : uint8_t { add, sub, mul, div, floordiv, mod, pow };
enum class CmpOp : uint8_t { eq, ne, lt, le, gt, ge, in, notin };

struct Keyword {
  std::string name;
  ExprPtr value;
};

struct Expr {
  ExprKind kind = ExprKind::constant;
  int line = 0, column = 0;
  Value constant;
  std::string name, attr;
  BinOp binop = BinOp::add;
  std::vector<CmpOp> ops;
  std::vector<ExprPtr> items;
  ExprPtr a, b, c;
  std::vector<Keyword> kwargs;
  ExprPtr dyn_args, dyn_kwargs;
};

enum class StmtKind : uint8_t {
  text,          // text
  print,         // expr
  if_,           // if expr: body else else_body (elif = nested if in else_body)
  for_,          // for target in expr [if cond] [recursive]: body else else_body
  set,           // set target = expr
  set_block,     // set target [| expr filter]: body
  macro,         // macro name(params = defaults): body
  call_block,    // call(params) expr: body
  filter_block,  // filter expr: body
  with,          // with targets = values: body
  scope,         // a body in its own scope ({% generation %}, {% block %}, {% autoescape expr %})
  break_, continue_,
  unsupported,   // extends/include/import: text is the runtime error
};

struct Stmt {
  StmtKind kind = StmtKind::text;
  int line = 0, column = 0;
  std::string text;
  ExprPtr expr, target, cond;
  Body body, else_body;
  bool recursive = false;
  // macro and call block signatures
  std::string name;
  std::vector<std::string> params;
  std::vector<ExprPtr> defaults;  // for the last defaults.size() params
  bool uses_caller = false, uses_varargs = false, uses_kwargs = false;
  // with
  std::vector<ExprPtr> targets, values;
};

}  // namespace uma::text::jinja
