#include "qgan/train/losses.h"

#include <torch/torch.h>

namespace bitsweep::qgan {

torch::Tensor DiscriminatorLoss(LossKind kind, const torch::Tensor& real, const torch::Tensor& fake) {
  switch (kind) {
    case LossKind::kBce:  // -log sigmoid(real) - log(1 - sigmoid(fake))
      return torch::softplus(-real).mean() + torch::softplus(fake).mean();
    case LossKind::kLsgan:
      return 0.5 * ((real - 1.0).square().mean() + fake.square().mean());
    case LossKind::kHinge:
      return torch::relu(1.0 - real).mean() + torch::relu(1.0 + fake).mean();
    case LossKind::kWganGp:
      return fake.mean() - real.mean();
  }
  return {};
}

torch::Tensor GeneratorLoss(LossKind kind, const torch::Tensor& fake) {
  switch (kind) {
    case LossKind::kBce:  // non-saturating: -log sigmoid(fake)
      return torch::softplus(-fake).mean();
    case LossKind::kLsgan:
      return 0.5 * (fake - 1.0).square().mean();
    case LossKind::kHinge:
    case LossKind::kWganGp:
      return -fake.mean();
  }
  return {};
}

torch::Tensor GradientPenalty(const std::function<torch::Tensor(const torch::Tensor&)>& discriminator,
                              const torch::Tensor& real, const torch::Tensor& fake, const torch::Tensor& eps) {
  auto x_hat = (eps * real + (1.0 - eps) * fake.detach()).requires_grad_(true);
  auto out = discriminator(x_hat);
  auto grad = torch::autograd::grad({out.sum()}, {x_hat}, /*grad_outputs=*/{}, /*retain_graph=*/true,
                                    /*create_graph=*/true)[0];
  auto norm = grad.reshape({grad.size(0), -1}).norm(2, /*dim=*/1);
  return (norm - 1.0).square().mean();
}

}  // namespace bitsweep::qgan
