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

  /// One quantizer per layer named in `layers` (in network order), each of
  /// the method and bits the spec gives that layer (QuantSpec::ForLayer:
  /// per-layer widths, keep_first_last_fp, else the network's).
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
  /// The quantization of `layer` (method none, 32 bits: full precision).
  LayerQuant LayerSpec(size_t layer) const;

  /// While set, every layer runs at full precision (Apply returns the
  /// shadow weights): the reference pass of the output-distortion proxy,
  /// without a second copy of the network.
  void set_bypass(bool bypass) { bypass_ = bypass; }
  /// The quantized form of `weights` under `layer`'s current fit. The layer
  /// must be quantized.
  QuantizedWeight Quantize(size_t layer, const torch::Tensor& weights);

  /// Diagnostics for every quantized layer.
  std::vector<LevelStats> Measure(const std::vector<torch::Tensor>& weights);

  /// Checkpoint support: one tensor per layer (undefined when stateless).
  std::vector<torch::Tensor> States() const;
  void LoadStates(const std::vector<torch::Tensor>& states);
  /// Whether `layer`'s last quantization was made from `shadow` as it is now,
  /// so a training forward would not refit it. A discriminator's fit is
  /// current at the end of a step (its last fit, in the generator's update,
  /// saw its final weights); a generator's is not. Checkpoints keep it, so
  /// that a resumed run refits exactly where an uninterrupted one does.
  bool FitIsCurrent(size_t layer, const torch::Tensor& shadow) const;
  /// After LoadStates: `layer`'s fit was current for the weights loaded
  /// (`shadow`), so it is not fitted again before they change.
  void MarkFitCurrent(size_t layer, const torch::Tensor& shadow);

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
  bool bypass_ = false;
};

}  // namespace bitsweep::qgan
