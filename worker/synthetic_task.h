// The `synthetic` task kind: no training and no LibTorch. It waits (or
// spins) for synthetic.seconds and reports a quality that depends only on
// the quantization settings, so that sweeps, strategies and the service can
// be exercised at thousands of jobs per second.
#pragma once

#include "worker/task.h"

namespace bitsweep::worker {

/// The deterministic FID of a synthetic job (before noise): the full
/// precision FID times (1 + s_g * p(method_g, bits_g) + s_d * p(method_d, bits_d)),
/// where p = f(method) * 2^(2 - bits) falls by 2x per extra bit and f ranks
/// the methods as the QGAN paper reports them (em best, then minmax, tanh, log).
/// A post-training stand-in (synthetic.post_training) multiplies p of the
/// generator by synthetic.ptq_factor.
double SyntheticFid(const JobSpec& spec);

Result<TaskOutcome> RunSyntheticTask(const JobSpec& spec, const TaskContext& context);

}  // namespace bitsweep::worker
