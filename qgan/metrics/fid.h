// Fréchet Inception Distance between two sets of features, computed as
// pytorch-fid, torch-fidelity and clean-fid define it, in float64.
#pragma once

#include <torch/types.h>

namespace bitsweep::qgan {

/// Mean and covariance of a feature set (float64). The covariance is the
/// unbiased one (divided by n - 1), as numpy.cov and the reference tools use.
struct GaussianStats {
  torch::Tensor mean;        // [d]
  torch::Tensor covariance;  // [d, d]
  int64_t count = 0;
};

/// Statistics of `features` ([N, d], any float type), accumulated in float64.
GaussianStats ComputeStats(const torch::Tensor& features);

/// FID = |mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2)), with the trace of the
/// square root taken in its symmetric form tr sqrt(sqrt(S1) S2 sqrt(S1)) via
/// two eigen-decompositions. Tiny negative eigenvalues (rounding, or rank
/// deficiency when N < d) are clamped to zero, so the result is finite.
double FrechetDistance(const GaussianStats& a, const GaussianStats& b);

}  // namespace bitsweep::qgan
