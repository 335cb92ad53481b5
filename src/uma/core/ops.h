// The whole op set, MLX names and semantics. Ops build the graph only.
#pragma once

#include "uma/core/array.h"
#include "uma/core/ops/conv.h"
#include "uma/core/ops/creation.h"
#include "uma/core/ops/elementwise.h"
#include "uma/core/ops/indexing.h"
#include "uma/core/ops/linalg.h"
#include "uma/core/ops/quantized.h"
#include "uma/core/ops/random.h"
#include "uma/core/ops/reduction.h"
#include "uma/core/ops/shape.h"
#include "uma/core/ops/manipulation.h"
