// The verdicts in plain words: known answers, pairing by seed, and that a
// configuration exactly at the bound is called "meets" no more often than
// the confidence allows.
#include "cli/verdict_report.h"

#include <cmath>
#include <random>

#include <gtest/gtest.h>

namespace bitsweep::cli {
namespace {

using coordinator::Decision;

ReportRow Row(const std::string& protocol, const std::string& method, int bits, uint64_t seed, double value,
              double se) {
  return {protocol, method, bits, seed, value, se};
}

TEST(VerdictReportTest, SamplingErrorAloneDecidesWhatItCanAndSaysSo) {
  std::vector<ReportRow> rows = {
      Row("ptq", "none", 32, 1, 100.0, 1.0),  Row("ptq", "em", 1, 1, 400.0, 4.0), Row("ptq", "em", 2, 1, 150.0, 1.5),
      Row("ptq", "em", 3, 1, 110.0, 1.0),     Row("ptq", "em", 4, 1, 101.0, 1.0), Row("ptq", "minmax", 2, 1, 300.0, 3),
      Row("ptq", "minmax", 4, 1, 119.0, 6.0),
      // No full-precision reference in this protocol nor a from-scratch
      // baseline: not judged.
      Row("warm-start", "em", 2, 1, 90.0, 1.0),
  };
  ReportOptions options;
  const auto verdicts = JudgeConfigurations(rows, options);
  ASSERT_EQ(verdicts.size(), 6u);
  EXPECT_EQ(verdicts[0].method, "em");
  EXPECT_EQ(verdicts[0].bits, 1);
  EXPECT_NEAR(verdicts[0].ratio, 4.0, 1e-9);
  EXPECT_EQ(verdicts[0].decision, Decision::kFails);
  EXPECT_EQ(verdicts[1].decision, Decision::kFails);
  EXPECT_EQ(verdicts[2].decision, Decision::kMeets);
  EXPECT_EQ(verdicts[3].decision, Decision::kMeets);
  EXPECT_EQ(verdicts[5].decision, Decision::kUndecided);  // 1.19x with a 5% standard error
  EXPECT_TRUE(verdicts[0].sampling_only);
  // The interval of 1.10x: relative errors 1/110 and 1/100 combined, 1.645
  // of that each way (95% one-sided).
  const double relative_se = std::hypot(1.0 / 110.0, 1.0 / 100.0);
  EXPECT_NEAR(verdicts[2].high, 1.1 * std::exp(1.6449 * relative_se), 1e-4);
  EXPECT_NEAR(verdicts[2].low, 1.1 * std::exp(-1.6449 * relative_se), 1e-4);

  const auto lines = VerdictLines(verdicts, options);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].rfind("em (ptq): keeps fid within 1.2x of full precision down to 3 bits; 2 bits fails (1.50x, ", 0),
            0u)
      << lines[0];
  EXPECT_EQ(lines[1].rfind("minmax (ptq): undecided at this budget: 4 bits is 1.19x of full precision (", 0), 0u)
      << lines[1];
  EXPECT_NE(lines[2].find("ptq: one seed per configuration"), std::string::npos) << lines[2];
}

TEST(VerdictReportTest, SeedsArePairedWithTheirOwnReferenceAndTheirSpreadCounts) {
  // Each seed's full-precision model differs by 20%; the quantized one is
  // 1.1x of its own seed's, so paired it clearly meets 1.2x, while its raw
  // values scatter as much as the references do.
  std::vector<ReportRow> rows;
  const double reference[] = {100.0, 120.0, 80.0};
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    rows.push_back(Row("warm-start", "none", 32, seed, reference[seed - 1], 0.5));
    rows.push_back(Row("warm-start", "em", 2, seed, 1.1 * reference[seed - 1] * (seed == 2 ? 1.01 : 0.99), 0.5));
    rows.push_back(Row("warm-start", "em", 1, seed, 2.0 * reference[seed - 1] * (seed == 2 ? 1.02 : 0.98), 0.5));
  }
  const auto verdicts = JudgeConfigurations(rows, ReportOptions{});
  ASSERT_EQ(verdicts.size(), 2u);
  EXPECT_FALSE(verdicts[0].sampling_only);
  EXPECT_EQ(verdicts[0].seeds, 3);
  EXPECT_EQ(verdicts[0].decision, Decision::kFails);  // 1 bit
  EXPECT_EQ(verdicts[1].decision, Decision::kMeets);  // 2 bits
  EXPECT_NEAR(verdicts[1].ratio, 1.1, 0.01);
  auto lines = VerdictLines(verdicts, ReportOptions{});
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].rfind("em (warm-start): keeps fid within 1.2x of full precision down to 2 bits; 1 bit fails", 0), 0u)
      << lines[0];
  // Against a bound nothing meets: said so, with the widest width's numbers.
  ReportOptions strict;
  strict.bound = 1.05;
  lines = VerdictLines(JudgeConfigurations(rows, strict), strict);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].rfind("em (warm-start): does not keep fid within 1.05x of full precision at any width tried "
                           "(2 bits: 1.10x, ",
                           0),
            0u)
      << lines[0];
}

TEST(VerdictReportTest, WithoutItsOwnReferenceAProtocolIsComparedWithTheBaselineItStartedFrom) {
  std::vector<ReportRow> rows = {Row("from-scratch", "none", 32, 1, 100.0, 1.0),
                                 Row("ptq", "em", 3, 1, 105.0, 1.0), Row("warm-start", "em", 2, 1, 150.0, 1.0)};
  const auto verdicts = JudgeConfigurations(rows, ReportOptions{});
  ASSERT_EQ(verdicts.size(), 2u);
  EXPECT_EQ(verdicts[0].protocol, "ptq");
  EXPECT_EQ(verdicts[0].reference, "from-scratch");
  EXPECT_NEAR(verdicts[0].ratio, 1.05, 1e-9);
  EXPECT_EQ(verdicts[1].reference, "from-scratch");
  EXPECT_EQ(verdicts[1].decision, Decision::kFails);
}

TEST(VerdictReportTest, AtTheBoundMeetsIsCalledNoMoreOftenThanTheConfidenceAllows) {
  // Sampling noise of known size around a value exactly at 1.2x: a "meets"
  // would be wrong, and must come about 5% of the time at 95% confidence.
  std::mt19937 rng(5);
  const double se = 2.0;
  std::normal_distribution<double> noise(0.0, se);
  int meets = 0, fails = 0;
  const int trials = 4000;
  for (int i = 0; i < trials; ++i) {
    std::vector<ReportRow> rows = {Row("ptq", "none", 32, 1, 100.0 + noise(rng), se),
                                   Row("ptq", "em", 2, 1, 120.0 + noise(rng), se)};
    const auto verdicts = JudgeConfigurations(rows, ReportOptions{});
    meets += verdicts[0].decision == Decision::kMeets ? 1 : 0;
    fails += verdicts[0].decision == Decision::kFails ? 1 : 0;
  }
  // Binomial(4000, 0.05) has sd 14; the delta method is good to ~0.5% here.
  EXPECT_GT(meets, 0.035 * trials) << meets;
  EXPECT_LT(meets, 0.065 * trials) << meets;
  EXPECT_GT(fails, 0.035 * trials) << fails;
  EXPECT_LT(fails, 0.065 * trials) << fails;
}

}  // namespace
}  // namespace bitsweep::cli
