#include <cstdio>
#include <fstream>

#include <torch/torch.h>

#include "cli/commands.h"
#include "common/job_spec.h"
#include "common/sweep_spec.h"
#include "qgan/metrics/classifier_evaluator.h"
#include "qgan/metrics/sample_quality.h"

namespace bitsweep::cli {

int RunEvaluatorTrainCommand(const EvaluatorTrainOptions& options) {
  // Validate the dataset part the way a job spec's is validated.
  nlohmann::json dataset = {{"name", options.dataset}};
  if (!options.root.empty()) dataset["root"] = options.root;
  if (options.limit > 0) dataset["limit"] = options.limit;
  auto spec = JobSpec::FromJson({{"dataset", dataset}});
  if (!spec.ok()) {
    std::fprintf(stderr, "error: %s\n", spec.status().message().c_str());
    return kExitUsage;
  }
  qgan::ClassifierTrainOptions train;
  train.dataset = spec->dataset;
  train.epochs = options.epochs;
  train.seed = options.seed;
  train.threads = options.threads;
  train.on_epoch = [&](int epoch, double loss) {
    std::fprintf(stderr, "epoch %d/%d  train loss %.4f\n", epoch, options.epochs, loss);
  };
  auto report = qgan::TrainClassifier(train, options.out_path);
  if (!report.ok()) {
    std::fprintf(stderr, "error: %s\n", report.status().message().c_str());
    return kExitFailure;
  }
  std::printf("classifier   %s (hash %s)\n", options.out_path.c_str(), report->hash.c_str());
  std::printf("accuracy     %.2f%% on %lld %s test images\n", 100.0 * report->test_accuracy,
              static_cast<long long>(report->test_images), options.dataset.c_str());
  std::printf("time         %.1f s\n", report->seconds);
  return kExitOk;
}

namespace {

// A job spec, or the base job of a sweep spec (paths in either resolve
// against the file's folder).
Result<JobSpec> LoadJobOrSweepBase(const std::string& path) {
  nlohmann::json json;
  {
    std::ifstream in(path);
    json = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  }
  if (json.is_object() && json.contains("strategy")) {
    BITSWEEP_ASSIGN_OR_RETURN(SweepSpec sweep, SweepSpec::FromFile(path));
    return JobSpec::FromJson(sweep.base);
  }
  return JobSpec::FromFile(path);
}

}  // namespace

int RunEvaluatorFloorCommand(const EvaluatorFloorOptions& options) {
  auto spec = LoadJobOrSweepBase(options.spec_path);
  if (!spec.ok()) {
    std::fprintf(stderr, "error: %s: %s\n", options.spec_path.c_str(), spec.status().message().c_str());
    return kExitUsage;
  }
  if (!spec->eval.enabled) {
    std::fprintf(stderr, "error: %s: the spec has no eval section: nothing to measure\n", options.spec_path.c_str());
    return kExitUsage;
  }
  if (options.split == spec->dataset.split) {
    std::fprintf(stderr, "error: --split %s is the reference split itself; pick the other one (e.g. test)\n",
                 options.split.c_str());
    return kExitUsage;
  }
  if (options.threads > 0) torch::set_num_threads(options.threads);
  const torch::Device device = torch::cuda::is_available() ? torch::kCUDA : torch::kCPU;
  auto quality = qgan::SampleQuality::Create(spec.value(), device, qgan::DefaultCacheDir());
  if (!quality.ok()) {
    std::fprintf(stderr, "error: %s\n", quality.status().message().c_str());
    return kExitFailure;
  }
  DatasetSpec real = spec->dataset;
  real.split = options.split;
  auto floor = (*quality)->MeasureRealImages(real);
  if (!floor.ok()) {
    std::fprintf(stderr, "error: %s\n", floor.status().message().c_str());
    return kExitFailure;
  }
  std::printf("real-data floor: %lld %s images of %s against the %s split, evaluator %s\n",
              static_cast<long long>(spec->eval.num_samples), options.split.c_str(), spec->dataset.name.c_str(),
              spec->dataset.split.c_str(), floor->empty() ? "-" : floor->front().evaluator.c_str());
  for (const auto& v : *floor) {
    std::printf("  %-4s %10.3f +- %.3f (standard error)\n", v.metric.c_str(), v.value, v.std.value_or(0.0));
  }
  std::printf("No generator can be expected to score better than real images at this sample size.\n");
  return kExitOk;
}

}  // namespace bitsweep::cli
