#include "edge/grid.h"

#include <cmath>

namespace bitsweep::edge {

Grid MakeGrid(const float* images, int64_t n, int channels, int size, int padding) {
  Grid grid;
  const int64_t cols = static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(n))));
  const int64_t rows = (n + cols - 1) / cols;
  grid.width = static_cast<int>(cols * size + (cols + 1) * padding);
  grid.height = static_cast<int>(rows * size + (rows + 1) * padding);
  grid.channels = channels;
  grid.pixels.assign(static_cast<size_t>(grid.width) * grid.height * channels, 0);
  const int64_t plane = int64_t{size} * size;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t top = (i / cols) * (size + padding) + padding;
    const int64_t left = (i % cols) * (size + padding) + padding;
    for (int c = 0; c < channels; ++c) {
      const float* src = images + (i * channels + c) * plane;
      for (int y = 0; y < size; ++y) {
        for (int x = 0; x < size; ++x) {
          float v = std::nearbyint((src[y * size + x] + 1.0f) * 127.5f);
          v = v < 0.0f ? 0.0f : (v > 255.0f ? 255.0f : v);
          grid.pixels[((top + y) * grid.width + left + x) * channels + c] = static_cast<uint8_t>(v);
        }
      }
    }
  }
  return grid;
}

}  // namespace bitsweep::edge
