// A traced function as a program of primitives, shared by compile (which
// simplifies and replays it) and export_function (which writes it to a file
// that import_function replays).
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "uma/core/transforms.h"

namespace uma {
class Primitive;
}

namespace uma::detail {

// Where a value comes from: input `index`, constant `index`, or output
// `output` of node `index` (an earlier node).
struct Ref {
  enum Kind : uint8_t { input, constant, node } kind;
  int index;
  int output;
  bool operator==(const Ref& o) const { return kind == o.kind && index == o.index && output == o.output; }
};

struct TapeNode {
  std::shared_ptr<Primitive> prim;
  std::vector<Ref> inputs;
  std::vector<Shape> shapes;
  std::vector<Dtype> dtypes;
};

struct Program {
  std::vector<array> constants;  // evaluated
  std::vector<TapeNode> nodes;   // inputs before users
  std::vector<Ref> outputs;
};

// Calls fun on copies of `inputs` and records the graph between them and its
// outputs. What does not depend on the inputs (captured arrays, and whatever
// is computed from them alone) becomes a constant, evaluated now. With
// `inline_custom`, a custom_function's node (CustomTransforms) is replaced by
// the function it wraps: its outputs refer to that function's traced
// outputs, and its custom rules are dropped (export: rules are closures).
Program trace_program(const ArrayFn& fun, const std::vector<array>& inputs, bool inline_custom = false);

// The program's outputs for `inputs`, as new graph nodes (lazy). With
// `shapeless`, each node's output shapes are inferred from its inputs'
// (Primitive::output_shapes) rather than the recorded ones, and `check`
// (when given) sees each node's inputs and inferred shapes before the node
// is made, to refuse shapes the node cannot take.
using NodeCheck =
    std::function<void(size_t node, const std::vector<array>& inputs, const std::vector<Shape>& shapes)>;
std::vector<array> replay_program(const Program& p, const std::vector<array>& inputs, bool shapeless,
                                  const NodeCheck& check = {});

// A NodeCheck for shapeless replays: node n must take the shapes this call
// gives it, as its primitive's reader (the export format's) checks a node
// of those shapes. A graph that baked a shape in, such as a captured array
// broadcast to the traced inputs' shape and folded into a constant, is
// refused here (std::exception) instead of reading past a buffer.
void check_shapeless_node(const TapeNode& n, const std::vector<array>& inputs, const std::vector<Shape>& shapes);

}  // namespace uma::detail
