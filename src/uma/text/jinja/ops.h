// Python operators and protocols on template values: arithmetic, `in`,
// iteration, len(), subscripts and slices.
#pragma once

#include <memory>
#include <optional>

#include "uma/text/jinja/ast.h"
#include "uma/text/jinja/value.h"

namespace uma::text::jinja {

// a op b; strings and lists built by * and + are limited to max_size bytes/items.
Value binary_op(BinOp op, const Value& a, const Value& b, size_t max_size);
Value unary_op(bool negate, const Value& v);
bool contains(const Value& container, const Value& item);  // item in container
// The items of iter(v), shared with v where possible. Range-for over a
// temporary Items is safe (`for (x : iterate(v))`); never over `*iterate(v)`.
class Items {
 public:
  explicit Items(std::shared_ptr<const ValueList> p) : p_(std::move(p)) {}
  ValueList::const_iterator begin() const { return p_->begin(); }
  ValueList::const_iterator end() const { return p_->end(); }
  const ValueList& operator*() const { return *p_; }
  const ValueList* operator->() const { return p_.get(); }
  const std::shared_ptr<const ValueList>& ptr() const { return p_; }

 private:
  std::shared_ptr<const ValueList> p_;
};

// iter(v) materialized; consumes generators. Undefined iterates as empty.
Items iterate(const Value& v);
int64_t py_len(const Value& v);
// obj[key]; nullopt where Python raises TypeError or LookupError.
std::optional<Value> subscript(const Value& obj, const Value& key);
// obj[start:stop:step] for str, list, tuple and range; nullopt if not sliceable.
std::optional<Value> slice(const Value& obj, const Value& start, const Value& stop, const Value& step);

}  // namespace uma::text::jinja
