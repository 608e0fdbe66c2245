// Evaluators: networks that turn images into the features FID and KID
// compare and the class probabilities the Inception Score needs.
//
// Two kinds: "inception", the TF-ported Inception-v3 TorchScript file that
// StyleGAN2-ADA and clean-fid load (for CIFAR-10, CelebA and other RGB data),
// and "classifier", a small CNN trained on the data itself (for 28/32 px grey
// data such as Fashion-MNIST, where ImageNet features say little). Every
// result records the evaluator's name and the hash of its file.
#pragma once

#include <memory>
#include <string>

#include <torch/types.h>

#include "common/job_spec.h"
#include "common/status.h"

namespace bitsweep::qgan {

struct EvaluatorOutput {
  torch::Tensor features;       // float32 [N, d]
  torch::Tensor probabilities;  // float32 [N, K], undefined when not asked for
};

class Evaluator {
 public:
  virtual ~Evaluator() = default;

  /// `images`: float [N, C, H, W] in [-1, 1], on any device.
  virtual Result<EvaluatorOutput> Evaluate(const torch::Tensor& images, bool with_probabilities) = 0;

  /// "classifier" or "inception".
  virtual std::string name() const = 0;
  /// Hash of the evaluator file (16 hex digits): results and cached
  /// reference statistics are keyed by it.
  virtual std::string hash() const = 0;
};

/// Loads the evaluator `spec` names onto `device`.
Result<std::unique_ptr<Evaluator>> LoadEvaluator(const EvaluatorSpec& spec, const torch::Device& device);

/// Hash of a file's bytes (16 hex digits).
Result<std::string> HashFile(const std::string& path);

/// Converts images in [-1, 1] to uint8 as StyleGAN2-ADA and clean-fid feed
/// the Inception network: x * 127.5 + 128, clamped to [0, 255], truncated.
torch::Tensor ToInceptionUint8(const torch::Tensor& images);

}  // namespace bitsweep::qgan
