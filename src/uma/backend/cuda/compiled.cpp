// Compiled (a fused chain of elementwise steps) on the GPU: each step's
// primitive runs its CUDA kernel in order. Fusing the chain into one
// generated kernel (NVRTC) is the next step; until then a compiled function
// costs what its ops cost one by one, on the GPU.
#include "uma/backend/cuda/device.h"
#include "uma/core/primitives/compiled.h"

namespace uma {

void Compiled::eval_gpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  for (auto& st : steps_) {
    if (st.prim->device().type != Device::gpu) return cuda::cpu_fallback(*this, inputs, outputs);
  }
  std::vector<array> slots = inputs;
  for (auto& st : steps_) {
    std::vector<array> args;
    for (int a : st.args) args.push_back(slots[a]);
    std::vector<array> outs{array(outputs[0].shape(), st.dtype, nullptr, {})};
    st.prim->eval_gpu(args, outs);
    slots.push_back(outs[0]);
  }
  for (size_t i = 0; i < outputs.size(); ++i) outputs[i].copy_shared_buffer(slots[output_slots_[i]]);
}

}  // namespace uma
