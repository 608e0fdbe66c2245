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
///
/// Per layer (a spec with quant.g.layers, synthetic.layer_sensitivity_g or
/// layer_damage "product"): the generator's term is the layers' own p, each
/// weighted by its sensitivity w_l (default 1 / number of layers, so a
/// uniform width gives the formula above), summed ("sum": FID = fp x
/// (1 + s_g * sum_l w_l p_l + s_d * p_d)) or multiplied ("product": FID = fp
/// x prod_l (1 + s_g * w_l * p_l) x (1 + s_d * p_d), additive in log FID).
double SyntheticFid(const JobSpec& spec);

/// The stand-in for the output-distortion proxy (synthetic.distortion): the
/// generator's summed layer damage s_g * sum_l w_l p_l / 100, times its own
/// log-normal noise (sigma 0.3, seeded by the spec) so that it ranks
/// configurations like the FID does, but not perfectly.
double SyntheticDistortion(const JobSpec& spec);

Result<TaskOutcome> RunSyntheticTask(const JobSpec& spec, const TaskContext& context);

}  // namespace bitsweep::worker
