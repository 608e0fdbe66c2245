#include "common/layer_widths.h"

#include <gtest/gtest.h>

namespace bitsweep {
namespace {

using nlohmann::json;

JobSpec Spec(const json& quant_g, const std::string& arch = "dcgan32") {
  json j = {{"model", {{"arch", arch}, {"nz", 100}, {"ngf", 32}, {"ndf", 32}}},
            {"dataset", {{"image_size", arch == "dcgan64" ? 64 : 32}}},
            {"quant", {{"g", quant_g}}}};
  auto spec = JobSpec::FromJson(j);
  EXPECT_TRUE(spec.ok()) << spec.status().ToString();
  return spec.value();
}

TEST(NetworkLayoutTest, GeneratorAndDiscriminatorLayersFollowDcgan) {
  DcganShape shape;
  shape.ngf = 32;
  shape.ndf = 16;
  const NetworkLayout g = GeneratorLayout(shape);
  ASSERT_EQ(g.names(), (std::vector<std::string>{"conv1", "conv2", "conv3", "conv4"}));
  // nz -> 4 ngf -> 2 ngf -> ngf -> channels, 4x4 kernels.
  const int64_t nz = shape.nz, f = shape.ngf;
  EXPECT_EQ(g.layers[0].weights(), nz * 4 * f * 16);
  EXPECT_EQ(g.layers[1].weights(), 4 * f * 2 * f * 16);
  EXPECT_EQ(g.layers[2].weights(), 2 * f * f * 16);
  EXPECT_EQ(g.layers[3].weights(), f * 1 * 16);
  EXPECT_EQ(g.BatchNormValues(), 4 * (4 * f + 2 * f + f));
  EXPECT_EQ(g.IndexOf("conv3"), 2);
  EXPECT_EQ(g.IndexOf("bn1"), -1);

  const NetworkLayout d = DiscriminatorLayout(shape);
  EXPECT_EQ(d.names(), g.names());
  EXPECT_EQ(d.layers[0].in_channels, 1);
  EXPECT_EQ(d.layers[3].out_channels, 1);
  EXPECT_FALSE(d.layers[0].batch_norm);
  EXPECT_TRUE(d.layers[1].batch_norm);
  shape.d_batchnorm = false;
  EXPECT_EQ(DiscriminatorLayout(shape).BatchNormValues(), 0);

  shape.image_size = 64;
  EXPECT_EQ(GeneratorLayout(shape).layers.size(), 5u);
  EXPECT_EQ(LayerNamesOf("dcgan64").back(), "conv5");
  EXPECT_EQ(DatasetChannels("cifar10"), 3);
  EXPECT_EQ(DatasetChannels("fashion-mnist"), 1);
}

TEST(NetworkLayoutTest, PackedWeightBytesAreTheLevelTableAndTheBitPackedIndices) {
  EXPECT_EQ(PackedWeightBytes(512, 32), 2048);
  EXPECT_EQ(PackedWeightBytes(512, 1), 2 * 4 + 64);
  EXPECT_EQ(PackedWeightBytes(512, 3), 8 * 4 + 192);
  EXPECT_EQ(PackedWeightBytes(5, 3), 8 * 4 + 2);  // 15 bits round up to 2 bytes
}

TEST(LayerWidthsTest, MeanBitsAndTextFollowTheLayers) {
  const JobSpec uniform = Spec({{"method", "em"}, {"bits", 2}});
  auto widths = GeneratorWidths(uniform);
  EXPECT_EQ(WidthsText(widths), "2,2,2,2");
  EXPECT_DOUBLE_EQ(MeanBits(widths), 2.0);

  const JobSpec mixed = Spec({{"method", "em"}, {"bits", 2}, {"layers", {{"conv3", {{"bits", 4}}}, {"conv4", {{"bits", 8}}}}}});
  widths = GeneratorWidths(mixed);
  EXPECT_EQ(WidthsText(widths), "2,2,4,8");
  double bits = 0, weights = 0;
  for (const auto& w : widths) {
    bits += static_cast<double>(w.weights) * w.quant.bits;
    weights += static_cast<double>(w.weights);
  }
  EXPECT_DOUBLE_EQ(MeanBits(widths), bits / weights);
  EXPECT_GT(MeanBits(widths), 2.0);
  EXPECT_LT(MeanBits(widths), 4.0);

  const JobSpec kept = Spec({{"method", "minmax"}, {"bits", 3}, {"keep_first_last_fp", true}});
  EXPECT_EQ(WidthsText(GeneratorWidths(kept)), "32,3,3,32");
  EXPECT_EQ(WidthsText(DiscriminatorWidths(kept)), "32,32,32,32");
}

TEST(LayerWidthsTest, PackedPayloadIsTheSumOfTheLayersAndTheBatchNorms) {
  const JobSpec uniform = Spec({{"method", "em"}, {"bits", 2}});
  const JobSpec mixed = Spec({{"method", "em"}, {"bits", 2}, {"layers", {{"conv3", {{"bits", 8}}}}}});
  int64_t sum = GeneratorLayout(ShapeOf(uniform)).BatchNormValues() * 4;
  for (const auto& w : GeneratorWidths(uniform)) sum += w.packed_bytes;
  EXPECT_EQ(PackedPayloadBytes(uniform), sum);
  const int64_t conv3 = GeneratorLayout(ShapeOf(uniform)).layers[2].weights();
  EXPECT_EQ(PackedPayloadBytes(mixed) - PackedPayloadBytes(uniform),
            PackedWeightBytes(conv3, 8) - PackedWeightBytes(conv3, 2));
  EXPECT_EQ(PackedPayloadBytes(GeneratorLayout(ShapeOf(uniform)), {2, 2, 8, 2}), PackedPayloadBytes(mixed));
}

TEST(LayerWidthsTest, TheSummaryOfACanonicalSpecMatchesTheParsedOne) {
  const std::vector<json> quants = {
      {{"method", "em"}, {"bits", 2}},
      {{"method", "minmax"}, {"bits", 3}, {"keep_first_last_fp", true}},
      {{"method", "none"}, {"layers", {{"conv2", {{"method", "log"}, {"bits", 4}}}}}},
      {{"method", "tanh"}, {"bits", 1}, {"layers", {{"conv1", {{"bits", 32}}}, {"conv4", {{"bits", 8}}}}}}};
  for (const auto& q : quants) {
    for (const std::string arch : {"dcgan32", "dcgan64"}) {
      const JobSpec spec = Spec(q, arch);
      const WidthsSummary g = SummarizeWidths(spec.ToJson(), "g");
      EXPECT_EQ(g.text, WidthsText(GeneratorWidths(spec))) << q.dump();
      EXPECT_DOUBLE_EQ(g.mean_bits, MeanBits(GeneratorWidths(spec)));
      const WidthsSummary d = SummarizeWidths(spec.ToJson(), "d");
      EXPECT_EQ(d.text, WidthsText(DiscriminatorWidths(spec)));
    }
  }
}

}  // namespace
}  // namespace bitsweep
