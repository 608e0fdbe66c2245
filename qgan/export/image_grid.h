// Sample grids: a batch of generated images tiled into one PNG.
#pragma once

#include <string>

#include <torch/types.h>

#include "common/status.h"

namespace bitsweep::qgan {

/// Writes `images` (float [N, C, H, W] in [-1, 1], C = 1 or 3) as a PNG grid
/// of ceil(sqrt(N)) columns with `padding` pixels of black between tiles.
Status WriteImageGrid(const torch::Tensor& images, const std::string& path, int padding = 2);

}  // namespace bitsweep::qgan
