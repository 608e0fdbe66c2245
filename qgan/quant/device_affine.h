// Affine levels (alpha * i + beta, i = 0 .. n-1) computed where the weights
// are, with alpha and beta as 0-dim float64 tensors on that device: no value
// ever comes back to the host, so a training step on a GPU never waits for
// its quantizers. The assignment is the CPU path's (NearestAffineLevel):
// clamp to [0, n-1] in level units, then round half up.
#pragma once

#include <cstdint>

#include <torch/types.h>

#include "qgan/quant/quantizer.h"

namespace bitsweep::qgan {

/// The nearest-level index of every weight (int64, the weights' shape). A
/// non-positive alpha (all levels equal) maps everything to level 0.
torch::Tensor AffineIndicesOnDevice(const torch::Tensor& weights, const torch::Tensor& alpha,
                                    const torch::Tensor& beta, int64_t n);

/// Quantizes onto the affine levels; the level table is float32.
QuantizedWeight AffineQuantizeOnDevice(const torch::Tensor& weights, const torch::Tensor& alpha,
                                       const torch::Tensor& beta, int64_t n);

}  // namespace bitsweep::qgan
