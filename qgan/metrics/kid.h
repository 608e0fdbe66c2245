// Kernel Inception Distance (Bińkowski et al.), as torch-fidelity computes it.
#pragma once

#include <cstdint>

#include <torch/types.h>

#include "qgan/metrics/inception_score.h"

namespace bitsweep::qgan {

/// The cubic polynomial kernel k(x, y) = (x.y / d + 1)^3.
torch::Tensor PolynomialKernel(const torch::Tensor& x, const torch::Tensor& y);

/// Unbiased MMD^2 between two equal-size samples under PolynomialKernel.
double UnbiasedMmd2(const torch::Tensor& x, const torch::Tensor& y);

/// KID: UnbiasedMmd2 over `subsets` random subsets of size
/// min(subset_size, N_a, N_b) drawn without replacement from each set
/// (seeded); mean and (population) std over subsets.
ScoreWithSpread KernelInceptionDistance(const torch::Tensor& a, const torch::Tensor& b, int subsets = 100,
                                        int64_t subset_size = 1000, uint64_t seed = 0);

}  // namespace bitsweep::qgan
