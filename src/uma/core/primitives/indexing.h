// Primitives of the indexing family. Index arrays arrive broadcast to one
// shape and of one integer dtype. Each primitive has an out-of-range mode:
// clamp (move the window inside the array) or not (reads give zeros, writes
// are dropped). The public ops clamp reads and drop writes (ops/indexing.h);
// gradient rules pick the mode that makes each rule the exact adjoint.
#pragma once

#include "uma/core/primitive.h"

namespace uma {

#define UMA_INDEXING_PRIMITIVES(X) X(Gather) X(Scatter) X(GatherAxis) X(ScatterAxis)

// inputs: (a, idx_0, ..., idx_{k-1}); output shape idx.shape + slice_sizes_.
class Gather : public UnaryPrimitive {
 public:
  Gather(Stream s, std::vector<int> axes, Shape slice_sizes, bool clamp = true)
      : UnaryPrimitive(s), axes_(std::move(axes)), slice_sizes_(std::move(slice_sizes)), clamp_(clamp) {}
  UMA_DECLARE_PRIMITIVE()

 private:
  std::vector<int> axes_;
  Shape slice_sizes_;
  bool clamp_;
};

enum class ScatterReduce : uint8_t { none, sum, prod, max, min };

// inputs: (a, idx_0, ..., idx_{k-1}, updates); updates of a's dtype.
class Scatter : public UnaryPrimitive {
 public:
  Scatter(Stream s, ScatterReduce reduce, std::vector<int> axes, bool clamp = false)
      : UnaryPrimitive(s), reduce_(reduce), axes_(std::move(axes)), clamp_(clamp) {}
  UMA_DECLARE_PRIMITIVE()

 private:
  ScatterReduce reduce_;
  std::vector<int> axes_;
  bool clamp_;
};

// inputs: (a, indices), broadcast to each other except along axis_.
class GatherAxis : public UnaryPrimitive {
 public:
  GatherAxis(Stream s, int axis, bool clamp = true) : UnaryPrimitive(s), axis_(axis), clamp_(clamp) {}
  UMA_DECLARE_PRIMITIVE()

 private:
  int axis_;
  bool clamp_;
};

// inputs: (a, indices, values); indices and values share one shape, which
// matches a's except along axis_. reduce_ is none or sum.
class ScatterAxis : public UnaryPrimitive {
 public:
  ScatterAxis(Stream s, ScatterReduce reduce, int axis, bool clamp = false)
      : UnaryPrimitive(s), reduce_(reduce), axis_(axis), clamp_(clamp) {}
  UMA_DECLARE_PRIMITIVE()

 private:
  ScatterReduce reduce_;
  int axis_;
  bool clamp_;
};

}  // namespace uma
