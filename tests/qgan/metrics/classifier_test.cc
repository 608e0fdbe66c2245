#include <gtest/gtest.h>
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
