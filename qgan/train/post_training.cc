#include "qgan/train/post_training.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "qgan/export/packed_generator.h"

namespace bitsweep::qgan {

Status LoadGeneratorFromPacked(const std::string& path, GeneratorImpl& generator) {
  BITSWEEP_ASSIGN_OR_RETURN(LoadedGenerator loaded, ReadPackedGenerator(path));
  if (loaded.info.quant.AnyQuantized(generator.layer_names())) {
    return Status::InvalidArgument(path + ": this generator is already quantized (" +
                                   QuantMethodName(loaded.info.quant.method) + ", " +
                                   std::to_string(loaded.info.quant.bits) + " bits" +
                                   (loaded.info.quant.layers.empty() ? "" : ", with per-layer widths") +
                                   "); post-training quantization needs a full-precision one");
  }
  const DcganOptions& want = generator.options();
  const DcganOptions& got = loaded.info.arch;
  if (got.image_size != want.image_size || got.channels != want.channels || got.nz != want.nz ||
      got.ngf != want.ngf) {
    return Status::InvalidArgument(path + ": its generator has another architecture than this job's model (image " +
                                   std::to_string(got.image_size) + ", nz " + std::to_string(got.nz) + ", ngf " +
                                   std::to_string(got.ngf) + ")");
  }
  torch::NoGradGuard no_grad;
  auto source_params = loaded.generator->named_parameters();
  auto source_buffers = loaded.generator->named_buffers();
  for (auto& p : generator.named_parameters()) p.value().copy_(source_params[p.key()]);
  for (auto& b : generator.named_buffers()) b.value().copy_(source_buffers[b.key()]);
  return Status::Ok();
}

void FitQuantizersToConvergence(GeneratorImpl& generator) {
  torch::NoGradGuard no_grad;
  generator.quantizers().FitToConvergence(generator.layer_weights());
}

void RecalibrateBatchNorm(GeneratorImpl& generator, int batches, int batch_size, uint64_t seed,
                          const torch::Device& device) {
  if (batches <= 0) return;
  torch::NoGradGuard no_grad;
  // The generator stays in eval mode (so its quantizers use their fit as it
  // is); only the batch norms measure, with momentum unset: the cumulative
  // average over every batch instead of an exponential one.
  generator.eval();
  std::vector<std::pair<torch::nn::BatchNorm2dImpl*, c10::optional<double>>> norms;
  for (const auto& module : generator.modules(/*include_self=*/false)) {
    if (auto* bn = module->as<torch::nn::BatchNorm2d>()) {
      norms.emplace_back(bn, bn->options.momentum());
      bn->reset_running_stats();
      bn->options.momentum(c10::nullopt);
      bn->train();
    }
  }
  auto random = at::make_generator<at::CPUGeneratorImpl>(seed);
  for (int i = 0; i < batches; ++i) {
    auto z = torch::randn({batch_size, generator.options().nz}, random);
    generator.forward(z.to(device));
  }
  for (auto& [bn, momentum] : norms) {
    bn->options.momentum(momentum);
    bn->eval();
  }
}

namespace {

// The generator's eval-mode output on the fixed latents, in batches of 256
// (the latents are drawn at once, so the batch size does not change them).
torch::Tensor OutputsOnLatents(GeneratorImpl& generator, int samples, uint64_t seed, const torch::Device& device) {
  torch::NoGradGuard no_grad;
  generator.eval();
  auto random = at::make_generator<at::CPUGeneratorImpl>(seed);
  const auto z = torch::randn({samples, generator.options().nz}, random);
  std::vector<torch::Tensor> out;
  for (int64_t at = 0; at < samples; at += 256) {
    out.push_back(generator.forward(z.slice(0, at, std::min<int64_t>(samples, at + 256)).to(device)).to(torch::kCPU));
  }
  return torch::cat(out);
}

}  // namespace

torch::Tensor OutputsAtFullPrecision(GeneratorImpl& generator, int samples, uint64_t seed,
                                     const torch::Device& device) {
  generator.quantizers().set_bypass(true);
  torch::Tensor out = OutputsOnLatents(generator, samples, seed, device);
  generator.quantizers().set_bypass(false);
  return out;
}

double OutputDistortion(GeneratorImpl& generator, const torch::Tensor& reference, uint64_t seed,
                        const torch::Device& device) {
  const torch::Tensor now = OutputsOnLatents(generator, static_cast<int>(reference.size(0)), seed, device);
  return (now - reference).pow(2).mean().item<double>();
}

}  // namespace bitsweep::qgan
