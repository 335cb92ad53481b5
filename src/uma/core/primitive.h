// Primitives: the unit of computation and of extension. Every primitive class
// has one shape, declared by UMA_DECLARE_PRIMITIVE and defined in three kinds
// of places, so that a backend or a transform never edits a class:
//   name, is_equivalent, output_shapes   core/primitives/<family>.cpp
//   vjp, jvp, vmap                       rules in core/primitives/<family>.cpp
//                                        (or <family>_grad.cpp, <family>_vmap.cpp); the
//                                        rest throw (core/transforms/missing_{grad,vmap}.cpp)
//   eval_cpu                             the CPU backend's <family>.cpp
//   eval_gpu                             the GPU backend, or the no-GPU stub
//   serialize, deserialize               core/primitives/<family>_export.cpp (export_function;
//                                        core/primitives/serialize.h has the reader and writer)
// Each family header lists its primitives in an X-macro (UMA_<FAMILY>_PRIMITIVES)
// so that code can be generated over all of them.
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

class PrimitiveWriter;
class PrimitiveReader;

class Primitive {
 public:
  explicit Primitive(Stream stream) : stream_(stream) {}
  virtual ~Primitive() = default;
  Primitive(const Primitive&) = delete;
  Primitive& operator=(const Primitive&) = delete;

  // Computes `outputs` (already shaped and typed; buffers not yet set).
  virtual void eval_cpu(const std::vector<array>& inputs, std::vector<array>& outputs) = 0;
  virtual void eval_gpu(const std::vector<array>& inputs, std::vector<array>& outputs) = 0;

  // Vector-Jacobian product: cotangents of the inputs listed in argnums.
  virtual std::vector<array> vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                                 const std::vector<int>& argnums, const std::vector<array>& outputs) = 0;
  // Jacobian-vector product for the inputs in argnums.
  virtual std::vector<array> jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                                 const std::vector<int>& argnums) = 0;
  // Batched outputs and their batch axes.
  virtual std::pair<std::vector<array>, std::vector<int>> vmap(const std::vector<array>& inputs,
                                                               const std::vector<int>& axes) = 0;

  virtual const char* name() const = 0;
  // Same kind and same parameters (common-subexpression elimination).
  virtual bool is_equivalent(const Primitive& other) const = 0;
  // Output shapes from input shapes (shapeless compile); primitives whose
  // shape is not a function of their inputs' shapes throw not_implemented.
  virtual std::vector<Shape> output_shapes(const std::vector<array>& inputs) = 0;
  virtual void print(std::ostream& os) const { os << name(); }
  // Writes the parameters that the class's static deserialize(stream, reader)
  // reads back to rebuild an equivalent primitive (export_function).
  virtual void serialize(PrimitiveWriter& w) const = 0;
  // Whether the autodiff transforms differentiate through input i; false for
  // inputs carried only for ordering or bookkeeping (Depends' dependencies,
  // the traced outputs that CustomTransforms passes along).
  virtual bool is_differentiable_input(int i) const {
    (void)i;
    return true;
  }

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
  virtual void eval_gpu(const std::vector<array>& inputs, array& out) = 0;

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

// The one declaration of a primitive's hooks, used in the body of every
// primitive class derived from UnaryPrimitive (UMA_DECLARE_MULTI_PRIMITIVE,
// below, is the twin for several outputs). Nothing is defined here: see the
// map at the top of this file.
#define UMA_DECLARE_PRIMITIVE()                                                                                \
 public:                                                                                                       \
  void eval_cpu(const std::vector<array>& inputs, array& out) override;                                        \
  void eval_gpu(const std::vector<array>& inputs, array& out) override;                                        \
  std::vector<array> vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,              \
                         const std::vector<int>& argnums, const std::vector<array>& outputs) override;         \
  std::vector<array> jvp(const std::vector<array>& primals, const std::vector<array>& tangents,                \
                         const std::vector<int>& argnums) override;                                            \
  std::pair<std::vector<array>, std::vector<int>> vmap(const std::vector<array>& inputs,                       \
                                                       const std::vector<int>& axes) override;                 \
  const char* name() const override;                                                                           \
  bool is_equivalent(const Primitive& other) const override;                                                   \
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;                                 \
  void serialize(PrimitiveWriter& w) const override;                                                           \
  static std::shared_ptr<Primitive> deserialize(Stream s, PrimitiveReader& r);

// The twin for a primitive with several outputs (derived from Primitive, not
// UnaryPrimitive): the same hooks with the vector eval_cpu/eval_gpu. Families
// list such classes apart (UMA_<FAMILY>_MULTI_PRIMITIVES), since the no-GPU
// stub defines the other eval_gpu signature.
#define UMA_DECLARE_MULTI_PRIMITIVE()                                                                          \
 public:                                                                                                       \
  void eval_cpu(const std::vector<array>& inputs, std::vector<array>& outputs) override;                       \
  void eval_gpu(const std::vector<array>& inputs, std::vector<array>& outputs) override;                       \
  std::vector<array> vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,              \
                         const std::vector<int>& argnums, const std::vector<array>& outputs) override;         \
  std::vector<array> jvp(const std::vector<array>& primals, const std::vector<array>& tangents,                \
                         const std::vector<int>& argnums) override;                                            \
  std::pair<std::vector<array>, std::vector<int>> vmap(const std::vector<array>& inputs,                       \
                                                       const std::vector<int>& axes) override;                 \
  const char* name() const override;                                                                           \
  bool is_equivalent(const Primitive& other) const override;                                                   \
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;                                 \
  void serialize(PrimitiveWriter& w) const override;                                                           \
  static std::shared_ptr<Primitive> deserialize(Stream s, PrimitiveReader& r);

// name() of a primitive whose name is its class name; family files expand it
// over their lists (a class with a per-parameter name, Reduce -> "Sum",
// writes name() by hand).
#define UMA_PRIMITIVE_NAME(P) \
  const char* P::name() const { return #P; }

// output_shapes of a primitive whose output is shaped like its first input.
#define UMA_OUTPUT_SHAPE_OF_INPUT(P) \
  std::vector<Shape> P::output_shapes(const std::vector<array>& inputs) { return {inputs[0].shape()}; }

// Missing transform rules, one macro per transform: each throws
// not_implemented naming the primitive and the transform. A rule replaces
// its line in core/transforms/missing_grad.cpp or missing_vmap.cpp.
#define UMA_NO_VJP(P)                                                                                           \
  std::vector<array> P::vjp(const std::vector<array>&, const std::vector<array>&, const std::vector<int>&,    \
                            const std::vector<array>&) {                                                       \
    ::uma::detail::throw_no_rule(*this, "vjp");                                                               \
  }
#define UMA_NO_JVP(P)                                                                                           \
  std::vector<array> P::jvp(const std::vector<array>&, const std::vector<array>&, const std::vector<int>&) {  \
    ::uma::detail::throw_no_rule(*this, "jvp");                                                               \
  }
#define UMA_NO_VMAP(P)                                                                                          \
  std::pair<std::vector<array>, std::vector<int>> P::vmap(const std::vector<array>&, const std::vector<int>&) { \
    ::uma::detail::throw_no_rule(*this, "vmap");                                                              \
  }
#define UMA_NO_RULES(P) UMA_NO_VJP(P) UMA_NO_JVP(P) UMA_NO_VMAP(P)

// The equivalence test of every primitive: `o` is a P and eq(p) holds of
// it. same<P>(o) alone compares the kind (primitives without parameters).
template <typename P, typename F>
bool same(const Primitive& o, F&& eq) {
  auto* p = dynamic_cast<const P*>(&o);
  return p && eq(*p);
}
template <typename P>
bool same(const Primitive& o) {
  return dynamic_cast<const P*>(&o) != nullptr;
}

namespace detail {
// "[<name>] has no <transform> rule yet"
[[noreturn]] void throw_no_rule(const Primitive& p, const char* transform);
// "[<name>] cannot infer its output shapes": for primitives whose output
// shape is a parameter the op does not record, or none at all.
[[noreturn]] void throw_no_output_shapes(const Primitive& p);
}  // namespace detail

}  // namespace uma
