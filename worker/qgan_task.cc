#include "worker/qgan_task.h"

#include <fstream>
#include <sstream>

#include <torch/cuda.h>

#include "qgan/train/trainer.h"

namespace bitsweep::worker {
namespace {

Result<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IoError(path + ": cannot read job output");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

int CudaDeviceCount() {
  try {
    return static_cast<int>(torch::cuda::device_count());
  } catch (const std::exception&) {
    return 0;
  }
}

Result<TaskOutcome> RunQganTask(const JobSpec& job_spec, const TaskContext& context) {
  JobSpec spec = job_spec;
  if (!context.device.empty()) spec.runtime.device = context.device;
  if (context.threads > 0) spec.runtime.threads = context.threads;

  qgan::TrainOptions options;
  options.out_dir = context.work_dir;
  options.cancel = context.cancel;
  options.resume = true;  // a retry on this worker continues from the checkpoint
  options.cache_dir = context.cache_dir;
  options.on_progress = [&](const qgan::TrainProgress& p) {
    if (context.on_progress) context.on_progress({p.step, p.total, p.images_per_second, p.metrics});
  };
  BITSWEEP_ASSIGN_OR_RETURN(qgan::TrainReport report, qgan::RunTraining(spec, options));
  if (report.diverged) {
    // Divergence is an outcome of the configuration, not of the machine:
    // retrying elsewhere would diverge again.
    return Status::FailedPrecondition("training diverged: " + report.result.value("diverged_reason", std::string()));
  }

  TaskOutcome outcome;
  outcome.result_json = report.result.dump();
  for (const auto& m : report.result["metrics"]) outcome.metrics.push_back(MetricValue::FromJson(m));
  outcome.wall_seconds = report.result.value("wall_seconds", 0.0);
  outcome.model_bytes = report.result["model_bytes"].value("generator_packed", int64_t{0});
  for (const char* name : {"samples.png", "generator.bsg"}) {
    BITSWEEP_ASSIGN_OR_RETURN(std::string content, ReadWholeFile(context.work_dir + "/" + name));
    outcome.artifacts.push_back({name, std::move(content)});
  }
  return outcome;
}

}  // namespace bitsweep::worker
