#include "worker/qgan_task.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <torch/cuda.h>

#include "common/sha256.h"
#include "qgan/train/trainer.h"

namespace bitsweep::worker {
namespace {

Result<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IoError(path + ": cannot read");
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

namespace {

// Fetches the final checkpoint job `from` uploaded to `path` (written
// under a temporary name, then renamed); `field` names the spec field that
// asked for it in errors. Returns its SHA-256.
Result<std::string> FetchCheckpoint(int64_t from, const std::filesystem::path& path, const TaskContext& context,
                                    const std::string& field) {
  if (!context.fetch_artifact) {
    return Status::FailedPrecondition(field + ": " + std::to_string(from) +
                                      " needs a coordinator to fetch the checkpoint from");
  }
  auto content = context.fetch_artifact(from, "checkpoint.pt");
  if (!content.ok()) return content.status().WithContext(field + ": checkpoint of job " + std::to_string(from));
  std::error_code ec;
  std::filesystem::create_directories(context.work_dir, ec);
  const std::filesystem::path partial = path.string() + ".partial";
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    out.write(content->data(), static_cast<std::streamsize>(content->size()));
    if (!out) return Status::IoError(partial.string() + ": cannot write the fetched checkpoint");
  }
  std::filesystem::rename(partial, path, ec);
  if (ec) return Status::IoError(path.string() + ": " + ec.message());
  return Sha256Hex(content.value());
}

// A job that continues an earlier one (successive halving's next rung)
// starts from that job's final checkpoint, fetched from the coordinator,
// unless a previous attempt here already left a checkpoint of its own,
// which is further along.
Status FetchStartingCheckpoint(const JobSpec& spec, const TaskContext& context) {
  const int64_t from = spec.train.resume_from_job;
  if (from == 0) return Status::Ok();
  const std::filesystem::path checkpoint = std::filesystem::path(context.work_dir) / "checkpoint.pt";
  if (std::filesystem::exists(checkpoint)) return Status::Ok();
  return FetchCheckpoint(from, checkpoint, context, "train.resume_from_job").status();
}

// A warm start: the checkpoint G and D start from, and what result.json
// records about it (the job or file, and the checkpoint's SHA-256).
Status PrepareWarmStart(const JobSpec& spec, const TaskContext& context, qgan::TrainOptions* options) {
  if (spec.train.init_from_job != 0) {
    const std::filesystem::path init = std::filesystem::path(context.work_dir) / "init.pt";
    BITSWEEP_ASSIGN_OR_RETURN(std::string sha256,
                              FetchCheckpoint(spec.train.init_from_job, init, context, "train.init_from_job"));
    options->init_checkpoint = init.string();
    options->init_from = {{"job", spec.train.init_from_job}, {"sha256", sha256}};
  } else if (!spec.train.init_from_file.empty()) {
    BITSWEEP_ASSIGN_OR_RETURN(std::string content, ReadWholeFile(spec.train.init_from_file));
    options->init_from = {{"file", spec.train.init_from_file}, {"sha256", Sha256Hex(content)}};
  }
  return Status::Ok();
}

}  // namespace

Result<TaskOutcome> RunQganTask(const JobSpec& job_spec, const TaskContext& context) {
  BITSWEEP_RETURN_IF_ERROR(FetchStartingCheckpoint(job_spec, context));
  JobSpec spec = job_spec;
  if (!context.device.empty()) spec.runtime.device = context.device;
  if (context.threads > 0) spec.runtime.threads = context.threads;

  qgan::TrainOptions options;
  options.out_dir = context.work_dir;
  options.cancel = context.cancel;
  options.resume = true;  // a retry on this worker continues from the checkpoint
  options.cache_dir = context.cache_dir;
  BITSWEEP_RETURN_IF_ERROR(PrepareWarmStart(spec, context, &options));
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
  std::vector<std::string> uploads = {"samples.png", "generator.bsg"};
  if (spec.train.upload_checkpoint) uploads.push_back("checkpoint.pt");
  for (const auto& name : uploads) {
    BITSWEEP_ASSIGN_OR_RETURN(std::string content, ReadWholeFile(context.work_dir + "/" + name));
    outcome.artifacts.push_back({name, std::move(content)});
  }
  return outcome;
}

}  // namespace bitsweep::worker
