// The search summary and plot, from rows (no server).
#include "cli/search_summary.h"

#include <gtest/gtest.h>

#include <cmath>

#include "cli/search_plot.h"
#include "tests/test_util.h"

namespace bitsweep::cli {
namespace {

RunRow Row(int64_t job, const std::string& mg, int bg, int seed, std::optional<double> fid, int64_t bytes = 1000) {
  RunRow r;
  r.job = job;
  r.succeeded = fid.has_value();
  r.method_g = mg;
  r.bits_g = bg;
  r.method_d = "none";
  r.bits_d = 32;
  r.fid = fid;
  r.model_bytes = fid ? bytes : 0;
  r.params = {{"quant.g.method", mg}, {"quant.g.bits", bg}, {"train.seed", seed}};
  return r;
}

TEST(SearchSummaryTest, GroupsSeedsIntoMeanAndStd) {
  auto configs = GroupBySeed({Row(1, "none", 32, 1, 10.0), Row(2, "none", 32, 2, 14.0), Row(3, "em", 2, 1, 20.0),
                              Row(4, "em", 2, 2, std::nullopt)});
  ASSERT_EQ(configs.size(), 2u);
  EXPECT_EQ(configs[0].jobs, 2);
  EXPECT_EQ(configs[0].fid.n, 2);
  EXPECT_DOUBLE_EQ(configs[0].fid.mean, 12.0);
  EXPECT_NEAR(configs[0].fid.std, 2.8284271, 1e-6);  // sample std of {10, 14}
  EXPECT_EQ(configs[1].jobs, 2);
  EXPECT_EQ(configs[1].failed, 1);
  EXPECT_EQ(configs[1].fid.n, 1);
  EXPECT_FALSE(configs[1].params.contains("train.seed"));
  // How sure the mean is: over two seeds, sd / sqrt(2); one run without a
  // sampling error says nothing.
  EXPECT_NEAR(configs[0].fid.se(), 2.0, 1e-6);
  EXPECT_EQ(configs[1].fid.se(), 0.0);
}

TEST(SearchSummaryTest, PerLayerWidthsNameTheGenerator) {
  RunRow uniform = Row(1, "em", 2, 1, 20.0), mixed = Row(2, "em", 1, 1, 18.0), fp = Row(3, "none", 32, 1, 10.0);
  uniform.widths_g = "2,2,2,2";
  mixed.widths_g = "2,1,2,4";
  mixed.params["quant.g.layers"] = {{"conv4", {{"bits", 4}}}};
  fp.widths_g = "32,32,32,32";
  std::vector<ConfigSummary> configs = GroupBySeed({uniform, mixed, fp});
  ASSERT_EQ(configs.size(), 3u);
  Table t = ConfigTable(&configs, nullptr);
  EXPECT_EQ(t.rows[0][0].text, "em-2");
  EXPECT_EQ(t.rows[1][0].text, "em 2,1,2,4");
  EXPECT_EQ(t.rows[2][0].text, "fp32");
}

TEST(SearchSummaryTest, StandardErrorsCombineSeedsAndSampling) {
  RunRow a = Row(1, "em", 2, 1, 20.0), b = Row(2, "em", 2, 2, 20.0), c = Row(3, "em", 4, 1, 18.0);
  a.fid_se = 0.6;
  b.fid_se = 0.8;
  c.fid_se = 0.5;
  auto configs = GroupBySeed({a, b, c});
  ASSERT_EQ(configs.size(), 2u);
  // Two seeds that agree exactly: the sampling error is what is left,
  // sqrt((0.36 + 0.64) / 2) / sqrt(2) = 0.5.
  EXPECT_NEAR(configs[0].fid.sampling_se, std::sqrt(0.5), 1e-9);
  EXPECT_NEAR(configs[0].fid.se(), 0.5, 1e-9);
  EXPECT_NEAR(configs[1].fid.se(), 0.5, 1e-9);  // one run: its sampling error
  std::vector<ConfigSummary> grouped = configs;
  Table t = ConfigTable(&grouped, nullptr);
  EXPECT_EQ(t.columns[5], "fid_se");
  EXPECT_EQ(FormatAligned(t).find("fid_std"), std::string::npos);
}

TEST(SearchSummaryTest, BudgetsStayApart) {
  RunRow a = Row(1, "em", 2, 1, 30.0), b = Row(2, "em", 2, 1, 20.0);
  a.params["train.iterations"] = 100;
  b.params["train.iterations"] = 300;
  auto configs = GroupBySeed({a, b});
  ASSERT_EQ(configs.size(), 2u);
  Table t = ConfigTable(&configs, nullptr);
  EXPECT_TRUE(t.ColumnIndex("params").ok());  // the budget tells them apart
}

TEST(SearchSummaryTest, ShowsChosenWidthsVerdictsAndCost) {
  nlohmann::json outcome = {
      {"requirement", "fid <= 1.1 x baseline"},
      {"metric", "fid"},
      {"baseline", {{"value", 12.0}, {"std", 2.0}, {"n", 2}}},
      {"threshold", 13.2},
      {"methods", {{"em", {{"g", {{"status", "found"}, {"bits", 2}}}, {"d", {{"status", "none_meets"}, {"bits", 32}}}}}}},
      {"configs", {{{"g", {"em", 2}}, {"d", {"none", 32}}, {"verdict", "meets"}}}},
      {"grid_jobs", 10}};
  SearchInfo info{7, "s", "multi_precision", "DONE", outcome, 7200.0, 4};
  const std::string text =
      FormatSearchSummary(info, GroupBySeed({Row(1, "none", 32, 1, 10.0, 4000), Row(2, "none", 32, 2, 14.0, 4000),
                                             Row(3, "em", 2, 1, 11.0, 500), Row(4, "em", 2, 2, 13.0, 500)}));
  EXPECT_NE(text.find("bound 13.200"), std::string::npos) << text;
  EXPECT_NE(text.find("none meets (32)"), std::string::npos) << text;
  EXPECT_NE(text.find("meets"), std::string::npos) << text;
  EXPECT_NE(text.find("jobs: 4 (a grid over the same candidates: 10 jobs; the search ran 0.40 of it)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("worker-slot hours: 2.000"), std::string::npos) << text;
  EXPECT_NE(text.find("Pareto front"), std::string::npos) << text;
}

TEST(SearchSummaryTest, VerdictsSayHowSureTheyAre) {
  nlohmann::json outcome = {
      {"requirement", "fid <= 1.1 x baseline"},
      {"metric", "fid"},
      {"confidence", 0.9},
      {"max_seeds", 4},
      {"seed_spread", {{"sd", 0.042}, {"df", 3}}},
      {"configs",
       {{{"g", {"em", 2}}, {"d", {"none", 32}}, {"verdict", "undecided"},
         {"vs_bound", {{"estimate", 0.98}, {"low", 0.91}, {"high", 1.06}, {"seeds", 4}}}},
        {{"g", {"em", 4}}, {"d", {"none", 32}}, {"verdict", "meets"},
         {"vs_bound", {{"estimate", 0.9}, {"low", 0.85}, {"high", 0.95}, {"seeds", 2}}}}}}};
  SearchInfo info{7, "s", "multi_precision", "DONE", outcome, 60.0, 6};
  const std::string text = FormatSearchSummary(
      info, GroupBySeed({Row(1, "em", 2, 1, 11.0, 500), Row(2, "em", 2, 2, 13.0, 500), Row(3, "em", 4, 1, 10.0, 900)}));
  EXPECT_NE(text.find("verdicts at 90% confidence over seeds and sampling"), std::string::npos) << text;
  EXPECT_NE(text.find("up to 4, and count as failing"), std::string::npos) << text;
  EXPECT_NE(text.find("seed-to-seed spread 4.2% (3 df)"), std::string::npos) << text;
  EXPECT_NE(text.find("0.980 [0.910, 1.060]  undecided"), std::string::npos) << text;
  EXPECT_NE(text.find("0.900 [0.850, 0.950]  meets"), std::string::npos) << text;
}

TEST(SearchPlotTest, WritesAPngOrSaysWhyNot) {
  bitsweep::testing::TempDir dir;
  SearchInfo info{1, "s", "multi_precision", "DONE", {{"metric", "fid"}, {"threshold", 13.0}}, 0.0, 4};
  const std::string path = dir.File("plot.png");
  auto configs = GroupBySeed({Row(1, "none", 32, 1, 10.0, 4000), Row(2, "em", 1, 1, 30.0, 200),
                              Row(3, "em", 2, 1, 12.0, 400), Row(4, "minmax", 2, 1, 18.0, 400)});
  ASSERT_TRUE(PlotSearch(info, configs, path).ok());
  const std::string png = bitsweep::testing::ReadFile(path);
  ASSERT_GT(png.size(), 24u);
  EXPECT_EQ(png.substr(1, 3), "PNG");
  auto be32 = [&](size_t at) {
    return (static_cast<uint8_t>(png[at]) << 24) | (static_cast<uint8_t>(png[at + 1]) << 16) |
           (static_cast<uint8_t>(png[at + 2]) << 8) | static_cast<uint8_t>(png[at + 3]);
  };
  EXPECT_EQ(be32(16), 1500u);  // IHDR width
  EXPECT_EQ(be32(20), 620u);   // IHDR height

  // Nothing measured yet: a clear error, no file.
  auto empty = GroupBySeed({Row(1, "em", 1, 1, std::nullopt)});
  Status s = PlotSearch(info, empty, dir.File("none.png"));
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("nothing to plot"), std::string::npos);
  // An unwritable path is named.
  s = PlotSearch(info, configs, dir.File("no/such/folder/plot.png"));
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_NE(s.message().find("no/such/folder/plot.png"), std::string::npos);
}

}  // namespace
}  // namespace bitsweep::cli
