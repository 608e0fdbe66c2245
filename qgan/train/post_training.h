// Post-training quantization (task ptq): a trained generator's weights are
// quantized as they are, with no training. The steps a PTQ job takes between
// loading the model and evaluating it like any trained job.
#pragma once

#include <cstdint>
#include <string>

#include <torch/types.h>

#include "common/status.h"
#include "qgan/models/dcgan.h"

namespace bitsweep::qgan {

/// Copies the weights and batch-norm statistics of a full-precision packed
/// generator (.bsg) into `generator`. Refused: a quantized one (its
/// full-precision weights are gone) or one of another architecture.
Status LoadGeneratorFromPacked(const std::string& path, GeneratorImpl& generator);

/// Fits every quantized layer's levels to the generator's weights until the
/// fit stops improving (EM to convergence; the other methods have nothing to
/// fit).
void FitQuantizersToConvergence(GeneratorImpl& generator);

/// Batch-norm re-estimation: the running statistics of the generator's
/// batch norms are measured anew over `batches` batches of `batch_size`
/// latents (seeded by `seed`) with the quantized weights, as an equal-weight
/// average of the batches. The weights and the fit are not touched.
void RecalibrateBatchNorm(GeneratorImpl& generator, int batches, int batch_size, uint64_t seed,
                          const torch::Device& device);

/// The label-free sensitivity proxy of post-training quantization, on a
/// fixed batch of `samples` latents drawn from `seed`: OutputsAtFullPrecision
/// is the generator's output with every layer at full precision (call it
/// before quantizing and re-estimating batch norm), OutputDistortion the
/// mean squared difference of the generator's output now from it. Images
/// lie in [-1, 1], so the distortion lies in [0, 4].
torch::Tensor OutputsAtFullPrecision(GeneratorImpl& generator, int samples, uint64_t seed,
                                     const torch::Device& device);
double OutputDistortion(GeneratorImpl& generator, const torch::Tensor& reference, uint64_t seed,
                        const torch::Device& device);

}  // namespace bitsweep::qgan
