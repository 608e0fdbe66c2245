// One training iteration: n_critic discriminator steps, then one generator
// step. Shared by the trainer and the training benchmark, so the benchmark
// measures exactly what jobs run.
#pragma once

#include <torch/types.h>

#include "common/job_spec.h"
#include "qgan/data/dataset.h"
#include "qgan/train/gan.h"
#include "qgan/train/random_stream.h"

namespace bitsweep::qgan {

struct StepLosses {
  double d_loss = 0.0;
  double g_loss = 0.0;
  /// False when a loss is NaN or infinite (the run diverged).
  bool finite() const;
};

/// Runs one iteration of `spec`'s objective on a batch from `data`. The
/// networks must be in training mode. Drawing batches, noise and
/// interpolation weights only from `random` keeps runs reproducible.
StepLosses TrainIteration(const JobSpec& spec, Gan& gan, const Dataset& data, RandomStream& random,
                          const torch::Device& device);

}  // namespace bitsweep::qgan
