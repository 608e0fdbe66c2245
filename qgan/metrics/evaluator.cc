#include "qgan/metrics/evaluator.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <torch/torch.h>

#include "common/hash.h"
#include "qgan/metrics/classifier_evaluator.h"
#include "qgan/metrics/inception_evaluator.h"

namespace bitsweep::qgan {

Result<std::string> HashFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(path + ": evaluator file not found");
  std::stringstream bytes;
  bytes << in.rdbuf();
  return Fnv1a64Hex(bytes.str());
}

torch::Tensor ToInceptionUint8(const torch::Tensor& images) {
  return (images.to(torch::kFloat32) * 127.5 + 128.0).clamp(0, 255).to(torch::kUInt8);
}

Result<std::unique_ptr<Evaluator>> LoadEvaluator(const EvaluatorSpec& spec, const torch::Device& device) {
  if (spec.path.empty()) return Status::InvalidArgument("eval.evaluator.path: missing (required to measure quality)");
  if (!std::filesystem::exists(spec.path)) {
    return Status::NotFound("eval.evaluator.path: " + spec.path + " does not exist" +
                            (spec.kind == "classifier" ? " (create it with `bitsweep evaluator train`)" : ""));
  }
  if (spec.kind == "inception") return LoadInceptionEvaluator(spec.path, device);
  return LoadClassifierEvaluator(spec.path, device);
}

}  // namespace bitsweep::qgan
