// Sorting primitives: along one axis, NaNs last. Outputs are row-major with
// the input's shape; index outputs are uint32.
#pragma once

#include "uma/core/primitive.h"

namespace uma {

class Sort : public UnaryPrimitive {
 public:
  Sort(Stream s, int axis) : UnaryPrimitive(s), axis_(axis) {}
  void eval_cpu(const std::vector<array>& inputs, array& out) override;
  const char* name() const override { return "Sort"; }
  bool is_equivalent(const Primitive& o) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override { return {inputs[0].shape()}; }

 private:
  int axis_;
};

// Stable: equal values keep their order.
class ArgSort : public UnaryPrimitive {
 public:
  ArgSort(Stream s, int axis) : UnaryPrimitive(s), axis_(axis) {}
  void eval_cpu(const std::vector<array>& inputs, array& out) override;
  const char* name() const override { return "ArgSort"; }
  bool is_equivalent(const Primitive& o) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override { return {inputs[0].shape()}; }

 private:
  int axis_;
};

// std::nth_element semantics: position kth (non-negative) holds the value a
// full sort would put there; nothing larger before it, nothing smaller after.
class Partition : public UnaryPrimitive {
 public:
  Partition(Stream s, int kth, int axis) : UnaryPrimitive(s), kth_(kth), axis_(axis) {}
  void eval_cpu(const std::vector<array>& inputs, array& out) override;
  const char* name() const override { return "Partition"; }
  bool is_equivalent(const Primitive& o) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override { return {inputs[0].shape()}; }

 private:
  int kth_, axis_;
};

class ArgPartition : public UnaryPrimitive {
 public:
  ArgPartition(Stream s, int kth, int axis) : UnaryPrimitive(s), kth_(kth), axis_(axis) {}
  void eval_cpu(const std::vector<array>& inputs, array& out) override;
  const char* name() const override { return "ArgPartition"; }
  bool is_equivalent(const Primitive& o) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override { return {inputs[0].shape()}; }

 private:
  int kth_, axis_;
};

}  // namespace uma
