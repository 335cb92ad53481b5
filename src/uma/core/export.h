// export_function / import_function, as MLX's (mlx/export.h): save a traced
// function to a file and run it later without the code that built it.
//
// export_function(path, fun, args) calls fun once on the example inputs,
// records the graph of primitives between its inputs and outputs (arrays it
// closes over, such as weights, are stored as constants) and writes it to
// `path` atomically. exporter(path, fun) does the same for several input
// signatures in one file, one trace per call. import_function(path) reads it
// back into an ImportedFunction, which picks the trace whose inputs match
// the call's (dtypes and shapes; dtypes and ranks for a shapeless trace) and
// replays its primitives as ordinary graph nodes: the result is lazy like
// any op's, and an imported function composes with compile, grad, vjp, jvp
// and vmap like the function it came from.
//
// What a trace keeps (as compile): the primitives fun built from its inputs.
// Python-style control flow runs once, at export; captured arrays and what
// is computed from them alone are evaluated then and stored as constants
// (randomness drawn from the global key is therefore fixed; pass a key as an
// input to keep it an input). A custom_function or checkpoint inside fun is
// exported as the function it wraps: its custom vjp/jvp/vmap rules are C++
// closures no file can carry, so an imported function differentiates the
// wrapped function itself (for checkpoint, the same gradient).
//
// The file format is uma's own (docs/export_format.md), not MLX's .mlxfn.
// Files are untrusted input: import_function checks every count, offset,
// shape and index, the graph's checksum, and every node against what its
// primitive's op accepts, and throws std::invalid_argument
// "[import_function] ..." for anything else.
#pragma once

#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "uma/core/array.h"

namespace uma {

using Args = std::vector<array>;
using Kwargs = std::map<std::string, array>;
using ArgsFn = std::function<std::vector<array>(const Args&)>;
using KwargsFn = std::function<std::vector<array>(const Kwargs&)>;
using ArgsKwargsFn = std::function<std::vector<array>(const Args&, const Kwargs&)>;

// Adds one trace of its function per call and rewrites the file (atomically)
// with every trace so far, so that the file is complete after each call.
// A signature may be exported once; close() ends the export (later calls
// throw).
class FunctionExporter {
 public:
  void operator()(const Args& args);
  void operator()(const Kwargs& kwargs);
  void operator()(const Args& args, const Kwargs& kwargs);
  void operator()(std::initializer_list<array> args) { (*this)(Args(args)); }
  void close();

  FunctionExporter(FunctionExporter&&) noexcept;
  FunctionExporter& operator=(FunctionExporter&&) noexcept;
  ~FunctionExporter();

 private:
  struct State;
  explicit FunctionExporter(std::unique_ptr<State> state);
  friend FunctionExporter exporter(const std::string&, const ArgsKwargsFn&, bool, const std::string&);
  std::unique_ptr<State> state_;
};

FunctionExporter exporter(const std::string& path, const ArgsFn& fun, bool shapeless = false,
                          const std::string& metadata = "");
FunctionExporter exporter(const std::string& path, const KwargsFn& fun, bool shapeless = false,
                          const std::string& metadata = "");
FunctionExporter exporter(const std::string& path, const ArgsKwargsFn& fun, bool shapeless = false,
                          const std::string& metadata = "");

void export_function(const std::string& path, const ArgsFn& fun, const Args& args, bool shapeless = false,
                     const std::string& metadata = "");
void export_function(const std::string& path, const KwargsFn& fun, const Kwargs& kwargs, bool shapeless = false,
                     const std::string& metadata = "");
void export_function(const std::string& path, const ArgsKwargsFn& fun, const Args& args, const Kwargs& kwargs,
                     bool shapeless = false, const std::string& metadata = "");

// A function read back by import_function; cheap to copy (the traces are
// shared). Calls throw std::invalid_argument naming the inputs given and
// the signatures the file holds when no trace matches.
class ImportedFunction {
 public:
  std::vector<array> operator()(const Args& args) const;
  std::vector<array> operator()(const Kwargs& kwargs) const;
  std::vector<array> operator()(const Args& args, const Kwargs& kwargs) const;
  std::vector<array> operator()(std::initializer_list<array> args) const { return (*this)(Args(args)); }

  // The metadata given to export_function.
  const std::string& metadata() const;
  // The number of traces (input signatures) in the file.
  size_t num_traces() const;

 private:
  struct State;
  explicit ImportedFunction(std::shared_ptr<const State> state) : state_(std::move(state)) {}
  friend ImportedFunction import_function(const std::string&);
  std::shared_ptr<const State> state_;
};

ImportedFunction import_function(const std::string& path);

// The graph that computes `outputs`, in Graphviz DOT: one box per primitive,
// one ellipse per array without one (inputs, constants, evaluated arrays).
void export_to_dot(std::ostream& os, const std::vector<array>& outputs);

}  // namespace uma
