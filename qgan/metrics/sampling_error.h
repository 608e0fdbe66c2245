// Sampling error of FID, IS and KID: how much a reported value would move
// if the generated sample (eval.num_samples images) were drawn again from
// other latents. The reference (real) set is held fixed throughout: it is
// the same for every configuration of a sweep, so it cancels out of paired
// comparisons, and it is usually much larger than the generated sample.
//
// FID and IS: nonparametric bootstrap over the generated rows. The resample
// index sets come from a fixed seed, so every job with the same sample size
// uses the same ones and the bootstrap, like the latents, is paired across
// jobs. KID: the bootstrap with replacement is biased for its U-statistic
// (a resampled row paired with its own copy enters the "unbiased" off-diagonal
// sums), so disjoint blocks are used instead (see KidBlockStd).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <torch/types.h>

#include "qgan/metrics/fid.h"

namespace bitsweep::qgan {

/// Seed of the bootstrap resample index sets and of KID's reference subset.
/// A constant, not a spec field: pairing across jobs needs it to be the same
/// for all of them, and nothing is gained by varying it.
inline constexpr uint64_t kSamplingErrorSeed = 0x6a09e667f3bcc908ull;

/// Bootstrap replicates. The standard error from B replicates is itself
/// uncertain by about 1/sqrt(2(B-1)) (7% at 100), plenty for error bars.
inline constexpr int kBootstrapReplicates = 100;

/// `replicates` resamples with replacement of the rows 0..n-1: int64
/// [replicates, n], row b the indices of replicate b. Deterministic in
/// (n, replicates, seed).
torch::Tensor BootstrapIndices(int64_t n, int replicates = kBootstrapReplicates,
                               uint64_t seed = kSamplingErrorSeed);

/// Sample standard deviation (divided by n - 1); 0 for fewer than 2 values.
double SampleStd(const std::vector<double>& values);

/// FID of every bootstrap replicate of `features` ([N, d]) against the fixed
/// `reference`: replicate b has the mean and unbiased covariance of the rows
/// `indices[b]` (BootstrapIndices(N, ...)). Computed in float64 from count
/// weights by matrix products (each drawn row enters once, weighted by how
/// often it was drawn), with the reference covariance's square root taken
/// once for all replicates. Runs on the device `features` are on.
std::vector<double> FidBootstrapReplicates(const torch::Tensor& features, const GaussianStats& reference,
                                           const torch::Tensor& indices);

/// Standard error of FrechetDistance(ComputeStats(features), reference) with
/// respect to the generated sample: the sample std of the replicates above.
/// nullopt when N < 2 or fewer than 2 replicates.
std::optional<double> FidStandardError(const torch::Tensor& features, const GaussianStats& reference,
                                       const torch::Tensor& indices);

/// Inception Score, defined as InceptionScore defines it (mean over `splits`
/// equal splits of exp(mean KL(p(y|x) || p(y)))), of every bootstrap
/// replicate of the rows of `probabilities` ([N, K]). A replicate's rows are
/// i.i.d. draws, already in random order, so its splits are consecutive
/// slices of indices[b] (InceptionScore's shuffle would change nothing in
/// distribution).
std::vector<double> InceptionScoreBootstrapReplicates(const torch::Tensor& probabilities, const torch::Tensor& indices,
                                                      int splits = 10);

/// Standard error of InceptionScore(probabilities, splits).mean with respect
/// to the generated sample: the sample std of the replicates above. nullopt
/// when N < 2 or fewer than 2 replicates.
std::optional<double> InceptionScoreStandardError(const torch::Tensor& probabilities, const torch::Tensor& indices,
                                                  int splits = 10);

/// KID's sampling error from disjoint blocks. The N generated rows (i.i.d.
/// draws) are cut into k = min(max_blocks, N / 2) consecutive blocks of
/// m = N / k rows (a remainder of fewer than k rows is left out), and each
/// block's unbiased MMD^2 is taken against one random subset of m reference
/// rows (all of them when there are fewer), the same subset for every block.
/// Returns sd(block values) / sqrt(k); nullopt when k < 2 (N < 4) or the
/// reference has fewer than 2 rows.
///
/// Why that is the standard error of the reported KID: with the reference
/// fixed, MMD^2_u of n generated rows is a U-statistic whose Hoeffding
/// decomposition gives Var = 4 z1 / n + O(z2 / n^2), where z1 is the variance
/// of its first-order projection. A block (n = m = N/k) has variance
/// var_block ~= 4 z1 k / N, so var_block / k ~= 4 z1 / N: the variance of
/// MMD^2_u over all N rows, which KID's mean over random subsets estimates
/// (averaging over subsets recovers the full-sample U-statistic, up to a
/// Monte Carlo term of order 1/subsets). The blocks are disjoint and share
/// only the fixed reference subset, so given the reference they are
/// independent, and sd^2 / k is an unbiased estimate of var_block / k.
/// Caveats, stated rather than hidden: (1) the O(z2 / n^2) term is k times
/// larger relative to the block mean than to the full sample, so where z1
/// vanishes (generated and reference distributions equal, KID ~ 0) the
/// estimate errs high, by up to sqrt(k) in sd: conservative; (2) with k = 5
/// it rests on 4 degrees of freedom, so one estimate is uncertain by about
/// 35% (unbiased in variance, not precise); (3) one common reference subset
/// keeps reference-subset noise out of the spread between blocks (KID's
/// value averages that noise away over its 100 subsets), which independent
/// subsets per block would add to it.
std::optional<double> KidBlockStandardError(const torch::Tensor& generated, const torch::Tensor& reference,
                                            int max_blocks = 5, uint64_t seed = kSamplingErrorSeed);

}  // namespace bitsweep::qgan
