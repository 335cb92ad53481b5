#include "uma/nn/containers.h"

namespace uma::nn {

Sequential& Sequential::add(Fn fn) {
  if (!fn) throw std::invalid_argument("[Sequential] layer " + std::to_string(layers_.size()) + " is an empty function");
  layers_.push_back({nullptr, nullptr, std::move(fn)});
  return *this;
}

array Sequential::operator()(const array& x) const {
  array y = x;
  for (auto& l : layers_) y = l.module ? l.call(*l.module, y) : l.fn(y);
  return y;
}

}  // namespace uma::nn
