// Sample grids: a batch of images tiled into one 8-bit picture, laid out as
// `bitsweep sample` lays them out (qgan/export/image_grid.h): ceil(sqrt(N))
// columns, `padding` black pixels between and around tiles, pixel =
// round((x + 1) * 127.5) clamped to 0..255 (round half to even, as torch).
#pragma once

#include <cstdint>
#include <vector>

namespace bitsweep::edge {

struct Grid {
  int width = 0;
  int height = 0;
  /// 1 (grey) or 3 (RGB).
  int channels = 1;
  /// Rows of width * channels bytes, top to bottom.
  std::vector<uint8_t> pixels;
};

/// Tiles `n` images [n][channels][size][size] (floats in [-1, 1]).
Grid MakeGrid(const float* images, int64_t n, int channels, int size, int padding = 2);

}  // namespace bitsweep::edge
