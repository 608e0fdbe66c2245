// Level diagnostics: QGAN's observation that low-bit levels are
// "under-represented" (most weights land on a few levels), made measurable.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "qgan/quant/quantizer.h"

namespace bitsweep::qgan {

struct LevelStats {
  std::string layer;
  std::string method;
  int bits = 32;
  int64_t num_weights = 0;
  /// Levels holding at least one weight (at most 2^bits).
  int64_t levels_used = 0;
  /// Entropy of the level histogram in bits, divided by `bits`: 1 when every
  /// level holds the same share, 0 when all weights share one level.
  double utilisation = 0.0;
  /// Mean squared difference between quantized and full-precision weights.
  double mse = 0.0;
  /// Share of the weights on each level (2^bits entries).
  std::vector<double> level_fraction;

  nlohmann::json ToJson() const;
};

/// Measures how `q` represents `weights`.
LevelStats MeasureLevels(const std::string& layer, QuantMethod method, int bits,
                         const torch::Tensor& weights, const QuantizedWeight& q);

}  // namespace bitsweep::qgan
