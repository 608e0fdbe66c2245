#include <gtest/gtest.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "qgan/data/dataset.h"
#include "qgan/metrics/classifier_evaluator.h"
#include "qgan/metrics/fid.h"
#include "qgan/metrics/inception_score.h"
#include "qgan/metrics/sample_quality.h"
#include "qgan/models/dcgan.h"
#include "tests/test_util.h"

namespace bitsweep::qgan {
namespace {

// One test, because training the classifier on the full Fashion-MNIST
// training set is the expensive part and every check below needs it.
TEST(ClassifierEvaluatorTest, ReachesNinetyPercentAndSeparatesRealFromGenerated) {
  testing::TempDir dir;
  ClassifierTrainOptions options;
  options.threads = 2;
  auto report = TrainClassifier(options, dir.File("clf.pt"));
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  std::printf("classifier test accuracy %.4f on %lld images in %.1f s\n", report->test_accuracy,
              static_cast<long long>(report->test_images), report->seconds);
  EXPECT_GE(report->test_accuracy, 0.90);
  EXPECT_EQ(report->test_images, 10000);

  EvaluatorSpec spec;
  spec.path = dir.File("clf.pt");
  auto evaluator = LoadEvaluator(spec, torch::kCPU);
  ASSERT_TRUE(evaluator.ok()) << evaluator.status().ToString();
  EXPECT_EQ((*evaluator)->hash(), report->hash);

  // Real test images against real training images...
  DatasetSpec train;
  train.limit = 10000;
  auto train_ref = LoadOrComputeReference(train, **evaluator, dir.File("cache"));
  ASSERT_TRUE(train_ref.ok()) << train_ref.status().ToString();
  DatasetSpec test;
  test.split = "test";
  auto test_ref = LoadOrComputeReference(test, **evaluator, dir.File("cache"));
  ASSERT_TRUE(test_ref.ok());
  double fid_real = FrechetDistance(test_ref->stats, train_ref->stats);

  // ...and an untrained generator's output against real training images.
  torch::manual_seed(3);
  DcganOptions g_options;
  Generator g(g_options);
  InitDcganWeights(*g);
  g->eval();
  torch::NoGradGuard no_grad;
  auto fake = (*evaluator)->Evaluate(g->forward(torch::randn({2000, g_options.nz})), true);
  ASSERT_TRUE(fake.ok());
  double fid_untrained = FrechetDistance(ComputeStats(fake->features), train_ref->stats);
  std::printf("FID real test vs real train %.3f, untrained generator vs real train %.3f\n", fid_real, fid_untrained);
  EXPECT_LT(fid_real * 20, fid_untrained);

  // The real test set is classified confidently and over all ten classes.
  auto real_probs = (*evaluator)->Evaluate(OpenDataset(test).value()->Batch(torch::arange(2000)), true);
  ASSERT_TRUE(real_probs.ok());
  EXPECT_GT(InceptionScore(real_probs->probabilities).mean, 5.0);
  EXPECT_LT(InceptionScore(fake->probabilities).mean, InceptionScore(real_probs->probabilities).mean);
}

// The pooling evaluation uses (row pairs, then column pairs) gives what
// max_pool2d gives, ties and zeros after a ReLU included; with gradients
// on it is max_pool2d.
TEST(ClassifierEvaluatorTest, EvaluationPoolingEqualsMaxPool) {
  auto random = at::make_generator<at::CPUGeneratorImpl>(5);
  auto x = torch::relu(torch::randn({7, 5, 16, 12}, random));  // about half of it exact zeros
  x.select(1, 2).fill_(0.25);                                   // a channel of ties
  x.index_put_({0, 0, 0, 0}, -3.0);                            // a negative value beside its block's others
  torch::Tensor fast;
  {
    torch::NoGradGuard no_grad;
    fast = MaxPool2x2(x);
  }
  EXPECT_TRUE(torch::equal(fast, torch::max_pool2d(x, 2)));
  EXPECT_EQ(fast.sizes(), torch::max_pool2d(x, 2).sizes());
  auto trained = x.clone().requires_grad_(true);
  auto y = MaxPool2x2(trained);
  y.sum().backward();
  // max_pool2d's gradient: one element per 2x2 block, even where the block ties.
  EXPECT_EQ(trained.grad().sum().item<double>(), static_cast<double>(y.numel()));
}

// Features and probabilities come from one pass through the classifier and
// are the values the two passes of earlier versions gave (max_pool2d,
// forward() again for the probabilities).
TEST(ClassifierEvaluatorTest, OnePassGivesTheFeaturesAndProbabilitiesOfTwo) {
  testing::TempDir dir;
  {
    // An untrained classifier in the evaluator's file format (training one
    // takes seconds and changes nothing here).
    torch::manual_seed(3);
    ClassifierNet untrained;
    torch::serialize::OutputArchive archive, weights;
    untrained->save(weights);
    archive.write("format", c10::IValue(std::string("bitsweep-classifier-v2")));
    archive.write("weights", weights);
    archive.save_to(dir.File("classifier.pt"));
  }
  EvaluatorSpec spec;
  spec.path = dir.File("classifier.pt");
  auto evaluator = LoadEvaluator(spec, torch::kCPU);
  ASSERT_TRUE(evaluator.ok()) << evaluator.status().ToString();
  DatasetSpec test_split;
  test_split.split = "test";
  test_split.limit = 200;
  auto data = OpenDataset(test_split);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  const torch::Tensor images = (*data)->Batch(torch::arange(0, 200));
  auto out = (*evaluator)->Evaluate(images, true);
  ASSERT_TRUE(out.ok()) << out.status().ToString();

  torch::serialize::InputArchive archive, weights;
  archive.load_from(spec.path);
  archive.read("weights", weights);
  ClassifierNet net;
  net->load(weights);
  net->eval();
  torch::NoGradGuard no_grad;
  auto part = net->named_children();
  auto block = [&](const char* conv, const char* bn, const torch::Tensor& in) {
    auto c = part[conv]->as<torch::nn::Conv2d>()->forward(in);
    return torch::max_pool2d(torch::relu(part[bn]->as<torch::nn::BatchNorm2d>()->forward(c)), 2);
  };
  auto features_of = [&](const torch::Tensor& in) {
    auto h = block("conv2", "bn2", block("conv1", "bn1", in));
    return torch::relu(part["fc1"]->as<torch::nn::Linear>()->forward(h.flatten(1)));
  };
  const torch::Tensor features = features_of(images);
  const torch::Tensor logits = part["fc2"]->as<torch::nn::Linear>()->forward(features_of(images));
  EXPECT_TRUE(torch::equal(out->features, features));
  EXPECT_TRUE(torch::equal(out->probabilities, torch::softmax(logits, 1)));
}

TEST(ClassifierEvaluatorTest, RejectsColourImagesAndForeignFiles) {
  testing::TempDir dir;
  ClassifierNet net;
  torch::serialize::OutputArchive archive;
  net->save(archive);
  archive.save_to(dir.File("plain.pt"));  // weights, but not in our format
  EvaluatorSpec spec;
  spec.path = dir.File("plain.pt");
  auto loaded = LoadEvaluator(spec, torch::kCPU);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find("not a bitsweep classifier"), std::string::npos);

  spec.path = dir.File("absent.pt");
  auto absent = LoadEvaluator(spec, torch::kCPU);
  EXPECT_NE(absent.status().message().find("bitsweep evaluator train"), std::string::npos);
}

}  // namespace
}  // namespace bitsweep::qgan
