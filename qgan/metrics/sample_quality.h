// Sample quality of a generator during and after training: FID, IS and KID
// of eval.num_samples generated images against the job's real data, with the
// job's evaluator. The evaluator is loaded once per run and the real data's
// features are computed once per (dataset, split, evaluator hash) and cached
// on disk.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "common/job_spec.h"
#include "common/metric_value.h"
#include "common/status.h"
#include "qgan/metrics/evaluator.h"
#include "qgan/metrics/fid.h"
#include "qgan/models/dcgan.h"

namespace bitsweep::qgan {

/// Features of a dataset's real images under an evaluator.
struct ReferenceFeatures {
  torch::Tensor features;  // float32 [N, d]
  GaussianStats stats;
  /// The cache file, and whether this call found it there.
  std::string cache_path;
  bool from_cache = false;
};

/// Where reference features are cached: $BITSWEEP_CACHE_DIR, else
/// $XDG_CACHE_HOME/bitsweep, else ~/.cache/bitsweep.
std::string DefaultCacheDir();

/// The cache key of a dataset's reference features: everything that decides
/// the images (name, root, split, size, limit) and the evaluator's name and
/// file hash, so a changed evaluator can never reuse stale statistics.
std::string ReferenceKey(const DatasetSpec& dataset, const Evaluator& evaluator);

/// Loads the reference features of `dataset` from `cache_dir`, or computes
/// and stores them.
Result<ReferenceFeatures> LoadOrComputeReference(const DatasetSpec& dataset, Evaluator& evaluator,
                                                 const std::string& cache_dir);

/// The eval.num_samples latent vectors ([N, model.nz], float32, CPU) that
/// Measure feeds the generator: drawn from eval.noise_seed alone, never from
/// train.seed, so every job of a sweep is scored on the same latents.
torch::Tensor EvalLatents(const JobSpec& spec);

class SampleQuality {
 public:
  /// Loads the evaluator of `spec.eval` and the reference features.
  static Result<std::unique_ptr<SampleQuality>> Create(const JobSpec& spec, const torch::Device& device,
                                                       const std::string& cache_dir);

  /// Draws eval.num_samples images from `generator` at EvalLatents(spec)
  /// (in eval mode, restoring its mode afterwards; the noise has its own
  /// seed, so training draws are unaffected) and measures the configured
  /// metrics. Every value carries its sampling standard error in `std`
  /// (qgan/metrics/sampling_error.h): bootstrap for FID and IS, disjoint
  /// blocks for KID; the resample index sets are fixed, so they are paired
  /// across jobs like the latents.
  Result<std::vector<MetricValue>> Measure(GeneratorImpl& generator, int64_t step);

  /// The real-data floor: the same metrics of the first eval.num_samples
  /// real images of `dataset` (usually the test split of the reference's
  /// dataset) against the reference, with the same standard errors. No
  /// generator can be expected to score better at this sample size.
  Result<std::vector<MetricValue>> MeasureRealImages(const DatasetSpec& dataset);

  const ReferenceFeatures& reference() const { return reference_; }

 private:
  SampleQuality(const JobSpec& spec, torch::Device device) : spec_(spec), device_(device) {}

  /// The configured metrics of `count` images that `images(begin, n)`
  /// produces batch by batch.
  Result<std::vector<MetricValue>> Score(int64_t count, int64_t step,
                                         const std::function<torch::Tensor(int64_t, int64_t)>& images);

  JobSpec spec_;
  torch::Device device_;
  std::unique_ptr<Evaluator> evaluator_;
  ReferenceFeatures reference_;
};

}  // namespace bitsweep::qgan
