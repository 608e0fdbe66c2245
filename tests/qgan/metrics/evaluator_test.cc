#include <filesystem>

#include <gtest/gtest.h>
#include <torch/script.h>
#include <torch/torch.h>

#include "qgan/metrics/classifier_evaluator.h"
#include "qgan/metrics/evaluator.h"
#include "qgan/metrics/npy.h"
#include "qgan/metrics/sample_quality.h"
#include "tests/qgan/fake_inception.h"
#include "tests/test_util.h"

namespace bitsweep::qgan {
namespace {

using bitsweep::testing::TempDir;
using bitsweep::testing::WriteFile;

torch::Tensor Projection() { return torch::linspace(-1, 1, 3 * 8).reshape({3, 8}); }

Result<std::unique_ptr<Evaluator>> LoadInception(const std::string& path) {
  EvaluatorSpec spec;
  spec.kind = "inception";
  spec.path = path;
  return LoadEvaluator(spec, torch::kCPU);
}

TEST(InceptionEvaluatorTest, LoadsATorchScriptFileAndCallsItLikeStyleGan) {
  TempDir dir;
  testing::WriteFakeInception(dir.File("inception.pt"), Projection());
  auto evaluator = LoadInception(dir.File("inception.pt"));
  ASSERT_TRUE(evaluator.ok()) << evaluator.status().ToString();
  EXPECT_EQ((*evaluator)->name(), "inception");
  EXPECT_EQ((*evaluator)->hash().size(), 16u);

  // Grey images are repeated to three channels; -1 maps to 0 and +1 to 255.
  auto grey = torch::full({4, 1, 16, 16}, 1.0f);
  auto out = (*evaluator)->Evaluate(grey, true);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->features.sizes(), (std::vector<int64_t>{4, 8}));
  EXPECT_EQ(out->probabilities.sizes(), (std::vector<int64_t>{4, 8}));
  EXPECT_TRUE(torch::allclose(out->features[0], Projection().sum(0), 1e-5, 1e-5));
  EXPECT_NEAR(out->probabilities.sum(1)[0].item<float>(), 1.0f, 1e-5f);
}

TEST(InceptionEvaluatorTest, Uint8ConversionMatchesTheReferenceTools) {
  auto x = torch::tensor({-1.0f, -0.5f, 0.0f, 0.999f, 1.0f, 2.0f});
  auto q = ToInceptionUint8(x);
  // x * 127.5 + 128, clamped, truncated: -1 -> 0.5 -> 0; 0 -> 128; 1 -> 255.5 -> 255.
  std::vector<int64_t> expected{0, 64, 128, 255, 255, 255};
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(q[static_cast<int64_t>(i)].item<int64_t>(), expected[i]);
}

TEST(InceptionEvaluatorTest, BadFilesAndInterfacesAreReported) {
  TempDir dir;
  auto missing = LoadInception(dir.File("missing.pt"));
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("missing.pt does not exist"), std::string::npos);

  WriteFile(dir.File("garbage.pt"), "this is not a zip archive");
  auto garbage = LoadInception(dir.File("garbage.pt"));
  EXPECT_EQ(garbage.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(garbage.status().message().find("not a loadable TorchScript file"), std::string::npos);

  // A module with the wrong signature fails at the call, with the file named.
  torch::jit::Module wrong("Wrong");
  wrong.define(R"(
    def forward(self, img):
        return img
  )");
  wrong.save(dir.File("wrong.pt"));
  auto loaded = LoadInception(dir.File("wrong.pt"));
  ASSERT_TRUE(loaded.ok());
  auto out = (*loaded)->Evaluate(torch::zeros({2, 3, 8, 8}), false);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("wrong.pt"), std::string::npos);
}

TEST(NpyTest, RoundTripsFloat32AndFloat64) {
  TempDir dir;
  auto f32 = torch::randn({7, 3});
  ASSERT_TRUE(WriteNpy(dir.File("a.npy"), f32).ok());
  auto back = ReadNpyMatrix(dir.File("a.npy"));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(torch::equal(back->to(torch::kFloat32), f32));
  auto f64 = torch::randn({5}, torch::kFloat64);
  ASSERT_TRUE(WriteNpy(dir.File("b.npy"), f64).ok());
  auto vec = ReadNpyMatrix(dir.File("b.npy"));
  ASSERT_TRUE(vec.ok());
  EXPECT_EQ(vec->sizes(), (std::vector<int64_t>{5, 1}));
  EXPECT_TRUE(torch::equal(vec->reshape({5}), f64));
}

TEST(NpyTest, MalformedFilesGetClearErrors) {
  TempDir dir;
  ASSERT_TRUE(WriteNpy(dir.File("good.npy"), torch::randn({10, 4})).ok());
  const std::string good = testing::ReadFile(dir.File("good.npy"));
  auto expect_error = [&](const std::string& bytes, const std::string& reason) {
    WriteFile(dir.File("bad.npy"), bytes);
    auto r = ReadNpyMatrix(dir.File("bad.npy"));
    ASSERT_FALSE(r.ok()) << reason;
    EXPECT_NE(r.status().message().find("bad.npy"), std::string::npos);
    EXPECT_NE(r.status().message().find(reason), std::string::npos) << r.status().message();
  };
  expect_error("PK\x03\x04 a zip file", "bad magic");
  expect_error(good.substr(0, good.size() - 8), "truncated: data has");
  expect_error(good.substr(0, 30), "truncated header");
  std::string int_dtype = good;
  int_dtype.replace(int_dtype.find("<f4"), 3, "<i4");
  expect_error(int_dtype, "dtype '<i4' is not supported");
  std::string big_endian = good;
  big_endian.replace(big_endian.find("<f4"), 3, ">f4");
  expect_error(big_endian, "dtype '>f4'");
  std::string fortran = good;
  fortran.replace(fortran.find("False"), 5, "True ");
  expect_error(fortran, "Fortran-order");
  std::string cube = good;
  cube.replace(cube.find("(10, 4)"), 7, "(1,2,2)");
  expect_error(cube, "expected a matrix");
  EXPECT_EQ(ReadNpyMatrix(dir.File("nope.npy")).status().code(), StatusCode::kNotFound);
}

TEST(MetricsCommandTest, FidIsAndKidFromNpyFiles) {
  TempDir dir;
  torch::manual_seed(9);
  auto real = torch::randn({400, 8});
  ASSERT_TRUE(WriteNpy(dir.File("real.npy"), real).ok());
  ASSERT_TRUE(WriteNpy(dir.File("fake.npy"), (real * 1.5 + 1).to(torch::kFloat64)).ok());
  ASSERT_TRUE(WriteNpy(dir.File("probs.npy"), torch::full({100, 4}, 0.25)).ok());
  std::string bin = BITSWEEP_BINARY;
  std::string out;

  ASSERT_EQ(testing::RunCommand(bin + " metrics fid --real " + dir.File("real.npy") + " --fake " + dir.File("real.npy"), &out), 0) << out;
  EXPECT_NEAR(nlohmann::json::parse(out)["fid"].get<double>(), 0.0, 1e-6);
  ASSERT_EQ(testing::RunCommand(bin + " metrics fid --real " + dir.File("real.npy") + " --fake " + dir.File("fake.npy"), &out), 0) << out;
  double fid = nlohmann::json::parse(out)["fid"];
  double expected = FrechetDistance(ComputeStats(real), ComputeStats(real * 1.5 + 1));
  EXPECT_NEAR(fid, expected, 1e-6 * expected);

  ASSERT_EQ(testing::RunCommand(bin + " metrics is --probs " + dir.File("probs.npy"), &out), 0) << out;
  EXPECT_NEAR(nlohmann::json::parse(out)["is"].get<double>(), 1.0, 1e-9);
  ASSERT_EQ(testing::RunCommand(bin + " metrics kid --real " + dir.File("real.npy") + " --fake " + dir.File("fake.npy"), &out), 0) << out;
  EXPECT_GT(nlohmann::json::parse(out)["kid"].get<double>(), 0.0);

  WriteFile(dir.File("broken.npy"), "\x93NUMPY\x01");
  EXPECT_EQ(testing::RunCommand(bin + " metrics fid --real " + dir.File("broken.npy") + " --fake " + dir.File("real.npy"), &out), 2);
  EXPECT_NE(out.find("broken.npy"), std::string::npos) << out;
}

TEST(ReferenceStatsTest, CachedPerEvaluatorHash) {
  TempDir dir;
  testing::WriteFakeInception(dir.File("a.pt"), Projection());
  auto evaluator = LoadInception(dir.File("a.pt"));
  ASSERT_TRUE(evaluator.ok());
  DatasetSpec data;
  data.split = "test";
  data.limit = 300;
  auto first = LoadOrComputeReference(data, **evaluator, dir.File("cache"));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_FALSE(first->from_cache);
  EXPECT_EQ(first->features.size(0), 300);
  auto second = LoadOrComputeReference(data, **evaluator, dir.File("cache"));
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->from_cache);
  EXPECT_TRUE(torch::equal(first->features, second->features));

  // Another evaluator file (even with the same name and path) gets its own entry.
  testing::WriteFakeInception(dir.File("a.pt"), torch::ones({3, 8}));
  auto changed = LoadInception(dir.File("a.pt"));
  ASSERT_TRUE(changed.ok());
  EXPECT_NE((*changed)->hash(), (*evaluator)->hash());
  auto third = LoadOrComputeReference(data, **changed, dir.File("cache"));
  ASSERT_TRUE(third.ok());
  EXPECT_FALSE(third->from_cache);
  EXPECT_NE(third->cache_path, first->cache_path);
  EXPECT_FALSE(torch::equal(third->features, first->features));
}

}  // namespace
}  // namespace bitsweep::qgan
