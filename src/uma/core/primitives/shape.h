// Primitives of views and copies. Views share their input's buffer.
#pragma once

#include "uma/core/primitive.h"

namespace uma {

class Reshape : public UnaryPrimitive {
 public:
  Reshape(Stream s, Shape shape) : UnaryPrimitive(s), shape_(std::move(shape)) {}
  void eval_cpu(const std::vector<array>& inputs, array& out) override;
  const char* name() const override { return "Reshape"; }
  bool is_equivalent(const Primitive& o) const override;

 private:
  Shape shape_;
};

class Transpose : public UnaryPrimitive {
 public:
  Transpose(Stream s, std::vector<int> axes) : UnaryPrimitive(s), axes_(std::move(axes)) {}
  void eval_cpu(const std::vector<array>& inputs, array& out) override;
  const char* name() const override { return "Transpose"; }
  bool is_equivalent(const Primitive& o) const override;
  const std::vector<int>& axes() const { return axes_; }

 private:
  std::vector<int> axes_;
};

class Broadcast : public UnaryPrimitive {
 public:
  Broadcast(Stream s, Shape shape) : UnaryPrimitive(s), shape_(std::move(shape)) {}
  void eval_cpu(const std::vector<array>& inputs, array& out) override;
  const char* name() const override { return "Broadcast"; }
  bool is_equivalent(const Primitive& o) const override;

 private:
  Shape shape_;
};

class AsStrided : public UnaryPrimitive {
 public:
  AsStrided(Stream s, Shape shape, Strides strides, int64_t offset)
      : UnaryPrimitive(s), shape_(std::move(shape)), strides_(std::move(strides)), offset_(offset) {}
  void eval_cpu(const std::vector<array>& inputs, array& out) override;
  const char* name() const override { return "AsStrided"; }
  bool is_equivalent(const Primitive& o) const override;

 private:
  Shape shape_;
  Strides strides_;
  int64_t offset_;
};

// out = in[start:stop:step] per dimension (steps may be negative).
class Slice : public UnaryPrimitive {
 public:
  Slice(Stream s, Shape start, Shape stop, Shape step)
      : UnaryPrimitive(s), start_(std::move(start)), stop_(std::move(stop)), step_(std::move(step)) {}
  void eval_cpu(const std::vector<array>& inputs, array& out) override;
  const char* name() const override { return "Slice"; }
  bool is_equivalent(const Primitive& o) const override;

 private:
  Shape start_, stop_, step_;
};

class AsType : public UnaryPrimitive {
 public:
  AsType(Stream s, Dtype dtype) : UnaryPrimitive(s), dtype_(dtype) {}
  void eval_cpu(const std::vector<array>& inputs, array& out) override;
  const char* name() const override { return "AsType"; }
  bool is_equivalent(const Primitive& o) const override;

 private:
  Dtype dtype_;
};

// Reinterprets the bytes of the last dimension as another dtype.
class View : public UnaryPrimitive {
 public:
  View(Stream s, Dtype dtype) : UnaryPrimitive(s), dtype_(dtype) {}
  void eval_cpu(const std::vector<array>& inputs, array& out) override;
  const char* name() const override { return "View"; }

 private:
  Dtype dtype_;
};

// A row-major copy.
class Copy : public UnaryPrimitive {
 public:
  using UnaryPrimitive::UnaryPrimitive;
  void eval_cpu(const std::vector<array>& inputs, array& out) override;
  const char* name() const override { return "Copy"; }
  bool is_equivalent(const Primitive&) const override { return true; }
};

// Fills the output with its one-element input.
class Full : public UnaryPrimitive {
 public:
  using UnaryPrimitive::UnaryPrimitive;
  void eval_cpu(const std::vector<array>& inputs, array& out) override;
  const char* name() const override { return "Full"; }
  bool is_equivalent(const Primitive&) const override { return true; }
};

class Arange : public UnaryPrimitive {
 public:
  Arange(Stream s, double start, double stop, double step)
      : UnaryPrimitive(s), start_(start), stop_(stop), step_(step) {}
  void eval_cpu(const std::vector<array>& inputs, array& out) override;
  const char* name() const override { return "Arange"; }
  bool is_equivalent(const Primitive& o) const override;

 private:
  double start_, stop_, step_;
};

}  // namespace uma
