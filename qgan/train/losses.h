// GAN objectives. Each takes discriminator logits and returns scalar losses.
#pragma once

#include <functional>

#include <torch/types.h>

#include "common/job_spec.h"

namespace bitsweep::qgan {

/// Discriminator loss from its logits on real and generated images. WGAN-GP's
/// gradient penalty is added separately (GradientPenalty).
torch::Tensor DiscriminatorLoss(LossKind kind, const torch::Tensor& real_logits, const torch::Tensor& fake_logits);

/// Generator loss from the discriminator's logits on generated images
/// (the non-saturating form for bce).
torch::Tensor GeneratorLoss(LossKind kind, const torch::Tensor& fake_logits);

/// WGAN-GP: mean (||grad_x D(x_hat)||_2 - 1)^2 at random interpolates x_hat of
/// real and fake images. `eps` is uniform [B, 1, 1, 1].
torch::Tensor GradientPenalty(const std::function<torch::Tensor(const torch::Tensor&)>& discriminator,
                              const torch::Tensor& real, const torch::Tensor& fake, const torch::Tensor& eps);

}  // namespace bitsweep::qgan
