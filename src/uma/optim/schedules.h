// Learning-rate schedules, as mlx.optimizers' schedulers: functions from the
// number of updates done to the rate of the next one. Computed in float32
// the way MLX's array arithmetic does, so rates match MLX's to the rounding.
#pragma once

#include <cstdint>
#include <vector>

#include "uma/optim/optimizer.h"

namespace uma::optim {

// value at every step (not in MLX, whose optimizers take a plain float).
Schedule constant(float value);
// init * decay_rate^step.
Schedule exponential_decay(float init, float decay_rate);
// init * decay_rate^(step / step_size), integer division; step_size >= 1.
Schedule step_decay(float init, float decay_rate, int64_t step_size);
// end + (init - end) (1 + cos(pi min(step, decay_steps) / decay_steps)) / 2; decay_steps >= 1.
Schedule cosine_decay(float init, int64_t decay_steps, float end = 0.0f);
// init + (end - init) min(step, steps) / steps; steps >= 1 (warm-up: init 0).
Schedule linear_schedule(float init, float end, int64_t steps);
// schedules[0] until boundaries[0], then schedules[1](step - boundaries[0]),
// and so on; boundaries.size() == schedules.size() - 1.
Schedule join_schedules(std::vector<Schedule> schedules, std::vector<int64_t> boundaries);

}  // namespace uma::optim
