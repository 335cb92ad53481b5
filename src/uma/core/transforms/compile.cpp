// compile: trace once per signature into a Program (transforms/program.h:
// nodes referring to inputs, constants and earlier nodes), simplify it, and
// replay it on later calls. Simplification: arrays that do not depend on the
// inputs are evaluated once at trace time (constant folding); equivalent
// primitives on the same inputs are merged (common subexpressions); chains
// of elementwise float primitives of one shape become one Compiled node.
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "uma/core/compile.h"
#include "uma/core/primitive.h"
#include "uma/core/primitives/compiled.h"
#include "uma/core/transforms/program.h"

namespace uma {

namespace {

using detail::Program;
using detail::Ref;
using detail::TapeNode;

std::atomic<bool>& enabled_flag() {
  static std::atomic<bool> on{[] {
    const char* v = std::getenv("UMA_DISABLE_COMPILE");
    return !(v && *v && std::string(v) != "0");
  }()};
  return on;
}

// --- simplification

const Shape& ref_shape(const Program& p, const std::vector<array>& inputs, const Ref& r) {
  if (r.kind == Ref::input) return inputs[r.index].shape();
  if (r.kind == Ref::constant) return p.constants[r.index].shape();
  return p.nodes[r.index].shapes[r.output];
}

Dtype ref_dtype(const Program& p, const std::vector<array>& inputs, const Ref& r) {
  if (r.kind == Ref::input) return inputs[r.index].dtype();
  if (r.kind == Ref::constant) return p.constants[r.index].dtype();
  return p.nodes[r.index].dtypes[r.output];
}

// Keeps the nodes the outputs need, in order, renumbering references.
void drop_dead(Program& p) {
  std::vector<bool> live(p.nodes.size(), false);
  for (auto& r : p.outputs) {
    if (r.kind == Ref::node) live[r.index] = true;
  }
  for (size_t i = p.nodes.size(); i-- > 0;) {
    if (!live[i]) continue;
    for (auto& r : p.nodes[i].inputs) {
      if (r.kind == Ref::node) live[r.index] = true;
    }
  }
  std::vector<int> renum(p.nodes.size(), -1);
  std::vector<TapeNode> kept;
  for (size_t i = 0; i < p.nodes.size(); ++i) {
    if (!live[i]) continue;
    renum[i] = int(kept.size());
    kept.push_back(std::move(p.nodes[i]));
  }
  auto fix = [&](Ref& r) {
    if (r.kind == Ref::node) r.index = renum[r.index];
  };
  for (auto& n : kept) {
    for (auto& r : n.inputs) fix(r);
  }
  for (auto& r : p.outputs) fix(r);
  p.nodes = std::move(kept);
}

// Merges nodes whose primitives are equivalent and whose inputs are the same.
void merge_common(Program& p) {
  std::vector<int> same(p.nodes.size());
  std::map<std::pair<std::string, size_t>, std::vector<int>> buckets;
  auto fix = [&](Ref& r) {
    if (r.kind == Ref::node) r.index = same[r.index];
  };
  for (size_t i = 0; i < p.nodes.size(); ++i) {
    TapeNode& n = p.nodes[i];
    for (auto& r : n.inputs) fix(r);
    same[i] = int(i);
    size_t h = n.inputs.size();
    for (auto& r : n.inputs) h = h * 1000003u + size_t(r.kind) * 7919u + size_t(r.index) * 31u + size_t(r.output);
    auto& bucket = buckets[{n.prim->name(), h}];
    for (int j : bucket) {
      const TapeNode& m = p.nodes[j];
      if (m.inputs == n.inputs && m.shapes == n.shapes && m.dtypes == n.dtypes && m.prim->is_equivalent(*n.prim)) {
        same[i] = j;
        break;
      }
    }
    if (same[i] == int(i)) bucket.push_back(int(i));
  }
  for (auto& r : p.outputs) fix(r);
  drop_dead(p);
}

const std::map<std::string, FusedOp>& fusible_ops() {
  static const std::map<std::string, FusedOp> ops = [] {
    std::map<std::string, FusedOp> m;
    for (int i = 0; i < num_fused_ops; ++i) m.emplace(fused_op_name(FusedOp(i)), FusedOp(i));
    return m;
  }();
  return ops;
}

bool is_half_or_float(Dtype t) { return t == float32 || t == float16 || t == bfloat16; }

// Whether node i can be a step: a listed elementwise primitive on CPU, float
// output, float operands (a bool condition for Select), all of its shape.
bool fusible(const Program& p, const std::vector<array>& inputs, size_t i) {
  const TapeNode& n = p.nodes[i];
  if (n.shapes.size() != 1 || n.prim->device().type != Device::cpu) return false;
  if (!fusible_ops().count(n.prim->name()) || !is_half_or_float(n.dtypes[0])) return false;
  bool select = std::string(n.prim->name()) == "Select";
  for (size_t k = 0; k < n.inputs.size(); ++k) {
    const Ref& r = n.inputs[k];
    Dtype t = ref_dtype(p, inputs, r);
    if (!(is_half_or_float(t) || (select && k == 0 && t == bool_))) return false;
    if (ref_shape(p, inputs, r) != n.shapes[0]) return false;
  }
  return true;
}

// Groups of fusible nodes: group[i] is node i's group (-1: not fusible),
// members[g] its nodes by index.
struct Grouping {
  std::vector<int> group;
  std::map<int, std::vector<int>> members;
};

// Whether `set` (node indices; `in_set` marks them) can run as one unit: no
// path of dependencies leaves the set and comes back to it, where a group
// runs as one unit too (it needs what any of its members needs). Only nodes
// from `bound` on can lie on such a path: the set's first index, lowered to
// the first member of any other group that reaches past it (a path enters
// indices below that only through nodes and groups that end before the set
// begins). `seen`: scratch of p.nodes.size() zeros, left zero.
bool closed(const Program& p, const Grouping& gr, const std::vector<int>& set, const std::vector<char>& in_set,
            std::vector<char>& seen) {
  const int lo = *std::min_element(set.begin(), set.end());
  int bound = lo;
  for (const auto& [g, ms] : gr.members) {
    if (ms.size() > 1 && !in_set[ms[0]] && ms.back() > lo) bound = std::min(bound, ms.front());
  }
  std::vector<int> stack, touched;
  auto push = [&](int u) {
    if (u >= bound && !seen[u]) {
      seen[u] = 1;
      touched.push_back(u);
      stack.push_back(u);
    }
  };
  for (int m : set) {
    for (auto& r : p.nodes[m].inputs) {
      if (r.kind == Ref::node && !in_set[r.index]) push(r.index);
    }
  }
  bool ok = true;
  while (ok && !stack.empty()) {
    int u = stack.back();
    stack.pop_back();
    if (gr.group[u] >= 0) {
      for (int m : gr.members.at(gr.group[u])) push(m);
    }
    for (auto& r : p.nodes[u].inputs) {
      if (r.kind != Ref::node) continue;
      if (in_set[r.index]) {
        ok = false;
        break;
      }
      push(r.index);
    }
  }
  for (int u : touched) seen[u] = 0;
  return ok;
}

// Groups fusible nodes and replaces each group of two or more by one
// Compiled node. In topological order, a node joins its operands' groups,
// merging them, when the result stays closed (see closed()); else the first
// of those groups it can join alone; else it starts a group.
void fuse(Program& p, const std::vector<array>& inputs) {
  const size_t n = p.nodes.size();
  Grouping gr{std::vector<int>(n, -1), {}};
  std::vector<char> in_set(n, 0), seen(n, 0);
  auto try_join = [&](const std::vector<int>& groups, int i) {
    std::vector<int> set{i};
    for (int g : groups) set.insert(set.end(), gr.members[g].begin(), gr.members[g].end());
    for (int m : set) in_set[m] = 1;
    bool ok = closed(p, gr, set, in_set, seen);
    for (int m : set) in_set[m] = 0;
    if (!ok) return false;
    for (int m : set) gr.group[m] = groups[0];
    for (size_t k = 1; k < groups.size(); ++k) gr.members.erase(groups[k]);
    std::sort(set.begin(), set.end());
    gr.members[groups[0]] = std::move(set);
    return true;
  };
  for (size_t i = 0; i < n; ++i) {
    if (!fusible(p, inputs, i)) continue;
    std::vector<int> operand_groups;
    for (auto& r : p.nodes[i].inputs) {
      if (r.kind != Ref::node || gr.group[r.index] < 0) continue;
      int g = gr.group[r.index];
      if (std::find(operand_groups.begin(), operand_groups.end(), g) == operand_groups.end()) {
        operand_groups.push_back(g);
      }
    }
    bool joined = !operand_groups.empty() && try_join(operand_groups, int(i));
    for (size_t k = 0; !joined && operand_groups.size() > 1 && k < operand_groups.size(); ++k) {
      joined = try_join({operand_groups[k]}, int(i));
    }
    if (!joined) {
      gr.group[i] = int(i);
      gr.members[int(i)] = {int(i)};
    }
  }
  const std::vector<int>& group = gr.group;
  std::map<int, std::vector<int>>& members = gr.members;
  // Units in topological order: a group is emitted where it can first run.
  std::vector<int> unit(n);
  for (size_t i = 0; i < n; ++i) unit[i] = (group[i] >= 0 && members[group[i]].size() > 1) ? group[i] : int(i);
  std::map<int, std::vector<int>> unit_members;
  for (size_t i = 0; i < n; ++i) unit_members[unit[i]].push_back(int(i));
  std::vector<int> order;
  std::unordered_set<int> done;
  std::function<void(int)> emit = [&](int u) {
    if (!done.insert(u).second) return;
    for (int m : unit_members[u]) {
      for (auto& r : p.nodes[m].inputs) {
        if (r.kind == Ref::node && unit[r.index] != u) emit(unit[r.index]);
      }
    }
    order.push_back(u);
  };
  for (auto& r : p.outputs) {
    if (r.kind == Ref::node) emit(unit[r.index]);
  }
  // Which members are read outside their unit (or are outputs).
  std::vector<bool> external_use(n, false);
  for (size_t i = 0; i < n; ++i) {
    for (auto& r : p.nodes[i].inputs) {
      if (r.kind == Ref::node && unit[r.index] != unit[i]) external_use[r.index] = true;
    }
  }
  for (auto& r : p.outputs) {
    if (r.kind == Ref::node) external_use[r.index] = true;
  }
  std::vector<TapeNode> out;
  std::map<std::pair<int, int>, Ref> renum;  // (old node, output) -> new ref
  auto remap = [&](const Ref& r) { return r.kind == Ref::node ? renum.at({r.index, r.output}) : r; };
  for (int u : order) {
    const auto& ms = unit_members[u];
    if (ms.size() == 1) {
      TapeNode t = p.nodes[ms[0]];
      for (auto& r : t.inputs) r = remap(r);
      for (size_t k = 0; k < t.shapes.size(); ++k) renum[{ms[0], int(k)}] = Ref{Ref::node, int(out.size()), int(k)};
      out.push_back(std::move(t));
      continue;
    }
    TapeNode t;
    std::map<int, int> slot_of_member;
    std::vector<Compiled::Step> steps;
    std::vector<int> output_slots;
    auto slot_of = [&](const Ref& r) {
      if (r.kind == Ref::node && unit[r.index] == u) return slot_of_member.at(r.index);
      Ref nr = remap(r);
      for (size_t k = 0; k < t.inputs.size(); ++k) {
        if (t.inputs[k] == nr) return int(k);
      }
      t.inputs.push_back(nr);
      return int(t.inputs.size()) - 1;
    };
    // Inputs first (slots [0, num_inputs)), then the steps.
    for (int m : ms) {
      for (auto& r : p.nodes[m].inputs) {
        if (!(r.kind == Ref::node && unit[r.index] == u)) slot_of(r);
      }
    }
    const int nin = int(t.inputs.size());
    for (int m : ms) {
      const TapeNode& node = p.nodes[m];
      Compiled::Step st{fusible_ops().at(node.prim->name()), node.prim, {}, node.dtypes[0]};
      for (auto& r : node.inputs) st.args.push_back(slot_of(r));
      slot_of_member[m] = nin + int(steps.size());
      steps.push_back(std::move(st));
      if (external_use[m]) {
        renum[{m, 0}] = Ref{Ref::node, int(out.size()), int(output_slots.size())};
        output_slots.push_back(slot_of_member[m]);
        t.shapes.push_back(node.shapes[0]);
        t.dtypes.push_back(node.dtypes[0]);
      }
    }
    t.prim = std::make_shared<Compiled>(p.nodes[ms[0]].prim->stream(), nin, std::move(steps), std::move(output_slots));
    out.push_back(std::move(t));
  }
  for (auto& r : p.outputs) r = remap(r);
  p.nodes = std::move(out);
}

std::string signature(const std::vector<array>& inputs, bool shapeless) {
  std::string key;
  auto put = [&](int64_t v, char sep) {
    key += std::to_string(v);
    key.push_back(sep);
  };
  for (auto& in : inputs) {
    put(int(in.dtype()), ':');
    put(int64_t(in.ndim()), shapeless ? ';' : ',');
    if (!shapeless) {
      for (int d : in.shape()) put(d, ',');
      key.push_back(';');
    }
  }
  return key;
}

struct CompileState {
  ArrayFn fun;
  bool shapeless;
  std::mutex mutex;
  std::unordered_map<std::string, std::shared_ptr<const Program>> cache;
  // Shapeless: per exact signature, whether the shapeless trace takes it.
  std::unordered_map<std::string, bool> takes;
};

std::shared_ptr<const Program> cached_program(CompileState& st, const std::string& key,
                                              const std::vector<array>& inputs) {
  {
    std::lock_guard lock(st.mutex);
    auto it = st.cache.find(key);
    if (it != st.cache.end()) return it->second;
  }
  auto p = std::make_shared<Program>(detail::trace_program(st.fun, inputs));
  merge_common(*p);
  fuse(*p, inputs);
  std::lock_guard lock(st.mutex);
  return st.cache.emplace(key, std::move(p)).first->second;
}

// Whether the shapeless program takes inputs of these exact shapes: each
// node checked once per signature (detail::check_shapeless_node). A trace
// that baked a shape in (a captured array broadcast to the traced inputs'
// shape, folded into a constant; a reshape to a fixed shape) refuses other
// shapes, and those calls get a trace of their own.
bool shapeless_takes(CompileState& st, const Program& prog, const std::string& exact,
                     const std::vector<array>& inputs) {
  {
    std::lock_guard lock(st.mutex);
    auto it = st.takes.find(exact);
    if (it != st.takes.end()) return it->second;
  }
  bool ok = true;
  try {
    detail::replay_program(prog, inputs, true, [&](size_t i, const auto& ins, const auto& shapes) {
      detail::check_shapeless_node(prog.nodes[i], ins, shapes);
    });
  } catch (const std::exception&) {
    ok = false;
  }
  std::lock_guard lock(st.mutex);
  return st.takes.emplace(exact, ok).first->second;
}

}  // namespace

ArrayFn compile(ArrayFn fun, bool shapeless) {
  auto state = std::make_shared<CompileState>();
  state->fun = std::move(fun);
  state->shapeless = shapeless;
  return [state](const std::vector<array>& inputs) {
    if (!compile_enabled()) return state->fun(inputs);
    std::shared_ptr<const Program> prog = cached_program(*state, signature(inputs, state->shapeless), inputs);
    if (state->shapeless) {
      const std::string exact = signature(inputs, false);
      if (!shapeless_takes(*state, *prog, exact, inputs)) {
        return detail::replay_program(*cached_program(*state, exact, inputs), inputs, false);
      }
    }
    try {
      return detail::replay_program(*prog, inputs, state->shapeless);
    } catch (const not_implemented& e) {
      throw std::invalid_argument(std::string("[compile] shapeless replay failed: ") + e.what());
    }
  };
}

void disable_compile() { enabled_flag().store(false); }
void enable_compile() { enabled_flag().store(true); }
bool compile_enabled() { return enabled_flag().load(); }

}  // namespace uma
