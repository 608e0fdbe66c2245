// RunTraining: one quantized GAN training job, from spec to results on disk.
//
// This header is free of LibTorch types so that command-line and service code
// can start jobs without compiling the LibTorch headers.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/job_spec.h"
#include "common/metric_value.h"
#include "common/status.h"

namespace bitsweep::qgan {

struct TrainProgress {
  int64_t step = 0;   // iterations completed
  int64_t total = 0;  // iterations the job runs
  double d_loss = 0.0;
  double g_loss = 0.0;
  double images_per_second = 0.0;
  double elapsed_seconds = 0.0;
  /// Sample-quality measurements taken at this step (eval.every), if any.
  std::vector<MetricValue> metrics;
};

struct TrainOptions {
  /// Where result.json, samples.png, generator.bsg and checkpoint.pt go.
  std::string out_dir;
  /// Called after every iteration, on the training thread. Keep it cheap.
  std::function<void(const TrainProgress&)> on_progress;
  /// Checked before every iteration; when set, the run writes a checkpoint
  /// and returns CANCELLED. A later run on the same out_dir resumes.
  const std::atomic<bool>* cancel = nullptr;
  /// Continue from out_dir/checkpoint.pt when it exists (and was written by
  /// a compatible spec).
  bool resume = true;
  /// Where reference features of real data are cached ("" = the default,
  /// see qgan/metrics/sample_quality.h).
  std::string cache_dir;
  /// Warm start: the checkpoint G and D start from ("" = the spec's
  /// train.init_from_file, if any). Ignored when resuming a checkpoint of
  /// this job's own.
  std::string init_checkpoint;
  /// What the warm start came from, recorded as result.json's "init_from"
  /// (e.g. {"job": 3, "sha256": "..."}); the caller knows, the trainer does not.
  nlohmann::json init_from;
};

struct TrainReport {
  /// What result.json holds.
  nlohmann::json result;
  bool diverged = false;
};

/// Runs `spec`. Errors (bad data files, CUDA requested without a GPU,
/// LibTorch failures) come back as a Status with context; nothing throws.
Result<TrainReport> RunTraining(const JobSpec& spec, const TrainOptions& options);

/// The key under which a checkpoint is compatible with a spec: every field
/// except the training length, checkpoint and logging intervals, and the
/// runtime (device, threads), so a run can be extended or moved.
std::string CheckpointCompatibilityKey(const JobSpec& spec);

}  // namespace bitsweep::qgan
