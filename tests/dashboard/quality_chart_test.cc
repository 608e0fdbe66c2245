#include "dashboard/quality_chart.h"

#include <gtest/gtest.h>

namespace bitsweep::dashboard {
namespace {

void AddRow(v1::QueryResultsResponse* results, int64_t job, const std::string& method_g, int bits_g,
            const std::string& method_d, int bits_d, int64_t seed, double fid, double fid_se,
            const std::string& state = "SUCCEEDED") {
  auto* r = results->add_rows();
  r->set_job_id(job);
  r->set_state(state);
  r->set_method_g(method_g);
  r->set_bits_g(bits_g);
  r->set_method_d(method_d);
  r->set_bits_d(bits_d);
  r->set_seed(seed);
  r->set_has_fid(true);
  r->set_fid(fid);
  r->set_fid_se(fid_se);
  r->set_protocol("from-scratch");
}

const nlohmann::json* Series(const nlohmann::json& chart, const std::string& label) {
  for (const auto& s : chart["series"]) {
    if (s["label"] == label) return &s;
  }
  return nullptr;
}

TEST(QualityChartTest, OnePointPerConfigurationWithTheSpreadOverSeedsOrTheSamplingError) {
  v1::QueryResultsResponse results;
  AddRow(&results, 1, "em", 2, "none", 32, 1, 40.0, 1.0);
  AddRow(&results, 2, "em", 2, "none", 32, 2, 50.0, 1.5);
  AddRow(&results, 3, "em", 4, "none", 32, 1, 30.0, 0.8);
  AddRow(&results, 4, "em", 1, "none", 32, 1, 99.0, 2.0, "FAILED");
  AddRow(&results, 5, "none", 32, "none", 32, 1, 25.0, 0.5);
  auto chart = QualityChart(results, "fid");
  ASSERT_TRUE(chart.ok()) << chart.status().ToString();
  EXPECT_EQ((*chart)["x"], "bits_g");
  const auto* em = Series(*chart, "em · from-scratch");
  ASSERT_NE(em, nullptr) << chart->dump();
  ASSERT_EQ((*em)["points"].size(), 2u) << "the failed 1-bit job is no point";
  const auto& two = (*em)["points"][0];
  EXPECT_EQ(two["bits"], 2);
  EXPECT_DOUBLE_EQ(two["mean"].get<double>(), 45.0);
  EXPECT_NEAR(two["err"].get<double>(), 7.0710678, 1e-6);  // std of {40, 50}
  EXPECT_EQ(two["err_kind"], "std over seeds");
  EXPECT_EQ(two["jobs"].size(), 2u);
  const auto& four = (*em)["points"][1];
  EXPECT_DOUBLE_EQ(four["err"].get<double>(), 0.8);
  EXPECT_EQ(four["err_kind"], "sampling SE, one seed");
  const auto* fp = Series(*chart, "full precision · from-scratch");
  ASSERT_NE(fp, nullptr);
  EXPECT_EQ((*fp)["points"][0]["bits"], 32);
}

TEST(QualityChartTest, DsSideHasTheConfigurationsThatQuantizeDAgainstDsBits) {
  v1::QueryResultsResponse results;
  AddRow(&results, 1, "none", 32, "minmax", 2, 1, 60.0, 1.0);
  AddRow(&results, 2, "none", 32, "minmax", 4, 1, 40.0, 1.0);
  AddRow(&results, 3, "em", 4, "em", 2, 1, 70.0, 1.0);
  AddRow(&results, 4, "em", 4, "none", 32, 1, 30.0, 1.0);
  auto chart = QualityChart(results, "fid", "d");
  ASSERT_TRUE(chart.ok());
  EXPECT_EQ((*chart)["x"], "bits_d");
  const auto* d = Series(*chart, "D minmax · from-scratch");
  ASSERT_NE(d, nullptr) << chart->dump();
  EXPECT_EQ((*d)["points"][0]["bits"], 2);
  EXPECT_EQ((*d)["points"][1]["bits"], 4);
  const auto* with_g = Series(*chart, "D em, G em-4 · from-scratch");
  ASSERT_NE(with_g, nullptr) << chart->dump();
  EXPECT_EQ((*with_g)["points"].size(), 1u);
  EXPECT_EQ(Series(*chart, "em · from-scratch"), nullptr) << "G-only configurations belong on G's side";

  auto g_side = QualityChart(results, "fid", "g");
  ASSERT_TRUE(g_side.ok());
  ASSERT_EQ((*g_side)["series"].size(), 1u) << g_side->dump();
  EXPECT_EQ((*g_side)["series"][0]["label"], "em · from-scratch");
}

TEST(QualityChartTest, PerLayerGeneratorsAreAtTheirWeightAveragedBitsNotTheirNominalOnes) {
  v1::QueryResultsResponse results;
  auto add = [&](int64_t job, int bits, const std::string& widths, double mean_bits, int64_t seed, double fid) {
    AddRow(&results, job, "em", bits, "none", 32, seed, fid, 1.0);
    auto* r = results.mutable_rows(results.rows_size() - 1);
    r->set_protocol("ptq");
    r->set_widths_g(widths);
    r->set_mean_bits_g(mean_bits);
  };
  add(1, 2, "2,2,2,2", 2.0, 1, 90.0);
  add(2, 2, "2,2,4,8", 2.47, 1, 50.0);
  add(3, 2, "2,2,4,8", 2.47, 2, 54.0);
  add(4, 1, "1,1,3,8", 1.31, 1, 70.0);
  add(5, 3, "32,3,3,32", 8.6, 1, 40.0);  // keep_first_last_fp: a uniform 3 bits
  add(6, 2, "32,32,2,32", 29.1, 1, 35.0);  // one layer alone at 2 bits
  auto chart = QualityChart(results, "fid");
  ASSERT_TRUE(chart.ok());
  const auto* uniform = Series(*chart, "em · ptq");
  ASSERT_NE(uniform, nullptr) << chart->dump();
  ASSERT_EQ((*uniform)["points"].size(), 2u) << "uniform 2 and 3 bits only: " << uniform->dump();
  EXPECT_EQ((*uniform)["points"][0]["bits"], 2);
  EXPECT_DOUBLE_EQ((*uniform)["points"][0]["mean"].get<double>(), 90.0);
  EXPECT_EQ((*uniform)["points"][1]["bits"], 3);
  EXPECT_FALSE((*uniform)["per_layer"].get<bool>());
  const auto* per_layer = Series(*chart, "em per layer · ptq");
  ASSERT_NE(per_layer, nullptr) << chart->dump();
  EXPECT_TRUE((*per_layer)["per_layer"].get<bool>());
  const auto& points = (*per_layer)["points"];
  ASSERT_EQ(points.size(), 3u) << "one point per allocation";
  EXPECT_EQ(points[0]["widths"], "1,1,3,8");
  EXPECT_DOUBLE_EQ(points[0]["bits"].get<double>(), 1.31);
  EXPECT_EQ(points[1]["widths"], "2,2,4,8");
  EXPECT_DOUBLE_EQ(points[1]["bits"].get<double>(), 2.47);
  EXPECT_DOUBLE_EQ(points[1]["mean"].get<double>(), 52.0);
  EXPECT_EQ(points[1]["n"], 2);
  EXPECT_EQ(points[2]["widths"], "32,32,2,32");
}

TEST(QualityChartTest, AnUnknownMetricIsRefusedByName) {
  auto chart = QualityChart({}, "psnr");
  ASSERT_FALSE(chart.ok());
  EXPECT_NE(chart.status().message().find("psnr"), std::string::npos);
  auto side = QualityChart({}, "fid", "both");
  ASSERT_FALSE(side.ok());
  EXPECT_NE(side.status().message().find("both"), std::string::npos);
}

}  // namespace
}  // namespace bitsweep::dashboard
