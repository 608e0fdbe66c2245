#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "qgan/metrics/fid.h"
#include "qgan/metrics/inception_score.h"
#include "qgan/metrics/kid.h"

namespace bitsweep::qgan {
namespace {

// Samples of N(mean, L L^T) in float64.
torch::Tensor Gaussian(int64_t n, const torch::Tensor& mean, const torch::Tensor& chol) {
  return torch::randn({n, mean.size(0)}, torch::kFloat64).mm(chol.t()) + mean;
}

// sqrtm of a symmetric PSD matrix via eigh (test-side reference).
torch::Tensor SqrtPsd(const torch::Tensor& a) {
  auto [l, v] = torch::linalg_eigh(a);
  return (v * l.clamp_min(0).sqrt().unsqueeze(0)).mm(v.t());
}

TEST(FidTest, SelfDistanceIsZero) {
  torch::manual_seed(1);
  auto x = torch::randn({500, 32}) * 3 + 1;
  auto s = ComputeStats(x);
  EXPECT_NEAR(FrechetDistance(s, s), 0.0, 1e-6);
}

TEST(FidTest, ConvergesToTheClosedFormForNonDiagonalGaussians) {
  torch::manual_seed(2);
  const int d = 6;
  auto l1 = torch::randn({d, d}, torch::kFloat64).tril() * 0.5 + torch::eye(d, torch::kFloat64);
  auto l2 = torch::randn({d, d}, torch::kFloat64).tril() * 0.5 + torch::eye(d, torch::kFloat64) * 1.5;
  auto m1 = torch::randn({d}, torch::kFloat64);
  auto m2 = torch::randn({d}, torch::kFloat64);
  auto s1 = l1.mm(l1.t());
  auto s2 = l2.mm(l2.t());
  auto root1 = SqrtPsd(s1);
  double closed = (m1 - m2).square().sum().item<double>() + s1.trace().item<double>() + s2.trace().item<double>() -
                  2.0 * SqrtPsd(root1.mm(s2).mm(root1)).trace().item<double>();

  // Exact statistics give the closed form itself...
  GaussianStats a{m1, s1, 0}, b{m2, s2, 0};
  EXPECT_NEAR(FrechetDistance(a, b), closed, 1e-9 * closed);
  // ...and sample estimates approach it as N grows.
  double previous_error = 1e9;
  for (int64_t n : {1000, 100000}) {
    double fid = FrechetDistance(ComputeStats(Gaussian(n, m1, l1)), ComputeStats(Gaussian(n, m2, l2)));
    double error = std::abs(fid - closed);
    EXPECT_LT(error, previous_error);
    previous_error = error;
  }
  EXPECT_LT(previous_error, 0.02 * closed);
}

TEST(FidTest, IsSymmetric) {
  torch::manual_seed(3);
  auto a = ComputeStats(torch::randn({300, 16}));
  auto b = ComputeStats(torch::randn({400, 16}).pow(3));
  EXPECT_NEAR(FrechetDistance(a, b), FrechetDistance(b, a), 1e-8 * FrechetDistance(a, b));
}

TEST(FidTest, SingularCovariancesGiveAFiniteNumber) {
  torch::manual_seed(4);
  auto a = ComputeStats(torch::randn({20, 64}));  // N < d: rank-deficient
  auto b = ComputeStats(torch::randn({30, 64}) + 0.5);
  double fid = FrechetDistance(a, b);
  EXPECT_TRUE(std::isfinite(fid));
  EXPECT_GT(fid, 0.0);
}

TEST(FidTest, StatisticsAreFloat64AndUnbiased) {
  auto x = torch::tensor({{1.0f, 2.0f}, {3.0f, 6.0f}, {5.0f, 10.0f}});
  auto s = ComputeStats(x);
  EXPECT_EQ(s.covariance.scalar_type(), torch::kFloat64);
  EXPECT_DOUBLE_EQ(s.mean[0].item<double>(), 3.0);
  EXPECT_DOUBLE_EQ(s.covariance[0][0].item<double>(), 4.0);   // ((-2)^2 + 0 + 2^2) / (3 - 1)
  EXPECT_DOUBLE_EQ(s.covariance[0][1].item<double>(), 8.0);
}

TEST(InceptionScoreTest, MatchesItsClosedForms) {
  // Uniform predictions: p(y|x) = p(y), so KL = 0 and IS = 1.
  auto uniform = torch::full({1000, 10}, 0.1, torch::kFloat64);
  ScoreWithSpread u = InceptionScore(uniform);
  EXPECT_NEAR(u.mean, 1.0, 1e-12);
  EXPECT_NEAR(u.std, 0.0, 1e-12);

  // Confident predictions spread evenly over k classes: KL = log k, IS = k
  // (one split, so the classes are exactly balanced within it).
  for (int64_t k : {2, 5, 10}) {
    auto labels = torch::arange(1000) % k;
    auto onehot = torch::one_hot(labels, 10).to(torch::kFloat64);
    EXPECT_NEAR(InceptionScore(onehot, 1).mean, static_cast<double>(k), 1e-9);
  }
}

// Direct O(n^2) unbiased MMD^2 with the cubic kernel, loop by loop.
double DirectMmd2(const torch::Tensor& x, const torch::Tensor& y) {
  const int64_t m = x.size(0);
  const double d = static_cast<double>(x.size(1));
  auto k = [&](const torch::Tensor& a, const torch::Tensor& b) {
    return std::pow(a.dot(b).item<double>() / d + 1.0, 3);
  };
  double xx = 0, yy = 0, xy = 0;
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < m; ++j) {
      if (i != j) {
        xx += k(x[i], x[j]);
        yy += k(y[i], y[j]);
      }
      xy += k(x[i], y[j]);
    }
  }
  return xx / (m * (m - 1.0)) + yy / (m * (m - 1.0)) - 2.0 * xy / (m * static_cast<double>(m));
}

TEST(KidTest, MatchesTheDirectComputation) {
  torch::manual_seed(5);
  auto x = torch::randn({12, 5}, torch::kFloat64);
  auto y = torch::randn({12, 5}, torch::kFloat64) * 1.3 + 0.2;
  EXPECT_NEAR(UnbiasedMmd2(x, y), DirectMmd2(x, y), 1e-10);
  // With subsets as large as the sets, every subset is the whole set.
  ScoreWithSpread kid = KernelInceptionDistance(x, y, 5, 1000);
  EXPECT_NEAR(kid.mean, DirectMmd2(x, y), 1e-10);
  EXPECT_NEAR(kid.std, 0.0, 1e-10);
}

TEST(KidTest, IdenticalSetsAreNearZeroAndShiftedSetsAreNot) {
  torch::manual_seed(6);
  auto x = torch::randn({2000, 16});
  ScoreWithSpread same = KernelInceptionDistance(x, x, 20, 500);
  ScoreWithSpread shifted = KernelInceptionDistance(x, x + 0.5, 20, 500);
  EXPECT_LT(std::abs(same.mean), 0.01);
  EXPECT_GT(shifted.mean, 10 * std::abs(same.mean) + 0.05);
}

}  // namespace
}  // namespace bitsweep::qgan
