// Everything public in uma's core: arrays, ops, evaluation, memory.
#pragma once

#include "uma/core/allocator.h"
#include "uma/core/array.h"
#include "uma/core/compile.h"
#include "uma/core/device.h"
#include "uma/core/export.h"
#include "uma/core/fft.h"
#include "uma/core/io/npy.h"
#include "uma/core/io/safetensors.h"
#include "uma/core/linalg.h"
#include "uma/core/ops.h"
#include "uma/core/transforms.h"
