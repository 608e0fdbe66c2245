#include "qgan/train/train_step.h"

#include <cmath>

#include <torch/torch.h>

#include "qgan/train/losses.h"

namespace bitsweep::qgan {
namespace {

// Turns off gradients of a module's parameters for a scope. The generator
// step back-propagates through the discriminator only to reach the
// generator; computing D's weight gradients there (as the DCGAN reference
// does, then discards them) costs a sizeable part of the step for nothing.
class FrozenParameters {
 public:
  explicit FrozenParameters(torch::nn::Module& module) : params_(module.parameters()) {
    for (auto& p : params_) p.requires_grad_(false);
  }
  ~FrozenParameters() {
    for (auto& p : params_) p.requires_grad_(true);
  }

 private:
  std::vector<torch::Tensor> params_;
};

}  // namespace

bool StepLosses::finite() const { return std::isfinite(d_loss) && std::isfinite(g_loss); }

StepLosses TrainIteration(const JobSpec& spec, Gan& gan, const Dataset& data, RandomStream& random,
                          const torch::Device& device) {
  Generator& g = gan.generator;
  Discriminator& d = gan.discriminator;
  const int64_t batch = std::min<int64_t>(spec.train.batch_size, data.size());
  torch::Tensor fake;
  torch::Tensor d_loss;
  for (int critic = 0; critic < spec.train.n_critic; ++critic) {
    torch::Tensor real = data.Batch(random.NextBatchIndices()).to(device);
    torch::Tensor z = random.Normal({batch, spec.model.nz}).to(device);
    // The last critic step's fakes are reused for the generator step (as in
    // the DCGAN reference), so only they need a graph.
    if (critic + 1 == spec.train.n_critic) {
      fake = g->forward(z);
    } else {
      torch::NoGradGuard no_grad;
      fake = g->forward(z);
    }
    d_loss = DiscriminatorLoss(spec.loss, d->forward(real), d->forward(fake.detach()));
    if (spec.loss == LossKind::kWganGp) {
      torch::Tensor eps = random.Uniform({batch, 1, 1, 1}).to(device);
      auto critic_fn = [&d](const torch::Tensor& x) { return d->forward(x); };
      d_loss = d_loss + spec.train.gp_weight * GradientPenalty(critic_fn, real, fake, eps);
    }
    gan.opt_d->zero_grad();
    d_loss.backward();
    gan.opt_d->step();
  }
  torch::Tensor g_loss;
  {
    FrozenParameters frozen(*d);
    g_loss = GeneratorLoss(spec.loss, d->forward(fake));
    gan.opt_g->zero_grad();
    g_loss.backward();
  }
  gan.opt_g->step();
  return {d_loss.item<double>(), g_loss.item<double>()};
}

}  // namespace bitsweep::qgan
