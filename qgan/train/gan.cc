#include "qgan/train/gan.h"

#include <cstdio>
#include <tuple>
#include <utility>

#include <torch/torch.h>

namespace bitsweep::qgan {
namespace {

std::unique_ptr<torch::optim::Adam> MakeAdam(std::vector<torch::Tensor> params, double lr,
                                             const std::array<double, 2>& betas) {
  return std::make_unique<torch::optim::Adam>(
      std::move(params), torch::optim::AdamOptions(lr).betas(std::make_tuple(betas[0], betas[1])));
}

// Each quantizer's fit, and whether it is current for the weights saved
// (see LayerQuantizers::FitIsCurrent; absent in older checkpoints: refit).
void WriteQuantStates(torch::serialize::OutputArchive& archive, const std::string& prefix,
                      const LayerQuantizers& quantizers, const std::vector<torch::Tensor>& weights) {
  auto states = quantizers.States();
  for (size_t i = 0; i < states.size(); ++i) {
    if (states[i].defined()) archive.write(prefix + std::to_string(i), states[i]);
    if (i < weights.size() && quantizers.FitIsCurrent(i, weights[i])) {
      archive.write(prefix + "current." + std::to_string(i), c10::IValue(true));
    }
  }
}

void ReadQuantStates(torch::serialize::InputArchive& archive, const std::string& prefix,
                     LayerQuantizers& quantizers, const std::vector<torch::Tensor>& weights) {
  std::vector<torch::Tensor> states(quantizers.size());
  for (size_t i = 0; i < states.size(); ++i) archive.try_read(prefix + std::to_string(i), states[i]);
  quantizers.LoadStates(states);
  for (size_t i = 0; i < states.size() && i < weights.size(); ++i) {
    c10::IValue current;
    if (archive.try_read(prefix + "current." + std::to_string(i), current) && current.isBool() && current.toBool()) {
      quantizers.MarkFitCurrent(i, weights[i]);
    }
  }
}

}  // namespace

Gan BuildGan(const JobSpec& spec, int channels, const torch::Device& device) {
  DcganOptions options;
  options.image_size = spec.dataset.image_size;
  options.channels = channels;
  options.nz = spec.model.nz;
  options.ngf = spec.model.ngf;
  options.ndf = spec.model.ndf;
  options.d_batchnorm = spec.loss != LossKind::kWganGp;

  // Initialise on the CPU from the seed so every device starts from the same
  // weights.
  torch::manual_seed(spec.train.seed);
  Gan gan;
  gan.generator = Generator(options);
  gan.discriminator = Discriminator(options);
  InitDcganWeights(*gan.generator);
  InitDcganWeights(*gan.discriminator);
  gan.generator->to(device);
  gan.discriminator->to(device);
  gan.generator->quantizers().Configure(gan.generator->layer_names(), spec.quant_g);
  gan.discriminator->quantizers().Configure(gan.discriminator->layer_names(), spec.quant_d);
  gan.opt_g = MakeAdam(gan.generator->parameters(), spec.train.lr_g, spec.train.betas);
  gan.opt_d = MakeAdam(gan.discriminator->parameters(), spec.train.lr_d, spec.train.betas);
  return gan;
}

Status SaveCheckpoint(const std::string& path, Gan& gan, const RunState& state) {
  try {
    torch::serialize::OutputArchive archive;
    torch::serialize::OutputArchive g, d, opt_g, opt_d;
    gan.generator->save(g);
    gan.discriminator->save(d);
    gan.opt_g->save(opt_g);
    gan.opt_d->save(opt_d);
    archive.write("generator", g);
    archive.write("discriminator", d);
    archive.write("opt_g", opt_g);
    archive.write("opt_d", opt_d);
    WriteQuantStates(archive, "quant_g.", gan.generator->quantizers(), gan.generator->layer_weights());
    WriteQuantStates(archive, "quant_d.", gan.discriminator->quantizers(), gan.discriminator->layer_weights());
    archive.write("step", c10::IValue(state.step));
    archive.write("compatibility_key", c10::IValue(state.compatibility_key));
    archive.write("train_seconds", c10::IValue(state.train_seconds));
    archive.write("metrics", c10::IValue(state.metrics.dump()));
    auto history = torch::zeros({static_cast<int64_t>(state.history.size()), 3}, torch::kFloat64);
    for (size_t i = 0; i < state.history.size(); ++i) {
      for (int j = 0; j < 3; ++j) history[static_cast<int64_t>(i)][j] = state.history[i][static_cast<size_t>(j)];
    }
    archive.write("history", history);
    archive.write("rng.generator", state.rng.generator);
    archive.write("rng.permutation", state.rng.permutation);
    archive.write("rng.cursor", c10::IValue(state.rng.cursor));
    std::string tmp = path + ".tmp";
    archive.save_to(tmp);
    if (std::rename(tmp.c_str(), path.c_str()) != 0) return Status::IoError(path + ": cannot rename " + tmp);
  } catch (const c10::Error& e) {
    return Status::IoError(path + ": cannot write checkpoint: " + e.what_without_backtrace());
  }
  return Status::Ok();
}

Status LoadInitialWeights(const std::string& path, Gan& gan, const torch::Device& device) {
  // Module::load replaces a tensor whose shape differs instead of refusing
  // it, so the shapes are compared here: a checkpoint of another model must
  // be an error, not a silently different network.
  auto shapes = [](torch::nn::Module& module) {
    std::vector<std::pair<std::string, std::vector<int64_t>>> out;
    for (const auto& p : module.named_parameters()) out.emplace_back(p.key(), p.value().sizes().vec());
    for (const auto& b : module.named_buffers()) out.emplace_back(b.key(), b.value().sizes().vec());
    return out;
  };
  const auto g_shapes = shapes(*gan.generator), d_shapes = shapes(*gan.discriminator);
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path, device);
    torch::serialize::InputArchive g, d;
    archive.read("generator", g);
    archive.read("discriminator", d);
    gan.generator->load(g);
    gan.discriminator->load(d);
    for (const auto& [net, expected, module] :
         {std::make_tuple("generator", &g_shapes, static_cast<torch::nn::Module*>(gan.generator.get())),
          std::make_tuple("discriminator", &d_shapes, static_cast<torch::nn::Module*>(gan.discriminator.get()))}) {
      const auto found = shapes(*module);
      for (size_t i = 0; i < found.size() && i < expected->size(); ++i) {
        if (found[i] != (*expected)[i]) {
          return Status::InvalidArgument(path + ": cannot start from this checkpoint: its " + net + "'s " +
                                         found[i].first + " has another shape than this job's model (a checkpoint "
                                         "of the same model and dataset is needed)");
        }
      }
    }
  } catch (const c10::Error& e) {
    return Status::InvalidArgument(path + ": cannot start from this checkpoint (a bitsweep checkpoint of the same "
                                          "model and dataset is needed): " +
                                   e.what_without_backtrace());
  }
  return Status::Ok();
}

Result<RunState> LoadCheckpoint(const std::string& path, const std::string& expected_key, Gan& gan,
                                const torch::Device& device) {
  RunState state;
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path, device);
    c10::IValue value;
    archive.read("compatibility_key", value);
    state.compatibility_key = value.toStringRef();
    if (state.compatibility_key != expected_key) {
      return Status::FailedPrecondition(path + ": checkpoint was written for a different job spec; "
                                        "use another output folder or remove the checkpoint");
    }
    torch::serialize::InputArchive g, d, opt_g, opt_d;
    archive.read("generator", g);
    archive.read("discriminator", d);
    archive.read("opt_g", opt_g);
    archive.read("opt_d", opt_d);
    gan.generator->load(g);
    gan.discriminator->load(d);
    gan.opt_g->load(opt_g);
    gan.opt_d->load(opt_d);
    ReadQuantStates(archive, "quant_g.", gan.generator->quantizers(), gan.generator->layer_weights());
    ReadQuantStates(archive, "quant_d.", gan.discriminator->quantizers(), gan.discriminator->layer_weights());
    archive.read("step", value);
    state.step = value.toInt();
    archive.read("train_seconds", value);
    state.train_seconds = value.toDouble();
    archive.read("metrics", value);
    state.metrics = nlohmann::json::parse(value.toStringRef());
    torch::Tensor history;
    archive.read("history", history);
    history = history.to(torch::kCPU);
    for (int64_t i = 0; i < history.size(0); ++i) {
      state.history.push_back(
          {history[i][0].item<double>(), history[i][1].item<double>(), history[i][2].item<double>()});
    }
    archive.read("rng.generator", state.rng.generator);
    archive.read("rng.permutation", state.rng.permutation);
    state.rng.generator = state.rng.generator.to(torch::kCPU);
    state.rng.permutation = state.rng.permutation.to(torch::kCPU);
    archive.read("rng.cursor", value);
    state.rng.cursor = value.toInt();
  } catch (const c10::Error& e) {
    return Status::Corruption(path + ": cannot read checkpoint: " + e.what_without_backtrace());
  }
  return state;
}

}  // namespace bitsweep::qgan
