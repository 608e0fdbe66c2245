#include <cstdio>
#include <set>
#include <string>

#include "cli/commands.h"
#include "common/layer_widths.h"
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
  if (!summary->per_layer) {
    std::printf("wrote %s: %d samples from a %s %d-bit generator (%lld bytes packed, %lld bytes fp32)\n",
                options.out_png.c_str(), summary->count, summary->method.c_str(), summary->bits,
                static_cast<long long>(summary->packed_bytes), static_cast<long long>(summary->full_precision_bytes));
  } else {
    // Layers of their own widths: "em 2,2,4,8", what the results view shows,
    // then each layer with its bytes.
    std::set<std::string> methods;
    for (const auto& l : summary->layers) {
      if (l.quant.quantized()) methods.insert(QuantMethodName(l.quant.method));
    }
    std::string method;
    for (const auto& m : methods) method += (method.empty() ? "" : "+") + m;
    std::printf("wrote %s: %d samples from a generator with per-layer widths %s %s (%.2f bits per weight on average; "
                "%lld bytes packed, %lld bytes fp32)\n",
                options.out_png.c_str(), summary->count, method.empty() ? "none" : method.c_str(),
                WidthsText(summary->layers).c_str(), MeanBits(summary->layers),
                static_cast<long long>(summary->packed_bytes), static_cast<long long>(summary->full_precision_bytes));
    for (const auto& l : summary->layers) {
      const std::string width = !l.quant.quantized() ? "float32"
                                                     : std::string(QuantMethodName(l.quant.method)) + " " +
                                                           std::to_string(l.quant.bits) + "-bit";
      std::printf("  %-6s %-12s %9lld weights %9lld bytes\n", l.name.c_str(), width.c_str(),
                  static_cast<long long>(l.weights), static_cast<long long>(l.packed_bytes));
    }
  }
  if (!options.latents_out.empty()) std::printf("wrote %s: the latent vectors\n", options.latents_out.c_str());
  if (!options.images_out.empty()) std::printf("wrote %s: the images as floats\n", options.images_out.c_str());
  return kExitOk;
}

}  // namespace bitsweep::cli
