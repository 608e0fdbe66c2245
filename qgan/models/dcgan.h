// DCGAN generator and discriminator (Radford et al.) for 32x32 and 64x64
// images with 1 or 3 channels, with per-layer weight quantization.
//
// Every submodule is registered under a stable name ("conv1", "bn1", ...):
// these names are the checkpoint and export keys, and the layers are those
// of common/network_layout.h (which the coordinator checks specs against). Convolutions have no bias,
// as in DCGAN; each layer's weight is passed through the network's
// LayerQuantizers in forward(), so the registered weights are the
// full-precision shadow weights that the optimizer updates.
#pragma once

#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>

#include "common/network_layout.h"
#include "qgan/quant/layer_quantizers.h"

namespace bitsweep::qgan {

struct DcganOptions {
  /// 32 or 64.
  int image_size = 32;
  /// 1 (grey) or 3 (RGB).
  int channels = 1;
  int nz = 100;
  int ngf = 64;
  int ndf = 64;
  /// Batch norm in the discriminator. Off for WGAN-GP, whose per-sample
  /// gradient penalty batch norm would break.
  bool d_batchnorm = true;

  /// The same shape as common/network_layout.h describes it.
  DcganShape shape() const { return DcganShape{image_size, channels, nz, ngf, ndf, d_batchnorm}; }
};

class GeneratorImpl : public torch::nn::Module {
 public:
  explicit GeneratorImpl(const DcganOptions& options);

  /// z: [N, nz] -> images [N, channels, size, size] in [-1, 1].
  torch::Tensor forward(const torch::Tensor& z);

  /// Names and shadow weights of the convolutions, in network order.
  const std::vector<std::string>& layer_names() const { return names_; }
  std::vector<torch::Tensor> layer_weights() const;
  LayerQuantizers& quantizers() { return quantizers_; }
  const DcganOptions& options() const { return options_; }

 private:
  DcganOptions options_;
  std::vector<std::string> names_;
  std::vector<torch::nn::ConvTranspose2d> convs_;
  std::vector<int64_t> strides_;  // per conv, as in its options (kept as ints for the functional call)
  std::vector<int64_t> paddings_;
  std::vector<torch::nn::BatchNorm2d> norms_;
  LayerQuantizers quantizers_;
};
TORCH_MODULE(Generator);

class DiscriminatorImpl : public torch::nn::Module {
 public:
  explicit DiscriminatorImpl(const DcganOptions& options);

  /// images [N, channels, size, size] -> logits [N].
  torch::Tensor forward(const torch::Tensor& images);

  const std::vector<std::string>& layer_names() const { return names_; }
  std::vector<torch::Tensor> layer_weights() const;
  LayerQuantizers& quantizers() { return quantizers_; }

 private:
  DcganOptions options_;
  std::vector<std::string> names_;
  std::vector<torch::nn::Conv2d> convs_;
  std::vector<int64_t> strides_;
  std::vector<int64_t> paddings_;
  std::vector<torch::nn::BatchNorm2d> norms_;  // null entries: no norm on that layer
  LayerQuantizers quantizers_;
};
TORCH_MODULE(Discriminator);

/// DCGAN's initialisation: conv weights N(0, 0.02), batch-norm scale
/// N(1, 0.02), batch-norm shift 0. Uses the global torch generator.
void InitDcganWeights(torch::nn::Module& module);

/// Bytes of every parameter and buffer at 32-bit float.
int64_t FullPrecisionBytes(const torch::nn::Module& module);

}  // namespace bitsweep::qgan
