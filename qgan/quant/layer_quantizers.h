// LayerQuantizers: the quantization of one network (generator or
// discriminator), one quantizer per convolution, applied as fake quantization
// in the forward pass with a straight-through estimator.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "common/job_spec.h"
#include "qgan/quant/level_stats.h"
#include "qgan/quant/quantizer.h"

namespace bitsweep::qgan {

class LayerQuantizers {
 public:
  /// Full precision everywhere until Configure() is called.
  LayerQuantizers() = default;

  /// One quantizer per layer named in `layers` (in network order). With
  /// `spec.keep_first_last_fp` the first and last stay full precision.
  void Configure(const std::vector<std::string>& layers, const QuantSpec& spec);

  /// The weights the forward pass uses for `layer`: `shadow` itself at full
  /// precision; otherwise the quantized values, with gradients flowing to
  /// `shadow` through the quantizer's surrogate (straight-through). While
  /// `training`, the quantizer is refitted whenever the weights changed.
  torch::Tensor Apply(size_t layer, const torch::Tensor& shadow, bool training);

  /// Post-training quantization: fits every quantized layer to its final
  /// `weights` (one per layer) until the fit stops improving.
  void FitToConvergence(const std::vector<torch::Tensor>& weights);

  /// Whether `layer` has a quantizer (false: full precision).
  bool IsQuantized(size_t layer) const;
  /// The quantized form of `weights` under `layer`'s current fit. The layer
  /// must be quantized.
  QuantizedWeight Quantize(size_t layer, const torch::Tensor& weights);

  /// Diagnostics for every quantized layer.
  std::vector<LevelStats> Measure(const std::vector<torch::Tensor>& weights);

  /// Checkpoint support: one tensor per layer (undefined when stateless).
  std::vector<torch::Tensor> States() const;
  void LoadStates(const std::vector<torch::Tensor>& states);

  size_t size() const { return layers_.size(); }
  const QuantSpec& spec() const { return spec_; }

 private:
  struct Layer {
    std::string name;
    std::unique_ptr<Quantizer> quantizer;  // null: full precision
    // The last quantization and the weights it was made from (identity and
    // version counter), so repeated forwards between optimizer steps reuse it.
    QuantizedWeight cached;
    const void* cached_data = nullptr;
    int64_t cached_version = -1;
  };
  QuantSpec spec_;
  std::vector<Layer> layers_;
};

}  // namespace bitsweep::qgan
