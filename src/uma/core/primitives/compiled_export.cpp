// Serialization of Compiled: its steps, each with the elementwise primitive
// it replays (written nested), the slots it reads and its dtype. A reader
// checks what the fused kernel assumes: every input shaped like the outputs,
// steps reading earlier slots only, float steps (a bool condition for
// Select), and each step's primitive the one its op names, checked as an
// elementwise node of the slot types it reads.
#include "uma/core/primitives/compiled.h"
#include "uma/core/primitives/serialize.h"

namespace uma {

template <>
struct enum_limit<FusedOp> {
  static constexpr uint64_t value = uint64_t(FusedOp::Select);
};

void Compiled::serialize(PrimitiveWriter& w) const {
  w.put(num_inputs_);
  w.put_unsigned(steps_.size());
  for (auto& st : steps_) {
    w.put(st.op);
    w.put(st.args);
    w.put(st.dtype);
    w.put(*st.prim);
  }
  w.put(output_slots_);
}

std::shared_ptr<Primitive> Compiled::deserialize(Stream s, PrimitiveReader& r) {
  auto num_inputs = r.get<int>();
  r.check(num_inputs >= 1, "has no inputs");
  r.inputs(num_inputs);
  r.check(!r.node().outputs.empty(), "has no outputs");
  const Shape& shape = r.out(0).shape;
  std::vector<TypedShape> slots;
  for (auto& in : r.node().inputs) {
    r.check(in.shape == shape, "an input is not shaped like the outputs");
    r.check(in.dtype == float32 || in.dtype == float16 || in.dtype == bfloat16 || in.dtype == bool_,
            "an input is not float (or a bool condition)");
    slots.push_back(in);
  }
  uint64_t n = r.get_unsigned();
  r.check(n <= r.remaining(), "lists more steps than bytes");
  std::vector<Step> steps;
  for (uint64_t i = 0; i < n; ++i) {
    auto op = r.get<FusedOp>();
    auto args = r.get<std::vector<int>>();
    auto dtype = r.get<Dtype>();
    r.check(int(args.size()) == fused_op_arity(op), "a step has the wrong number of operands");
    NodeTypes step;
    for (int a : args) {
      r.check(a >= 0 && size_t(a) < slots.size(), "a step reads a slot not yet computed");
      step.inputs.push_back(slots[size_t(a)]);
    }
    r.check(dtype == float32 || dtype == float16 || dtype == bfloat16, "a step is not float");
    step.outputs.push_back({shape, dtype});
    auto prim = r.get_primitive(s, step);
    r.check(detail::primitive_class(*prim) == std::string(fused_op_name(op)),
            "a step's primitive is not the one its op names");
    steps.push_back({op, std::move(prim), std::move(args), dtype});
    slots.push_back({shape, dtype});
  }
  auto outs = r.get<std::vector<int>>();
  r.outputs(int(outs.size()));
  for (size_t k = 0; k < outs.size(); ++k) {
    r.check(outs[k] >= num_inputs && size_t(outs[k]) < slots.size(), "an output is not a step's result");
    r.check(r.out(int(k)).dtype == slots[size_t(outs[k])].dtype && r.out(int(k)).shape == shape,
            "an output's type is not its step's");
  }
  return std::make_shared<Compiled>(s, num_inputs, std::move(steps), std::move(outs));
}

}  // namespace uma
