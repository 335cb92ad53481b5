// Serialization of Convolution. Its op (conv_general) takes exactly its
// parameters, so a reader checks a node by building it again with the op.
#include "uma/core/ops/conv.h"
#include "uma/core/primitives/conv.h"
#include "uma/core/primitives/serialize.h"

namespace uma {

void Convolution::serialize(PrimitiveWriter& w) const {
  w.fields(*this, &Convolution::stride_, &Convolution::padding_lo_, &Convolution::padding_hi_,
           &Convolution::kernel_dilation_, &Convolution::input_dilation_, &Convolution::groups_, &Convolution::flip_);
}

std::shared_ptr<Primitive> Convolution::deserialize(Stream s, PrimitiveReader& r) {
  auto p = std::static_pointer_cast<Convolution>(
      r.make<Convolution>(s, &Convolution::stride_, &Convolution::padding_lo_, &Convolution::padding_hi_,
                          &Convolution::kernel_dilation_, &Convolution::input_dilation_, &Convolution::groups_,
                          &Convolution::flip_));
  r.inputs(2);
  r.same_as_op(*p, [&](const std::vector<array>& in) {
    return std::vector<array>{conv_general(in[0], in[1], p->stride_, p->padding_lo_, p->padding_hi_,
                                           p->kernel_dilation_, p->input_dilation_, p->groups_, p->flip_, s)};
  });
  return p;
}

}  // namespace uma
