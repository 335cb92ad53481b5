// The AVX-512 build of the SIMD kernels (compiled with AVX-512 flags; only
// reached through simd::kernels() on CPUs that have it). Includes nothing
// that could emit shared inline code or static initializers.
// GCC 12 warns about its own _mm512_undefined_* helpers (the deliberately
// undefined source of masked and extract intrinsics).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include "uma/backend/cpu/simd/impl.h"
