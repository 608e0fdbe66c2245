#include "qgan/metrics/sample_quality.h"

#include <ATen/CPUGeneratorImpl.h>
#include <cmath>
#include <map>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "qgan/models/dcgan.h"
#include "tests/qgan/fake_inception.h"
#include "tests/test_util.h"

namespace bitsweep::qgan {
namespace {

using bitsweep::testing::TempDir;

JobSpec SpecWithEval(const std::string& evaluator_path, uint64_t train_seed) {
  nlohmann::json j = testing::TinyJobJson(1, 300);
  j["train"]["seed"] = train_seed;
  j["eval"] = {{"evaluator", {{"kind", "inception"}, {"path", evaluator_path}}},
               {"metrics", {"fid", "is", "kid"}},
               {"num_samples", 200}};
  auto spec = JobSpec::FromJson(j);
  EXPECT_TRUE(spec.ok()) << spec.status().ToString();
  return spec.value();
}

std::map<std::string, MetricValue> ByName(const std::vector<MetricValue>& values) {
  std::map<std::string, MetricValue> out;
  for (const auto& v : values) out[v.metric] = v;
  return out;
}

TEST(EvalLatentsTest, DependOnTheEvalNoiseSeedAndNotOnTheTrainSeed) {
  const JobSpec a = SpecWithEval("unused.pt", 1);
  const JobSpec b = SpecWithEval("unused.pt", 2);
  auto latents = EvalLatents(a);
  EXPECT_EQ(latents.sizes(), (std::vector<int64_t>{200, 16}));
  EXPECT_TRUE(torch::equal(latents, EvalLatents(b)));  // common random numbers across seeds
  JobSpec c = b;
  c.eval.noise_seed = 12345;
  EXPECT_FALSE(torch::equal(latents, EvalLatents(c)));
  // 200 rows are one batch: the default seed's first normal draws.
  auto direct = torch::randn({200, 16}, at::make_generator<at::CPUGeneratorImpl>(kDefaultEvalNoiseSeed));
  EXPECT_TRUE(torch::equal(latents, direct));
}

TEST(SampleQualityTest, SameLatentsForEveryTrainSeedAndAStdForEveryMetric) {
  TempDir dir;
  // A fixed projection: an unlucky random one can make every sample look
  // alike to the fake evaluator (IS exactly 1, no spread), a flaky test.
  testing::WriteFakeInception(dir.File("inception.pt"),
                              torch::randn({3, 6}, at::make_generator<at::CPUGeneratorImpl>(29)));
  torch::manual_seed(3);
  DcganOptions options;
  options.nz = 16;
  options.ngf = 8;
  Generator generator(options);

  // Two jobs of one sweep that differ in their training seed only.
  std::vector<std::map<std::string, MetricValue>> runs;
  for (uint64_t seed : {7, 8}) {
    auto quality = SampleQuality::Create(SpecWithEval(dir.File("inception.pt"), seed), torch::kCPU, dir.File("cache"));
    ASSERT_TRUE(quality.ok()) << quality.status().ToString();
    auto measured = (*quality)->Measure(*generator, 5);
    ASSERT_TRUE(measured.ok()) << measured.status().ToString();
    runs.push_back(ByName(*measured));
  }
  for (const char* metric : {"fid", "is", "kid"}) {
    SCOPED_TRACE(metric);
    ASSERT_EQ(runs[0].count(metric), 1u);
    const MetricValue& v = runs[0][metric];
    ASSERT_TRUE(v.std.has_value());
    EXPECT_TRUE(std::isfinite(*v.std));
    EXPECT_GT(*v.std, 0.0);
    // The same generator on the same latents: the same numbers, to the bit.
    EXPECT_EQ(v.value, runs[1][metric].value);
    EXPECT_EQ(*v.std, *runs[1][metric].std);
  }
  // Not vacuous: other latents give another FID.
  JobSpec other = SpecWithEval(dir.File("inception.pt"), 7);
  other.eval.noise_seed = 99;
  auto quality = SampleQuality::Create(other, torch::kCPU, dir.File("cache"));
  ASSERT_TRUE(quality.ok());
  auto measured = (*quality)->Measure(*generator, 5);
  ASSERT_TRUE(measured.ok());
  EXPECT_NE(ByName(*measured)["fid"].value, runs[0]["fid"].value);
}


TEST(SampleQualityTest, RealTestImagesScoreFarBetterThanAnUntrainedGenerator) {
  TempDir dir;
  testing::WriteFakeInception(dir.File("inception.pt"),
                              torch::randn({3, 6}, at::make_generator<at::CPUGeneratorImpl>(29)));
  JobSpec spec = SpecWithEval(dir.File("inception.pt"), 7);
  auto quality = SampleQuality::Create(spec, torch::kCPU, dir.File("cache"));
  ASSERT_TRUE(quality.ok()) << quality.status().ToString();
  DatasetSpec test_split = spec.dataset;
  test_split.split = "test";
  auto floor = (*quality)->MeasureRealImages(test_split);
  ASSERT_TRUE(floor.ok()) << floor.status().ToString();
  auto real = ByName(*floor);

  torch::manual_seed(3);
  DcganOptions options;
  options.nz = 16;
  options.ngf = 8;
  Generator generator(options);
  auto measured = (*quality)->Measure(*generator, 0);
  ASSERT_TRUE(measured.ok());
  auto fake = ByName(*measured);
  for (const char* metric : {"fid", "is", "kid"}) {
    ASSERT_EQ(real.count(metric), 1u) << metric;
    ASSERT_TRUE(real[metric].std.has_value()) << metric;
    EXPECT_GT(*real[metric].std, 0.0) << metric;
    EXPECT_EQ(real[metric].n_samples, 200) << metric;
  }
  EXPECT_LT(real["fid"].value * 5, fake["fid"].value);
  EXPECT_LT(real["kid"].value * 5, fake["kid"].value);

  // A split smaller than the sample is refused, by name.
  DatasetSpec tiny = spec.dataset;
  tiny.limit = 50;
  auto refused = (*quality)->MeasureRealImages(tiny);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("has 50 images, fewer than eval.num_samples (200)"), std::string::npos)
      << refused.status().message();
}

}  // namespace
}  // namespace bitsweep::qgan
