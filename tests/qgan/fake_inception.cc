#include "tests/qgan/fake_inception.h"

#include <torch/script.h>

namespace bitsweep::testing {

void WriteFakeInception(const std::string& path, const torch::Tensor& projection) {
  torch::jit::Module m("FakeInception");
  m.register_parameter("proj", projection, false);
  m.define(R"(
    def forward(self, img, return_features: bool):
        assert not img.is_floating_point()
        features = (img.float() / 255.0).mean(dim=[2, 3]) @ self.proj
        if return_features:
            return features
        return torch.softmax(features * 10.0, 1)
  )");
  m.save(path);
}

}  // namespace bitsweep::testing
