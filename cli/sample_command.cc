#include <cstdio>

#include "cli/commands.h"
#include "qgan/export/sample.h"

namespace bitsweep::cli {

int RunSampleCommand(const SampleCommandOptions& options) {
  qgan::SampleOptions sample;
  sample.count = options.count;
  sample.seed = options.seed;
  sample.out_png = options.out_png;
  sample.latents_in = options.latents_in;
  sample.latents_out = options.latents_out;
  sample.images_out = options.images_out;
  auto summary = qgan::SampleFromPackedGenerator(options.model_path, sample);
  if (!summary.ok()) {
    std::fprintf(stderr, "error: %s\n", summary.status().message().c_str());
    return summary.status().code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailure;
  }
  std::printf("wrote %s: %d samples from a %s %d-bit generator (%lld bytes packed, %lld bytes fp32)\n",
              options.out_png.c_str(), summary->count, summary->method.c_str(), summary->bits,
              static_cast<long long>(summary->packed_bytes), static_cast<long long>(summary->full_precision_bytes));
  if (!options.latents_out.empty()) std::printf("wrote %s: the latent vectors\n", options.latents_out.c_str());
  if (!options.images_out.empty()) std::printf("wrote %s: the images as floats\n", options.images_out.c_str());
  return kExitOk;
}

}  // namespace bitsweep::cli
