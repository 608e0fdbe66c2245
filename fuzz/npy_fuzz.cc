// Fuzzes the .npy reader: feature matrices come from other tools (pytorch-fid,
// clean-fid dumps) and from users, so a malformed or hostile file must give
// an error naming the file, never a crash, a hang or a huge allocation.
#include <cstddef>
#include <cstdint>
#include <string>

#include <torch/types.h>

#include "fuzz/fuzz_util.h"
#include "qgan/metrics/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using bitsweep::fuzz::Require;
  static const std::string path = bitsweep::fuzz::ScratchDir() + "/input.npy";
  bitsweep::fuzz::WriteFile(path, data, size);

  auto matrix = bitsweep::qgan::ReadNpyMatrix(path);
  if (!matrix.ok()) {
    const std::string& message = matrix.status().message();
    Require(bitsweep::fuzz::Mentions(message, path), "the error does not name the file: " + message);
    // A header may be 1 MiB long; the message quotes only a little of it.
    Require(message.size() <= path.size() + 300, "an error message of " + std::to_string(message.size()) + " bytes");
    return 0;
  }
  Require(matrix->dim() == 2 && matrix->scalar_type() == torch::kFloat64, "not a float64 matrix");
  Require(static_cast<size_t>(matrix->numel()) * 4 <= size, "more values than the file has bytes for");
  return 0;
}
