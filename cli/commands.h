// The `bitsweep` subcommands. main() only parses flags into these option
// structs; each Run* function does the work and returns the exit code.
#pragma once

#include <cstdint>
#include <string>

namespace bitsweep::cli {

/// Exit codes shared by all subcommands.
enum ExitCode : int { kExitOk = 0, kExitFailure = 1, kExitUsage = 2, kExitCancelled = 130 };

struct TrainCommandOptions {
  std::string spec_path;
  std::string out_dir;
  /// Overrides runtime.threads when >= 0.
  int threads = -1;
  /// Overrides runtime.device when not empty.
  std::string device;
  /// Overrides train.iterations when > 0.
  int64_t iterations = 0;
  /// Overrides train.seed when >= 0.
  int64_t seed = -1;
  /// Start from scratch even if out_dir holds a checkpoint.
  bool fresh = false;
  bool quiet = false;
};
int RunTrainCommand(const TrainCommandOptions& options);

struct SampleCommandOptions {
  std::string model_path;
  /// 0: as many as latents_in holds, else 64.
  int count = 0;
  uint64_t seed = 1;
  std::string out_png = "samples.png";
  /// Latents to use instead of drawing them (.npy [N, nz]).
  std::string latents_in;
  /// Where to write the latents used (.npy).
  std::string latents_out;
  /// Where to write the images as floats (.npy [N, C, H, W]).
  std::string images_out;
};
int RunSampleCommand(const SampleCommandOptions& options);

}  // namespace bitsweep::cli

namespace bitsweep::cli {

struct EvaluatorTrainOptions {
  std::string dataset = "fashion-mnist";
  /// Dataset folder ("" = the dataset's default).
  std::string root;
  std::string out_path;
  int epochs = 3;
  /// Train on the first `limit` images only (0 = all): for quick checks.
  int64_t limit = 0;
  uint64_t seed = 1;
  int threads = 0;
};
int RunEvaluatorTrainCommand(const EvaluatorTrainOptions& options);

struct EvaluatorFloorOptions {
  /// A job spec, or a sweep spec (its base is used).
  std::string spec_path;
  /// The real images measured against the spec's reference split.
  std::string split = "test";
  int threads = 0;
};
/// The real-data floor: the spec's metrics of real images of another split
/// against its reference, with the same sample size, evaluator and errors.
int RunEvaluatorFloorCommand(const EvaluatorFloorOptions& options);

struct MetricsCommandOptions {
  /// fid, is or kid.
  std::string metric;
  /// Feature matrices (fid, kid) or a probability matrix (is), as .npy.
  std::string real_path;
  std::string fake_path;
  std::string probabilities_path;
  int splits = 10;
  int subsets = 100;
  int64_t subset_size = 1000;
};
int RunMetricsCommand(const MetricsCommandOptions& options);

}  // namespace bitsweep::cli
