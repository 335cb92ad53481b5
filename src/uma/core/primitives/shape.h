// Primitives of views and copies. Views share their input's buffer.
#pragma once

#include "uma/core/primitive.h"

namespace uma {

#define UMA_SHAPE_PRIMITIVES(X) \
  X(Reshape) X(Transpose) X(Broadcast) X(AsStrided) X(Slice) X(AsType) X(View) X(Copy) X(Full) X(Arange)

class Reshape : public UnaryPrimitive {
 public:
  Reshape(Stream s, Shape shape) : UnaryPrimitive(s), shape_(std::move(shape)) {}
  UMA_DECLARE_PRIMITIVE()

 private:
  Shape shape_;
};

class Transpose : public UnaryPrimitive {
 public:
  Transpose(Stream s, std::vector<int> axes) : UnaryPrimitive(s), axes_(std::move(axes)) {}
  UMA_DECLARE_PRIMITIVE()
  const std::vector<int>& axes() const { return axes_; }

 private:
  std::vector<int> axes_;
};

class Broadcast : public UnaryPrimitive {
 public:
  Broadcast(Stream s, Shape shape) : UnaryPrimitive(s), shape_(std::move(shape)) {}
  UMA_DECLARE_PRIMITIVE()

 private:
  Shape shape_;
};

class AsStrided : public UnaryPrimitive {
 public:
  AsStrided(Stream s, Shape shape, Strides strides, int64_t offset)
      : UnaryPrimitive(s), shape_(std::move(shape)), strides_(std::move(strides)), offset_(offset) {}
  UMA_DECLARE_PRIMITIVE()

 private:
  Shape shape_;
  Strides strides_;
  int64_t offset_;
};

// out = in[start:stop:step] per dimension (steps may be negative); start and
// stop are normalized by the op (a negative step's stop may be -1).
class Slice : public UnaryPrimitive {
 public:
  Slice(Stream s, Shape start, Shape stop, Shape step)
      : UnaryPrimitive(s), start_(std::move(start)), stop_(std::move(stop)), step_(std::move(step)) {}
  UMA_DECLARE_PRIMITIVE()

 private:
  Shape start_, stop_, step_;
};

class AsType : public UnaryPrimitive {
 public:
  AsType(Stream s, Dtype dtype) : UnaryPrimitive(s), dtype_(dtype) {}
  UMA_DECLARE_PRIMITIVE()

 private:
  Dtype dtype_;
};

// Reinterprets the bytes of the last dimension as another dtype.
class View : public UnaryPrimitive {
 public:
  View(Stream s, Dtype dtype) : UnaryPrimitive(s), dtype_(dtype) {}
  UMA_DECLARE_PRIMITIVE()

 private:
  Dtype dtype_;
};

// A row-major copy.
class Copy : public UnaryPrimitive {
 public:
  explicit Copy(Stream s) : UnaryPrimitive(s) {}
  UMA_DECLARE_PRIMITIVE()
};

// Fills the output (of shape `shape`) with its one-element input.
class Full : public UnaryPrimitive {
 public:
  Full(Stream s, Shape shape) : UnaryPrimitive(s), shape_(std::move(shape)) {}
  UMA_DECLARE_PRIMITIVE()

 private:
  Shape shape_;
};

class Arange : public UnaryPrimitive {
 public:
  Arange(Stream s, double start, double stop, double step)
      : UnaryPrimitive(s), start_(start), stop_(stop), step_(step) {}
  UMA_DECLARE_PRIMITIVE()

 private:
  double start_, stop_, step_;
};

}  // namespace uma
