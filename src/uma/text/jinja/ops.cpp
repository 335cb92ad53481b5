#include "uma/text/jinja/ops.h"

#include <cmath>

#include "uma/text/jinja/pyformat.h"
#include "uma/text/jinja/unicode.h"

namespace uma::text::jinja {

namespace {

const char* op_symbol(BinOp op) {
  switch (op) {
    case BinOp::add: return "+";
    case BinOp::sub: return "-";
    case BinOp::mul: return "*";
    case BinOp::div: return "/";
    case BinOp::floordiv: return "//";
    case BinOp::mod: return "%";
    case BinOp::pow: return "** or pow()";
  }
  return "?";
}

[[noreturn]] void unsupported(BinOp op, const Value& a, const Value& b) {
  type_error(std::string("unsupported operand type(s) for ") + op_symbol(op) + ": '" + type_name(a) +
             "' and '" + type_name(b) + "'");
}

[[noreturn]] void overflow() {
  throw_error("OverflowError", "integer result does not fit in 64 bits");
}

int64_t add_checked(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) overflow();
  return r;
}
int64_t sub_checked(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_sub_overflow(a, b, &r)) overflow();
  return r;
}
int64_t mul_checked(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) overflow();
  return r;
}

Value int_pow(int64_t base, int64_t exp) {
  if (exp < 0) {
    if (base == 0) throw_error("ZeroDivisionError", "0.0 cannot be raised to a negative power");
    return Value::floating(std::pow(static_cast<double>(base), static_cast<double>(exp)));
  }
  int64_t result = 1;
  while (exp > 0) {
    if (exp & 1) result = mul_checked(result, base);
    exp >>= 1;
    if (exp > 0) base = mul_checked(base, base);
  }
  return Value::integer(result);
}

Value float_op(BinOp op, double a, double b) {
  switch (op) {
    case BinOp::add: return Value::floating(a + b);
    case BinOp::sub: return Value::floating(a - b);
    case BinOp::mul: return Value::floating(a * b);
    case BinOp::div:
      if (b == 0) throw_error("ZeroDivisionError", "float division by zero");
      return Value::floating(a / b);
    case BinOp::floordiv: case BinOp::mod: {
      if (b == 0) throw_error("ZeroDivisionError", op == BinOp::mod ? "float modulo" : "float floor division by zero");
      // CPython's float_divmod.
      double mod = std::fmod(a, b);
      double div = (a - mod) / b;
      if (mod != 0) {
        if ((b < 0) != (mod < 0)) {
          mod += b;
          div -= 1.0;
        }
      } else {
        mod = std::copysign(0.0, b);
      }
      if (op == BinOp::mod) return Value::floating(mod);
      double floordiv;
      if (div != 0) {
        floordiv = std::floor(div);
        if (div - floordiv > 0.5) floordiv += 1.0;
      } else {
        floordiv = std::copysign(0.0, a / b);
      }
      return Value::floating(floordiv);
    }
    case BinOp::pow:
      if (a == 0 && b < 0) throw_error("ZeroDivisionError", "0.0 cannot be raised to a negative power");
      if (a < 0 && b != std::floor(b)) value_error("complex results are not supported");
      if (double r = std::pow(a, b); std::isinf(r) && std::isfinite(a) && std::isfinite(b)) {
        throw_error("OverflowError", "(34, 'Numerical result out of range')");
      } else {
        return Value::floating(r);
      }
  }
  return Value::none();
}

Value int_op(BinOp op, int64_t a, int64_t b) {
  switch (op) {
    case BinOp::add: return Value::integer(add_checked(a, b));
    case BinOp::sub: return Value::integer(sub_checked(a, b));
    case BinOp::mul: return Value::integer(mul_checked(a, b));
    case BinOp::div:
      if (b == 0) throw_error("ZeroDivisionError", "division by zero");
      return Value::floating(static_cast<double>(a) / static_cast<double>(b));
    case BinOp::floordiv: {
      if (b == 0) throw_error("ZeroDivisionError", "integer division or modulo by zero");
      if (a == INT64_MIN && b == -1) overflow();
      int64_t q = a / b;
      if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
      return Value::integer(q);
    }
    case BinOp::mod: {
      if (b == 0) throw_error("ZeroDivisionError", "integer modulo by zero");
      if (b == -1) return Value::integer(0);
      int64_t m = a % b;
      if (m != 0 && ((m < 0) != (b < 0))) m += b;
      return Value::integer(m);
    }
    case BinOp::pow: return int_pow(a, b);
  }
  return Value::none();
}

Value repeat(const Value& seq, int64_t n, size_t max_size) {
  if (n < 0) n = 0;
  if (seq.is_string()) {
    const std::string& s = seq.as_string();
    if (!s.empty() && static_cast<uint64_t>(n) > max_size / s.size())
      throw_error("MemoryError", "string repetition exceeds the output limit");
    std::string out;
    out.reserve(s.size() * n);
    for (int64_t i = 0; i < n; ++i) out += s;
    return seq.is_markup() ? Value::markup(std::move(out)) : Value::string(std::move(out));
  }
  const ValueList& items = seq.as_list();
  if (!items.empty() && static_cast<uint64_t>(n) > max_size / sizeof(Value) / items.size())
    throw_error("MemoryError", "list repetition exceeds the output limit");
  ValueList out;
  out.reserve(items.size() * n);
  for (int64_t i = 0; i < n; ++i) out.insert(out.end(), items.begin(), items.end());
  return seq.is_list() ? Value::list(std::move(out)) : Value::tuple(std::move(out));
}

bool is_sequence_value(const Value& v) { return v.is_string() || v.is_list() || v.is_tuple(); }

int64_t normalize_index(int64_t i, int64_t n) { return i < 0 ? i + n : i; }

}  // namespace

Value binary_op(BinOp op, const Value& a, const Value& b, size_t max_size) {
  if (op == BinOp::mod && a.is_string()) {  // str.__mod__ accepts anything, even Undefined
    if (a.is_markup()) return Value::markup(percent_format(a.as_string(), b, true));
    return Value::string(percent_format(a.as_string(), b));
  }
  if (a.is_undefined()) fail_undefined(a);
  if (b.is_undefined()) fail_undefined(b);
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return float_op(op, a.as_float(), b.as_float());
    return int_op(op, a.as_int(), b.as_int());
  }
  switch (op) {
    case BinOp::add: {
      if (a.kind() == b.kind() && (a.is_string() || a.is_list() || a.is_tuple())) {
        if (a.is_string()) {
          if (a.as_string().size() + b.as_string().size() > max_size)
            throw_error("MemoryError", "string exceeds the output limit");
          if (a.is_markup()) return Value::markup(a.as_string() + escape_value(b).as_string());
          if (b.is_markup()) return Value::markup(escape_value(a).as_string() + b.as_string());
          return Value::string(a.as_string() + b.as_string());
        }
        if ((a.as_list().size() + b.as_list().size()) * sizeof(Value) > max_size)
          throw_error("MemoryError", "list exceeds the output limit");
        ValueList out = a.as_list();
        out.insert(out.end(), b.as_list().begin(), b.as_list().end());
        return a.is_list() ? Value::list(std::move(out)) : Value::tuple(std::move(out));
      }
      if ((a.is_string() && !a.is_markup()) || a.is_list() || a.is_tuple())
        type_error(std::string("can only concatenate ") + type_name(a) + " (not \"" + type_name(b) + "\") to " +
                   type_name(a));
      unsupported(op, a, b);
    }
    case BinOp::mul:
      if (is_sequence_value(a) && b.is_integral()) return repeat(a, b.as_int(), max_size);
      if (is_sequence_value(b) && a.is_integral()) return repeat(b, a.as_int(), max_size);
      if (a.is_markup())
        type_error(std::string("'") + type_name(b) + "' object cannot be interpreted as an integer");
      if (is_sequence_value(a) || is_sequence_value(b))
        type_error(std::string("can't multiply sequence by non-int of type '") +
                   type_name(is_sequence_value(a) ? b : a) + "'");
      unsupported(op, a, b);
    case BinOp::mod:
      unsupported(op, a, b);
    default:
      unsupported(op, a, b);
  }
}

Value unary_op(bool negate, const Value& v) {
  if (v.is_undefined()) fail_undefined(v);
  if (v.is_float()) return Value::floating(negate ? -v.as_float() : v.as_float());
  if (v.is_integral()) {
    int64_t i = v.as_int();
    if (!negate) return Value::integer(i);
    if (i == INT64_MIN) overflow();
    return Value::integer(-i);
  }
  type_error(std::string("bad operand type for unary ") + (negate ? "-" : "+") + ": '" + type_name(v) + "'");
}

bool contains(const Value& c, const Value& item) {
  switch (c.kind()) {
    case Kind::undefined: return false;
    case Kind::string:
      if (!item.is_string())
        type_error(std::string("'in <string>' requires string as left operand, not ") + type_name(item));
      return c.as_string().find(item.as_string()) != std::string::npos;
    case Kind::list: case Kind::tuple:
      for (const auto& x : c.as_list())
        if (equals(x, item)) return true;
      return false;
    case Kind::dict:
      if (item.is_list() || item.is_dict()) type_error(std::string("unhashable type: '") + type_name(item) + "'");
      return c.as_dict().find(item) != nullptr;
    case Kind::iterator: {
      IterData& it = c.as_iter();
      for (size_t i = it.single_pass() ? it.pos : 0; i < it.items.size(); ++i) {
        if (equals(it.items[i], item)) {
          if (it.single_pass()) it.pos = i + 1;
          return true;
        }
      }
      if (it.single_pass()) it.pos = it.items.size();
      return false;
    }
    default:
      type_error(std::string("argument of type '") + type_name(c) + "' is not iterable");
  }
}

Items iterate(const Value& v) {
  switch (v.kind()) {
    case Kind::undefined: return Items(std::make_shared<const ValueList>());
    case Kind::list: case Kind::tuple: return Items(v.list_ptr());
    case Kind::string: {
      ValueList out;
      const std::string& s = v.as_string();
      for (size_t i = 0; i < s.size();) {
        size_t j = i;
        unicode::decode(s, j);
        out.push_back(Value::string(s.substr(i, j - i)));
        i = j;
      }
      return Items(std::make_shared<const ValueList>(std::move(out)));
    }
    case Kind::dict: {
      ValueList out;
      out.reserve(v.as_dict().size());
      for (const auto& kv : v.as_dict().items()) out.push_back(kv.first);
      return Items(std::make_shared<const ValueList>(std::move(out)));
    }
    case Kind::iterator: {
      IterData& it = v.as_iter();
      if (!it.single_pass()) return Items(std::make_shared<const ValueList>(it.items));
      ValueList out(it.items.begin() + it.pos, it.items.end());
      it.pos = it.items.size();
      if (it.deferred) throw *it.deferred;
      return Items(std::make_shared<const ValueList>(std::move(out)));
    }
    default:
      type_error(std::string("'") + type_name(v) + "' object is not iterable");
  }
}

int64_t py_len(const Value& v) {
  switch (v.kind()) {
    case Kind::undefined: return 0;
    case Kind::string: return static_cast<int64_t>(unicode::length(v.as_string()));
    case Kind::list: case Kind::tuple: return static_cast<int64_t>(v.as_list().size());
    case Kind::dict: return static_cast<int64_t>(v.as_dict().size());
    case Kind::iterator:
      if (!v.as_iter().single_pass()) return static_cast<int64_t>(v.as_iter().items.size());
      break;
    default: break;
  }
  type_error(std::string("object of type '") + type_name(v) + "' has no len()");
}

std::optional<Value> subscript(const Value& obj, const Value& key) {
  switch (obj.kind()) {
    case Kind::dict: {
      if (key.is_list() || key.is_dict()) return std::nullopt;
      const Value* v = obj.as_dict().find(key);
      return v ? std::optional<Value>(*v) : std::nullopt;
    }
    case Kind::list: case Kind::tuple: {
      if (!key.is_integral()) return std::nullopt;
      const ValueList& items = obj.as_list();
      int64_t i = normalize_index(key.as_int(), static_cast<int64_t>(items.size()));
      if (i < 0 || i >= static_cast<int64_t>(items.size())) return std::nullopt;
      return items[i];
    }
    case Kind::string: {
      if (!key.is_integral()) return std::nullopt;
      const std::string& s = obj.as_string();
      if (unicode::is_ascii(s)) {
        int64_t i = normalize_index(key.as_int(), static_cast<int64_t>(s.size()));
        if (i < 0 || i >= static_cast<int64_t>(s.size())) return std::nullopt;
        return obj.is_markup() ? Value::markup(s.substr(i, 1)) : Value::string(s.substr(i, 1));
      }
      auto off = unicode::offsets(s);
      int64_t n = static_cast<int64_t>(off.size()) - 1;
      int64_t i = normalize_index(key.as_int(), n);
      if (i < 0 || i >= n) return std::nullopt;
      std::string c = s.substr(off[i], off[i + 1] - off[i]);
      return obj.is_markup() ? Value::markup(std::move(c)) : Value::string(std::move(c));
    }
    case Kind::iterator: {
      const IterData& it = obj.as_iter();
      if (it.kind != IterKind::range || !key.is_integral()) return std::nullopt;
      int64_t i = normalize_index(key.as_int(), static_cast<int64_t>(it.items.size()));
      if (i < 0 || i >= static_cast<int64_t>(it.items.size())) return std::nullopt;
      return it.items[i];
    }
    default:
      return std::nullopt;
  }
}

std::optional<Value> slice(const Value& obj, const Value& start_v, const Value& stop_v, const Value& step_v) {
  for (const Value* v : {&start_v, &stop_v, &step_v})
    if (!v->is_none() && !v->is_integral()) return std::nullopt;
  bool is_range = obj.is_iter() && obj.as_iter().kind == IterKind::range;
  if (!obj.is_string() && !obj.is_list() && !obj.is_tuple() && !is_range) return std::nullopt;
  int64_t step = step_v.is_none() ? 1 : step_v.as_int();
  if (step == 0) value_error("slice step cannot be zero");
  std::vector<size_t> off;
  int64_t n;
  bool ascii = obj.is_string() && unicode::is_ascii(obj.as_string());
  if (obj.is_string()) {
    if (!ascii) off = unicode::offsets(obj.as_string());
    n = ascii ? static_cast<int64_t>(obj.as_string().size()) : static_cast<int64_t>(off.size()) - 1;
  } else {
    n = static_cast<int64_t>(is_range ? obj.as_iter().items.size() : obj.as_list().size());
  }
  auto adjust = [&](const Value& v, int64_t dflt) {
    if (v.is_none()) return dflt;
    int64_t i = v.as_int();
    if (i < 0) {
      i += n;
      if (i < 0) i = step < 0 ? -1 : 0;
    } else if (i >= n) {
      i = step < 0 ? n - 1 : n;
    }
    return i;
  };
  int64_t start = adjust(start_v, step < 0 ? n - 1 : 0);
  int64_t stop = adjust(stop_v, step < 0 ? -1 : n);
  std::vector<int64_t> idx;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) idx.push_back(i);
  if (obj.is_string()) {
    const std::string& s = obj.as_string();
    if (step == 1 && !idx.empty()) {
      size_t a = ascii ? idx.front() : off[idx.front()];
      size_t b = ascii ? idx.back() + 1 : off[idx.back() + 1];
      std::string r = s.substr(a, b - a);
      return obj.is_markup() ? Value::markup(std::move(r)) : Value::string(std::move(r));
    }
    std::string out;
    for (int64_t i : idx) {
      if (ascii) out.push_back(s[i]);
      else out.append(s, off[i], off[i + 1] - off[i]);
    }
    return obj.is_markup() ? Value::markup(std::move(out)) : Value::string(std::move(out));
  }
  const ValueList& items = is_range ? obj.as_iter().items : obj.as_list();
  ValueList out;
  out.reserve(idx.size());
  for (int64_t i : idx) out.push_back(items[i]);
  if (is_range) {  // range(...)[a:b:c] is again a range
    const IterData& r = obj.as_iter();
    IterData it;
    it.kind = IterKind::range;
    it.items = std::move(out);
    it.range_start = r.range_start + start * r.range_step;
    it.range_stop = r.range_start + stop * r.range_step;
    it.range_step = r.range_step * step;
    return Value::iter(std::move(it));
  }
  return obj.is_list() ? Value::list(std::move(out)) : Value::tuple(std::move(out));
}

}  // namespace uma::text::jinja
