#include "qgan/metrics/inception_evaluator.h"

#include <torch/script.h>
#include <torch/torch.h>

namespace bitsweep::qgan {
namespace {

class InceptionEvaluator : public Evaluator {
 public:
  InceptionEvaluator(torch::jit::Module module, std::string path, std::string hash, torch::Device device)
      : module_(std::move(module)), path_(std::move(path)), hash_(std::move(hash)), device_(device) {}

  Result<EvaluatorOutput> Evaluate(const torch::Tensor& images, bool with_probabilities) override {
    if (images.dim() != 4 || (images.size(1) != 1 && images.size(1) != 3)) {
      return Status::InvalidArgument("inception evaluator needs [N, 1 or 3, H, W] images");
    }
    try {
      torch::NoGradGuard no_grad;
      torch::Tensor x = ToInceptionUint8(images.to(device_));
      if (x.size(1) == 1) x = x.repeat({1, 3, 1, 1});
      EvaluatorOutput out;
      out.features = Call(x, true);
      if (with_probabilities) out.probabilities = Call(x, false);
      if (out.features.dim() != 2 || out.features.size(0) != images.size(0)) {
        return Status::FailedPrecondition(path_ + ": forward(img, return_features=True) returned shape " +
                                          ShapeText(out.features) + ", expected [N, d]");
      }
      return out;
    } catch (const c10::Error& e) {
      return Status::FailedPrecondition(path_ + ": forward(img_uint8_NCHW, return_features) failed: " +
                                        e.what_without_backtrace());
    }
  }

  std::string name() const override { return "inception"; }
  std::string hash() const override { return hash_; }

 private:
  torch::Tensor Call(const torch::Tensor& x, bool return_features) {
    return module_.forward({x, return_features}).toTensor().to(torch::kCPU, torch::kFloat32);
  }
  static std::string ShapeText(const torch::Tensor& t) {
    std::string s = "[";
    for (int64_t d : t.sizes()) s += std::to_string(d) + ",";
    if (s.size() > 1) s.pop_back();
    return s + "]";
  }

  torch::jit::Module module_;
  std::string path_;
  std::string hash_;
  torch::Device device_;
};

}  // namespace

Result<std::unique_ptr<Evaluator>> LoadInceptionEvaluator(const std::string& path, const torch::Device& device) {
  BITSWEEP_ASSIGN_OR_RETURN(std::string hash, HashFile(path));
  try {
    torch::jit::Module module = torch::jit::load(path, device);
    module.eval();
    if (!module.find_method("forward")) return Status::InvalidArgument(path + ": TorchScript module has no forward()");
    return std::unique_ptr<Evaluator>(new InceptionEvaluator(std::move(module), path, hash, device));
  } catch (const c10::Error& e) {
    return Status::InvalidArgument(path + ": not a loadable TorchScript file: " + e.what_without_backtrace());
  }
}

}  // namespace bitsweep::qgan
