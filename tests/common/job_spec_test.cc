#include "common/job_spec.h"

#include <filesystem>

#include <gtest/gtest.h>

#include "common/hash.h"
#include "tests/test_util.h"

namespace bitsweep {
namespace {

using nlohmann::json;

json ExampleJob() {
  return json::parse(R"({
    "task": "qgan",
    "dataset": { "name": "fashion-mnist", "root": "/usr/share/datasets/fashion-mnist", "image_size": 32 },
    "model": { "arch": "dcgan32", "nz": 100, "ngf": 32, "ndf": 32 },
    "loss": "bce",
    "quant": {
      "g": { "method": "em", "bits": 2, "keep_first_last_fp": false },
      "d": { "method": "none", "bits": 32 }
    },
    "train": {
      "iterations": 1500, "batch_size": 64, "lr_g": 0.0002, "lr_d": 0.0002,
      "betas": [0.5, 0.999], "n_critic": 1, "seed": 1, "checkpoint_every": 500
    },
    "eval": {
      "evaluator": { "kind": "classifier", "path": "evaluators/fmnist-classifier.pt" },
      "metrics": ["fid", "is", "kid"], "num_samples": 10000, "every": 500
    },
    "runtime": { "device": "auto", "threads": 0 }
  })");
}

std::string ErrorOf(const json& j) {
  auto spec = JobSpec::FromJson(j);
  EXPECT_FALSE(spec.ok()) << "spec was accepted: " << j.dump();
  EXPECT_EQ(spec.status().code(), StatusCode::kInvalidArgument);
  return spec.status().message();
}

TEST(JobSpecTest, ParsesTheExampleSpec) {
  auto spec = JobSpec::FromJson(ExampleJob());
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->quant_g.method, QuantMethod::kEm);
  EXPECT_EQ(spec->quant_g.bits, 2);
  EXPECT_EQ(spec->quant_d.method, QuantMethod::kNone);
  EXPECT_EQ(spec->model.ngf, 32);
  EXPECT_EQ(spec->train.iterations, 1500);
  EXPECT_DOUBLE_EQ(spec->train.betas[1], 0.999);
  EXPECT_EQ(spec->train.checkpoint_every, 500);
  EXPECT_TRUE(spec->eval.enabled);
  EXPECT_EQ(spec->eval.num_samples, 10000);
  EXPECT_EQ(spec->runtime.device, "auto");
}

TEST(JobSpecTest, FillsDefaultsForOmittedSections) {
  auto spec = JobSpec::FromJson(json::object());
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->dataset.root, kDefaultFashionMnistRoot);
  EXPECT_EQ(spec->quant_g.bits, 32);
  EXPECT_FALSE(spec->eval.enabled);
  EXPECT_EQ(spec->loss, LossKind::kBce);
}

TEST(JobSpecTest, NamesTheFieldOfAnOutOfRangeBitWidth) {
  json j = ExampleJob();
  j["quant"]["g"]["bits"] = 0;
  EXPECT_EQ(ErrorOf(j), "quant.g.bits: 0 is outside 1..8 or 32");
  j["quant"]["g"]["bits"] = 9;
  EXPECT_EQ(ErrorOf(j), "quant.g.bits: 9 is outside 1..8 or 32");
}

TEST(JobSpecTest, RejectsBitsThatDoNotFitTheMethod) {
  json j = ExampleJob();
  j["quant"]["d"] = {{"method", "none"}, {"bits", 4}};
  EXPECT_NE(ErrorOf(j).find("quant.d.bits: 4 needs a quantization method"), std::string::npos);
  j["quant"]["d"] = {{"method", "binary"}, {"bits", 2}};
  EXPECT_NE(ErrorOf(j).find("quant.d.bits: 2 is not allowed with method binary"), std::string::npos);
  j["quant"]["d"] = {{"method", "minmax"}};
  EXPECT_EQ(ErrorOf(j), "quant.d.bits: missing (required with method minmax)");
  j["quant"]["d"] = {{"method", "em"}, {"bits", 32}};
  EXPECT_NE(ErrorOf(j).find("quant.d.bits: 32 means full precision"), std::string::npos);
}

TEST(JobSpecTest, RejectsUnknownFieldsAndValues) {
  json j = ExampleJob();
  j["quant"]["g"]["bitz"] = 2;
  EXPECT_NE(ErrorOf(j).find("quant.g.bitz: unknown field"), std::string::npos);
  j = ExampleJob();
  j["quant"]["g"]["method"] = "kmeans";
  EXPECT_NE(ErrorOf(j).find("quant.g.method: \"kmeans\" is not one of: none, minmax, log, tanh, em, binary"),
            std::string::npos);
  j = ExampleJob();
  j["loss"] = "wgan";
  EXPECT_NE(ErrorOf(j).find("loss: \"wgan\" is not one of"), std::string::npos);
  j = ExampleJob();
  j["runtime"]["device"] = "gpu";
  EXPECT_NE(ErrorOf(j).find("runtime.device: \"gpu\""), std::string::npos);
  j = ExampleJob();
  j["eval"]["metrics"] = {"fid", "lpips"};
  EXPECT_NE(ErrorOf(j).find("eval.metrics[1]: \"lpips\""), std::string::npos);
}

TEST(JobSpecTest, RejectsWrongTypesAndRanges) {
  json j = ExampleJob();
  j["train"]["iterations"] = "many";
  EXPECT_EQ(ErrorOf(j), "train.iterations: expected an integer, got \"many\"");
  j = ExampleJob();
  j["train"]["batch_size"] = 0;
  EXPECT_EQ(ErrorOf(j), "train.batch_size: 0 is outside 1..65536");
  j = ExampleJob();
  j["train"]["betas"] = {0.5};
  EXPECT_NE(ErrorOf(j).find("train.betas: expected an array of 2 numbers"), std::string::npos);
  j = ExampleJob();
  j["train"]["lr_g"] = -1;
  EXPECT_NE(ErrorOf(j).find("train.lr_g: -1 is outside"), std::string::npos);
  j = ExampleJob();
  j["quant"]["g"] = 2;
  EXPECT_EQ(ErrorOf(j), "quant.g: expected an object, got 2");
  EXPECT_EQ(ErrorOf(json::array()), "spec: expected an object, got []");
}

TEST(JobSpecTest, ChecksThatArchitectureMatchesImageSize) {
  json j = ExampleJob();
  j["dataset"]["image_size"] = 64;
  EXPECT_EQ(ErrorOf(j), "model: arch dcgan32 needs dataset.image_size 32, got 64");
  j["model"]["arch"] = "dcgan64";
  EXPECT_TRUE(JobSpec::FromJson(j).ok());
  j["dataset"]["image_size"] = 48;
  EXPECT_EQ(ErrorOf(j), "dataset.image_size: 48 is not supported (use 32 or 64)");
}

TEST(JobSpecTest, OtherDatasetsNeedARoot) {
  json j = ExampleJob();
  j["dataset"] = {{"name", "cifar10"}, {"image_size", 32}};
  EXPECT_EQ(ErrorOf(j), "dataset.root: missing (required for dataset cifar10)");
}

TEST(JobSpecTest, CanonicalJsonRoundTrips) {
  auto spec = JobSpec::FromJson(ExampleJob());
  ASSERT_TRUE(spec.ok());
  auto again = JobSpec::FromJson(spec->ToJson());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(spec->ToJson(), again->ToJson());
}

TEST(JobSpecTest, EvalNoiseSeedIsOptionalValidatedAndWrittenOnlyWhenSet) {
  auto spec = JobSpec::FromJson(ExampleJob());
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->eval.noise_seed, kDefaultEvalNoiseSeed);
  // Specs that do not set it keep their canonical form, and so their hash.
  EXPECT_FALSE(spec->ToJson()["eval"].contains("noise_seed"));
  // It is not derived from the training seed: two seeds, one set of latents.
  json j = ExampleJob();
  j["train"]["seed"] = 2;
  EXPECT_EQ(JobSpec::FromJson(j)->eval.noise_seed, kDefaultEvalNoiseSeed);

  j["eval"]["noise_seed"] = 42;
  auto set = JobSpec::FromJson(j);
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ(set->eval.noise_seed, 42u);
  EXPECT_EQ(set->ToJson()["eval"]["noise_seed"], 42);
  auto again = JobSpec::FromJson(set->ToJson());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->eval.noise_seed, 42u);
  // The default written out explicitly is the same spec as leaving it out.
  j["eval"]["noise_seed"] = kDefaultEvalNoiseSeed;
  j["train"]["seed"] = 1;
  EXPECT_EQ(JobSpec::FromJson(j)->ToJson(), spec->ToJson());

  j["eval"]["noise_seed"] = -1;
  EXPECT_EQ(ErrorOf(j), "eval.noise_seed: -1 is outside 0..9223372036854775807");
  j["eval"]["noise_seed"] = "fixed";
  EXPECT_EQ(ErrorOf(j), "eval.noise_seed: expected an integer, got \"fixed\"");
}

// The canonical JSON (and so the hash every cache and checkpoint key is
// made of) of specs written before per-layer widths existed. The values
// were computed by the code before per-layer widths were added.
TEST(JobSpecTest, SpecsWithoutPerLayerWidthsKeepTheirCanonicalHash) {
  const std::vector<std::pair<json, std::string>> cases = {
      {ExampleJob(), "c9e8b8a556f6b1ef"},
      {json::object(), "f29569ae7308b6c6"},
      {json::parse(R"({"task":"ptq","train":{"init_from_job":3},
                       "quant":{"g":{"method":"minmax","bits":4,"keep_first_last_fp":true}}})"),
       "20c847a25fed4fd8"},
      {json::parse(R"({"task":"synthetic","synthetic":{"noise":0.01},
                       "quant":{"g":{"method":"tanh","bits":3},"d":{"method":"em","bits":2}}})"),
       "783825f5fc83c8c9"},
  };
  for (const auto& [j, hash] : cases) {
    auto spec = JobSpec::FromJson(j);
    ASSERT_TRUE(spec.ok()) << spec.status().ToString();
    EXPECT_FALSE(spec->ToJson()["quant"]["g"].contains("layers"));
    EXPECT_EQ(Fnv1a64Hex(spec->ToJson().dump()), hash) << j.dump();
  }
}

TEST(JobSpecTest, PerLayerWidthsOverrideTheNetworksAndAreCanonical) {
  json j = ExampleJob();
  j["quant"]["g"]["layers"] = {{"conv3", {{"bits", 4}}}, {"conv4", {{"bits", 32}}}, {"conv1", {{"method", "minmax"}}}};
  auto spec = JobSpec::FromJson(j);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  const std::vector<std::string> names = {"conv1", "conv2", "conv3", "conv4"};
  // bits alone keep the network's method (32 alone: full precision); a
  // method alone keeps the network's bits.
  EXPECT_EQ(spec->quant_g.ForLayer(names, 0), (LayerQuant{QuantMethod::kMinMax, 2}));
  EXPECT_EQ(spec->quant_g.ForLayer(names, 1), (LayerQuant{QuantMethod::kEm, 2}));
  EXPECT_EQ(spec->quant_g.ForLayer(names, 2), (LayerQuant{QuantMethod::kEm, 4}));
  EXPECT_EQ(spec->quant_g.ForLayer(names, 3), (LayerQuant{QuantMethod::kNone, 32}));
  // The canonical form names method and bits of every entry, and reads back
  // as the same spec.
  const json canonical = spec->ToJson();
  EXPECT_EQ(canonical["quant"]["g"]["layers"]["conv3"], (json{{"method", "em"}, {"bits", 4}}));
  EXPECT_EQ(canonical["quant"]["g"]["layers"]["conv4"], (json{{"method", "none"}, {"bits", 32}}));
  auto again = JobSpec::FromJson(canonical);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->ToJson(), canonical);
  EXPECT_NE(Fnv1a64Hex(canonical.dump()), "c9e8b8a556f6b1ef");

  // A full-precision network with one layer quantized: how a layer's
  // sensitivity is measured alone.
  json alone = ExampleJob();
  alone["quant"]["g"] = {{"method", "none"}, {"layers", {{"conv2", {{"method", "em"}, {"bits", 1}}}}}};
  auto one = JobSpec::FromJson(alone);
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_FALSE(one->quant_g.quantized());
  EXPECT_TRUE(one->quant_g.AnyQuantized(names));
  EXPECT_EQ(one->quant_g.ForLayer(names, 0), LayerQuant{});
  EXPECT_EQ(one->quant_g.ForLayer(names, 1), (LayerQuant{QuantMethod::kEm, 1}));

  // keep_first_last_fp still keeps the edges when no entry names them.
  json kept = ExampleJob();
  kept["quant"]["g"]["keep_first_last_fp"] = true;
  kept["quant"]["g"]["layers"] = {{"conv2", {{"bits", 8}}}};
  auto k = JobSpec::FromJson(kept);
  ASSERT_TRUE(k.ok()) << k.status().ToString();
  EXPECT_EQ(k->quant_g.ForLayer(names, 0), LayerQuant{});
  EXPECT_EQ(k->quant_g.ForLayer(names, 1), (LayerQuant{QuantMethod::kEm, 8}));
  EXPECT_EQ(k->quant_g.ForLayer(names, 2), (LayerQuant{QuantMethod::kEm, 2}));
  EXPECT_EQ(k->quant_g.ForLayer(names, 3), LayerQuant{});
}

TEST(JobSpecTest, BadPerLayerWidthsAreRefusedNamingTheField) {
  auto with_layers = [](const json& layers, const std::string& net = "g") {
    json j = ExampleJob();
    j["quant"][net]["layers"] = layers;
    return j;
  };
  EXPECT_EQ(ErrorOf(with_layers({{"conv9", {{"bits", 4}}}})),
            "quant.g.layers.conv9: not a layer of the dcgan32 generator (its layers: conv1, conv2, conv3, conv4)");
  EXPECT_EQ(ErrorOf(with_layers({{"bn1", {{"bits", 4}}}})),
            "quant.g.layers.bn1: not a layer of the dcgan32 generator (its layers: conv1, conv2, conv3, conv4)");
  EXPECT_EQ(ErrorOf(with_layers({{"conv5", {{"bits", 4}}}}, "d")),
            "quant.d.layers.conv5: not a layer of the dcgan32 discriminator (its layers: conv1, conv2, conv3, conv4)");
  EXPECT_EQ(ErrorOf(with_layers({{"conv3", {{"bits", 9}}}})), "quant.g.layers.conv3.bits: 9 is outside 1..8 or 32");
  EXPECT_EQ(ErrorOf(with_layers({{"conv3", {{"bits", 0}}}})), "quant.g.layers.conv3.bits: 0 is outside 1..8 or 32");
  EXPECT_EQ(ErrorOf(with_layers({{"conv3", {{"method", "em"}, {"bits", 32}}}})),
            "quant.g.layers.conv3.bits: 32 means full precision: use method none, or 1..8 bits with method em");
  EXPECT_EQ(ErrorOf(with_layers({{"conv3", {{"method", "binary"}, {"bits", 2}}}})),
            "quant.g.layers.conv3.bits: 2 is not allowed with method binary (1 bit only)");
  EXPECT_EQ(ErrorOf(with_layers({{"conv3", {{"method", "round"}}}})),
            "quant.g.layers.conv3.method: \"round\" is not one of: none, minmax, log, tanh, em, binary");
  EXPECT_EQ(ErrorOf(with_layers({{"conv3", json::object()}})),
            "quant.g.layers.conv3.bits: missing (give the layer's bits, its method, or both)");
  EXPECT_EQ(ErrorOf(with_layers({{"conv3", {{"bitz", 4}}}})),
            "quant.g.layers.conv3.bits: missing (give the layer's bits, its method, or both)");
  EXPECT_EQ(ErrorOf(with_layers({{"conv3", {{"bits", 4}, {"bitz", 4}}}})),
            "quant.g.layers.conv3.bitz: unknown field (known fields here: bits, method)");
  EXPECT_EQ(ErrorOf(with_layers({{"conv3", 4}})), "quant.g.layers.conv3: expected an object, got 4");
  EXPECT_EQ(ErrorOf(with_layers(json::array({4}))), "quant.g.layers: expected an object, got [4]");
  // Bits without a method, in a network whose method is none.
  EXPECT_EQ(ErrorOf(with_layers({{"conv3", {{"bits", 4}}}}, "d")),
            "quant.d.layers.conv3.method: missing (the network's method is none: give this layer's)");
  EXPECT_EQ(ErrorOf(with_layers({{"conv3", {{"method", "minmax"}}}}, "d")),
            "quant.d.layers.conv3.bits: missing (required with method minmax: the network is at full precision)");
  json kept = with_layers({{"conv4", {{"bits", 8}}}});
  kept["quant"]["g"]["keep_first_last_fp"] = true;
  EXPECT_EQ(ErrorOf(kept),
            "quant.g.layers.conv4: conflicts with keep_first_last_fp, which keeps conv4 at full precision (give one or "
            "the other)");
  // dcgan64 has a fifth layer; dcgan32 does not.
  json wide = with_layers({{"conv5", {{"bits", 8}}}});
  wide["model"]["arch"] = "dcgan64";
  wide["dataset"]["image_size"] = 64;
  EXPECT_TRUE(JobSpec::FromJson(wide).ok());
  // Post-training quantization quantizes G only, layer by layer too.
  json ptq = with_layers({{"conv2", {{"method", "em"}, {"bits", 2}}}}, "d");
  ptq["task"] = "ptq";
  ptq["train"]["init_from_job"] = 1;
  EXPECT_EQ(ErrorOf(ptq),
            "quant.d: task ptq quantizes the generator only (the discriminator is not used after training)");
}

TEST(JobSpecTest, PostTrainingDistortionAndSyntheticLayerFieldsAreWrittenOnlyWhenSet) {
  json ptq = ExampleJob();
  ptq["task"] = "ptq";
  ptq["train"]["init_from_job"] = 1;
  auto plain = JobSpec::FromJson(ptq);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_FALSE(plain->ToJson()["ptq"].contains("distortion_samples"));
  ptq["ptq"] = {{"distortion_samples", 256}};
  auto with = JobSpec::FromJson(ptq);
  ASSERT_TRUE(with.ok()) << with.status().ToString();
  EXPECT_EQ(with->ptq.distortion_samples, 256);
  EXPECT_EQ(with->ToJson()["ptq"]["distortion_samples"], 256);

  json synthetic = {{"task", "synthetic"},
                    {"synthetic", {{"layer_sensitivity_g", {{"conv4", 3.0}}}, {"layer_damage", "product"},
                                   {"distortion", true}}}};
  auto s = JobSpec::FromJson(synthetic);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_DOUBLE_EQ(s->synthetic.layer_sensitivity_g.at("conv4"), 3.0);
  EXPECT_EQ(s->ToJson()["synthetic"]["layer_damage"], "product");
  EXPECT_EQ(JobSpec::FromJson(s->ToJson())->ToJson(), s->ToJson());
  synthetic["synthetic"]["layer_sensitivity_g"] = {{"conv7", 1.0}};
  EXPECT_EQ(ErrorOf(synthetic), "synthetic.layer_sensitivity_g.conv7: not a layer of the dcgan32 generator");
}

TEST(JobSpecTest, FileErrorsNameTheFileAndResolveRelativePaths) {
  testing::TempDir dir;
  auto missing = JobSpec::FromFile(dir.File("nope.json"));
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("nope.json"), std::string::npos);

  testing::WriteFile(dir.File("broken.json"), "{ \"task\": ");
  auto broken = JobSpec::FromFile(dir.File("broken.json"));
  EXPECT_EQ(broken.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(broken.status().message().find("broken.json: not valid JSON"), std::string::npos);

  json j = ExampleJob();
  j["dataset"]["root"] = "data/fmnist";
  testing::WriteFile(dir.File("job.json"), j.dump());
  auto spec = JobSpec::FromFile(dir.File("job.json"));
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->dataset.root, (std::filesystem::path(dir.path()) / "data/fmnist").string());
  EXPECT_EQ(spec->eval.evaluator.path,
            (std::filesystem::path(dir.path()) / "evaluators/fmnist-classifier.pt").string());

  j["quant"]["g"]["bits"] = 0;
  testing::WriteFile(dir.File("bad.json"), j.dump());
  auto bad = JobSpec::FromFile(dir.File("bad.json"));
  EXPECT_NE(bad.status().message().find("bad.json: quant.g.bits: 0 is outside 1..8 or 32"), std::string::npos);
}

}  // namespace
}  // namespace bitsweep
