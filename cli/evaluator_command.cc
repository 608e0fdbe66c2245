#include <cstdio>

#include "cli/commands.h"
#include "common/job_spec.h"
#include "qgan/metrics/classifier_evaluator.h"

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

}  // namespace bitsweep::cli
