#include "qgan/models/dcgan.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace bitsweep::qgan {
namespace {

TEST(DcganTest, ShapesForEverySizeAndChannelCount) {
  for (int size : {32, 64}) {
    for (int channels : {1, 3}) {
      DcganOptions o;
      o.image_size = size;
      o.channels = channels;
      o.nz = 10;
      o.ngf = 4;
      o.ndf = 4;
      Generator g(o);
      Discriminator d(o);
      auto images = g->forward(torch::randn({3, 10}));
      EXPECT_EQ(images.sizes(), (std::vector<int64_t>{3, channels, size, size}));
      EXPECT_LE(images.abs().max().item<float>(), 1.0f);
      EXPECT_EQ(d->forward(images).sizes(), (std::vector<int64_t>{3}));
      EXPECT_EQ(g->layer_names().size(), size == 64 ? 5u : 4u);
    }
  }
}

TEST(DcganTest, SubmodulesHaveStableNames) {
  DcganOptions o;
  Generator g(o);
  Discriminator d(o);
  auto g_params = g->named_parameters();
  for (const char* key : {"conv1.weight", "conv4.weight", "bn1.weight", "bn3.bias"}) {
    EXPECT_TRUE(g_params.contains(key)) << key;
  }
  auto d_params = d->named_parameters();
  for (const char* key : {"conv1.weight", "conv4.weight", "bn2.weight", "bn3.weight"}) {
    EXPECT_TRUE(d_params.contains(key)) << key;
  }
  EXPECT_FALSE(d_params.contains("bn1.weight"));  // DCGAN: no norm on D's input layer

  o.d_batchnorm = false;  // WGAN-GP
  Discriminator plain(o);
  EXPECT_FALSE(plain->named_parameters().contains("bn2.weight"));
}

TEST(DcganTest, QuantizedForwardEqualsForwardWithQuantizedWeights) {
  DcganOptions o;
  o.nz = 8;
  o.ngf = 8;
  torch::manual_seed(1);
  Generator g(o);
  InitDcganWeights(*g);
  QuantSpec spec;
  spec.method = QuantMethod::kEm;
  spec.bits = 2;
  g->quantizers().Configure(g->layer_names(), spec);
  g->eval();
  torch::NoGradGuard no_grad;
  auto z = torch::randn({4, 8});
  auto quantized_out = g->forward(z);

  // A full-precision copy whose weights are the quantized values.
  Generator copy(o);
  auto src = g->named_parameters();
  auto dst = copy->named_parameters();
  for (auto& p : dst) p.value().copy_(src[p.key()]);
  for (size_t i = 0; i < g->layer_names().size(); ++i) {
    dst[g->layer_names()[i] + ".weight"].copy_(g->quantizers().Quantize(i, g->layer_weights()[i]).values);
  }
  copy->eval();
  EXPECT_TRUE(torch::equal(copy->forward(z), quantized_out));
  // And quantization changed the output: 2 bits is not full precision.
  g->quantizers().Configure(g->layer_names(), QuantSpec{});
  auto full_out = g->forward(z);
  EXPECT_GT((full_out - quantized_out).norm().item<float>(), 0.05f * full_out.norm().item<float>());
}

TEST(DcganTest, FullPrecisionBytesCountsParametersAndRunningStats) {
  DcganOptions o;
  o.nz = 2;
  o.ngf = 1;
  o.channels = 1;
  Generator g(o);
  // conv1 2x4x4x4, conv2 4x2x4x4, conv3 2x1x4x4, conv4 1x1x4x4; bn over 4, 2, 1
  // channels with weight, bias, running mean and running var.
  int64_t weights = 2 * 4 * 16 + 4 * 2 * 16 + 2 * 1 * 16 + 1 * 1 * 16;
  int64_t bn = 4 * (4 + 2 + 1);
  EXPECT_EQ(FullPrecisionBytes(*g), 4 * (weights + bn));
}

}  // namespace
}  // namespace bitsweep::qgan
