// The node walk and the restricted functions of trace.h (trace_depth lives
// with eval, in eval.cpp).
#include "uma/core/transforms/trace.h"

#include "uma/core/primitive.h"

namespace uma::detail {

std::vector<array> dependent_nodes(const std::vector<array>& outputs, std::unordered_set<uintptr_t>& seeds,
                                   const std::function<bool(const array&, int)>& follows,
                                   const std::function<bool(const array&)>& is_leaf) {
  std::unordered_set<uintptr_t> done(seeds.begin(), seeds.end());
  std::vector<array> tape;
  struct Frame {
    array a;
    size_t next;
  };
  std::vector<Frame> stack;
  auto visit = [&](const array& a) {
    if (done.count(a.id())) return;
    done.insert(a.id());
    if (!a.has_primitive() || (is_leaf && is_leaf(a))) return;
    for (auto& s : a.siblings()) done.insert(s.id());
    stack.push_back({a, 0});
  };
  auto counts = [&](const array& a, size_t i) { return !follows || follows(a, int(i)); };
  for (auto& o : outputs) {
    visit(o);
    while (!stack.empty()) {
      Frame& f = stack.back();
      const auto& inputs = f.a.inputs();
      if (f.next < inputs.size()) {
        size_t i = f.next++;
        if (!counts(f.a, i)) continue;
        array in = inputs[i];
        visit(in);  // may reallocate `stack`
        continue;
      }
      array a = f.a;
      stack.pop_back();
      bool dep = false;
      for (size_t i = 0; i < inputs.size() && !dep; ++i) dep = counts(a, i) && seeds.count(inputs[i].id());
      if (!dep) continue;
      for (auto& o2 : a.outputs()) seeds.insert(o2.id());
      tape.push_back(a);
    }
  }
  return tape;
}

std::pair<ArrayFn, std::vector<array>> restricted(ArrayFn fun, const std::vector<array>& inputs,
                                                  const std::vector<int>& argnums) {
  std::vector<array> picked;
  for (int i : argnums) picked.push_back(inputs[i]);
  ArrayFn f = [fun = std::move(fun), inputs, argnums](const std::vector<array>& xs) {
    std::vector<array> all = inputs;
    for (size_t k = 0; k < argnums.size(); ++k) all[argnums[k]] = xs[k];
    return fun(all);
  };
  return {std::move(f), std::move(picked)};
}

}  // namespace uma::detail
