// The rows the coordinator keeps: sweeps, jobs, workers, artifacts, results.
// Plain structs shared by the store, the scheduler and the gRPC handlers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/metric_value.h"
#include "common/status.h"

namespace bitsweep::coordinator {

enum class JobState { kQueued, kRunning, kSucceeded, kFailed, kCancelled };
enum class SweepState { kRunning, kDone, kCancelled };

/// "QUEUED", "RUNNING", ... as stored in the jobs table.
const char* JobStateName(JobState state);
Result<JobState> ParseJobState(const std::string& name);
const char* SweepStateName(SweepState state);
Result<SweepState> ParseSweepState(const std::string& name);
inline bool IsFinished(JobState s) { return s != JobState::kQueued && s != JobState::kRunning; }

struct SweepRecord {
  int64_t id = 0;
  std::string name;
  std::string strategy;
  /// The canonical sweep spec.
  std::string spec_json;
  SweepState state = SweepState::kRunning;
  int priority = 0;
  int max_attempts = 3;
  int64_t created_ms = 0;
  int64_t finished_ms = 0;  // 0 while running
  /// The strategy's saved state and its outcome (JSON; "" before any).
  std::string strategy_state;
  std::string strategy_outcome;
};

struct JobRecord {
  int64_t id = 0;
  int64_t sweep_id = 0;
  /// Position in the sweep (0-based).
  int64_t ordinal = 0;
  /// The grid point, e.g. {"quant.g.bits":2}.
  std::string params_json;
  // Denormalised from the job spec so that results can be queried by them.
  std::string task;
  std::string method_g;
  int bits_g = 32;
  std::string method_d;
  int bits_d = 32;
  std::string loss;
  std::string dataset;
  int64_t seed = 0;
  /// Per-layer widths of G and D ("2,2,4,8") and their weight-averaged bits
  /// (written when the job is inserted; not read back into records).
  std::string widths_g, widths_d;
  double mean_bits_g = 32.0, mean_bits_d = 32.0;

  JobState state = JobState::kQueued;
  int attempts = 0;
  int max_attempts = 3;
  /// Incremented by every lease; reports must carry the current one.
  int64_t epoch = 0;
  std::string worker_id;
  std::string last_error;
  /// The worker whose attempt last failed: retries go elsewhere when they can.
  std::string avoid_worker;
  int64_t started_ms = 0;
  int64_t finished_ms = 0;
  double wall_seconds = 0.0;
  int64_t model_bytes = 0;
};

struct WorkerRecord {
  std::string id;
  /// At registration: the store that issued `id` (not stored).
  std::string store_id;
  std::string host;
  std::vector<std::string> devices;
  int slots = 1;
  std::string version;
  int64_t registered_ms = 0;
  int64_t last_seen_ms = 0;
};

struct ArtifactRecord {
  int64_t job_id = 0;
  std::string name;
  /// Where the coordinator keeps the file.
  std::string path;
  int64_t bytes = 0;
  /// SHA-256 of the content, 64 hex digits ("" for artifacts stored before
  /// hashes were kept: only their size can be checked).
  std::string sha256;
};

/// Which of a sweep's jobs a listing covers, in the sweep's order: those
/// whose id is at least `from_id`, after skipping `offset` of them, at most
/// `limit` (0: no limit).
struct JobRange {
  int64_t from_id = 0;
  int64_t offset = 0;
  int64_t limit = 0;
};

/// One row of the `results` view.
struct ResultRecord {
  std::string sweep;
  int64_t sweep_id = 0;
  int64_t job_id = 0;
  std::string state;
  std::string method_g;
  int bits_g = 32;
  std::string method_d;
  int bits_d = 32;
  /// Per-layer widths ("2,2,4,8") and weight-averaged bits of G and D.
  std::string widths_g, widths_d;
  std::optional<double> mean_bits_g, mean_bits_d;
  std::string loss;
  std::string dataset;
  int64_t seed = 0;
  bool has_fid = false, has_is = false, has_kid = false;
  double fid = 0.0, is = 0.0, kid = 0.0;
  /// Sampling standard errors of fid, is and kid, where estimated.
  std::optional<double> fid_se, is_se, kid_se;
  /// from-scratch, warm-start or ptq (the results view's `protocol`).
  std::string protocol;
  int64_t model_bytes = 0;
  double wall_seconds = 0.0;
  std::string params_json;
};

/// What determines a post-training measurement: the key of the
/// ptq_measurements table.
struct PtqMeasurementKey {
  /// The model quantized: the SHA-256 of its checkpoint ("spec:" and a hash
  /// of its job spec for a baseline without one, i.e. a synthetic one).
  std::string model;
  std::string method;
  /// G's per-layer widths, "32,2,32,32".
  std::string widths;
  int bn_batches = 0;
  /// A hash of the rest of the job spec that shapes the measurement (the
  /// evaluation, its latents, the seed of batch-norm re-estimation...).
  std::string context;
};

/// One stored post-training measurement.
struct PtqMeasurement {
  PtqMeasurementKey key;
  double fid = 0.0;
  std::optional<double> fid_se;
  /// The output-distortion proxy, where measured.
  std::optional<double> distortion;
  /// The job that measured it.
  int64_t job_id = 0;
};

/// A finished job as a baseline to quantize.
struct BaselineRecord {
  int64_t job_id = 0;
  bool succeeded = false;
  int64_t seed = 0;
  /// SHA-256 of its uploaded checkpoint.pt ("" when it uploaded none).
  std::string checkpoint_sha256;
};

/// A file a worker uploads with a finished job.
struct ArtifactUpload {
  std::string name;
  std::string content;
};

/// What a worker reports when a job succeeds.
struct CompletionReport {
  int64_t job_id = 0;
  int64_t epoch = 0;
  std::string result_json;
  std::vector<MetricValue> metrics;
  std::vector<ArtifactUpload> artifacts;
  double wall_seconds = 0.0;
  int64_t model_bytes = 0;
};

}  // namespace bitsweep::coordinator
