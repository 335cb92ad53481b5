// Declarations land with their family.
#pragma once

#include "uma/core/array.h"
#include "uma/core/device.h"

namespace uma {}  // namespace uma
