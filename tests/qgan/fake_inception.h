// A TorchScript module with the interface of the TF-ported Inception-v3
// file (forward(img: uint8 [N, 3, H, W], return_features: bool)), small
// enough for tests: features are the per-channel means of img / 255 times
// `projection` ([3, d]); "probabilities" are softmax(10 * features).
#pragma once

#include <string>

#include <torch/types.h>

namespace bitsweep::testing {

void WriteFakeInception(const std::string& path, const torch::Tensor& projection);

}  // namespace bitsweep::testing
