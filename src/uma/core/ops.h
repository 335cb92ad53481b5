// The whole op set, MLX names and semantics. Ops build the graph only.
#pragma once

#include "uma/core/array.h"
#include "uma/core/ops/creation.h"
#include "uma/core/ops/shape.h"
