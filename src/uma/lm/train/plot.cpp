#include "uma/lm/train/plot.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "uma/core/io/file.h"

namespace uma::lm::train {

namespace {

// A 5x7 bitmap font for tick labels and the legend: each glyph is 7 rows of
// 5 bits, the top row first, the leftmost pixel in bit 4.
struct Glyph {
  char c;
  uint8_t rows[7];
};
constexpr Glyph kFont[] = {
    {'0', {14, 17, 19, 21, 25, 17, 14}}, {'1', {4, 12, 4, 4, 4, 4, 14}},    {'2', {14, 17, 1, 2, 4, 8, 31}},
    {'3', {31, 2, 4, 2, 1, 17, 14}},     {'4', {2, 6, 10, 18, 31, 2, 2}},   {'5', {31, 16, 30, 1, 1, 17, 14}},
    {'6', {6, 8, 16, 30, 17, 17, 14}},   {'7', {31, 1, 2, 4, 8, 8, 8}},     {'8', {14, 17, 17, 14, 17, 17, 14}},
    {'9', {14, 17, 17, 15, 1, 2, 12}},   {'.', {0, 0, 0, 0, 0, 12, 12}},    {'-', {0, 0, 0, 31, 0, 0, 0}},
    {'k', {16, 16, 18, 20, 24, 20, 18}}, {'a', {0, 0, 14, 1, 15, 17, 15}},  {'d', {1, 1, 13, 19, 17, 17, 15}},
    {'e', {0, 0, 14, 17, 31, 16, 14}},   {'i', {4, 0, 12, 4, 4, 4, 14}},    {'l', {12, 4, 4, 4, 4, 4, 14}},
    {'n', {0, 0, 22, 25, 17, 17, 17}},   {'o', {0, 0, 14, 17, 17, 17, 14}}, {'p', {0, 0, 30, 17, 30, 16, 16}},
    {'r', {0, 0, 22, 25, 16, 16, 16}},   {'s', {0, 0, 14, 16, 14, 1, 30}},  {'t', {8, 8, 28, 8, 8, 9, 6}},
    {'v', {0, 0, 17, 17, 17, 10, 4}},    {' ', {0, 0, 0, 0, 0, 0, 0}},
};

struct Canvas {
  int w, h;
  std::vector<uint8_t> px;
  Canvas(int w_, int h_) : w(w_), h(h_), px(size_t(w_) * size_t(h_) * 3, 255) {}

  void set(int x, int y, const uint8_t* c) {
    if (x < 0 || y < 0 || x >= w || y >= h) return;
    std::copy(c, c + 3, px.begin() + (long(y) * w + x) * 3);
  }
  void line(double x0, double y0, double x1, double y1, const uint8_t* c, int thick = 1) {
    int n = int(std::max(std::abs(x1 - x0), std::abs(y1 - y0))) + 1;
    for (int i = 0; i <= n; ++i) {
      double t = double(i) / n;
      int x = int(std::lround(x0 + (x1 - x0) * t)), y = int(std::lround(y0 + (y1 - y0) * t));
      for (int dx = 0; dx < thick; ++dx)
        for (int dy = 0; dy < thick; ++dy) set(x + dx, y + dy, c);
    }
  }
  void dot(double x, double y, const uint8_t* c) {
    for (int dx = -2; dx <= 2; ++dx)
      for (int dy = -2; dy <= 2; ++dy)
        if (dx * dx + dy * dy <= 5) set(int(std::lround(x)) + dx, int(std::lround(y)) + dy, c);
  }
  // Text with its top-left corner at (x, y); returns the width drawn.
  int text(int x, int y, const std::string& s, const uint8_t* c) {
    int cx = x;
    for (char ch : s) {
      for (const Glyph& g : kFont) {
        if (g.c != ch) continue;
        for (int r = 0; r < 7; ++r)
          for (int b = 0; b < 5; ++b)
            if (g.rows[r] & (16 >> b)) set(cx + b, y + r, c);
      }
      cx += 6;
    }
    return cx - x;
  }
};

// About five round tick values covering [lo, hi].
std::vector<double> ticks(double lo, double hi) {
  double span = std::max(hi - lo, 1e-12), raw = span / 5;
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag * (raw / mag < 1.5 ? 1 : raw / mag < 3.5 ? 2 : raw / mag < 7.5 ? 5 : 10);
  std::vector<double> out;
  for (double v = std::ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push_back(v);
  return out;
}

std::string label(double v) {
  char buf[32];
  if (std::abs(v) >= 10000) {
    std::snprintf(buf, sizeof buf, "%gk", v / 1000);
  } else {
    std::snprintf(buf, sizeof buf, "%g", std::abs(v) < 1e-12 ? 0.0 : v);
  }
  return buf;
}

void put_be32(std::string& s, uint32_t v) {
  for (int i = 3; i >= 0; --i) s.push_back(char((v >> (8 * i)) & 0xff));
}

void chunk(std::string& out, const char* type, const std::string& data) {
  put_be32(out, uint32_t(data.size()));
  std::string body = std::string(type, 4) + data;
  out += body;
  put_be32(out, uint32_t(crc32(0, reinterpret_cast<const Bytef*>(body.data()), uInt(body.size()))));
}

}  // namespace

std::string encode_png(const std::vector<uint8_t>& rgb, int width, int height) {
  if (width <= 0 || height <= 0 || rgb.size() != size_t(width) * size_t(height) * 3) {
    throw std::invalid_argument("[encode_png] pixel buffer does not match " + std::to_string(width) + "x" +
                                std::to_string(height));
  }
  std::string raw;  // each row: filter type 0, then its pixels
  raw.reserve(size_t(height) * (size_t(width) * 3 + 1));
  for (int y = 0; y < height; ++y) {
    raw.push_back(0);
    raw.append(reinterpret_cast<const char*>(rgb.data()) + size_t(y) * size_t(width) * 3, size_t(width) * 3);
  }
  uLongf n = compressBound(uLong(raw.size()));
  std::string z(n, '\0');
  if (compress2(reinterpret_cast<Bytef*>(z.data()), &n, reinterpret_cast<const Bytef*>(raw.data()), uLong(raw.size()),
                9) != Z_OK) {
    throw std::runtime_error("[encode_png] zlib failed");
  }
  z.resize(n);
  std::string png("\x89PNG\r\n\x1a\n", 8), ihdr;
  put_be32(ihdr, uint32_t(width));
  put_be32(ihdr, uint32_t(height));
  ihdr += std::string("\x08\x02\x00\x00\x00", 5);  // 8-bit RGB, deflate, no filter, no interlace
  chunk(png, "IHDR", ihdr);
  chunk(png, "IDAT", z);
  chunk(png, "IEND", "");
  return png;
}

void write_loss_plot(const std::string& path, const LossCurve& curve, int width, int height) {
  static const uint8_t kAxis[3] = {90, 90, 90}, kGrid[3] = {225, 225, 225}, kTrain[3] = {31, 119, 180},
                       kValid[3] = {214, 39, 40}, kText[3] = {40, 40, 40};
  Canvas cv(width, height);
  const int left = 60, right = 20, top = 30, bottom = 40;
  const int pw = width - left - right, ph = height - top - bottom;
  double x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  bool any = false;
  for (const auto* s : {&curve.train, &curve.valid}) {
    for (auto [x, y] : *s) {
      if (!std::isfinite(y)) continue;
      if (!any) x0 = x1 = x, y0 = y1 = y, any = true;
      x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
    }
  }
  if (x1 <= x0) x1 = x0 + 1;
  if (y1 <= y0) y1 = y0 + 1;
  double pad = (y1 - y0) * 0.05;
  y0 -= pad, y1 += pad;
  auto px = [&](double x) { return left + (x - x0) / (x1 - x0) * pw; };
  auto py = [&](double y) { return top + (y1 - y) / (y1 - y0) * ph; };
  for (double t : ticks(y0, y1)) {
    cv.line(left, py(t), left + pw, py(t), kGrid);
    std::string s = label(t);
    cv.text(left - 6 - int(s.size()) * 6, int(py(t)) - 3, s, kText);
  }
  for (double t : ticks(x0, x1)) {
    cv.line(px(t), top, px(t), top + ph, kGrid);
    std::string s = label(t);
    cv.text(int(px(t)) - int(s.size()) * 3, top + ph + 6, s, kText);
  }
  cv.line(left, top, left, top + ph, kAxis);
  cv.line(left, top + ph, left + pw, top + ph, kAxis);
  cv.text(left + pw / 2 - 12, height - 14, "step", kText);
  cv.text(8, 10, "loss", kText);
  for (size_t i = 1; i < curve.train.size(); ++i) {
    auto [a, b] = curve.train[i - 1];
    auto [c, d] = curve.train[i];
    if (std::isfinite(b) && std::isfinite(d)) cv.line(px(a), py(b), px(c), py(d), kTrain, 2);
  }
  for (auto [x, y] : curve.valid) {
    if (std::isfinite(y)) cv.dot(px(x), py(y), kValid);
  }
  int lx = left + pw - 120;
  cv.line(lx, 14, lx + 20, 14, kTrain, 2);
  lx += 24 + cv.text(lx + 24, 11, "train", kText) + 12;
  cv.dot(lx + 4, 14, kValid);
  cv.text(lx + 12, 11, "valid", kText);

  io::write_file_atomic(path, encode_png(cv.px, width, height), "train");
}

}  // namespace uma::lm::train
