#include "qgan/train/trainer.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "qgan/export/packed_generator.h"
#include "qgan/train/gan.h"
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

// Loads the networks a checkpoint holds.
Gan LoadGan(const JobSpec& spec, const std::string& path, RunState* state) {
  Gan gan = BuildGan(spec, 1, torch::kCPU);
  auto loaded = LoadCheckpoint(path, CheckpointCompatibilityKey(spec), gan, torch::kCPU);
  EXPECT_TRUE(loaded.ok()) << loaded.status().ToString();
  if (loaded.ok() && state != nullptr) *state = loaded.value();
  return gan;
}

double MaxDifference(torch::nn::Module& a, torch::nn::Module& b) {
  double worst = 0.0;
  auto pa = a.named_parameters();
  auto pb = b.named_parameters();
  for (const auto& p : pa) worst = std::max(worst, (p.value() - pb[p.key()]).abs().max().item<double>());
  auto ba = a.named_buffers();
  auto bb = b.named_buffers();
  for (const auto& p : ba) {
    worst = std::max(worst, (p.value().to(torch::kFloat64) - bb[p.key()].to(torch::kFloat64)).abs().max().item<double>());
  }
  return worst;
}

TEST(TrainerTest, TrainsOnRealFashionMnistAndReportsEverything) {
  TempDir dir;
  JobSpec spec = Spec(TinyJobJson(40));
  int progress_calls = 0;
  TrainOptions options;
  options.out_dir = dir.path();
  options.on_progress = [&](const TrainProgress& p) {
    ++progress_calls;
    EXPECT_EQ(p.total, 40);
  };
  auto report = RunTraining(spec, options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(progress_calls, 40);
  const auto& r = report->result;
  EXPECT_EQ(r["status"], "completed");
  EXPECT_EQ(r["steps"], 40);

  // The losses move: the discriminator is learning.
  const auto& losses = r["losses"];
  ASSERT_EQ(losses.size(), 40u);
  double first_d = losses[0]["d_loss"], last_d = losses[39]["d_loss"];
  EXPECT_GT(std::abs(first_d - last_d), 0.05) << "d_loss " << first_d << " -> " << last_d;

  // Per-layer diagnostics for the 2-bit EM generator, none for the fp D.
  ASSERT_EQ(r["quantization"]["g"].size(), 4u);
  for (const auto& layer : r["quantization"]["g"]) {
    EXPECT_LE(layer["levels_used"].get<int>(), 4);
    EXPECT_GT(layer["utilisation"].get<double>(), 0.0);
    EXPECT_LE(layer["utilisation"].get<double>(), 1.0);
  }
  EXPECT_TRUE(r["quantization"]["d"].empty());
  EXPECT_LT(r["model_bytes"]["generator_packed"].get<int64_t>(), r["model_bytes"]["generator_fp32"].get<int64_t>() / 4);
  EXPECT_GT(r["images_per_second"].get<double>(), 0.0);

  for (const char* file : {"result.json", "samples.png", "generator.bsg", "checkpoint.pt"}) {
    EXPECT_TRUE(std::filesystem::exists(dir.File(file))) << file;
  }
  std::ifstream in(dir.File("result.json"));
  EXPECT_EQ(nlohmann::json::parse(in)["steps"], 40);

  // The generator's output changed from its initialisation (both start from
  // the same seeded weights, so without training the difference is zero).
  torch::manual_seed(0);
  Gan untrained = BuildGan(spec, 1, torch::kCPU);
  untrained.generator->eval();
  auto loaded = ReadPackedGenerator(dir.File("generator.bsg"));
  ASSERT_TRUE(loaded.ok());
  torch::NoGradGuard no_grad;
  auto z = torch::randn({16, spec.model.nz});
  double change = (loaded->generator->forward(z) - untrained.generator->forward(z)).abs().mean().item<double>();
  EXPECT_GT(change, 1e-3);
}

TEST(TrainerTest, ResumedRunContinuesAtTheSavedStepWithIdenticalWeights) {
  JobSpec spec = Spec(TinyJobJson(24));
  TempDir straight, interrupted;

  TrainOptions options;
  options.out_dir = straight.path();
  ASSERT_TRUE(RunTraining(spec, options).ok());

  // Cancel after 10 steps, as a preempted worker would.
  std::atomic<bool> cancel{false};
  TrainOptions first;
  first.out_dir = interrupted.path();
  first.cancel = &cancel;
  first.on_progress = [&](const TrainProgress& p) {
    if (p.step == 10) cancel = true;
  };
  auto cancelled = RunTraining(spec, first);
  ASSERT_FALSE(cancelled.ok());
  EXPECT_EQ(cancelled.status().code(), StatusCode::kCancelled);
  RunState saved;
  Gan at_cancel = LoadGan(spec, interrupted.File("checkpoint.pt"), &saved);
  EXPECT_EQ(saved.step, 10);

  int64_t first_step_seen = -1;
  TrainOptions second;
  second.out_dir = interrupted.path();
  second.on_progress = [&](const TrainProgress& p) {
    if (first_step_seen < 0) first_step_seen = p.step;
  };
  auto resumed = RunTraining(spec, second);
  ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
  EXPECT_EQ(first_step_seen, 11);  // continues, not from zero
  EXPECT_EQ(resumed->result["resumed_from_step"], 10);
  EXPECT_EQ(resumed->result["steps"], 24);
  EXPECT_EQ(resumed->result["losses"].size(), 24u);

  Gan a = LoadGan(spec, straight.File("checkpoint.pt"), nullptr);
  Gan b = LoadGan(spec, interrupted.File("checkpoint.pt"), nullptr);
  EXPECT_LE(MaxDifference(*a.generator, *b.generator), 1e-6);
  EXPECT_LE(MaxDifference(*a.discriminator, *b.discriminator), 1e-6);
  // And the weights really moved after the resume.
  EXPECT_GT(MaxDifference(*at_cancel.generator, *b.generator), 1e-4);
}

TEST(TrainerTest, AWarmStartBeginsFromTheBaselinesWeightsAndTrainsItsOwnIterations) {
  TempDir dir;
  nlohmann::json fp = TinyJobJson(8, 512);
  fp["quant"]["g"] = {{"method", "none"}, {"bits", 32}};
  TrainOptions base_options;
  base_options.out_dir = dir.File("baseline");
  ASSERT_TRUE(RunTraining(Spec(fp), base_options).ok());
  const std::string checkpoint = dir.File("baseline/checkpoint.pt");
  Gan baseline = LoadGan(Spec(fp), checkpoint, nullptr);

  nlohmann::json q = TinyJobJson(3, 512);  // em, 2 bits
  q["train"]["init_from_file"] = checkpoint;
  const JobSpec quantized = Spec(q);
  // Before the first fine-tuning step: the baseline's weights and batch-norm
  // statistics, exactly; the quantizers then act on them.
  Gan warm = BuildGan(quantized, 1, torch::kCPU);
  ASSERT_TRUE(LoadInitialWeights(checkpoint, warm, torch::kCPU).ok());
  EXPECT_EQ(MaxDifference(*warm.generator, *baseline.generator), 0.0);
  EXPECT_EQ(MaxDifference(*warm.discriminator, *baseline.discriminator), 0.0);
  Gan cold = BuildGan(quantized, 1, torch::kCPU);
  EXPECT_GT(MaxDifference(*cold.generator, *baseline.generator), 0.0);
  {
    warm.generator->eval();
    cold.generator->eval();
    baseline.generator->eval();
    torch::NoGradGuard no_grad;  // (scoped: the training below needs gradients)
    const auto z = torch::randn({16, quantized.model.nz}, at::make_generator<at::CPUGeneratorImpl>(3));
    const auto reference = baseline.generator->forward(z);
    const double warm_gap = (warm.generator->forward(z) - reference).abs().mean().item<double>();
    const double cold_gap = (cold.generator->forward(z) - reference).abs().mean().item<double>();
    EXPECT_LT(warm_gap, 0.5 * cold_gap) << "warm " << warm_gap << " cold " << cold_gap;
  }

  // The run trains its own iterations from step 0 and says where it started.
  TrainOptions options;
  options.out_dir = dir.File("warm");
  auto report = RunTraining(quantized, options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->result["steps"], 3);
  EXPECT_EQ(report->result["resumed_from_step"], 0);
  EXPECT_EQ(report->result["init_from"]["file"], checkpoint);

  // Another model cannot start from it: a clear error naming the file.
  q["model"]["ngf"] = 16;
  options.out_dir = dir.File("other");
  auto other = RunTraining(Spec(q), options);
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.status().message().find(checkpoint), std::string::npos) << other.status().message();
}

TEST(TrainerTest, RefusesACheckpointOfAnotherSpec) {
  TempDir dir;
  nlohmann::json j = TinyJobJson(3);
  TrainOptions options;
  options.out_dir = dir.path();
  ASSERT_TRUE(RunTraining(Spec(j), options).ok());
  j["quant"]["g"]["bits"] = 3;
  auto other = RunTraining(Spec(j), options);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(other.status().message().find("different job spec"), std::string::npos);
  // A longer run of the same spec extends it.
  j["quant"]["g"]["bits"] = 2;
  j["train"]["iterations"] = 5;
  auto longer = RunTraining(Spec(j), options);
  ASSERT_TRUE(longer.ok()) << longer.status().ToString();
  EXPECT_EQ(longer->result["resumed_from_step"], 3);
}

TEST(TrainerTest, EveryLossAndQuantizerTrainsWithFiniteLosses) {
  struct Case {
    const char* loss;
    const char* g_method;
    int g_bits;
    const char* d_method;
    int d_bits;
    int n_critic;
  };
  for (const Case& c : std::vector<Case>{{"wgan-gp", "tanh", 2, "minmax", 4, 2},
                                         {"lsgan", "log", 3, "em", 2, 1},
                                         {"hinge", "binary", 1, "none", 32, 1},
                                         {"bce", "minmax", 1, "binary", 1, 1}}) {
    SCOPED_TRACE(c.loss);
    TempDir dir;
    nlohmann::json j = TinyJobJson(6, 512);
    j["loss"] = c.loss;
    j["quant"]["g"] = {{"method", c.g_method}, {"bits", c.g_bits}, {"keep_first_last_fp", true}};
    j["quant"]["d"] = {{"method", c.d_method}, {"bits", c.d_bits}};
    j["train"]["n_critic"] = c.n_critic;
    TrainOptions options;
    options.out_dir = dir.path();
    auto report = RunTraining(Spec(j), options);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_EQ(report->result["status"], "completed");
    EXPECT_EQ(report->result["quantization"]["g"].size(), 2u);  // first and last kept at fp
  }
}

TEST(TrainerTest, BadEnvironmentGivesErrorsNotCrashes) {
  TempDir dir;
  TrainOptions options;
  options.out_dir = dir.path();
  nlohmann::json j = TinyJobJson(2);
  j["dataset"]["root"] = dir.File("no-such-folder");
  auto missing = RunTraining(Spec(j), options);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("no-such-folder: dataset folder does not exist"), std::string::npos);

  if (!torch::cuda::is_available()) {
    j = TinyJobJson(2);
    j["runtime"]["device"] = "cuda";
    auto cuda = RunTraining(Spec(j), options);
    ASSERT_FALSE(cuda.ok());
    EXPECT_EQ(cuda.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(cuda.status().message().find("runtime.device: cuda requested"), std::string::npos);
  }
}

TEST(TrainerTest, MeasuresSampleQualityDuringAndAfterTraining) {
  TempDir dir;
  // A fixed projection: an unlucky random one can make every sample look
  // alike to the fake evaluator (IS exactly 1, no spread), a flaky test.
  testing::WriteFakeInception(dir.File("inception.pt"),
                              torch::randn({3, 6}, at::make_generator<at::CPUGeneratorImpl>(29)));
  nlohmann::json j = TinyJobJson(8, 512);
  j["eval"] = {{"evaluator", {{"kind", "inception"}, {"path", dir.File("inception.pt")}}},
               {"metrics", {"fid", "is", "kid"}},
               {"num_samples", 200},
               {"every", 4}};
  std::vector<MetricValue> interim;
  TrainOptions options;
  options.out_dir = dir.File("run");
  options.cache_dir = dir.File("cache");
  options.on_progress = [&](const TrainProgress& p) {
    for (const auto& m : p.metrics) interim.push_back(m);
  };
  auto report = RunTraining(Spec(j), options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(interim.size(), 3u);  // fid, is, kid at step 4
  EXPECT_EQ(interim[0].step, 4);

  const auto& metrics = report->result["metrics"];
  ASSERT_EQ(metrics.size(), 6u);  // step 4 and the end
  for (const auto& m : metrics) {
    EXPECT_EQ(m["n_samples"], 200);
    EXPECT_EQ(m["evaluator"], "inception");
    EXPECT_EQ(m["evaluator_hash"].get<std::string>().size(), 16u);
    EXPECT_TRUE(std::isfinite(m["value"].get<double>()));
  }
  EXPECT_EQ(metrics[3]["step"], 8);
  // Every value with its sampling standard error, FID included.
  for (int i = 3; i < 6; ++i) {
    ASSERT_TRUE(metrics[i]["std"].is_number()) << metrics[i].dump();
    EXPECT_GT(metrics[i]["std"].get<double>(), 0.0) << metrics[i].dump();
  }
  EXPECT_GT(report->result["final_metrics"]["fid"].get<double>(), 0.0);
  EXPECT_GE(report->result["final_metrics"]["is"].get<double>(), 1.0);
  EXPECT_GT(report->result["eval_seconds"].get<double>(), 0.0);  // reported apart from training time

  // A missing evaluator stops the job before training starts.
  j["eval"]["evaluator"]["path"] = dir.File("nope.pt");
  options.out_dir = dir.File("run2");
  auto missing = RunTraining(Spec(j), options);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("nope.pt does not exist"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir.File("run2/checkpoint.pt")));
}

TEST(TrainCommandTest, InvalidSpecIsRejectedBeforeAnyWork) {
  TempDir dir;
  nlohmann::json j = TinyJobJson(2);
  j["quant"]["g"]["bits"] = 0;
  testing::WriteFile(dir.File("job.json"), j.dump());
  std::string out;
  int rc = testing::RunCommand(std::string(BITSWEEP_BINARY) + " train --spec " + dir.File("job.json") + " --out " +
                                   dir.File("run"),
                               &out);
  EXPECT_EQ(rc, 2);
  EXPECT_NE(out.find("quant.g.bits: 0 is outside 1..8 or 32"), std::string::npos) << out;
  EXPECT_FALSE(std::filesystem::exists(dir.File("run")));
}

TEST(TrainCommandTest, UsageErrorsExitWithTwo) {
  TempDir dir;
  std::string out;
  EXPECT_EQ(testing::RunCommand(std::string(BITSWEEP_BINARY) + " train --spec " + dir.File("absent.json") + " --out " +
                                    dir.File("run"),
                                &out),
            2);
  EXPECT_NE(out.find("absent.json"), std::string::npos) << out;
  EXPECT_EQ(testing::RunCommand(std::string(BITSWEEP_BINARY) + " no-such-command", &out), 2);
  EXPECT_EQ(testing::RunCommand(std::string(BITSWEEP_BINARY) + " --help", &out), 0);
  EXPECT_NE(out.find("train"), std::string::npos);
}

TEST(TrainCommandTest, TrainsAndPrintsASummary) {
  TempDir dir;
  testing::WriteFile(dir.File("job.json"), TinyJobJson(5, 256).dump());
  std::string out;
  int rc = testing::RunCommand(std::string(BITSWEEP_BINARY) + " train --spec " + dir.File("job.json") + " --out " +
                                   dir.File("run"),
                               &out);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("completed after 5 steps"), std::string::npos) << out;
  EXPECT_NE(out.find("levels g.conv2"), std::string::npos) << out;
  EXPECT_TRUE(std::filesystem::exists(dir.File("run/samples.png")));
}

}  // namespace
}  // namespace bitsweep::qgan
