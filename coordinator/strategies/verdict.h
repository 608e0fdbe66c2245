// Verdicts that respect the noise: whether a configuration meets a quality
// requirement, judged from its runs (one per training seed) with a stated
// confidence, or "undecided" when the runs cannot tell.
//
// The statistics (docs/searches.md, "Verdicts and their uncertainty"):
//  - Each seed s of a configuration gives a margin m_s: its value against
//    the bound, on a log scale, signed so that m_s <= 0 meets the
//    requirement (fid: log(value / bound); is: log(bound / value)). With a
//    bound relative to the baseline, the bound of seed s is r x the
//    baseline's value for the same seed: training seed and evaluation
//    latents are shared, so the comparison is paired.
//  - The margins of a configuration scatter from seed to seed (training
//    noise, plus the sampling noise of the evaluation). That scatter is
//    estimated from every configuration of the search that has two or more
//    seeds, pooled (the same noise is assumed for every configuration; a log
//    scale makes that a fair assumption for multiplicative noise). The
//    standard error of a configuration's mean margin is then
//    sqrt(pooled variance / n), or its sampling error alone when that is
//    larger (runs that agree by chance must not look more certain than one
//    evaluation can be).
//    With a bound relative to the baseline every margin also carries the
//    noise of the baseline seed it is paired with, shared by all
//    configurations; the pooled degrees of freedom are then capped at the
//    baseline's seeds - 1 (the caller does that).
//  - One-sided bounds at `confidence` with Student's t at the pooled
//    degrees of freedom: meets when the upper bound is <= 0, fails when the
//    lower bound is > 0, otherwise undecided. No pooled degrees of freedom
//    yet (no configuration has two seeds): undecided.
#pragma once

#include <vector>

namespace bitsweep::coordinator {

/// The one-sided quantile of Student's t: P(T <= x) = p, for p in (0, 1)
/// and df > 0 (df may be fractional; df = inf gives the normal quantile).
double StudentTQuantile(double p, double df);

/// The margin of `value` against `bound` (see above): <= 0 meets.
double Margin(double value, double bound, bool lower_is_better);

/// The seed-to-seed variance of margins, pooled over configurations.
struct PooledSpread {
  double variance = 0.0;
  /// Degrees of freedom: the sum over configurations of (seeds - 1).
  double df = 0.0;
};

/// Pools the within-configuration variance of `margins_per_config` (one
/// vector of per-seed margins per configuration; those with fewer than two
/// add nothing).
PooledSpread PoolSpread(const std::vector<std::vector<double>>& margins_per_config);

enum class Decision { kMeets, kFails, kUndecided };

struct Judgement {
  Decision decision = Decision::kUndecided;
  int n = 0;
  double mean = 0.0;
  /// Standard error of `mean`.
  double se = 0.0;
  /// One-sided bounds of the mean margin at the confidence asked for.
  double lower = 0.0, upper = 0.0;
};

/// Judges one configuration from its per-seed `margins` (at least one),
/// the pooled spread, the sampling variance of one margin (0 if unknown)
/// and the confidence (0.5 < confidence < 1).
Judgement JudgeMargins(const std::vector<double>& margins, const PooledSpread& spread, double sampling_variance,
                       double confidence);

}  // namespace bitsweep::coordinator
