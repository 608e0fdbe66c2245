// What a worker runs for one lease: a task kind turns a job spec into an
// outcome (result JSON, metrics, artifacts), reporting progress on the way.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/job_spec.h"
#include "common/metric_value.h"
#include "common/status.h"

namespace bitsweep::worker {

struct TaskProgress {
  int64_t step = 0;
  int64_t total = 0;
  double images_per_second = 0.0;
  /// Measurements taken at this step, if any.
  std::vector<MetricValue> metrics;
};

struct TaskContext {
  int64_t job_id = 0;
  int attempt = 1;
  /// A folder of this job's own; a retry on the same worker finds its
  /// checkpoint there and resumes.
  std::string work_dir;
  /// Overrides of the spec's runtime section for this slot.
  std::string device;
  int threads = 0;
  /// Cache of reference features ("" = default).
  std::string cache_dir;
  /// Set when the job must stop (cancelled, lease lost, worker stopping).
  const std::atomic<bool>* cancel = nullptr;
  std::function<void(const TaskProgress&)> on_progress;
  /// Fetches an artifact another job uploaded (a checkpoint to continue
  /// from); unset where there is no coordinator to ask.
  std::function<Result<std::string>(int64_t job_id, const std::string& name)> fetch_artifact;
};

struct TaskArtifact {
  std::string name;
  std::string content;
};

struct TaskOutcome {
  std::string result_json;
  std::vector<MetricValue> metrics;
  std::vector<TaskArtifact> artifacts;
  double wall_seconds = 0.0;
  int64_t model_bytes = 0;
};

/// Runs one job. A failure's Status code says whether retrying can help
/// (see IsRetryable).
using TaskRunner = std::function<Result<TaskOutcome>(const JobSpec&, const TaskContext&)>;

/// Whether another attempt may succeed: not for invalid specs, missing data
/// or corrupt files (they fail the same way everywhere), yes otherwise.
bool IsRetryable(const Status& status);

}  // namespace bitsweep::worker
