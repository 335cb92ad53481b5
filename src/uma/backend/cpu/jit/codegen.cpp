// Generated source of compile()'s fused kernels (see codegen.h). Every slot
// (input or step) is one vector variable v<slot>; the loop body computes all
// of them for W elements at a time and stores the outputs, so intermediates
// never leave registers.
#include "uma/backend/cpu/jit/codegen.h"

#include <sstream>
#include <stdexcept>
#include <string>

namespace uma::cpu::jit {

namespace {

// How the prelude names a dtype's elements: their C++ type, the format that
// loads and stores them as float32 (none for bool, which is read only), and
// the reader of one broadcast value.
struct Names {
  const char* type;
  const char* format;
  const char* scalar;
};

Names names(Dtype t) {
  switch (t) {
    case Dtype::float32: return {"float", "F32", "jit_scalar_f32"};
    case Dtype::float16: return {"uint16_t", "F16", "jit_scalar_f16"};
    case Dtype::bfloat16: return {"uint16_t", "BF16", "jit_scalar_bf16"};
    case Dtype::bool_: return {"uint8_t", nullptr, "jit_scalar_bool"};
    default: throw std::logic_error(std::string("[Compiled] no generated kernel for ") + dtype_name(t));
  }
}

// Vectors per value in the loop body (see kernel_body).
constexpr int kUnroll = 4;

// The expression of one step over its arguments' variables.
std::string step_expr(FusedOp op, const std::vector<std::string>& a) {
  std::ostringstream e;
  auto call = [&](const char* f) { e << f << "(" << a[0] << ")"; };
  auto lanes = [&](const char* f) { e << "jit_lanes<" << f << ">(" << a[0] << ")"; };
  auto bin = [&](const char* f) { e << f << "{}(" << a[0] << ", " << a[1] << ")"; };
  switch (op) {
    case FusedOp::Abs: call("vabs"); break;
    case FusedOp::Negative: e << "-" << a[0]; break;
    case FusedOp::Square: e << a[0] << " * " << a[0]; break;
    case FusedOp::Sqrt: call("jit_sqrt"); break;
    case FusedOp::Rsqrt: e << "set1(1.0f) / "; call("jit_sqrt"); break;
    case FusedOp::Exp: call("exp_v"); break;
    case FusedOp::Expm1: lanes("jit_expm1"); break;
    case FusedOp::Log: call("log_v"); break;
    case FusedOp::Log1p: lanes("jit_log1p"); break;
    case FusedOp::Log2: lanes("jit_log2"); break;
    case FusedOp::Log10: lanes("jit_log10"); break;
    case FusedOp::Sin: lanes("jit_sin"); break;
    case FusedOp::Cos: lanes("jit_cos"); break;
    case FusedOp::Tanh: call("tanh_v"); break;
    case FusedOp::Sigmoid: call("sigmoid_v"); break;
    case FusedOp::Erf: lanes("jit_erf"); break;
    case FusedOp::Floor: call("jit_floor"); break;
    case FusedOp::Ceil: call("jit_ceil"); break;
    case FusedOp::AsType: e << a[0]; break;
    case FusedOp::Add: bin("AddV"); break;
    case FusedOp::Subtract: bin("SubtractV"); break;
    case FusedOp::Multiply: bin("MultiplyV"); break;
    case FusedOp::Divide: bin("DivideV"); break;
    case FusedOp::Maximum: bin("MaximumV"); break;
    case FusedOp::Minimum: bin("MinimumV"); break;
    case FusedOp::Power: e << "jit_lanes<jit_pow>(" << a[0] << ", " << a[1] << ")"; break;
    case FusedOp::Select: e << "select(jit_nonzero(" << a[0] << "), " << a[1] << ", " << a[2] << ")"; break;
    default: throw std::logic_error("[Compiled] unknown fused step");
  }
  return e.str();
}

// The prelude's rounding of a step's value to its dtype, as the unfused
// primitive stores it ("" for float32).
const char* rounding(Dtype t) { return t == float16 ? "jit_round_f16" : t == bfloat16 ? "jit_round_bf16" : ""; }

}  // namespace

std::string kernel_body(const Compiled& c, const std::vector<InputKind>& inputs, const std::vector<Dtype>& outputs) {
  const auto& steps = c.steps();
  const auto& slots = c.output_slots();
  const int nin = c.num_inputs();
  if (int(inputs.size()) != nin || outputs.size() != slots.size()) {
    throw std::logic_error("[Compiled] kernel_body: inputs or outputs do not match the steps");
  }
  // Before the loop, then the body: elements [i, i + U W) as U vectors per
  // value (c = W), or [i, i + c) with U = 1. Each step runs over the U
  // vectors before the next step begins, so U independent chains of
  // dependent instructions overlap (one chain of a long kernel fills the
  // out-of-order window of a core on its own).
  std::ostringstream s, loop;
  s << "extern \"C\" void UMA_KERNEL(const void* const* in, void* const* out, int64_t begin, int64_t end) {\n"
    << "  using namespace uma::cpu::simd::UMA_SIMD_NS;\n";
  for (int j = 0; j < nin; ++j) {
    const Names t = names(inputs[j].dtype);
    loop << "    vf v" << j << "[U];\n    JIT_EACH(u) v" << j << "[u] = ";
    if (inputs[j].scalar) {
      s << "  const vf b" << j << " = set1(" << t.scalar << "(in[" << j << "]));\n";
      loop << "b" << j << ";\n";
    } else {
      s << "  const " << t.type << "* p" << j << " = static_cast<const " << t.type << "*>(in[" << j << "]);\n";
      loop << (t.format ? std::string(t.format) + "::load" : std::string("jit_load_bool")) << "(p" << j
           << " + i + u * W, c);\n";
    }
  }
  for (size_t i = 0; i < steps.size(); ++i) {
    const int slot = nin + int(i);
    loop << "    vf v" << slot << "[U];\n    JIT_EACH(u) v" << slot << "[u] = " << rounding(steps[i].dtype) << "(";
    std::vector<std::string> args;
    for (int a : steps[i].args) {
      if (a < 0 || a >= slot) throw std::logic_error("[Compiled] a step reads a later slot");
      args.push_back(std::string(1, 'v').append(std::to_string(a)).append("[u]"));
    }
    loop << step_expr(steps[i].op, args) << ");\n";
  }
  std::string aligned;  // every float32 output vector-aligned at `begin`
  for (size_t k = 0; k < outputs.size(); ++k) {
    const Names t = names(outputs[k]);
    if (!t.format) throw std::logic_error("[Compiled] no generated kernel with a bool output");
    s << "  " << t.type << "* o" << k << " = static_cast<" << t.type << "*>(out[" << k << "]);\n";
    loop << "    JIT_EACH(u) ";
    if (outputs[k] == float32) {
      loop << "jit_put_f32<NT>";
      aligned.append(aligned.empty() ? "" : " && ").append("jit_aligned(o").append(std::to_string(k)).append(" + begin)");
    } else {
      loop << t.format << "::store";
    }
    loop << "(o" << k << " + i + u * W, v" << slots[k] << "[u], c);\n";
  }
  s << "  auto body = [&]<int U, bool NT>(int64_t i, int64_t c) __attribute__((always_inline)) {\n"
    << loop.str() << "  };\n"
    << "  constexpr int U = " << kUnroll << ";\n"
    << "  int64_t i = begin;\n";
  if (!aligned.empty()) {
    s << "  if (jit_streams(end - begin, " << aligned << ")) {\n"
      << "    for (; i + U * W <= end; i += U * W) body.template operator()<U, true>(i, W);\n"
      << "    _mm_sfence();\n  }\n";
  }
  s << "  for (; i + U * W <= end; i += U * W) body.template operator()<U, false>(i, W);\n"
    << "  for (; i + W <= end; i += W) body.template operator()<1, false>(i, W);\n"
    << "  if (i < end) body.template operator()<1, false>(i, end - i);\n}\n";
  return s.str();
}

std::string kernel_key(const Compiled& c, const std::vector<InputKind>& inputs, const std::vector<Dtype>& outputs) {
  std::string k;
  auto put = [&](int v) { k.append(reinterpret_cast<const char*>(&v), sizeof v); };
  put(c.num_inputs());
  for (const auto& in : inputs) put(int(in.dtype) * 2 + int(in.scalar));
  put(int(c.steps().size()));
  for (const auto& st : c.steps()) {
    put(int(st.op) * 256 + int(st.dtype));
    put(int(st.args.size()));
    for (int a : st.args) put(a);
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    put(c.output_slots()[i]);
    put(int(outputs[i]));
  }
  return k;
}

}  // namespace uma::cpu::jit
