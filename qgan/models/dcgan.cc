#include "qgan/models/dcgan.h"

#include <torch/torch.h>

namespace bitsweep::qgan {

GeneratorImpl::GeneratorImpl(const DcganOptions& options) : options_(options) {
  for (const ConvLayer& layer : GeneratorLayout(options.shape()).layers) {
    auto conv_options = torch::nn::ConvTranspose2dOptions(layer.in_channels, layer.out_channels, layer.kernel)
                            .stride(layer.stride)
                            .padding(layer.padding)
                            .bias(false);
    convs_.push_back(register_module(layer.name, torch::nn::ConvTranspose2d(conv_options)));
    strides_.push_back(layer.stride);
    paddings_.push_back(layer.padding);
    names_.push_back(layer.name);
    if (layer.batch_norm) {
      const std::string index = layer.name.substr(4);  // "conv2" -> "2"
      norms_.push_back(register_module("bn" + index, torch::nn::BatchNorm2d(layer.out_channels)));
    }
  }
}

torch::Tensor GeneratorImpl::forward(const torch::Tensor& z) {
  torch::Tensor x = z.reshape({z.size(0), options_.nz, 1, 1});
  for (size_t i = 0; i < convs_.size(); ++i) {
    torch::Tensor w = quantizers_.Apply(i, convs_[i]->weight, is_training());
    x = torch::conv_transpose2d(x, w, /*bias=*/{}, strides_[i], paddings_[i]);
    if (i + 1 < convs_.size()) {
      x = torch::relu(norms_[i]->forward(x));
    }
  }
  return torch::tanh(x);
}

std::vector<torch::Tensor> GeneratorImpl::layer_weights() const {
  std::vector<torch::Tensor> weights;
  for (const auto& conv : convs_) weights.push_back(conv->weight);
  return weights;
}

DiscriminatorImpl::DiscriminatorImpl(const DcganOptions& options) : options_(options) {
  for (const ConvLayer& layer : DiscriminatorLayout(options.shape()).layers) {
    auto conv_options = torch::nn::Conv2dOptions(layer.in_channels, layer.out_channels, layer.kernel)
                            .stride(layer.stride)
                            .padding(layer.padding)
                            .bias(false);
    convs_.push_back(register_module(layer.name, torch::nn::Conv2d(conv_options)));
    strides_.push_back(layer.stride);
    paddings_.push_back(layer.padding);
    names_.push_back(layer.name);
    if (layer.batch_norm) {
      norms_.push_back(register_module("bn" + layer.name.substr(4), torch::nn::BatchNorm2d(layer.out_channels)));
    } else {
      norms_.push_back(nullptr);  // no norm on that layer
    }
  }
}

torch::Tensor DiscriminatorImpl::forward(const torch::Tensor& images) {
  torch::Tensor x = images;
  for (size_t i = 0; i < convs_.size(); ++i) {
    torch::Tensor w = quantizers_.Apply(i, convs_[i]->weight, is_training());
    x = torch::conv2d(x, w, /*bias=*/{}, strides_[i], paddings_[i]);
    if (i + 1 == convs_.size()) break;
    if (!norms_[i].is_empty()) x = norms_[i]->forward(x);
    x = torch::leaky_relu(x, 0.2);
  }
  return x.reshape({-1});
}

std::vector<torch::Tensor> DiscriminatorImpl::layer_weights() const {
  std::vector<torch::Tensor> weights;
  for (const auto& conv : convs_) weights.push_back(conv->weight);
  return weights;
}

void InitDcganWeights(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (auto& child : module.modules(/*include_self=*/false)) {
    if (auto* conv = child->as<torch::nn::Conv2d>()) {
      torch::nn::init::normal_(conv->weight, 0.0, 0.02);
    } else if (auto* deconv = child->as<torch::nn::ConvTranspose2d>()) {
      torch::nn::init::normal_(deconv->weight, 0.0, 0.02);
    } else if (auto* bn = child->as<torch::nn::BatchNorm2d>()) {
      torch::nn::init::normal_(bn->weight, 1.0, 0.02);
      torch::nn::init::zeros_(bn->bias);
    }
  }
}

int64_t FullPrecisionBytes(const torch::nn::Module& module) {
  int64_t bytes = 0;
  for (const auto& p : module.parameters()) bytes += p.numel() * 4;
  for (const auto& b : module.buffers()) {
    if (b.is_floating_point()) bytes += b.numel() * 4;  // skip num_batches_tracked
  }
  return bytes;
}

}  // namespace bitsweep::qgan
