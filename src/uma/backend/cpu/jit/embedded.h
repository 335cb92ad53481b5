// Text the build embeds into the library for compile()'s generated kernels
// (cmake/embed_sources.cmake writes the definitions): the prelude they are
// written against, and the compiler flags of the ISA tiers the table kernels
// are built with (CMakeLists.txt, "ISA tiers").
#pragma once

namespace uma::cpu::jit {

// simd/vec.h, math.h, ops.h and jit_prelude.h in that order, without their
// #pragma once and uma includes: one self-contained block of C++.
extern const char* const kPreludeSource;
// Space-separated flags: the x86-64-v3 floor, and what AVX-512 adds to it.
extern const char* const kBaseFlags;
extern const char* const kAvx512Flags;

}  // namespace uma::cpu::jit
