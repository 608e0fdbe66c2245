#include "qgan/models/dcgan.h"

#include <torch/torch.h>

namespace bitsweep::qgan {
namespace {

// Channel multipliers of the hidden layers, widest first: a 32x32 DCGAN
// upsamples 4 -> 8 -> 16 -> 32, a 64x64 one has one more stage.
std::vector<int> Multipliers(int image_size) {
  return image_size == 64 ? std::vector<int>{8, 4, 2, 1} : std::vector<int>{4, 2, 1};
}

}  // namespace

GeneratorImpl::GeneratorImpl(const DcganOptions& options) : options_(options) {
  std::vector<int> widths;
  for (int m : Multipliers(options.image_size)) widths.push_back(m * options.ngf);
  int in = options.nz;
  for (size_t i = 0; i <= widths.size(); ++i) {
    bool first = i == 0;
    bool last = i == widths.size();
    int out = last ? options.channels : widths[i];
    auto conv_options = torch::nn::ConvTranspose2dOptions(in, out, 4)
                            .stride(first ? 1 : 2)
                            .padding(first ? 0 : 1)
                            .bias(false);
    std::string name = "conv" + std::to_string(i + 1);
    convs_.push_back(register_module(name, torch::nn::ConvTranspose2d(conv_options)));
    strides_.push_back(first ? 1 : 2);
    paddings_.push_back(first ? 0 : 1);
    names_.push_back(name);
    if (!last) norms_.push_back(register_module("bn" + std::to_string(i + 1), torch::nn::BatchNorm2d(out)));
    in = out;
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
  std::vector<int> widths;
  auto multipliers = Multipliers(options.image_size);
  for (auto it = multipliers.rbegin(); it != multipliers.rend(); ++it) widths.push_back(*it * options.ndf);
  int in = options.channels;
  for (size_t i = 0; i <= widths.size(); ++i) {
    bool first = i == 0;
    bool last = i == widths.size();
    int out = last ? 1 : widths[i];
    auto conv_options =
        torch::nn::Conv2dOptions(in, out, 4).stride(last ? 1 : 2).padding(last ? 0 : 1).bias(false);
    std::string name = "conv" + std::to_string(i + 1);
    convs_.push_back(register_module(name, torch::nn::Conv2d(conv_options)));
    strides_.push_back(last ? 1 : 2);
    paddings_.push_back(last ? 0 : 1);
    names_.push_back(name);
    // DCGAN: no batch norm on the input layer or the output layer.
    if (!first && !last && options.d_batchnorm) {
      norms_.push_back(register_module("bn" + std::to_string(i + 1), torch::nn::BatchNorm2d(out)));
    } else {
      norms_.push_back(nullptr);
    }
    in = out;
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
