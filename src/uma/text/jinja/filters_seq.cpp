// Jinja2's sequence filters. Those that are generators in Jinja2 (map,
// select, unique, batch, ...) return single-pass iterators here too, so that
// `|tojson` and `|length` on them fail the same way; their errors surface
// when the result is consumed, as with Python's lazy generators.
#include <algorithm>
#include <cmath>
#include <random>
#include <unordered_set>

#include "uma/text/jinja/filters_impl.h"
#include "uma/text/jinja/ops.h"
#include "uma/text/jinja/unicode.h"

namespace uma::text::jinja {

std::vector<Value> attribute_parts(const Value& attribute) {
  if (attribute.is_none()) return {};
  if (!attribute.is_string()) return {attribute};
  std::vector<Value> parts;
  const std::string& s = attribute.as_string();
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    std::string part = s.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    bool digits = !part.empty() && part.find_first_not_of("0123456789") == std::string::npos;
    parts.push_back(digits && part.size() < 18 ? Value::integer(std::stoll(part)) : Value::string(part));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return parts;
}

Value get_attribute(Interpreter& in, Value item, const std::vector<Value>& parts) {
  for (const Value& p : parts) item = in.getitem(item, p);
  return item;
}

namespace {

template <class F>
Value generator(F&& produce) {
  IterData it;
  it.kind = IterKind::generator;
  try {
    produce(it.items);
  } catch (JinjaError& e) {
    it.deferred = std::make_shared<JinjaError>(e);
  }
  return Value::iter(std::move(it));
}

Value ignore_case(const Value& v) { return v.is_string() ? Value::string(unicode::lower(v.as_string())) : v; }

// A key getter: attribute lookup, optional default for undefined parts, optional lowercasing.
struct KeyGetter {
  std::vector<Value> parts;
  bool lower = false;
  const Value* dflt = nullptr;
  Value operator()(Interpreter& in, Value item) const {
    for (const Value& p : parts) {
      item = in.getitem(item, p);
      if (dflt && !dflt->is_none() && item.is_undefined()) item = *dflt;
    }
    return lower ? ignore_case(item) : item;
  }
};

Value f_length(Interpreter&, const Value& v, CallArgs& a) {
  Params p("length", a, {});
  return Value::integer(py_len(v));
}

Value f_list(Interpreter&, const Value& v, CallArgs& a) {
  Params p("list", a, {});
  return Value::list(*iterate(v));
}

Value f_first(Interpreter&, const Value& v, CallArgs& a) {
  Params p("first", a, {});
  if (v.is_iter() && v.as_iter().single_pass()) {
    IterData& it = v.as_iter();
    if (it.pos < it.items.size()) return it.items[it.pos++];
    if (it.deferred) throw *it.deferred;
  } else {
    auto items = iterate(v);
    if (!items->empty()) return items->front();
  }
  return Value::undefined("No first item, sequence was empty.");
}

Value f_last(Interpreter&, const Value& v, CallArgs& a) {
  Params p("last", a, {});
  if ((v.is_iter() && v.as_iter().single_pass()) || (!v.is_undefined() && !v.is_string() && !v.is_sequence() &&
                                                     !v.is_dict() && !v.is_iter()))
    type_error(std::string("'") + type_name(v) + "' object is not reversible");
  auto items = iterate(v);
  if (!items->empty()) return items->back();
  return Value::undefined("No last item, sequence was empty.");
}

Value f_join(Interpreter& in, const Value& v, CallArgs& a) {
  Params p("join", a, {"d", "attribute"});
  std::string sep = p.get(0) ? to_str(*p.get(0)) : "";
  KeyGetter key;
  if (p.get(1) && !p.get(1)->is_none()) key.parts = attribute_parts(*p.get(1));
  std::string out;
  bool first = true;
  for (const Value& item : iterate(v)) {
    if (!first) out += sep;
    first = false;
    Value x = key.parts.empty() ? item : key(in, item);
    out += x.is_string() ? x.as_string() : to_str(x);
    in.check_size(out.size());
  }
  return Value::string(std::move(out));
}

Value f_map(Interpreter& in, const Value& v, CallArgs& a) {
  return generator([&](ValueList& out) {
    if (!truthy(v)) return;
    CallArgs rest = a;
    const Value* attribute = nullptr;
    for (const auto& kv : rest.kwargs)
      if (kv.first == "attribute") attribute = &kv.second;
    if (rest.args.empty() && attribute) {
      KeyGetter key;
      key.parts = attribute_parts(*attribute);
      for (const auto& kv : rest.kwargs) {
        if (kv.first == "default") key.dflt = &kv.second;
        else if (kv.first != "attribute")
          throw_error("FilterArgumentError", "Unexpected keyword argument '" + kv.first + "'");
      }
      for (const Value& item : iterate(v)) out.push_back(key(in, item));
      return;
    }
    if (rest.args.empty()) throw_error("FilterArgumentError", "map requires a filter argument");
    std::string name = to_str(rest.args[0]);
    rest.args.erase(rest.args.begin());
    if (!has_filter(name)) runtime_error("No filter named '" + name + "'.");
    for (const Value& item : iterate(v)) {
      CallArgs call = rest;
      out.push_back(apply_filter(in, name, item, call));
    }
  });
}

Value select_or_reject(Interpreter& in, const Value& v, CallArgs& a, bool keep, bool by_attr) {
  return generator([&](ValueList& out) {
    if (!truthy(v)) return;
    KeyGetter key;
    size_t off = 0;
    if (by_attr) {
      if (a.args.empty()) throw_error("FilterArgumentError", "Missing parameter for attribute name");
      key.parts = attribute_parts(a.args[0]);
      off = 1;
    }
    std::optional<std::string> test;
    CallArgs rest;
    if (a.args.size() > off) {
      test = to_str(a.args[off]);
      rest.args.assign(a.args.begin() + off + 1, a.args.end());
      rest.kwargs = a.kwargs;
      if (!has_test(*test)) runtime_error("No test named '" + *test + "'.");
    }
    for (const Value& item : iterate(v)) {
      Value x = by_attr ? key(in, item) : item;
      bool ok;
      if (test) {
        CallArgs call = rest;
        ok = apply_test(in, *test, x, call);
      } else {
        ok = truthy(x);
      }
      if (ok == keep) out.push_back(item);
    }
  });
}

Value f_select(Interpreter& in, const Value& v, CallArgs& a) { return select_or_reject(in, v, a, true, false); }
Value f_reject(Interpreter& in, const Value& v, CallArgs& a) { return select_or_reject(in, v, a, false, false); }
Value f_selectattr(Interpreter& in, const Value& v, CallArgs& a) { return select_or_reject(in, v, a, true, true); }
Value f_rejectattr(Interpreter& in, const Value& v, CallArgs& a) { return select_or_reject(in, v, a, false, true); }

void sort_by_keys(ValueList& items, std::vector<Value>& keys, bool reverse) {
  std::vector<size_t> order(items.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) {
    return reverse ? compare(keys[y], keys[x], "<") : compare(keys[x], keys[y], "<");
  });
  ValueList sorted;
  sorted.reserve(items.size());
  for (size_t i : order) sorted.push_back(items[i]);
  items = std::move(sorted);
}

Value f_sort(Interpreter& in, const Value& v, CallArgs& a) {
  Params p("sort", a, {"reverse", "case_sensitive", "attribute"});
  bool reverse = p.get(0) && truthy(*p.get(0));
  bool case_sensitive = p.get(1) && truthy(*p.get(1));
  ValueList items = *iterate(v);
  std::vector<std::vector<Value>> attrs;
  if (p.get(2) && p.get(2)->is_string()) {
    const std::string& spec = p.get(2)->as_string();
    for (size_t start = 0;;) {
      size_t comma = spec.find(',', start);
      attrs.push_back(attribute_parts(Value::string(spec.substr(start, comma == std::string::npos ? comma : comma - start))));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  } else {
    attrs.push_back(p.get(2) ? attribute_parts(*p.get(2)) : std::vector<Value>{});
  }
  std::vector<Value> keys;
  for (const Value& item : items) {
    ValueList k;
    for (const auto& parts : attrs) {
      Value x = get_attribute(in, item, parts);
      k.push_back(case_sensitive ? x : ignore_case(x));
    }
    keys.push_back(Value::list(std::move(k)));
  }
  sort_by_keys(items, keys, reverse);
  return Value::list(std::move(items));
}

Value f_dictsort(Interpreter&, const Value& v, CallArgs& a) {
  Params p("dictsort", a, {"case_sensitive", "by", "reverse"});
  bool case_sensitive = p.get(0) && truthy(*p.get(0));
  std::string by = p.get(1) ? to_str(*p.get(1)) : "key";
  bool reverse = p.get(2) && truthy(*p.get(2));
  if (by != "key" && by != "value") throw_error("FilterArgumentError", "You can only sort by either \"key\" or \"value\"");
  if (v.is_undefined()) fail_undefined(v);
  if (!v.is_dict()) throw_error("AttributeError", std::string("'") + type_name(v) + "' object has no attribute 'items'");
  ValueList items;
  std::vector<Value> keys;
  for (const auto& [k, x] : v.as_dict().items()) {
    items.push_back(Value::tuple({k, x}));
    const Value& key = by == "key" ? k : x;
    keys.push_back(case_sensitive ? key : ignore_case(key));
  }
  sort_by_keys(items, keys, reverse);
  return Value::list(std::move(items));
}

Value f_unique(Interpreter& in, const Value& v, CallArgs& a) {
  return generator([&](ValueList& out) {
    Params p("unique", a, {"case_sensitive", "attribute"});
    KeyGetter key;
    key.lower = !(p.get(0) && truthy(*p.get(0)));
    if (p.get(1)) key.parts = attribute_parts(*p.get(1));
    ValueList seen_other;                      // keys without a cheap hash (tuples, ...)
    std::unordered_set<std::string> seen;      // scalars, normalized so that 1 == 1.0 == True
    for (const Value& item : iterate(v)) {
      Value k = key(in, item);
      if (k.is_list() || k.is_dict()) type_error(std::string("unhashable type: '") + type_name(k) + "'");
      std::string h;
      if (k.is_string()) h = "s" + k.as_string();
      else if (k.is_none()) h = "n";
      else if (k.is_integral()) h = "i" + std::to_string(k.as_int());
      else if (k.is_float() && std::floor(k.as_float()) == k.as_float() && std::fabs(k.as_float()) < 9e18)
        h = "i" + std::to_string(static_cast<int64_t>(k.as_float()));
      else if (k.is_float()) h = "f" + repr(k);
      bool fresh;
      if (!h.empty()) {
        fresh = seen.insert(std::move(h)).second;
      } else {
        fresh = std::none_of(seen_other.begin(), seen_other.end(), [&](const Value& s) { return equals(s, k); });
        if (fresh) seen_other.push_back(k);
      }
      if (fresh) out.push_back(item);
    }
  });
}

Value min_max(Interpreter& in, const Value& v, CallArgs& a, bool want_max) {
  Params p(want_max ? "max" : "min", a, {"case_sensitive", "attribute"});
  KeyGetter key;
  key.lower = !(p.get(0) && truthy(*p.get(0)));
  if (p.get(1)) key.parts = attribute_parts(*p.get(1));
  auto items = iterate(v);
  if (items->empty()) return Value::undefined("No aggregated item, sequence was empty.");
  size_t best = 0;
  Value best_key = key(in, (*items)[0]);
  for (size_t i = 1; i < items->size(); ++i) {
    Value k = key(in, (*items)[i]);
    if (want_max ? compare(k, best_key, ">") : compare(k, best_key, "<")) {
      best = i;
      best_key = k;
    }
  }
  return (*items)[best];
}

Value f_min(Interpreter& in, const Value& v, CallArgs& a) { return min_max(in, v, a, false); }
Value f_max(Interpreter& in, const Value& v, CallArgs& a) { return min_max(in, v, a, true); }

Value f_sum(Interpreter& in, const Value& v, CallArgs& a) {
  Params p("sum", a, {"attribute", "start"});
  KeyGetter key;
  if (p.get(0) && !p.get(0)->is_none()) key.parts = attribute_parts(*p.get(0));
  Value total = p.get_or(1, Value::integer(0));
  if (total.is_string()) type_error("sum() can't sum strings [use ''.join(seq) instead]");
  for (const Value& item : iterate(v)) total = binary_op(BinOp::add, total, key(in, item), in.config().max_output_bytes);
  return total;
}

Value f_items(Interpreter&, const Value& v, CallArgs& a) {
  return generator([&](ValueList& out) {
    Params p("items", a, {});
    if (v.is_undefined()) return;
    if (!v.is_dict()) type_error("Can only get item pairs from a mapping.");
    for (const auto& [k, x] : v.as_dict().items()) out.push_back(Value::tuple({k, x}));
  });
}

Value f_reverse(Interpreter&, const Value& v, CallArgs& a) {
  Params p("reverse", a, {});
  if (v.is_string()) {
    std::u32string u = unicode::to_u32(v.as_string());
    std::reverse(u.begin(), u.end());
    return Value::string(unicode::to_utf8(u));
  }
  if (v.is_iter() && v.as_iter().single_pass()) {
    ValueList items = *iterate(v);
    std::reverse(items.begin(), items.end());
    return Value::list(std::move(items));
  }
  if (!v.is_undefined() && !v.is_sequence() && !v.is_dict() && !v.is_iter())
    throw_error("FilterArgumentError", "argument must be iterable");
  IterData it;
  it.kind = IterKind::reversed;
  it.items = *iterate(v);
  std::reverse(it.items.begin(), it.items.end());
  return Value::iter(std::move(it));
}

// A count of values to build, against the output limit (a value is ~32 bytes).
bool fill_budget_exceeded(const Interpreter& in, int64_t n) {
  return n > 0 && static_cast<uint64_t>(n) > in.config().max_output_bytes / sizeof(Value);
}

Value f_batch(Interpreter& in, const Value& v, CallArgs& a) {
  return generator([&](ValueList& out) {
    Params p("batch", a, {"linecount", "fill_with"});
    if (!p.get(0)) type_error("do_batch() missing 1 required positional argument: 'linecount'");
    int64_t n = to_index(*p.get(0), "linecount");
    if (fill_budget_exceeded(in, n)) throw_error("MemoryError", "batch size exceeds the output limit");
    const Value* fill = p.get(1) && !p.get(1)->is_none() ? p.get(1) : nullptr;
    ValueList tmp;
    for (const Value& item : iterate(v)) {
      if (static_cast<int64_t>(tmp.size()) == n) {
        out.push_back(Value::list(std::move(tmp)));
        tmp.clear();
      }
      tmp.push_back(item);
    }
    if (!tmp.empty()) {
      while (fill && static_cast<int64_t>(tmp.size()) < n) tmp.push_back(*fill);
      out.push_back(Value::list(std::move(tmp)));
    }
  });
}

Value f_slice(Interpreter& in, const Value& v, CallArgs& a) {
  return generator([&](ValueList& out) {
    Params p("slice", a, {"slices", "fill_with"});
    if (!p.get(0)) type_error("do_slice() missing 1 required positional argument: 'slices'");
    int64_t slices = to_index(*p.get(0), "slices");
    if (fill_budget_exceeded(in, slices)) throw_error("MemoryError", "slice count exceeds the output limit");
    if (slices <= 0) throw_error("ZeroDivisionError", "integer division or modulo by zero");
    const Value* fill = p.get(1) && !p.get(1)->is_none() ? p.get(1) : nullptr;
    auto seq = iterate(v);
    auto length = static_cast<int64_t>(seq->size());
    int64_t per = length / slices, extra = length % slices, offset = 0;
    for (int64_t k = 0; k < slices; ++k) {
      int64_t start = offset + k * per;
      if (k < extra) ++offset;
      int64_t end = offset + (k + 1) * per;
      ValueList tmp(seq->begin() + start, seq->begin() + end);
      if (fill && k >= extra) tmp.push_back(*fill);
      out.push_back(Value::list(std::move(tmp)));
    }
  });
}

Value f_groupby(Interpreter& in, const Value& v, CallArgs& a) {
  Params p("groupby", a, {"attribute", "default", "case_sensitive"});
  if (!p.get(0)) type_error("do_groupby() missing 1 required positional argument: 'attribute'");
  KeyGetter key, out_key;
  key.parts = out_key.parts = attribute_parts(*p.get(0));
  key.dflt = out_key.dflt = p.get(1);
  bool case_sensitive = p.get(2) && truthy(*p.get(2));
  key.lower = !case_sensitive;
  ValueList items = *iterate(v);
  std::vector<Value> keys;
  for (const Value& item : items) keys.push_back(key(in, item));
  sort_by_keys(items, keys, false);
  keys.clear();
  for (const Value& item : items) keys.push_back(key(in, item));
  ValueList groups;
  for (size_t i = 0; i < items.size();) {
    size_t j = i;
    ValueList members;
    while (j < items.size() && equals(keys[j], keys[i])) members.push_back(items[j++]);
    Value grouper = case_sensitive ? keys[i] : out_key(in, members.front());
    groups.push_back(Value::tuple({grouper, Value::list(std::move(members))}));
    i = j;
  }
  return Value::list(std::move(groups));
}

Value f_random(Interpreter&, const Value& v, CallArgs& a) {
  Params p("random", a, {});
  auto items = iterate(v);
  if (items->empty()) return Value::undefined("No random item, sequence was empty.");
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  return (*items)[std::uniform_int_distribution<size_t>(0, items->size() - 1)(rng)];
}

}  // namespace

void add_sequence_filters(FilterTable& t) {
  t["length"] = f_length;
  t["count"] = f_length;
  t["list"] = f_list;
  t["first"] = f_first;
  t["last"] = f_last;
  t["join"] = f_join;
  t["map"] = f_map;
  t["select"] = f_select;
  t["reject"] = f_reject;
  t["selectattr"] = f_selectattr;
  t["rejectattr"] = f_rejectattr;
  t["sort"] = f_sort;
  t["dictsort"] = f_dictsort;
  t["unique"] = f_unique;
  t["min"] = f_min;
  t["max"] = f_max;
  t["sum"] = f_sum;
  t["items"] = f_items;
  t["reverse"] = f_reverse;
  t["batch"] = f_batch;
  t["slice"] = f_slice;
  t["groupby"] = f_groupby;
  t["random"] = f_random;
}

}  // namespace uma::text::jinja
