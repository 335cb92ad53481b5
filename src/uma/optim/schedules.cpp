#include "uma/optim/schedules.h"

#include <cmath>
#include <numbers>
#include <stdexcept>
#include <string>

namespace uma::optim {

namespace {

// A Python float constant next to a float32 array rounds to float32.
float f32(double v) { return static_cast<float>(v); }

void check_positive(const char* fn, const char* what, int64_t v) {
  if (v < 1) throw std::invalid_argument(std::string("[") + fn + "] " + what + " must be >= 1, got " + std::to_string(v));
}

}  // namespace

Schedule constant(float value) {
  return [value](int64_t) { return value; };
}

Schedule exponential_decay(float init, float decay_rate) {
  float i = f32(decimal(init)), r = f32(decimal(decay_rate));
  return [i, r](int64_t step) { return i * std::pow(r, static_cast<float>(step)); };
}

Schedule step_decay(float init, float decay_rate, int64_t step_size) {
  check_positive("step_decay", "step_size", step_size);
  float i = f32(decimal(init)), r = f32(decimal(decay_rate));
  return [i, r, step_size](int64_t step) { return i * std::pow(r, static_cast<float>(step / step_size)); };
}

Schedule cosine_decay(float init, int64_t decay_steps, float end) {
  check_positive("cosine_decay", "decay_steps", decay_steps);
  double i = decimal(init), e = decimal(end);
  float scale = f32(std::numbers::pi / static_cast<double>(decay_steps));
  return [=](int64_t step) {
    float s = static_cast<float>(std::min(step, decay_steps));
    float decay = 0.5f * (1.0f + std::cos(scale * s));
    return f32(e) + decay * f32(i - e);
  };
}

Schedule linear_schedule(float init, float end, int64_t steps) {
  check_positive("linear_schedule", "steps", steps);
  double i = decimal(init), e = decimal(end);
  float slope = f32((e - i) / static_cast<double>(steps));
  return [=](int64_t step) { return static_cast<float>(std::min(step, steps)) * slope + f32(i); };
}

Schedule join_schedules(std::vector<Schedule> schedules, std::vector<int64_t> boundaries) {
  if (schedules.empty()) throw std::invalid_argument("[join_schedules] needs at least one schedule");
  if (boundaries.size() + 1 != schedules.size())
    throw std::invalid_argument("[join_schedules] got " + std::to_string(boundaries.size()) + " boundaries for " +
                                std::to_string(schedules.size()) + " schedules, expected " +
                                std::to_string(schedules.size() - 1));
  for (size_t i = 0; i < schedules.size(); ++i)
    if (!schedules[i]) throw std::invalid_argument("[join_schedules] schedule " + std::to_string(i) + " is empty");
  return [schedules = std::move(schedules), boundaries = std::move(boundaries)](int64_t step) {
    // The last boundary passed picks the schedule, as MLX's chain of where().
    size_t k = 0;
    for (size_t b = 0; b < boundaries.size(); ++b)
      if (step >= boundaries[b]) k = b + 1;
    return schedules[k](k == 0 ? step : step - boundaries[k - 1]);
  };
}

}  // namespace uma::optim
