// Every primitive family, for code generated over all primitives (the no-GPU
// stub, the missing transform rules, tests).
#pragma once

#include "uma/core/primitives/compiled.h"
#include "uma/core/primitives/conv.h"
#include "uma/core/primitives/custom.h"
#include "uma/core/primitives/elementwise.h"
#include "uma/core/primitives/fast.h"
#include "uma/core/primitives/fft.h"
#include "uma/core/primitives/indexing.h"
#include "uma/core/primitives/linalg.h"
#include "uma/core/primitives/linalg_lapack.h"
#include "uma/core/primitives/manipulation.h"
#include "uma/core/primitives/quantized.h"
#include "uma/core/primitives/random.h"
#include "uma/core/primitives/reduction.h"
#include "uma/core/primitives/shape.h"
#include "uma/core/primitives/sort.h"

// The primitives of namespace uma; the fast family lives in uma::fast and is
// expanded there (UMA_FAST_PRIMITIVES).
#define UMA_CORE_PRIMITIVES(X)                                                                          \
  UMA_ELEMENTWISE_PRIMITIVES(X) UMA_SHAPE_PRIMITIVES(X) UMA_MANIPULATION_PRIMITIVES(X)                  \
  UMA_INDEXING_PRIMITIVES(X) UMA_REDUCTION_PRIMITIVES(X) UMA_LINALG_PRIMITIVES(X) UMA_SORT_PRIMITIVES(X) \
  UMA_RANDOM_PRIMITIVES(X) UMA_QUANTIZED_PRIMITIVES(X) UMA_CONV_PRIMITIVES(X) UMA_FFT_PRIMITIVES(X) \
  UMA_LAPACK_PRIMITIVES(X)

// The primitives of namespace uma with several outputs (UMA_DECLARE_MULTI_PRIMITIVE).
#define UMA_CORE_MULTI_PRIMITIVES(X) UMA_QUANTIZED_MULTI_PRIMITIVES(X) UMA_CUSTOM_MULTI_PRIMITIVES(X) \
  UMA_COMPILED_MULTI_PRIMITIVES(X) UMA_LAPACK_MULTI_PRIMITIVES(X)
