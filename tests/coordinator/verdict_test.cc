// The statistics behind multi_precision's verdicts: Student's t, and the
// calibration of meets / fails / undecided on data with a known answer.
#include "coordinator/strategies/verdict.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

namespace bitsweep::coordinator {
namespace {

TEST(VerdictTest, StudentTQuantilesMatchTheTables) {
  EXPECT_NEAR(StudentTQuantile(0.90, 1), 3.0777, 1e-4);
  EXPECT_NEAR(StudentTQuantile(0.95, 1), 6.3138, 1e-4);
  EXPECT_NEAR(StudentTQuantile(0.95, 10), 1.8125, 1e-4);
  EXPECT_NEAR(StudentTQuantile(0.975, 30), 2.0423, 1e-4);
  EXPECT_NEAR(StudentTQuantile(0.90, std::numeric_limits<double>::infinity()), 1.2816, 1e-4);
  EXPECT_NEAR(StudentTQuantile(0.10, 5), -StudentTQuantile(0.90, 5), 1e-12);
}

TEST(VerdictTest, MarginsAreRelativeAndSignedSoThatNegativeMeets) {
  EXPECT_NEAR(Margin(99.0, 110.0, /*lower_is_better=*/true), std::log(0.9), 1e-12);
  EXPECT_GT(Margin(121.0, 110.0, true), 0.0);
  EXPECT_LT(Margin(9.0, 8.0, /*lower_is_better=*/false), 0.0);  // is 9 >= bound 8
  // KID may be zero or negative: the relative difference then.
  EXPECT_NEAR(Margin(-0.001, 0.01, true), -1.1, 1e-12);
}

TEST(VerdictTest, NoSpreadYetIsUndecided) {
  Judgement j = JudgeMargins({-0.5}, PooledSpread{}, 0.0, 0.9);
  EXPECT_EQ(j.decision, Decision::kUndecided);
}

// Simulated searches: `configs` configurations with `seeds` seeds each,
// margins normal around their true values with sd `sigma`, judged at 90%.
// Returns how often the configuration with true margin `truth` (the first)
// was judged to meet and to fail.
std::pair<double, double> Rates(double truth, int configs, int seeds, double sigma, int trials, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0.0, sigma);
  std::uniform_real_distribution<double> others(-0.3, 0.3);
  int meets = 0, fails = 0;
  for (int t = 0; t < trials; ++t) {
    std::vector<std::vector<double>> margins(configs);
    for (int c = 0; c < configs; ++c) {
      const double mean = c == 0 ? truth : others(rng);
      for (int s = 0; s < seeds; ++s) margins[c].push_back(mean + noise(rng));
    }
    Judgement j = JudgeMargins(margins[0], PoolSpread(margins), 0.0, 0.9);
    meets += j.decision == Decision::kMeets;
    fails += j.decision == Decision::kFails;
  }
  return {static_cast<double>(meets) / trials, static_cast<double>(fails) / trials};
}

TEST(VerdictTest, AtTheBoundEachWrongVerdictHappensAtTheStatedRate) {
  // True margin 0: "meets" and "fails" are both wrong calls, each made with
  // probability 1 - confidence = 0.10 (exact for normal data and a pooled
  // variance). 4,000 trials: the binomial sd of a rate is 0.005.
  for (int seeds : {2, 3}) {
    auto [meets, fails] = Rates(0.0, /*configs=*/4, seeds, /*sigma=*/0.05, 4000, 1 + seeds);
    EXPECT_NEAR(meets, 0.10, 0.02) << seeds << " seeds";
    EXPECT_NEAR(fails, 0.10, 0.02) << seeds << " seeds";
  }
}

TEST(VerdictTest, ClearCasesAreDecidedAndWrongCallsAreRare) {
  // Two sd of one seed beyond the bound, three seeds: decided most of the
  // time, and the wrong call stays below the 10% it is allowed at the bound.
  auto [meets_bad, fails_bad] = Rates(0.10, 4, 3, 0.05, 4000, 7);
  EXPECT_LT(meets_bad, 0.01);
  EXPECT_GT(fails_bad, 0.8);
  auto [meets_good, fails_good] = Rates(-0.10, 4, 3, 0.05, 4000, 8);
  EXPECT_GT(meets_good, 0.8);
  EXPECT_LT(fails_good, 0.01);
}

TEST(VerdictTest, SamplingErrorKeepsAgreeingRunsFromLookingCertain) {
  // Three seeds that agree exactly (no seed noise), but each evaluation
  // has a sampling error of 5%: a margin of -2% is not enough to meet.
  PooledSpread none{0.0, 2.0};
  EXPECT_EQ(JudgeMargins({-0.02, -0.02, -0.02}, none, 0.05 * 0.05, 0.9).decision, Decision::kUndecided);
  EXPECT_EQ(JudgeMargins({-0.02, -0.02, -0.02}, none, 0.0, 0.9).decision, Decision::kMeets);
}

}  // namespace
}  // namespace bitsweep::coordinator
