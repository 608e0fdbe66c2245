// Per-layer widths through the science core on real Fashion-MNIST: a spec
// that gives each layer its own width trains (from scratch, warm-started and
// resumed), exports and samples with exactly the widths it names, and
// post-training quantization honours them too.
#include <filesystem>

#include <gtest/gtest.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "common/layer_widths.h"
#include "edge/npy.h"
#include "qgan/export/packed_generator.h"
#include "qgan/train/gan.h"
#include "qgan/train/trainer.h"
#include "tests/test_util.h"

namespace bitsweep::qgan {
namespace {

using bitsweep::testing::ReadFile;
using bitsweep::testing::TempDir;
using bitsweep::testing::TinyJobJson;

JobSpec Spec(const nlohmann::json& j) {
  auto spec = JobSpec::FromJson(j);
  EXPECT_TRUE(spec.ok()) << spec.status().ToString();
  return spec.value();
}

// G: conv1 at 8 bits, conv2 and conv3 at the network's em 2 bits, conv4
// min-max 4 bits; D: conv2 alone quantized (em 3 bits).
nlohmann::json PerLayerJob(int64_t iterations) {
  nlohmann::json j = TinyJobJson(iterations, 512);
  j["quant"]["g"] = {{"method", "em"},
                     {"bits", 2},
                     {"layers", {{"conv1", {{"bits", 8}}}, {"conv4", {{"method", "minmax"}, {"bits", 4}}}}}};
  j["quant"]["d"] = {{"method", "none"}, {"layers", {{"conv2", {{"method", "em"}, {"bits", 3}}}}}};
  return j;
}

const std::vector<int> kGeneratorBits = {8, 2, 2, 4};

// The generator a checkpoint holds, quantized as `spec` says, in eval mode:
// the one the run evaluated.
Generator Evaluated(const JobSpec& spec, const std::string& checkpoint) {
  Gan gan = BuildGan(spec, 1, torch::kCPU);
  auto state = LoadCheckpoint(checkpoint, CheckpointCompatibilityKey(spec), gan, torch::kCPU);
  EXPECT_TRUE(state.ok()) << state.status().ToString();
  gan.generator->eval();
  return gan.generator;
}

// Checks the packed file at `path` holds every convolution at `bits`, with
// a payload of exactly the layers' bytes.
void ExpectExactPackedFile(const std::string& path, const JobSpec& spec, const std::vector<int>& bits) {
  auto loaded = ReadPackedGenerator(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  const NetworkLayout layout = GeneratorLayout(ShapeOf(spec));
  int64_t tensor_bytes = 0;
  for (const auto& t : loaded->info.header["tensors"]) {
    const std::string name = t["name"];
    tensor_bytes += t["bytes"].get<int64_t>();
    const int layer = layout.IndexOf(name.substr(0, name.find('.')));
    if (layer < 0 || name != layout.layers[static_cast<size_t>(layer)].name + ".weight") continue;
    const int want = bits[static_cast<size_t>(layer)];
    SCOPED_TRACE(name);
    EXPECT_EQ(t["encoding"], want == 32 ? "float32" : "packed");
    if (want != 32) {
      EXPECT_EQ(t["bits"], want);
    }
    EXPECT_EQ(t["bytes"].get<int64_t>(), PackedWeightBytes(layout.layers[static_cast<size_t>(layer)].weights(), want));
  }
  const int64_t payload = loaded->info.header["payload_bytes"].get<int64_t>();
  EXPECT_EQ(payload, tensor_bytes);
  EXPECT_EQ(payload, PackedPayloadBytes(layout, bits));
  const std::string file = ReadFile(path);
  uint32_t header = 0;
  for (int i = 0; i < 4; ++i) header |= uint32_t{static_cast<uint8_t>(file[8 + i])} << (8 * i);
  EXPECT_EQ(static_cast<int64_t>(file.size()), 12 + int64_t{header} + payload);
}

TEST(PerLayerWidthsTest, TrainsExportsAndSamplesWithExactlyTheWidthsItNames) {
  TempDir dir;
  const JobSpec spec = Spec(PerLayerJob(6));
  TrainOptions options;
  options.out_dir = dir.File("run");
  auto report = RunTraining(spec, options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  const auto& r = report->result;

  // The per-layer table shows each layer at its own width, in G and in D.
  ASSERT_EQ(r["quantization"]["g"].size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(r["quantization"]["g"][i]["bits"], kGeneratorBits[i]) << i;
    EXPECT_EQ(r["quantization"]["g"][i]["method"], i == 3 ? "minmax" : "em") << i;
    EXPECT_LE(r["quantization"]["g"][i]["levels_used"].get<int>(), 1 << kGeneratorBits[i]);
    EXPECT_EQ(r["model_bytes"]["generator_layers"][i]["bits"], kGeneratorBits[i]);
  }
  ASSERT_EQ(r["quantization"]["d"].size(), 1u);
  EXPECT_EQ(r["quantization"]["d"][0]["layer"], "conv2");
  EXPECT_EQ(r["quantization"]["d"][0]["bits"], 3);

  // The packed file: every layer at its width, its bytes exactly the sum of
  // the layers' (what the coordinator computes without LibTorch).
  ExpectExactPackedFile(dir.File("run/generator.bsg"), spec, kGeneratorBits);
  EXPECT_EQ(r["model_bytes"]["generator_payload"].get<int64_t>(), PackedPayloadBytes(spec));
  auto packed = ReadPackedGenerator(dir.File("run/generator.bsg"));
  ASSERT_TRUE(packed.ok());
  EXPECT_EQ(packed->info.quant.layers, spec.quant_g.layers);

  // `bitsweep sample` from the file reproduces the generator the run
  // evaluated, on the latents it drew.
  std::string out;
  ASSERT_EQ(testing::RunCommand(std::string(BITSWEEP_BINARY) + " sample --model " + dir.File("run/generator.bsg") +
                                    " -n 6 --seed 4 -o " + dir.File("grid.png") + " --latents-out " +
                                    dir.File("z.npy") + " --images-out " + dir.File("x.npy"),
                                &out),
            0)
      << out;
  edge::NpyArray z, images;
  ASSERT_TRUE(edge::ReadNpy(dir.File("z.npy"), &z).ok());
  ASSERT_TRUE(edge::ReadNpy(dir.File("x.npy"), &images).ok());
  Generator evaluated = Evaluated(spec, dir.File("run/checkpoint.pt"));
  torch::NoGradGuard no_grad;
  const auto latents = torch::from_blob(z.values.data(), {6, spec.model.nz}, torch::kFloat32).clone();
  const auto expected = evaluated->forward(latents).contiguous();
  const auto sampled = torch::from_blob(images.values.data(), expected.sizes(), torch::kFloat32);
  EXPECT_LT((sampled - expected).abs().max().item<double>(), 1e-5);
  // The widths matter: the same weights at the network's 2 bits everywhere
  // give other images.
  QuantSpec uniform = spec.quant_g;
  uniform.layers.clear();
  evaluated->quantizers().Configure(evaluated->layer_names(), uniform);
  evaluated->quantizers().FitToConvergence(evaluated->layer_weights());
  EXPECT_GT((evaluated->forward(latents) - expected).abs().max().item<double>(), 1e-3);
}

TEST(PerLayerWidthsTest, ResumesItsOwnCheckpointAndRefusesOneOfOtherWidths) {
  TempDir straight, interrupted;
  const JobSpec spec = Spec(PerLayerJob(10));
  TrainOptions options;
  options.out_dir = straight.path();
  ASSERT_TRUE(RunTraining(spec, options).ok());

  std::atomic<bool> cancel{false};
  TrainOptions first;
  first.out_dir = interrupted.path();
  first.cancel = &cancel;
  first.on_progress = [&](const TrainProgress& p) {
    if (p.step == 4) cancel = true;
  };
  ASSERT_EQ(RunTraining(spec, first).status().code(), StatusCode::kCancelled);

  // Other widths are another spec: its checkpoint is not this one's.
  nlohmann::json other = PerLayerJob(10);
  other["quant"]["g"]["layers"]["conv1"]["bits"] = 6;
  TrainOptions again;
  again.out_dir = interrupted.path();
  auto refused = RunTraining(Spec(other), again);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);

  auto resumed = RunTraining(spec, again);
  ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
  EXPECT_EQ(resumed->result["resumed_from_step"], 4);
  // The per-layer quantizers trained on from their saved fits: the resumed
  // run ends where the uninterrupted one did (weights; an output can differ
  // more, where a rounding difference moves a weight across a level).
  Generator a = Evaluated(spec, straight.File("checkpoint.pt"));
  Generator b = Evaluated(spec, interrupted.File("checkpoint.pt"));
  torch::NoGradGuard no_grad;
  auto pa = a->named_parameters();
  auto pb = b->named_parameters();
  for (const auto& p : pa) EXPECT_LE((p.value() - pb[p.key()]).abs().max().item<double>(), 1e-6) << p.key();
  for (size_t i = 0; i < a->layer_names().size(); ++i) {
    EXPECT_EQ(a->quantizers().LayerSpec(i), b->quantizers().LayerSpec(i)) << i;
  }
}

TEST(PerLayerWidthsTest, WarmStartAndPostTrainingQuantizationHonourTheWidths) {
  TempDir dir;
  nlohmann::json fp = TinyJobJson(8, 512);
  fp["quant"]["g"] = {{"method", "none"}, {"bits", 32}};
  TrainOptions base;
  base.out_dir = dir.File("baseline");
  ASSERT_TRUE(RunTraining(Spec(fp), base).ok());
  const std::string checkpoint = dir.File("baseline/checkpoint.pt");

  nlohmann::json warm = PerLayerJob(2);
  warm["train"]["init_from_file"] = checkpoint;
  TrainOptions options;
  options.out_dir = dir.File("warm");
  auto fine_tuned = RunTraining(Spec(warm), options);
  ASSERT_TRUE(fine_tuned.ok()) << fine_tuned.status().ToString();
  EXPECT_EQ(fine_tuned->result["init_from"]["file"], checkpoint);
  ExpectExactPackedFile(dir.File("warm/generator.bsg"), Spec(warm), kGeneratorBits);

  // Post-training: one layer alone quantized (how a layer's sensitivity is
  // measured), with the output-distortion proxy.
  auto ptq = [&](const nlohmann::json& quant_g, const std::string& name) {
    nlohmann::json j = TinyJobJson(1, 512);
    j["task"] = "ptq";
    j["quant"]["g"] = quant_g;
    j["train"]["init_from_file"] = checkpoint;
    j["ptq"] = {{"bn_batches", 0}, {"distortion_samples", 64}};
    TrainOptions o;
    o.out_dir = dir.File(name);
    auto report = RunTraining(Spec(j), o);
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    double distortion = -1.0;
    for (const auto& m : report->result["metrics"]) {
      if (m["metric"] == "distortion") {
        distortion = m["value"].get<double>();
        EXPECT_EQ(m["n_samples"], 64);
      }
    }
    return std::make_pair(report.value(), distortion);
  };
  const auto [conv2_at_1, distortion_1] =
      ptq({{"method", "none"}, {"layers", {{"conv2", {{"method", "em"}, {"bits", 1}}}}}}, "conv2-1");
  const auto [conv2_at_8, distortion_8] =
      ptq({{"method", "none"}, {"layers", {{"conv2", {{"method", "em"}, {"bits", 8}}}}}}, "conv2-8");
  const auto [full, distortion_fp] = ptq({{"method", "none"}}, "fp");
  ASSERT_EQ(conv2_at_1.result["quantization"]["g"].size(), 1u);
  EXPECT_EQ(conv2_at_1.result["quantization"]["g"][0]["layer"], "conv2");
  ExpectExactPackedFile(dir.File("conv2-1/generator.bsg"), Spec(fp), {32, 1, 32, 32});
  // Nothing quantized and batch norm kept: no distortion at all; one layer
  // at 1 bit distorts far more than at 8.
  EXPECT_EQ(distortion_fp, 0.0);
  EXPECT_GT(distortion_8, 0.0);
  EXPECT_GT(distortion_1, 10 * distortion_8);

  // A quantized packed file is no starting point for post-training
  // quantization, per-layer widths or not.
  nlohmann::json again = TinyJobJson(1, 512);
  again["task"] = "ptq";
  again["train"]["init_from_file"] = dir.File("conv2-1/generator.bsg");
  TrainOptions o;
  o.out_dir = dir.File("again");
  auto refused = RunTraining(Spec(again), o);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("already quantized"), std::string::npos) << refused.status().message();
}

}  // namespace
}  // namespace bitsweep::qgan
