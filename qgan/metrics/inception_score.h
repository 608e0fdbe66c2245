// Inception Score from class probabilities, as torch-fidelity computes it.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/types.h>

namespace bitsweep::qgan {

struct ScoreWithSpread {
  double mean = 0.0;
  double std = 0.0;
};

/// Mean and population standard deviation of per-split (or per-subset)
/// scores, as the reference tools report them (numpy's default std).
ScoreWithSpread MeanAndStd(const std::vector<double>& values);

/// IS = exp(E_x KL(p(y|x) || p(y))) over `splits` equal splits of the rows of
/// `probabilities` ([N, K], rows summing to 1) after a shuffle seeded with
/// `seed`; mean and (population) std over the splits.
ScoreWithSpread InceptionScore(const torch::Tensor& probabilities, int splits = 10, uint64_t seed = 0);

}  // namespace bitsweep::qgan
