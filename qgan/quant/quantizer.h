// Weight quantizers: the methods QGAN compares (minmax, log, tanh/DoReFa) and
// its own EM-fitted levels, plus a binary baseline.
//
// Every quantizer maps a weight tensor onto at most 2^b levels and says which
// level each weight took. Quantized values are always produced as
// `levels[indices]`, so a packed export (indices + level table) reproduces the
// fake-quantized weights bit for bit.
#pragma once

#include <memory>
#include <string>

#include <torch/types.h>

#include "common/job_spec.h"

namespace bitsweep::qgan {

/// A weight tensor mapped onto a small set of levels.
struct QuantizedWeight {
  /// Quantized weights, same shape as the input: levels[indices].
  torch::Tensor values;
  /// Level index of every weight (int64, same shape as the input).
  torch::Tensor indices;
  /// The level table (float, 2^bits entries; some may be unused).
  torch::Tensor levels;
};

/// Quantizes one layer's weights to `bits` bits. A quantizer may carry state
/// between calls (EM warm-starts from its previous fit); Fit() updates that
/// state during training, Quantize() is a pure function of state and weights.
class Quantizer {
 public:
  virtual ~Quantizer() = default;

  /// Updates the method's state from the current weights (no-op for methods
  /// whose levels follow directly from the weights).
  virtual void Fit(const torch::Tensor& weights) { (void)weights; }

  /// Post-training quantization: the weights will not move again, so the
  /// fit runs until it stops improving rather than to a training-step budget.
  virtual void FitToConvergence(const torch::Tensor& weights) { Fit(weights); }

  /// Maps `weights` onto the levels. Does not record gradients.
  virtual QuantizedWeight Quantize(const torch::Tensor& weights) = 0;

  /// The differentiable function of the shadow weights whose gradient the
  /// straight-through estimator passes on. Identity for most methods; DoReFa
  /// passes gradients through its tanh normalisation.
  virtual torch::Tensor Surrogate(const torch::Tensor& weights) { return weights; }

  /// Method-specific state for checkpoints (empty tensor when stateless).
  virtual torch::Tensor State() const { return {}; }
  virtual void LoadState(const torch::Tensor& state) { (void)state; }

  int bits() const { return bits_; }
  int64_t num_levels() const { return int64_t{1} << bits_; }
  virtual QuantMethod method() const = 0;

  /// Weights on a GPU are fitted and quantized with tensor operations on
  /// the device, never read back to the host inside a step; CPU weights
  /// take the one-pass CPU path, which is faster there. `always` forces the
  /// device path on the CPU too (to test that both compute the same).
  void set_device_path(bool always) { always_device_path_ = always; }

 protected:
  explicit Quantizer(int bits) : bits_(bits) {}
  bool UseDevicePath(const torch::Tensor& weights) const {
    return always_device_path_ || !weights.device().is_cpu();
  }

 private:
  int bits_;
  bool always_device_path_ = false;
};

/// Creates a quantizer for `spec` (method != none). `spec.bits` must be
/// valid for the method (JobSpec validation guarantees it).
std::unique_ptr<Quantizer> MakeQuantizer(const QuantSpec& spec);

/// Builds a QuantizedWeight from a level table and indices.
QuantizedWeight FromLevels(torch::Tensor levels, torch::Tensor indices);

/// Levels `alpha * i + beta` for i = 0 .. n-1 (float32 on `like`'s device).
torch::Tensor AffineLevels(double alpha, double beta, int64_t n, const torch::Tensor& like);

/// Nearest-level indices for affine levels, clamped to [0, n-1]. A
/// non-positive alpha (all levels equal) maps everything to level 0.
torch::Tensor AffineIndices(const torch::Tensor& weights, double alpha, double beta, int64_t n);

/// The nearest level index for a weight already mapped to level units,
/// x = (w - beta) / alpha, with levels 0 .. top. Branch-free clamping (at
/// 1 bit half the weights lie outside the levels, and branches mispredict),
/// then round half up. The CPU paths of AffineQuantize and of the EM fit
/// share it, so fitting and quantizing assign every weight alike.
inline int64_t NearestAffineLevel(double x, double top) {
  x = x < 0.0 ? 0.0 : x;
  x = x > top ? top : x;
  return static_cast<int64_t>(x + 0.5);
}

/// Quantizes onto the affine levels alpha * i + beta, i = 0 .. n-1. On the
/// CPU this is one pass over the weights (it runs on every training step).
QuantizedWeight AffineQuantize(const torch::Tensor& weights, double alpha, double beta, int64_t n);

}  // namespace bitsweep::qgan
