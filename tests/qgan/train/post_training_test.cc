// Post-training quantization (task ptq) on a real trained generator: what it
// loads, fits and re-estimates, and that its export is what it evaluated.
#include <filesystem>

#include <gtest/gtest.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "qgan/export/packed_generator.h"
#include "qgan/quant/em_quantizer.h"
#include "qgan/train/gan.h"
#include "qgan/train/trainer.h"
#include "tests/qgan/fake_inception.h"
#include "tests/test_util.h"

namespace bitsweep::qgan {
namespace {

using bitsweep::testing::TempDir;
using bitsweep::testing::TinyJobJson;

JobSpec Spec(const nlohmann::json& j) {
  auto spec = JobSpec::FromJson(j);
  EXPECT_TRUE(spec.ok()) << spec.status().ToString();
  return spec.value();
}

// A trained full-precision baseline (a checkpoint and its packed generator)
// and the PTQ spec of it, shared by the tests of this file.
class PostTrainingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    nlohmann::json fp = TinyJobJson(20, 512);
    fp["quant"]["g"] = {{"method", "none"}, {"bits", 32}};
    baseline_spec_ = Spec(fp);
    TrainOptions options;
    options.out_dir = dir_.File("baseline");
    auto report = RunTraining(baseline_spec_, options);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    checkpoint_ = dir_.File("baseline/checkpoint.pt");
    // A fixed projection: an unlucky random one can make every sample look
    // alike to the fake evaluator (IS exactly 1, no spread), a flaky test.
    testing::WriteFakeInception(dir_.File("inception.pt"),
                                torch::randn({3, 6}, at::make_generator<at::CPUGeneratorImpl>(29)));
  }

  nlohmann::json PtqJson(const std::string& method, int bits, int bn_batches = 0) {
    nlohmann::json j = TinyJobJson(20, 512);
    j["task"] = "ptq";
    j["quant"]["g"] = {{"method", method}, {"bits", bits}};
    j["train"]["init_from_file"] = checkpoint_;
    j["ptq"] = {{"bn_batches", bn_batches}};
    j["eval"] = {{"evaluator", {{"kind", "inception"}, {"path", dir_.File("inception.pt")}}},
                 {"metrics", {"fid", "kid"}},
                 {"num_samples", 128}};
    return j;
  }

  Result<TrainReport> Run(const nlohmann::json& j, const std::string& name) {
    TrainOptions options;
    options.out_dir = dir_.File(name);
    options.cache_dir = dir_.File("cache");
    return RunTraining(Spec(j), options);
  }

  // The generator a checkpoint holds, quantized as `spec` says, in eval mode.
  Generator LoadGenerator(const JobSpec& spec, const std::string& path) {
    Gan gan = BuildGan(spec, 1, torch::kCPU);
    auto state = LoadCheckpoint(path, CheckpointCompatibilityKey(spec), gan, torch::kCPU);
    EXPECT_TRUE(state.ok()) << state.status().ToString();
    gan.generator->eval();
    return gan.generator;
  }

  TempDir dir_;
  JobSpec baseline_spec_;
  std::string checkpoint_;
};

TEST_F(PostTrainingTest, QuantizesTheTrainedWeightsWithoutTrainingAndExportsWhatItEvaluated) {
  const nlohmann::json j = PtqJson("em", 2);
  auto report = Run(j, "ptq");
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->result["steps"], 0);
  EXPECT_EQ(report->result["init_from"]["file"], checkpoint_);
  EXPECT_GT(report->result["final_metrics"]["fid"].get<double>(), 0.0);
  EXPECT_LT(report->result["model_bytes"]["generator_packed"].get<int64_t>(),
            report->result["model_bytes"]["generator_fp32"].get<int64_t>() / 8);

  const JobSpec ptq = Spec(j);
  Generator quantized = LoadGenerator(ptq, dir_.File("ptq/checkpoint.pt"));
  Generator baseline = LoadGenerator(baseline_spec_, checkpoint_);
  // No training: the shadow weights are the baseline's, bit for bit.
  auto weights = quantized->layer_weights();
  auto trained = baseline->layer_weights();
  for (size_t i = 0; i < weights.size(); ++i) EXPECT_TRUE(torch::equal(weights[i], trained[i])) << "layer " << i;

  // EM fitted to convergence: another iteration would not lower the error,
  // and the error is below min-max's on every layer.
  for (size_t i = 0; i < weights.size(); ++i) {
    EmQuantizer converged(2, EmQuantizer::kConvergedMaxIters, 0.0);
    converged.Fit(weights[i]);
    const double fitted = (quantized->quantizers().Quantize(i, weights[i]).values - weights[i]).pow(2).mean().item<double>();
    const double best = (converged.Quantize(weights[i]).values - weights[i]).pow(2).mean().item<double>();
    EXPECT_LE(fitted, best * (1.0 + 1e-6)) << "layer " << i;
    QuantSpec minmax_spec;
    minmax_spec.method = QuantMethod::kMinMax;
    minmax_spec.bits = 2;
    auto minmax = MakeQuantizer(minmax_spec);
    const double minmax_error = (minmax->Quantize(weights[i]).values - weights[i]).pow(2).mean().item<double>();
    EXPECT_LE(fitted, minmax_error) << "layer " << i;
  }

  // The packed export reproduces the generator that was evaluated.
  auto packed = ReadPackedGenerator(dir_.File("ptq/generator.bsg"));
  ASSERT_TRUE(packed.ok()) << packed.status().ToString();
  EXPECT_EQ(packed->info.quant.bits, 2);
  torch::NoGradGuard no_grad;
  const auto z = torch::randn({32, ptq.model.nz}, at::make_generator<at::CPUGeneratorImpl>(5));
  const auto evaluated = quantized->forward(z);
  EXPECT_LT((packed->generator->forward(z) - evaluated).abs().max().item<double>(), 1e-5);
  // ... and it is not the full-precision generator.
  EXPECT_GT((baseline->forward(z) - evaluated).abs().max().item<double>(), 1e-3);
}

TEST_F(PostTrainingTest, BatchNormReEstimationAveragesTheBatchesOfTheQuantizedGenerator) {
  const nlohmann::json j = PtqJson("minmax", 2, /*bn_batches=*/4);
  auto report = Run(j, "bn");
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  const JobSpec ptq = Spec(j);
  Generator recalibrated = LoadGenerator(ptq, dir_.File("bn/checkpoint.pt"));
  Generator baseline = LoadGenerator(baseline_spec_, checkpoint_);

  // The first batch norm sees conv1's output: worked out by hand from the
  // quantized conv1 weights and the same four batches of latents.
  torch::NoGradGuard no_grad;
  const auto w1 = recalibrated->quantizers().Quantize(0, recalibrated->layer_weights()[0]).values;
  auto random = at::make_generator<at::CPUGeneratorImpl>(ptq.train.seed);
  torch::Tensor mean_of_means = torch::zeros({w1.size(1)});
  for (int b = 0; b < 4; ++b) {
    auto z = torch::randn({ptq.train.batch_size, ptq.model.nz}, random).reshape({-1, ptq.model.nz, 1, 1});
    mean_of_means += torch::conv_transpose2d(z, w1).mean({0, 2, 3}) / 4.0;
  }
  torch::Tensor running_mean, baseline_mean;
  for (const auto& b : recalibrated->named_buffers()) {
    if (b.key() == "bn1.running_mean") running_mean = b.value();
  }
  for (const auto& b : baseline->named_buffers()) {
    if (b.key() == "bn1.running_mean") baseline_mean = b.value();
  }
  ASSERT_TRUE(running_mean.defined());
  EXPECT_LT((running_mean - mean_of_means).abs().max().item<double>(), 1e-4);
  EXPECT_GT((running_mean - baseline_mean).abs().max().item<double>(), 1e-4);
}

TEST_F(PostTrainingTest, StartsFromAFullPrecisionPackedGeneratorAsFromItsCheckpoint) {
  auto from_checkpoint = Run(PtqJson("log", 3), "from-checkpoint");
  ASSERT_TRUE(from_checkpoint.ok()) << from_checkpoint.status().ToString();
  nlohmann::json j = PtqJson("log", 3);
  j["train"]["init_from_file"] = dir_.File("baseline/generator.bsg");
  auto from_packed = Run(j, "from-packed");
  ASSERT_TRUE(from_packed.ok()) << from_packed.status().ToString();
  EXPECT_NEAR(from_packed->result["final_metrics"]["fid"].get<double>(),
              from_checkpoint->result["final_metrics"]["fid"].get<double>(), 1e-6);

  // A quantized generator cannot be: its full-precision weights are gone.
  j["train"]["init_from_file"] = dir_.File("from-checkpoint/generator.bsg");
  auto from_quantized = Run(j, "from-quantized");
  ASSERT_FALSE(from_quantized.ok());
  EXPECT_NE(from_quantized.status().message().find("already quantized (log, 3 bits)"), std::string::npos)
      << from_quantized.status().message();
  // Nor can quantization-aware training start from a packed generator.
  nlohmann::json qat = TinyJobJson(2, 512);
  qat["train"]["init_from_file"] = dir_.File("baseline/generator.bsg");
  auto trained = Run(qat, "qat");
  ASSERT_FALSE(trained.ok());
  EXPECT_NE(trained.status().message().find("has no discriminator"), std::string::npos) << trained.status().message();
}

TEST(PostTrainingSpecTest, NamesWhatIsMissingOrNotAllowed) {
  nlohmann::json j = TinyJobJson(1, 64);
  j["task"] = "ptq";
  auto no_source = JobSpec::FromJson(j);
  ASSERT_FALSE(no_source.ok());
  EXPECT_NE(no_source.status().message().find("give train.init_from_job or train.init_from_file"), std::string::npos)
      << no_source.status().message();
  j["train"]["init_from_job"] = 3;
  j["quant"]["d"] = {{"method", "em"}, {"bits", 2}};
  auto with_d = JobSpec::FromJson(j);
  ASSERT_FALSE(with_d.ok());
  EXPECT_NE(with_d.status().message().find("quant.d: task ptq quantizes the generator only"), std::string::npos)
      << with_d.status().message();
  j["quant"]["d"] = {{"method", "none"}, {"bits", 32}};
  j["ptq"] = {{"bn_batches", 8}};
  auto ok = JobSpec::FromJson(j);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->ToJson()["ptq"]["bn_batches"], 8);
  j["task"] = "qgan";
  auto stray = JobSpec::FromJson(j);
  ASSERT_FALSE(stray.ok());
  EXPECT_NE(stray.status().message().find("ptq: only allowed with task ptq"), std::string::npos);
}

}  // namespace
}  // namespace bitsweep::qgan
