// Primitives: the unit of computation and of extension. One primitive = one
// class with its kernels (eval_cpu / eval_gpu, defined per backend family
// file) and, as transforms land, its gradient and vmap rules written in ops.
#pragma once

#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "uma/core/array.h"
#include "uma/core/device.h"

namespace uma {

class Primitive {
 public:
  explicit Primitive(Stream stream) : stream_(stream) {}
  virtual ~Primitive() = default;
  Primitive(const Primitive&) = delete;
  Primitive& operator=(const Primitive&) = delete;

  // Computes `outputs` (already shaped and typed; buffers not yet set).
  virtual void eval_cpu(const std::vector<array>& inputs, std::vector<array>& outputs) = 0;
  virtual void eval_gpu(const std::vector<array>& inputs, std::vector<array>& outputs);

  // Vector-Jacobian product: cotangents of the inputs listed in argnums.
  virtual std::vector<array> vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                                 const std::vector<int>& argnums, const std::vector<array>& outputs);
  // Jacobian-vector product for the inputs in argnums.
  virtual std::vector<array> jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                                 const std::vector<int>& argnums);
  // Batched outputs and their batch axes.
  virtual std::pair<std::vector<array>, std::vector<int>> vmap(const std::vector<array>& inputs,
                                                               const std::vector<int>& axes);

  virtual const char* name() const = 0;
  // Same kind and same parameters (common-subexpression elimination).
  virtual bool is_equivalent(const Primitive& other) const { return false; }
  // Output shapes from input shapes, for primitives whose shape can be
  // inferred (shapeless compile).
  virtual std::vector<Shape> output_shapes(const std::vector<array>& inputs);
  virtual void print(std::ostream& os) const { os << name(); }

  Stream stream() const { return stream_; }
  Device device() const { return stream_.device; }

 private:
  Stream stream_;
};

// A primitive with one output; implement the single-output eval_cpu.
class UnaryPrimitive : public Primitive {
 public:
  using Primitive::Primitive;
  virtual void eval_cpu(const std::vector<array>& inputs, array& out) = 0;
  virtual void eval_gpu(const std::vector<array>& inputs, array& out);

  void eval_cpu(const std::vector<array>& inputs, std::vector<array>& outputs) final {
    eval_cpu(inputs, outputs[0]);
  }
  void eval_gpu(const std::vector<array>& inputs, std::vector<array>& outputs) final {
    eval_gpu(inputs, outputs[0]);
  }
};

// Thrown when a backend has no kernel or a transform has no rule.
class not_implemented : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

}  // namespace uma
