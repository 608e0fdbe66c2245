// Readers for the formats datasets ship in. Each returns uint8 images
// [N, C, H, W] (and labels where the format has them), or an error that names
// the file and what is wrong with it.
#pragma once

#include <cstdint>
#include <string>

#include <torch/types.h>

#include "common/status.h"

namespace bitsweep::qgan {

struct RawImages {
  torch::Tensor images;  // uint8 [N, C, H, W]
  torch::Tensor labels;  // int64 [N], or undefined
};

/// One IDX file (MNIST's format), gzipped or not: uint8 data with its
/// dimensions. `expected_dims` is 3 for images, 1 for labels.
Result<torch::Tensor> ReadIdxFile(const std::string& path, int expected_dims);

/// MNIST or Fashion-MNIST from `root`: {train,t10k}-images-idx3-ubyte and
/// -labels-idx1-ubyte, each with or without .gz.
Result<RawImages> ReadIdxDataset(const std::string& root, const std::string& split);

/// CIFAR-10 binary batches (data_batch_1..5.bin or test_batch.bin) in `root`
/// or in `root`/cifar-10-batches-bin. Each record: 1 label byte + 3072 pixel
/// bytes (R, G, B planes of 32x32).
Result<RawImages> ReadCifar10(const std::string& root, const std::string& split);

/// Every .jpg/.jpeg/.png under `root` (sorted by path, recursively), centre
/// cropped to a square and resized to `size` x `size` RGB. `limit` > 0 stops
/// after that many images.
Result<RawImages> ReadImageFolder(const std::string& root, int size, int64_t limit);

}  // namespace bitsweep::qgan
