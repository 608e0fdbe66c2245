#include "qgan/export/sample.h"

#include <map>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "qgan/export/image_grid.h"
#include "qgan/export/packed_generator.h"
#include "qgan/metrics/npy.h"

namespace bitsweep::qgan {
namespace {

constexpr int kMostImages = 4096;
constexpr int kDefaultImages = 64;

// The latents to sample from: read from `options.latents_in`, or drawn
// with LibTorch's generator.
Result<torch::Tensor> Latents(const SampleOptions& options, int nz) {
  if (options.latents_in.empty()) {
    const int count = options.count == 0 ? kDefaultImages : options.count;
    return torch::randn({count, nz}, at::make_generator<at::CPUGeneratorImpl>(options.seed));
  }
  BITSWEEP_ASSIGN_OR_RETURN(torch::Tensor z, ReadNpyMatrix(options.latents_in));
  if (z.size(1) != nz || z.size(0) < 1 || z.size(0) > kMostImages) {
    return Status::InvalidArgument(options.latents_in + ": latents must be [N, " + std::to_string(nz) +
                                   "] with N in 1.." + std::to_string(kMostImages) + " for this generator, got [" +
                                   std::to_string(z.size(0)) + ", " + std::to_string(z.size(1)) + "]");
  }
  if (options.count != 0 && options.count != z.size(0)) {
    return Status::InvalidArgument("-n " + std::to_string(options.count) + " but " + options.latents_in + " holds " +
                                   std::to_string(z.size(0)) + " latent vectors");
  }
  return z.to(torch::kFloat32);
}

}  // namespace

Result<SampleSummary> SampleFromPackedGenerator(const std::string& model_path, const SampleOptions& options) {
  if (options.count < 0 || options.count > kMostImages) {
    return Status::InvalidArgument("-n: " + std::to_string(options.count) + " is outside 1.." +
                                   std::to_string(kMostImages));
  }
  try {
    BITSWEEP_ASSIGN_OR_RETURN(LoadedGenerator loaded, ReadPackedGenerator(model_path));
    torch::NoGradGuard no_grad;
    BITSWEEP_ASSIGN_OR_RETURN(torch::Tensor z, Latents(options, loaded.info.arch.nz));
    torch::Tensor images = loaded.generator->forward(z);
    if (!options.latents_out.empty()) BITSWEEP_RETURN_IF_ERROR(WriteNpy(options.latents_out, z));
    if (!options.images_out.empty()) BITSWEEP_RETURN_IF_ERROR(WriteNpy(options.images_out, images.contiguous()));
    if (!options.out_png.empty()) BITSWEEP_RETURN_IF_ERROR(WriteImageGrid(images, options.out_png));
    SampleSummary summary;
    summary.method = QuantMethodName(loaded.info.quant.method);
    summary.bits = loaded.info.quant.bits;
    // Each layer's width from the file's header (quant.layers overrides the
    // network's method and bits) and its bytes from the tensor table.
    std::map<std::string, nlohmann::json> tensors;
    for (const auto& t : loaded.info.header.value("tensors", nlohmann::json::array())) {
      tensors[t.value("name", "")] = t;
    }
    const auto& names = loaded.generator->layer_names();
    for (size_t i = 0; i < names.size(); ++i) {
      LayerWidth layer;
      layer.name = names[i];
      layer.quant = loaded.info.quant.ForLayer(names, i);
      if (!layer.quant.quantized()) layer.quant.bits = 32;
      const nlohmann::json& t = tensors[names[i] + ".weight"];
      if (t.is_object()) {
        layer.packed_bytes = t.value("bytes", int64_t{0});
        layer.weights = 1;
        for (int64_t d : t.value("shape", std::vector<int64_t>{})) layer.weights *= d;
      }
      if (!summary.layers.empty() && layer.quant != summary.layers.front().quant) summary.per_layer = true;
      summary.layers.push_back(std::move(layer));
    }
    summary.packed_bytes = loaded.info.packed_bytes;
    summary.full_precision_bytes = loaded.info.full_precision_bytes;
    summary.count = static_cast<int>(z.size(0));
    return summary;
  } catch (const c10::Error& e) {
    return Status::Internal(model_path + ": LibTorch error while sampling: " + std::string(e.what_without_backtrace()));
  }
}

Result<SampleSummary> SampleFromPackedGenerator(const std::string& model_path, int count, uint64_t seed,
                                                const std::string& out_png) {
  if (count < 1) return Status::InvalidArgument("-n: " + std::to_string(count) + " is outside 1..4096");
  SampleOptions options;
  options.count = count;
  options.seed = seed;
  options.out_png = out_png;
  return SampleFromPackedGenerator(model_path, options);
}

}  // namespace bitsweep::qgan
