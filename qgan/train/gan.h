// The pieces of a training run that a checkpoint must capture: both networks
// (with their quantizer fits), both optimizers, and the random stream.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include <torch/optim/adam.h>

#include "common/job_spec.h"
#include "qgan/models/dcgan.h"
#include "qgan/train/random_stream.h"

namespace bitsweep::qgan {

struct Gan {
  Generator generator{nullptr};
  Discriminator discriminator{nullptr};
  std::unique_ptr<torch::optim::Adam> opt_g;
  std::unique_ptr<torch::optim::Adam> opt_d;
};

/// Builds the networks of `spec` for images with `channels` channels on
/// `device`, initialised deterministically from spec.train.seed, with their
/// quantizers configured and Adam optimizers attached.
Gan BuildGan(const JobSpec& spec, int channels, const torch::Device& device);

/// The run's progress besides the networks.
struct RunState {
  int64_t step = 0;
  std::string compatibility_key;
  /// (step, d_loss, g_loss) at each log point.
  std::vector<std::array<double, 3>> history;
  double train_seconds = 0.0;
  RandomStream::State rng;
  /// Sample-quality measurements so far (a JSON array of MetricValue).
  nlohmann::json metrics = nlohmann::json::array();
};

/// Writes a checkpoint atomically (temporary file, then rename).
Status SaveCheckpoint(const std::string& path, Gan& gan, const RunState& state);

/// Warm start: loads only the networks' weights and buffers (batch-norm
/// running statistics) of the checkpoint at `path` into `gan`; not its
/// optimizers, quantizer fits or progress. The architectures must match.
Status LoadInitialWeights(const std::string& path, Gan& gan, const torch::Device& device);

/// Restores `gan` and returns the run state. A checkpoint whose
/// compatibility key differs from `expected_key` is refused.
Result<RunState> LoadCheckpoint(const std::string& path, const std::string& expected_key, Gan& gan,
                                const torch::Device& device);

}  // namespace bitsweep::qgan
