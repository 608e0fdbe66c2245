#include <cstdio>

#include "cli/commands.h"
#include "qgan/export/sample.h"

namespace bitsweep::cli {

int RunSampleCommand(const SampleCommandOptions& options) {
  auto summary = qgan::SampleFromPackedGenerator(options.model_path, options.count, options.seed, options.out_png);
  if (!summary.ok()) {
    std::fprintf(stderr, "error: %s\n", summary.status().message().c_str());
    return summary.status().code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailure;
  }
  std::printf("wrote %s: %d samples from a %s %d-bit generator (%lld bytes packed, %lld bytes fp32)\n",
              options.out_png.c_str(), options.count, summary->method.c_str(), summary->bits,
              static_cast<long long>(summary->packed_bytes), static_cast<long long>(summary->full_precision_bytes));
  return kExitOk;
}

}  // namespace bitsweep::cli
