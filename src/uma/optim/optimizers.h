// Every optimizer, schedule and clipping function of uma::optim.
#pragma once

#include "uma/optim/adam.h"
#include "uma/optim/clip.h"
#include "uma/optim/optimizer.h"
#include "uma/optim/schedules.h"
#include "uma/optim/sgd.h"
