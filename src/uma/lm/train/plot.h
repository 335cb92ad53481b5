// The loss curve of a training run as a PNG image: training loss as a line,
// validation loss as dots, axes with numbered ticks. Written with zlib; no
// plotting library is needed on an air-gapped machine.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace uma::lm::train {

struct LossCurve {
  std::vector<std::pair<double, double>> train;  // (step, loss)
  std::vector<std::pair<double, double>> valid;
};

// Writes `path` atomically. Throws std::invalid_argument naming the path
// when it cannot be written; an empty curve still gives a valid image.
void write_loss_plot(const std::string& path, const LossCurve& curve, int width = 800, int height = 500);

// The RGB pixels (row-major, 3 bytes each) as a PNG file's bytes.
std::string encode_png(const std::vector<uint8_t>& rgb, int width, int height);

}  // namespace uma::lm::train
