// The runtime against the definition of the network (a direct transposed
// convolution in double precision): every width, mixed widths, float
// layers, both architectures, every instruction set built in, any thread
// count and chunking.
#include "edge/generator.h"

#include <gtest/gtest.h>

#include <cmath>

#include "edge/latents.h"
#include "tests/edge/synthetic_bsg.h"

namespace bitsweep::edge {
namespace {

using testing::MakeSynthetic;
using testing::ReferenceForward;
using testing::WriteBsg;

// Float32 sums against double ones, through up to five layers and tanh.
constexpr float kTolerance = 1e-4f;

std::unique_ptr<Generator> Load(const std::string& bsg, const Options& options = {}) {
  std::unique_ptr<Generator> g;
  Status s = Generator::LoadFromMemory(reinterpret_cast<const uint8_t*>(bsg.data()), bsg.size(), "test.bsg", options, &g);
  EXPECT_TRUE(s.ok()) << s.message();
  return g;
}

std::vector<float> Images(Generator& g, const std::vector<float>& z, int n) {
  std::vector<float> images(static_cast<size_t>(n * g.image_floats()));
  Status s = g.Generate(z.data(), n, images.data());
  EXPECT_TRUE(s.ok()) << s.message();
  return images;
}

float MaxDiff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  float worst = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) worst = std::max(worst, std::fabs(a[i] - b[i]));
  return worst;
}

std::vector<float> Latents(int n, int nz, uint64_t seed = 7) {
  std::vector<float> z(static_cast<size_t>(n) * nz);
  DrawLatents(seed, n, nz, z.data());
  return z;
}

Arch Dcgan32() { return {32, 1, 8, 8}; }
Arch Dcgan64() { return {64, 3, 6, 4}; }

TEST(GeneratorTest, EveryWidthAndFloatMatchTheReferenceOnBothArchitectures) {
  for (const Arch& arch : {Dcgan32(), Dcgan64()}) {
    const int layers = static_cast<int>(GeneratorLayers(arch).size());
    for (int bits : {1, 2, 3, 4, 5, 6, 7, 8, 32}) {
      SCOPED_TRACE("dcgan" + std::to_string(arch.image_size) + " bits " + std::to_string(bits));
      auto synthetic = MakeSynthetic(arch, std::vector<int>(static_cast<size_t>(layers), bits), 10 + bits);
      auto g = Load(WriteBsg(synthetic));
      ASSERT_NE(g, nullptr);
      const auto z = Latents(3, arch.nz);
      const auto images = Images(*g, z, 3);
      const auto expected = ReferenceForward(synthetic, z, 3);
      EXPECT_LE(MaxDiff(images, expected), kTolerance);
      // Not a constant picture: the check above would be empty otherwise.
      const auto [lo, hi] = std::minmax_element(images.begin(), images.end());
      EXPECT_GT(*hi - *lo, 0.5f);
      for (const auto& [name, held] : g->info().layer_bits) EXPECT_EQ(held, bits) << name;
    }
  }
}

TEST(GeneratorTest, EachLayerKeepsItsOwnWidth) {
  // Mixed widths, float layers between packed ones, non-uniform levels (log
  // and tanh quantizers have them), odd sizes: partial column blocks, and
  // more input channels than one tile holds (nz 130, conv2 160 inputs).
  const Arch arch{32, 3, 130, 40};
  auto synthetic = MakeSynthetic(arch, {3, 32, 1, 7}, 5, /*affine=*/false);
  auto g = Load(WriteBsg(synthetic));
  ASSERT_NE(g, nullptr);
  const std::vector<std::pair<std::string, int>> want = {{"conv1", 3}, {"conv2", 32}, {"conv3", 1}, {"conv4", 7}};
  EXPECT_EQ(g->info().layer_bits, want);
  const auto z = Latents(2, arch.nz);
  EXPECT_LE(MaxDiff(Images(*g, z, 2), ReferenceForward(synthetic, z, 2)), kTolerance);
}

TEST(GeneratorTest, EveryInstructionSetMatchesTheReference) {
  const Arch arch{64, 3, 10, 6};
  auto synthetic = MakeSynthetic(arch, {2, 5, 32, 8, 1}, 3);
  const std::string bsg = WriteBsg(synthetic);
  const auto z = Latents(5, arch.nz);
  const auto expected = ReferenceForward(synthetic, z, 5);
  for (Isa isa : AvailableIsas()) {
    for (WeightMode mode : {WeightMode::kPacked, WeightMode::kFloat32}) {
      SCOPED_TRACE(std::string(IsaName(isa)) + (mode == WeightMode::kPacked ? " packed" : " float32"));
      Options options;
      options.isa = isa;
      options.weights = mode;
      auto g = Load(bsg, options);
      ASSERT_NE(g, nullptr);
      EXPECT_STREQ(g->info().kernels, IsaName(isa));
      EXPECT_LE(MaxDiff(Images(*g, z, 5), expected), kTolerance);
    }
  }
}

TEST(GeneratorTest, ThreadsBatchesAndChunksChangeNothing) {
  const Arch arch{32, 1, 12, 10};
  const std::string bsg = WriteBsg(MakeSynthetic(arch, {4, 4, 4, 4}, 9));
  const int n = 9;
  const auto z = Latents(n, arch.nz);
  auto one = Load(bsg);
  ASSERT_NE(one, nullptr);
  const auto expected = Images(*one, z, n);
  // Every output is one sum in one fixed order whoever computes it: equal
  // bit for bit, not just close.
  for (int threads : {2, 3}) {
    Options options;
    options.threads = threads;
    auto g = Load(bsg, options);
    EXPECT_EQ(Images(*g, z, n), expected) << threads << " threads";
  }
  Options tiny;
  tiny.activation_budget_bytes = 1;  // one image per chunk
  auto chunked = Load(bsg, tiny);
  EXPECT_EQ(Images(*chunked, z, n), expected);
  // Image 4 alone is image 4 of the batch.
  const std::vector<float> z4(z.begin() + 4 * arch.nz, z.begin() + 5 * arch.nz);
  const auto alone = Images(*one, z4, 1);
  const auto size = static_cast<size_t>(one->image_floats());
  EXPECT_EQ(alone, std::vector<float>(expected.begin() + 4 * size, expected.begin() + 5 * size));
}

TEST(GeneratorTest, PackedWeightsAreHeldAtTheirWidth) {
  const Arch arch{32, 1, 100, 32};  // the demo's generator
  const int64_t weights = 100 * 128 * 16 + 128 * 64 * 16 + 64 * 32 * 16 + 32 * 1 * 16;
  for (int bits : {1, 2, 4}) {
    auto g = Load(WriteBsg(MakeSynthetic(arch, {bits, bits, bits, bits}, 1)));
    Options as_float;
    as_float.weights = WeightMode::kFloat32;
    auto f = Load(WriteBsg(MakeSynthetic(arch, {bits, bits, bits, bits}, 1)), as_float);
    // b bits per weight, plus level tables, folded batch norm and padding.
    EXPECT_LE(g->weight_bytes(), weights * bits / 8 + 8 * 1024) << bits;
    EXPECT_GE(g->weight_bytes(), weights * bits / 8) << bits;
    EXPECT_GE(f->weight_bytes(), weights * 4) << bits;
  }
}

TEST(GeneratorTest, RefusesEmptyBatchesAndNullBuffers) {
  auto g = Load(WriteBsg(MakeSynthetic(Dcgan32(), {2, 2, 2, 2}, 1)));
  std::vector<float> z(8), images(1024);
  EXPECT_EQ(g->Generate(z.data(), 0, images.data()).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(g->Generate(nullptr, 1, images.data()).code(), StatusCode::kInvalidArgument);
  Options bad;
  bad.threads = 0;
  std::unique_ptr<Generator> none;
  const std::string bsg = WriteBsg(MakeSynthetic(Dcgan32(), {2, 2, 2, 2}, 1));
  EXPECT_EQ(Generator::LoadFromMemory(reinterpret_cast<const uint8_t*>(bsg.data()), bsg.size(), "x", bad, &none).code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace bitsweep::edge
