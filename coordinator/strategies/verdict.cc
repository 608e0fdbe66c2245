#include "coordinator/strategies/verdict.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace bitsweep::coordinator {
namespace {

// The regularised incomplete beta function I_x(a, b), by its continued
// fraction (modified Lentz), accurate to ~1e-12 for the arguments used here.
double IncompleteBetaFraction(double a, double b, double x) {
  constexpr double kTiny = 1e-300;
  double c = 1.0, d = 1.0 - (a + b) * x / (a + 1.0);
  if (std::fabs(d) < kTiny) d = kTiny;
  d = 1.0 / d;
  double h = d;
  for (int m = 1; m <= 300; ++m) {
    const double m2 = 2.0 * m;
    double aa = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2));
    d = 1.0 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1.0 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    h *= d * c;
    aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0));
    d = 1.0 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1.0 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    const double delta = d * c;
    h *= delta;
    if (std::fabs(delta - 1.0) < 1e-14) break;
  }
  return h;
}

double RegularisedIncompleteBeta(double a, double b, double x) {
  if (x <= 0.0) return 0.0;
  if (x >= 1.0) return 1.0;
  const double front =
      std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x));
  if (x < (a + 1.0) / (a + b + 2.0)) return front * IncompleteBetaFraction(a, b, x) / a;
  return 1.0 - front * IncompleteBetaFraction(b, a, 1.0 - x) / b;
}

// P(T <= t) for Student's t with df degrees of freedom.
double StudentTCdf(double t, double df) {
  if (std::isinf(df)) return 0.5 * std::erfc(-t / std::sqrt(2.0));
  const double tail = 0.5 * RegularisedIncompleteBeta(0.5 * df, 0.5, df / (df + t * t));
  return t >= 0.0 ? 1.0 - tail : tail;
}

}  // namespace

double StudentTQuantile(double p, double df) {
  if (p == 0.5) return 0.0;
  if (p < 0.5) return -StudentTQuantile(1.0 - p, df);
  // Bisection on the monotone CDF: 200 halvings of a bracket that holds
  // every quantile asked for here is exact to double precision.
  double lo = 0.0, hi = 1.0;
  while (StudentTCdf(hi, df) < p && hi < 1e12) hi *= 2.0;
  for (int i = 0; i < 200; ++i) {
    const double mid = 0.5 * (lo + hi);
    (StudentTCdf(mid, df) < p ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

double Margin(double value, double bound, bool lower_is_better) {
  // Relative on a log scale where both are positive (FID, IS); KID can be
  // zero or negative (an unbiased estimate), so there the relative
  // difference, which agrees with the log ratio near the bound.
  double m = value > 0.0 && bound > 0.0 ? std::log(value / bound) : (value - bound) / std::fabs(bound);
  if (!std::isfinite(m)) m = value <= bound ? -1.0 : 1.0;
  return lower_is_better ? m : -m;
}

PooledSpread PoolSpread(const std::vector<std::vector<double>>& margins_per_config) {
  PooledSpread pooled;
  double sum_squares = 0.0;
  for (const auto& margins : margins_per_config) {
    if (margins.size() < 2) continue;
    const double mean = std::accumulate(margins.begin(), margins.end(), 0.0) / static_cast<double>(margins.size());
    for (double m : margins) sum_squares += (m - mean) * (m - mean);
    pooled.df += static_cast<double>(margins.size() - 1);
  }
  if (pooled.df > 0) pooled.variance = sum_squares / pooled.df;
  return pooled;
}

Judgement JudgeMargins(const std::vector<double>& margins, const PooledSpread& spread, double sampling_variance,
                       double confidence) {
  Judgement j;
  j.n = static_cast<int>(margins.size());
  if (j.n == 0) return j;
  j.mean = std::accumulate(margins.begin(), margins.end(), 0.0) / j.n;
  if (spread.df <= 0.0) {
    // Nothing says yet how much a second seed could differ.
    j.lower = -std::numeric_limits<double>::infinity();
    j.upper = std::numeric_limits<double>::infinity();
    return j;
  }
  j.se = std::sqrt(std::max(spread.variance, sampling_variance) / j.n);
  const double t = StudentTQuantile(confidence, spread.df);
  j.lower = j.mean - t * j.se;
  j.upper = j.mean + t * j.se;
  j.decision = j.upper <= 0.0 ? Decision::kMeets : j.lower > 0.0 ? Decision::kFails : Decision::kUndecided;
  return j;
}

}  // namespace bitsweep::coordinator
