// export_function / import_function (core/export.h): tracing with the
// program machinery compile uses (transforms/program.h), the file through
// core/io/function_file.h, and picking the trace a call's inputs match.
#include "uma/core/export.h"

#include <sstream>
#include <unordered_map>

#include "uma/core/io/function_file.h"
#include "uma/core/primitive.h"
#include "uma/core/primitives/serialize.h"
#include "uma/core/utils.h"

namespace uma {

namespace {

using io::FunctionFile;
using io::FunctionTrace;

std::vector<TypedShape> types_of(const std::vector<array>& xs) {
  std::vector<TypedShape> ts;
  for (auto& x : xs) ts.push_back({x.shape(), x.dtype()});
  return ts;
}

// Whether an input of type `got` fits a trace's input of type `want`.
bool fits(const TypedShape& want, const TypedShape& got, bool shapeless) {
  if (want.dtype != got.dtype) return false;
  return shapeless ? want.shape.size() == got.shape.size() : want.shape == got.shape;
}

bool fits(const FunctionTrace& t, const std::vector<TypedShape>& args, const std::vector<std::string>& names,
          const std::vector<TypedShape>& kwargs) {
  if (t.args.size() != args.size() || t.kwarg_names != names) return false;
  for (size_t i = 0; i < args.size(); ++i) {
    if (!fits(t.args[i], args[i], t.shapeless)) return false;
  }
  for (size_t i = 0; i < kwargs.size(); ++i) {
    if (!fits(t.kwargs[i], kwargs[i], t.shapeless)) return false;
  }
  return true;
}

std::string type_str(const TypedShape& t, bool shapeless) {
  std::string s = dtype_name(t.dtype);
  if (shapeless) return s + " of rank " + std::to_string(t.shape.size());
  return s + " " + shape_str(t.shape);
}

// "(float32 (2, 3), x: int32 (4))"
std::string signature_str(const std::vector<TypedShape>& args, const std::vector<std::string>& names,
                          const std::vector<TypedShape>& kwargs, bool shapeless) {
  std::vector<std::string> parts;
  for (auto& a : args) parts.push_back(type_str(a, shapeless));
  for (size_t i = 0; i < kwargs.size(); ++i) parts.push_back(names[i] + ": " + type_str(kwargs[i], shapeless));
  std::string s = "(";
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) s += ", ";
    s += parts[i];
  }
  return s + ")";
}

std::vector<std::string> names_of(const Kwargs& kwargs) {
  std::vector<std::string> names;
  for (auto& [k, v] : kwargs) names.push_back(k);
  return names;
}

std::vector<array> values_of(const Kwargs& kwargs) {
  std::vector<array> vs;
  for (auto& [k, v] : kwargs) vs.push_back(v);
  return vs;
}

}  // namespace

// --- export

struct FunctionExporter::State {
  std::string path;
  ArgsKwargsFn fun;
  bool shapeless;
  FunctionFile file;
  bool closed = false;
};

FunctionExporter::FunctionExporter(std::unique_ptr<State> state) : state_(std::move(state)) {}
FunctionExporter::FunctionExporter(FunctionExporter&&) noexcept = default;
FunctionExporter& FunctionExporter::operator=(FunctionExporter&&) noexcept = default;
FunctionExporter::~FunctionExporter() = default;

void FunctionExporter::operator()(const Args& args) { (*this)(args, Kwargs{}); }
void FunctionExporter::operator()(const Kwargs& kwargs) { (*this)(Args{}, kwargs); }

void FunctionExporter::operator()(const Args& args, const Kwargs& kwargs) {
  if (!state_) throw std::invalid_argument("[export_function] this exporter was moved from");
  State& st = *state_;
  if (st.closed) throw std::invalid_argument("[export_function] " + st.path + " is closed; no more traces can be added");
  FunctionTrace t;
  t.shapeless = st.shapeless;
  t.args = types_of(args);
  t.kwarg_names = names_of(kwargs);
  t.kwargs = types_of(values_of(kwargs));
  for (auto& other : st.file.traces) {
    if (fits(other, t.args, t.kwarg_names, t.kwargs)) {
      throw std::invalid_argument("[export_function] " + st.path + " already holds a trace for inputs " +
                                  signature_str(t.args, t.kwarg_names, t.kwargs, st.shapeless));
    }
  }
  std::vector<array> inputs = args;
  for (auto& [k, v] : kwargs) inputs.push_back(v);
  size_t nargs = args.size();
  auto flat = [&](const std::vector<array>& xs) {
    Args a(xs.begin(), xs.begin() + ptrdiff_t(nargs));
    Kwargs kw;
    for (size_t i = 0; i < t.kwarg_names.size(); ++i) kw.emplace(t.kwarg_names[i], xs[nargs + i]);
    return st.fun(a, kw);
  };
  t.program = detail::trace_program(flat, inputs, /*inline_custom=*/true);
  st.file.traces.push_back(std::move(t));
  try {
    io::save_function(st.path, st.file);
  } catch (...) {
    st.file.traces.pop_back();  // the file keeps the traces before this one
    throw;
  }
}

void FunctionExporter::close() {
  if (state_) state_->closed = true;
}

FunctionExporter exporter(const std::string& path, const ArgsKwargsFn& fun, bool shapeless,
                          const std::string& metadata) {
  auto st = std::make_unique<FunctionExporter::State>();
  st->path = path;
  st->fun = fun;
  st->shapeless = shapeless;
  st->file.metadata = metadata;
  return FunctionExporter(std::move(st));
}

FunctionExporter exporter(const std::string& path, const ArgsFn& fun, bool shapeless, const std::string& metadata) {
  return exporter(path, ArgsKwargsFn([fun](const Args& a, const Kwargs&) { return fun(a); }), shapeless, metadata);
}

FunctionExporter exporter(const std::string& path, const KwargsFn& fun, bool shapeless, const std::string& metadata) {
  return exporter(path, ArgsKwargsFn([fun](const Args&, const Kwargs& kw) { return fun(kw); }), shapeless, metadata);
}

void export_function(const std::string& path, const ArgsFn& fun, const Args& args, bool shapeless,
                     const std::string& metadata) {
  exporter(path, fun, shapeless, metadata)(args);
}

void export_function(const std::string& path, const KwargsFn& fun, const Kwargs& kwargs, bool shapeless,
                     const std::string& metadata) {
  exporter(path, fun, shapeless, metadata)(kwargs);
}

void export_function(const std::string& path, const ArgsKwargsFn& fun, const Args& args, const Kwargs& kwargs,
                     bool shapeless, const std::string& metadata) {
  exporter(path, fun, shapeless, metadata)(args, kwargs);
}

// --- import

struct ImportedFunction::State {
  FunctionFile file;
};

ImportedFunction import_function(const std::string& path) {
  auto st = std::make_shared<ImportedFunction::State>();
  st->file = io::load_function(path);
  return ImportedFunction(std::move(st));
}

const std::string& ImportedFunction::metadata() const { return state_->file.metadata; }
size_t ImportedFunction::num_traces() const { return state_->file.traces.size(); }

std::vector<array> ImportedFunction::operator()(const Args& args) const { return (*this)(args, Kwargs{}); }
std::vector<array> ImportedFunction::operator()(const Kwargs& kwargs) const { return (*this)(Args{}, kwargs); }

std::vector<array> ImportedFunction::operator()(const Args& args, const Kwargs& kwargs) const {
  auto targs = types_of(args);
  auto names = names_of(kwargs);
  auto tkw = types_of(values_of(kwargs));
  for (auto& t : state_->file.traces) {
    if (!fits(t, targs, names, tkw)) continue;
    std::vector<array> inputs = args;
    for (auto& [k, v] : kwargs) inputs.push_back(v);
    try {
      return detail::replay_program(t.program, inputs, t.shapeless, [&](size_t i, const auto& ins, const auto& shapes) {
        detail::check_shapeless_node(t.program.nodes[i], ins, shapes);
      });
    } catch (const std::exception& e) {
      if (!t.shapeless) throw;
      throw std::invalid_argument("[import_function] the shapeless trace cannot take the inputs " +
                                  signature_str(targs, names, tkw, false) + ": " + e.what());
    }
  }
  std::string msg = "[import_function] no trace matches the inputs " + signature_str(targs, names, tkw, false) +
                    "; the file holds:";
  for (auto& t : state_->file.traces) msg += "\n  " + signature_str(t.args, t.kwarg_names, t.kwargs, t.shapeless);
  throw std::invalid_argument(msg);
}

// --- DOT

void export_to_dot(std::ostream& os, const std::vector<array>& outputs) {
  std::unordered_map<uintptr_t, std::string> names;  // array id -> DOT node
  std::unordered_map<const void*, std::string> prims;  // graph node -> DOT node
  auto label = [](const array& a) {
    std::ostringstream l;
    l << dtype_name(a.dtype()) << " " << shape_str(a.shape());
    return l.str();
  };
  os << "digraph {\n";
  std::vector<std::pair<array, size_t>> stack;
  auto name_of = [&](const array& a) -> const std::string& {
    auto it = names.find(a.id());
    if (it != names.end()) return it->second;
    std::string n = "a";
    n += std::to_string(names.size());
    os << "  " << n << " [label=\"" << label(a) << "\"];\n";
    return names.emplace(a.id(), n).first->second;
  };
  for (auto& o : outputs) stack.push_back({o, 0});
  while (!stack.empty()) {
    auto [a, next] = stack.back();
    stack.pop_back();
    if (!a.has_primitive()) {
      name_of(a);
      continue;
    }
    const void* node = a.desc()->node.get();
    if (next == 0 && prims.count(node)) continue;
    if (next < a.inputs().size()) {  // inputs first
      stack.push_back({a, next + 1});
      stack.push_back({a.inputs()[next], 0});
      continue;
    }
    if (prims.count(node)) continue;
    std::ostringstream p;
    a.primitive().print(p);
    std::string n = "p";
    n += std::to_string(prims.size());
    prims.emplace(node, n);
    os << "  " << n << " [shape=box, label=\"" << p.str() << "\"];\n";
    std::vector<array> outs = a.outputs();
    for (auto& out : outs) name_of(out);  // declared before the edges that name them
    for (auto& in : a.inputs()) os << "  " << name_of(in) << " -> " << n << ";\n";
    for (auto& out : outs) os << "  " << n << " -> " << name_of(out) << ";\n";
  }
  os << "}\n";
}

}  // namespace uma
