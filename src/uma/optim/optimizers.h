// Every optimizer, schedule and clipping function of uma::optim.
#pragma once

#include "uma/optim/adafactor.h"
#include "uma/optim/adam.h"
#include "uma/optim/clip.h"
#include "uma/optim/lion.h"
#include "uma/optim/multi.h"
#include "uma/optim/muon.h"
#include "uma/optim/optimizer.h"
#include "uma/optim/rms.h"
#include "uma/optim/schedules.h"
#include "uma/optim/sgd.h"
