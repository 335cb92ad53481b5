// Exported functions (import_function's reader) from untrusted bytes. The
// header's checksum is stamped over the input's graph section first, so
// that mutations reach the structural checks behind it; a file that reads
// back is then run on inputs of each trace's signature (zeros), which must
// compute or throw invalid_argument, never crash.
#include <cstring>
#include <stdexcept>
#include <string>

#include "fuzz_util.h"
#include "uma/core/io/function_file.h"
#include "uma/core/primitive.h"
#include "uma/uma.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  if (bytes.size() >= uma::io::kFunctionHeaderBytes) {
    uint64_t graph;
    std::memcpy(&graph, bytes.data() + 24, 8);
    if (graph <= bytes.size() - 64) {
      uint64_t h = uma::io::function_checksum(reinterpret_cast<const uint8_t*>(bytes.data()) + 64, size_t(graph));
      std::memcpy(bytes.data() + 48, &h, 8);
    }
  }
  auto keep = std::make_shared<const std::string>(std::move(bytes));
  uma::io::FunctionFile f;
  try {
    f = uma::io::decode_function(reinterpret_cast<const uint8_t*>(keep->data()), keep->size(), "fuzz", keep);
  } catch (const std::invalid_argument&) {
    return 0;
  }
  // Runs only what stays small: every input and recorded node output of at
  // most 2^20 elements (a file may describe far larger arrays, legitimately).
  auto small = [](const uma::Shape& s) {
    int64_t n = 1;
    for (auto d : s) n *= d;  // the reader capped it at 2^48
    return n <= (1 << 20);
  };
  for (auto& t : f.traces) {
    bool run = true;
    for (auto& n : t.program.nodes) {
      for (auto& s : n.shapes) run = run && small(s);
    }
    std::vector<uma::array> inputs;
    for (auto* group : {&t.args, &t.kwargs}) {
      for (auto& in : *group) {
        run = run && small(in.shape);
        if (run) inputs.push_back(uma::zeros(in.shape, in.dtype));
      }
    }
    if (!run) continue;
    try {
      auto out = uma::detail::replay_program(t.program, inputs, t.shapeless);
      uma::eval(out);
    } catch (const std::invalid_argument&) {
    } catch (const uma::not_implemented&) {
    }
  }
  return 0;
}
