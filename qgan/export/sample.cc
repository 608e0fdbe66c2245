#include "qgan/export/sample.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "qgan/export/image_grid.h"
#include "qgan/export/packed_generator.h"

namespace bitsweep::qgan {

Result<SampleSummary> SampleFromPackedGenerator(const std::string& model_path, int count, uint64_t seed,
                                                const std::string& out_png) {
  if (count < 1 || count > 4096) return Status::InvalidArgument("-n: " + std::to_string(count) + " is outside 1..4096");
  try {
    BITSWEEP_ASSIGN_OR_RETURN(LoadedGenerator loaded, ReadPackedGenerator(model_path));
    torch::NoGradGuard no_grad;
    auto z = torch::randn({count, loaded.info.arch.nz}, at::make_generator<at::CPUGeneratorImpl>(seed));
    BITSWEEP_RETURN_IF_ERROR(WriteImageGrid(loaded.generator->forward(z), out_png));
    SampleSummary summary;
    summary.method = QuantMethodName(loaded.info.quant.method);
    summary.bits = loaded.info.quant.bits;
    summary.packed_bytes = loaded.info.packed_bytes;
    summary.full_precision_bytes = loaded.info.full_precision_bytes;
    return summary;
  } catch (const c10::Error& e) {
    return Status::Internal(model_path + ": LibTorch error while sampling: " + std::string(e.what_without_backtrace()));
  }
}

}  // namespace bitsweep::qgan
