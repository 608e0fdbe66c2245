// The TF-ported Inception-v3 ("inception-2015-12-05") as a TorchScript file.
#pragma once

#include <memory>
#include <string>

#include "qgan/metrics/evaluator.h"

namespace bitsweep::qgan {

/// Loads a TorchScript module with forward(img: uint8 [N, 3, H, W],
/// return_features: bool) returning 2048-d pool features when
/// return_features is true and class probabilities (1008 classes) otherwise.
/// Grey images are repeated to 3 channels.
Result<std::unique_ptr<Evaluator>> LoadInceptionEvaluator(const std::string& path, const torch::Device& device);

}  // namespace bitsweep::qgan
