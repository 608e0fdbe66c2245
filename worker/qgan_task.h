// The `qgan` task kind: trains a quantized GAN with qgan::RunTraining and
// turns its outputs (result.json, samples.png, generator.bsg) into a task
// outcome.
#pragma once

#include "worker/task.h"

namespace bitsweep::worker {

Result<TaskOutcome> RunQganTask(const JobSpec& spec, const TaskContext& context);

/// How many CUDA devices LibTorch sees (0 on a CPU-only build).
int CudaDeviceCount();

}  // namespace bitsweep::worker
