// Primitives of the manipulation family: joining, padding, slice updates,
// dynamic slices and diagonal views.
#pragma once

#include "uma/core/primitive.h"

namespace uma {

#define UMA_MANIPULATION_PRIMITIVES(X) \
  X(Concatenate) X(Pad) X(SliceUpdate) X(DynamicSlice) X(DynamicSliceUpdate) X(Diagonal)

// Inputs laid end to end along axis_ (converted to the output dtype).
class Concatenate : public UnaryPrimitive {
 public:
  Concatenate(Stream s, int axis) : UnaryPrimitive(s), axis_(axis) {}
  UMA_DECLARE_PRIMITIVE()

 private:
  int axis_;
};

// inputs: (a, pad_value). The output is pad_value everywhere except the
// interior out[low:low+a.shape] = a, along axes_.
class Pad : public UnaryPrimitive {
 public:
  Pad(Stream s, std::vector<int> axes, Shape low, Shape high)
      : UnaryPrimitive(s), axes_(std::move(axes)), low_(std::move(low)), high_(std::move(high)) {}
  UMA_DECLARE_PRIMITIVE()

 private:
  std::vector<int> axes_;
  Shape low_, high_;
};

// inputs: (src, update) with update already broadcast to the slice's shape
// and of src's dtype. Reuses src's buffer when it is donatable.
class SliceUpdate : public UnaryPrimitive {
 public:
  SliceUpdate(Stream s, Shape start, Shape stop, Shape strides)
      : UnaryPrimitive(s), start_(std::move(start)), stop_(std::move(stop)), strides_(std::move(strides)) {}
  UMA_DECLARE_PRIMITIVE()

 private:
  Shape start_, stop_, strides_;
};

// inputs: (a, start). A view of a at the start read from `start` along axes_.
class DynamicSlice : public UnaryPrimitive {
 public:
  DynamicSlice(Stream s, std::vector<int> axes, Shape slice_size)
      : UnaryPrimitive(s), axes_(std::move(axes)), slice_size_(std::move(slice_size)) {}
  UMA_DECLARE_PRIMITIVE()

 private:
  std::vector<int> axes_;
  Shape slice_size_;
};

// inputs: (src, update, start), update of src's dtype and ndim.
class DynamicSliceUpdate : public UnaryPrimitive {
 public:
  DynamicSliceUpdate(Stream s, std::vector<int> axes) : UnaryPrimitive(s), axes_(std::move(axes)) {}
  UMA_DECLARE_PRIMITIVE()

 private:
  std::vector<int> axes_;
};

// A view: axis1_ and axis2_ removed, the diagonal appended last.
class Diagonal : public UnaryPrimitive {
 public:
  Diagonal(Stream s, int offset, int axis1, int axis2)
      : UnaryPrimitive(s), offset_(offset), axis1_(axis1), axis2_(axis2) {}
  UMA_DECLARE_PRIMITIVE()

 private:
  int offset_, axis1_, axis2_;
};

namespace detail {
// The tangent of primals[i] in a jvp: the one given when i is in argnums,
// zeros otherwise.
array tangent_or_zeros(int i, const std::vector<array>& primals, const std::vector<array>& tangents,
                       const std::vector<int>& argnums);
}  // namespace detail

}  // namespace uma
