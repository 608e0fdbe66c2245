#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "qgan/quant/em_quantizer.h"
#include "qgan/quant/layer_quantizers.h"
#include "qgan/quant/level_stats.h"
#include "qgan/quant/quantizer.h"

namespace bitsweep::qgan {
namespace {

std::unique_ptr<Quantizer> Make(QuantMethod method, int bits) {
  QuantSpec spec;
  spec.method = method;
  spec.bits = bits;
  return MakeQuantizer(spec);
}

double Mse(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).square().mean().item<double>();
}

// Weight tensors shaped like the ones quantized in training: DCGAN's
// initialisation, a heavy-tailed one, a skewed one.
std::vector<torch::Tensor> SampleWeights() {
  torch::manual_seed(3);
  return {torch::randn({64, 32, 4, 4}) * 0.02, torch::randn({4096}).pow(3) * 0.1,
          torch::rand({128, 16}) * torch::rand({128, 16}) - 0.1};
}

struct MethodBits {
  QuantMethod method;
  int bits;
};

std::vector<MethodBits> AllMethodsAndBits() {
  std::vector<MethodBits> cases{{QuantMethod::kBinary, 1}};
  for (auto m : {QuantMethod::kMinMax, QuantMethod::kLog, QuantMethod::kTanh, QuantMethod::kEm}) {
    for (int b = 1; b <= 8; ++b) cases.push_back({m, b});
  }
  return cases;
}

TEST(QuantizerTest, AtMostTwoToTheBitsDistinctValuesEqualToTheirLevels) {
  for (const auto& c : AllMethodsAndBits()) {
    for (const auto& w : SampleWeights()) {
      auto q = Make(c.method, c.bits);
      q->Fit(w);
      QuantizedWeight r = q->Quantize(w);
      SCOPED_TRACE(std::string(QuantMethodName(c.method)) + " " + std::to_string(c.bits) + " bits");
      EXPECT_EQ(r.values.sizes(), w.sizes());
      EXPECT_LE(std::get<0>(torch::_unique(r.values)).numel(), int64_t{1} << c.bits);
      EXPECT_EQ(r.levels.numel(), int64_t{1} << c.bits);
      EXPECT_GE(r.indices.min().item<int64_t>(), 0);
      EXPECT_LT(r.indices.max().item<int64_t>(), int64_t{1} << c.bits);
      EXPECT_TRUE(torch::equal(r.values, r.levels.index_select(0, r.indices.reshape({-1})).view_as(w)));
      // On bell-shaped weights (DCGAN's initialisation) every method beats
      // replacing the weights by their mean from 2 bits up. (Heavy tails
      // defeat min-max and tanh at low bits; that is expected.)
      if (c.bits >= 2 && w.dim() == 4) {
        EXPECT_LT(Mse(r.values, w), w.var().item<double>());
      }
    }
  }
}

TEST(QuantizerTest, ErrorFallsAsBitsRise) {
  auto w = SampleWeights()[0];
  for (auto m : {QuantMethod::kMinMax, QuantMethod::kTanh, QuantMethod::kEm}) {
    double previous = std::numeric_limits<double>::infinity();
    for (int b = 1; b <= 8; ++b) {
      double mse = Mse(Make(m, b)->Quantize(w).values, w);
      EXPECT_LT(mse, previous) << QuantMethodName(m) << " at " << b << " bits";
      previous = mse;
    }
  }
}

TEST(EmQuantizerTest, NeverWorseThanMinMaxAndMonotoneAcrossIterations) {
  for (const auto& w : SampleWeights()) {
    for (int b = 1; b <= 6; ++b) {
      EmQuantizer em(b, /*max_iters=*/50, /*tolerance=*/0.0);
      em.Fit(w);
      const auto& history = em.last_mse_history();
      ASSERT_FALSE(history.empty());
      for (size_t i = 1; i < history.size(); ++i) EXPECT_LE(history[i], history[i - 1]) << "iteration " << i;
      double em_mse = Mse(em.Quantize(w).values, w);
      double minmax_mse = Mse(Make(QuantMethod::kMinMax, b)->Quantize(w).values, w);
      EXPECT_LE(em_mse, minmax_mse * (1 + 1e-6)) << b << " bits";
      // On bell-shaped weights EM's advantage is large at low bits: this is
      // the paper's point about under-represented min-max levels.
      if (b <= 3 && w.dim() == 4) {
        EXPECT_LT(em_mse, 0.7 * minmax_mse) << b << " bits";
      }
    }
  }
}

TEST(EmQuantizerTest, OneBitEqualsTheBestTwoClusterLeastSquaresFit) {
  torch::manual_seed(11);
  for (const auto& w : {torch::randn({2000}), torch::randn({3000}).exp(), torch::rand({1000})}) {
    EmQuantizer em(1, /*max_iters=*/1000, /*tolerance=*/0.0);
    em.Fit(w);
    double em_mse = Mse(em.Quantize(w).values, w);

    // Exhaustive: the optimal 2-cluster split of sorted values is a threshold.
    auto sorted = std::get<0>(w.to(torch::kFloat64).sort());
    auto prefix = sorted.cumsum(0);
    auto prefix_sq = sorted.square().cumsum(0);
    const int64_t n = sorted.numel();
    double total = prefix[n - 1].item<double>(), total_sq = prefix_sq[n - 1].item<double>();
    double best = std::numeric_limits<double>::infinity();
    for (int64_t k = 1; k < n; ++k) {
      double s1 = prefix[k - 1].item<double>(), q1 = prefix_sq[k - 1].item<double>();
      double s2 = total - s1, q2 = total_sq - q1;
      double sse = (q1 - s1 * s1 / k) + (q2 - s2 * s2 / (n - k));
      best = std::min(best, sse / n);
    }
    // EM (Lloyd's algorithm at 1 bit) stops at a fixed point of the
    // assignment; on skewed data that can be a neighbouring split a few parts
    // per million above the global optimum.
    EXPECT_NEAR(em_mse, best, 1e-5 * best);

    // At its fixed point the two levels are exactly the least-squares fit
    // of its own nearest-level split: the two cluster means.
    auto wd = w.to(torch::kFloat64);
    auto upper = AffineIndices(wd, em.alpha(), em.beta(), 2).eq(1);
    double mean_low = wd.masked_select(upper.logical_not()).mean().item<double>();
    double mean_high = wd.masked_select(upper).mean().item<double>();
    EXPECT_NEAR(em.beta(), mean_low, 1e-9);
    EXPECT_NEAR(em.alpha() + em.beta(), mean_high, 1e-9);
  }
}

TEST(EmQuantizerTest, WarmStartKeepsTheFitAndConvergesAtOnce) {
  auto w = SampleWeights()[0];
  EmQuantizer em(2, 50, /*tolerance=*/0.0);
  em.Fit(w);
  double alpha = em.alpha(), beta = em.beta();
  em.Fit(w);
  EXPECT_DOUBLE_EQ(em.alpha(), alpha);
  EXPECT_DOUBLE_EQ(em.beta(), beta);
  EXPECT_LE(em.last_mse_history().size(), 2u);

  // A state round trip (checkpoints) restores the same levels.
  EmQuantizer restored(2, 50);
  restored.LoadState(em.State());
  EXPECT_TRUE(torch::equal(restored.Quantize(w).values, em.Quantize(w).values));
}

TEST(QuantizerTest, DegenerateTensorsGiveNoNaN) {
  for (const auto& c : AllMethodsAndBits()) {
    for (const auto& w : {torch::zeros({3, 3}), torch::full({5, 4}, 0.37), torch::full({7}, -2.0)}) {
      auto q = Make(c.method, c.bits);
      q->Fit(w);
      QuantizedWeight r = q->Quantize(w);
      SCOPED_TRACE(std::string(QuantMethodName(c.method)) + " " + std::to_string(c.bits));
      EXPECT_FALSE(torch::isnan(r.values).any().item<bool>());
      EXPECT_FALSE(torch::isnan(r.levels).any().item<bool>());
      if (c.method == QuantMethod::kMinMax || c.method == QuantMethod::kEm) {
        EXPECT_NEAR(Mse(r.values, w), 0.0, 1e-12);  // a constant is representable exactly
      }
      auto stats = MeasureLevels("x", c.method, c.bits, w, r);
      EXPECT_TRUE(std::isfinite(stats.utilisation));
      EXPECT_TRUE(std::isfinite(stats.mse));
    }
  }
}

TEST(QuantizerTest, LogLevelsArePowersOfTwo) {
  auto w = SampleWeights()[1];
  auto r = Make(QuantMethod::kLog, 4)->Quantize(w);
  auto exponent = torch::log2(r.levels.abs());
  EXPECT_TRUE(torch::allclose(exponent, exponent.round()));
  EXPECT_TRUE(torch::equal(r.values.sign(), torch::where(w < 0, -1.0, 1.0).to(torch::kFloat32)));
}

TEST(QuantizerTest, BinaryIsSignTimesMeanMagnitude) {
  auto w = SampleWeights()[0];
  auto r = Make(QuantMethod::kBinary, 1)->Quantize(w);
  float m = w.abs().mean().item<float>();
  EXPECT_TRUE(torch::allclose(r.values, torch::where(w >= 0, m, -m)));
}

TEST(LayerQuantizersTest, GradientsReachTheShadowWeights) {
  for (auto m : {QuantMethod::kMinMax, QuantMethod::kLog, QuantMethod::kTanh, QuantMethod::kEm,
                 QuantMethod::kBinary}) {
    QuantSpec spec;
    spec.method = m;
    spec.bits = m == QuantMethod::kBinary ? 1 : 2;
    LayerQuantizers quantizers;
    quantizers.Configure({"conv1"}, spec);
    torch::manual_seed(5);
    auto w = (torch::randn({16, 8}) * 0.1).requires_grad_(true);
    auto upstream = torch::randn({16, 8});
    auto used = quantizers.Apply(0, w, /*training=*/true);
    // The forward pass sees the quantized values...
    EXPECT_TRUE(torch::allclose(used.detach(), quantizers.Quantize(0, w).values, 0, 1e-6));
    (used * upstream).sum().backward();
    ASSERT_TRUE(w.grad().defined()) << QuantMethodName(m);
    if (m == QuantMethod::kTanh) {
      // ...and DoReFa's gradient flows through its tanh normalisation.
      auto w2 = w.detach().clone().requires_grad_(true);
      auto t = torch::tanh(w2);
      (t / t.abs().max().detach() * w2.abs().max().detach() * upstream).sum().backward();
      EXPECT_TRUE(torch::allclose(w.grad(), w2.grad(), 1e-5, 1e-6));
    } else {
      // ...the others pass the gradient straight through.
      EXPECT_TRUE(torch::allclose(w.grad(), upstream)) << QuantMethodName(m);
    }
  }
}

TEST(LayerQuantizersTest, KeepsFirstAndLastLayerAtFullPrecisionOnRequest) {
  QuantSpec spec;
  spec.method = QuantMethod::kMinMax;
  spec.bits = 1;
  spec.keep_first_last_fp = true;
  LayerQuantizers quantizers;
  quantizers.Configure({"conv1", "conv2", "conv3"}, spec);
  EXPECT_FALSE(quantizers.IsQuantized(0));
  EXPECT_TRUE(quantizers.IsQuantized(1));
  EXPECT_FALSE(quantizers.IsQuantized(2));
  auto w = torch::randn({8, 8});
  EXPECT_TRUE(torch::equal(quantizers.Apply(0, w, true), w));
  EXPECT_LE(std::get<0>(torch::_unique(quantizers.Apply(1, w, true))).numel(), 2);
  auto stats = quantizers.Measure({w, w, w});
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[0].layer, "conv2");
}

TEST(LevelStatsTest, UtilisationIsNormalisedEntropy) {
  // Four levels, equally used: entropy 2 bits over 2 bits = 1.
  QuantizedWeight even = FromLevels(torch::tensor({0.f, 1.f, 2.f, 3.f}), torch::tensor({0, 1, 2, 3, 0, 1, 2, 3}));
  auto s = MeasureLevels("l", QuantMethod::kMinMax, 2, even.values, even);
  EXPECT_EQ(s.levels_used, 4);
  EXPECT_NEAR(s.utilisation, 1.0, 1e-12);
  EXPECT_NEAR(s.mse, 0.0, 1e-12);

  // Half on one level, the rest on one other: 1 bit of entropy over 2 bits.
  QuantizedWeight skewed = FromLevels(torch::tensor({0.f, 1.f, 2.f, 3.f}), torch::tensor({1, 1, 2, 2}));
  s = MeasureLevels("l", QuantMethod::kMinMax, 2, skewed.values, skewed);
  EXPECT_EQ(s.levels_used, 2);
  EXPECT_NEAR(s.utilisation, 0.5, 1e-12);
  ASSERT_EQ(s.level_fraction.size(), 4u);
  EXPECT_NEAR(s.level_fraction[1], 0.5, 1e-12);
}

TEST(LevelStatsTest, MinMaxUnderRepresentsLevelsOnBellShapedWeightsAndEmDoesBetter) {
  auto w = SampleWeights()[0];
  for (int b : {2, 3, 4}) {
    auto minmax = Make(QuantMethod::kMinMax, b);
    auto em = Make(QuantMethod::kEm, b);
    em->Fit(w);
    auto s_minmax = MeasureLevels("l", QuantMethod::kMinMax, b, w, minmax->Quantize(w));
    auto s_em = MeasureLevels("l", QuantMethod::kEm, b, w, em->Quantize(w));
    EXPECT_GT(s_em.utilisation, s_minmax.utilisation) << b << " bits";
  }
}

// ---------------------------------------------------------------- the device path

// The device path (tensor operations, no host reads) forced on the CPU
// against the CPU path on the same weights: the same levels and indices.
TEST(DevicePathTest, EveryQuantizerComputesTheCpuPathsLevelsAndIndices) {
  auto weights = SampleWeights();
  weights.push_back(torch::full({4, 4}, 0.25f));  // a constant layer
  for (QuantMethod method : {QuantMethod::kMinMax, QuantMethod::kLog, QuantMethod::kTanh, QuantMethod::kEm,
                             QuantMethod::kBinary}) {
    for (int bits = 1; bits <= 8; ++bits) {
      if (method == QuantMethod::kBinary && bits != 1) continue;
      for (size_t t = 0; t < weights.size(); ++t) {
        const auto& w = weights[t];
        std::unique_ptr<Quantizer> cpu, device;
        if (method == QuantMethod::kEm) {
          // Both from min-max to the fixed point (no tolerance, enough iterations).
          cpu = std::make_unique<EmQuantizer>(bits, 200, /*tolerance=*/0.0);
          device = std::make_unique<EmQuantizer>(bits, 200, /*tolerance=*/0.0);
        } else {
          cpu = Make(method, bits);
          device = Make(method, bits);
        }
        device->set_device_path(true);
        cpu->Fit(w);
        device->Fit(w);
        const auto a = cpu->Quantize(w), b = device->Quantize(w);
        const std::string where = std::string(QuantMethodName(method)) + " " + std::to_string(bits) + " bits, tensor " +
                                  std::to_string(t);
        EXPECT_TRUE(torch::equal(a.indices, b.indices)) << where;
        EXPECT_TRUE(torch::allclose(a.levels, b.levels, 1e-6, 1e-7)) << where;
        EXPECT_TRUE(torch::allclose(a.values, b.values, 1e-6, 1e-7)) << where;
      }
    }
  }
}

TEST(DevicePathTest, WarmStartedEmOnTheDeviceTracksTheOptimumAsTrainingMovesTheWeights) {
  // Training moves the weights a little every step and refits from the
  // previous fit: the CPU path with its defaults (at most 20 iterations,
  // early stop at a 1e-4 relative gain), the device path with
  // kWarmDeviceIters iterations and no early stop. After 30 Adam-sized steps
  // (1e-3 of the weights' scale), both are compared with EM run to its
  // fixed point on the final weights.
  torch::manual_seed(13);
  double worst_device = 0.0, worst_host = 0.0;
  for (int bits : {1, 2, 3, 4}) {
    for (auto w : SampleWeights()) {
      EmQuantizer host(bits, 20), device(bits, 20);
      device.set_device_path(true);
      for (int step = 0; step < 30; ++step) {
        if (step > 0) w = w + torch::randn_like(w) * w.std() * 1e-3;
        host.Fit(w);
        device.Fit(w);
      }
      EmQuantizer converged(bits, EmQuantizer::kConvergedMaxIters, /*tolerance=*/0.0);
      converged.Fit(w);
      const double best = Mse(converged.Quantize(w).values, w);
      const double on_device = Mse(device.Quantize(w).values, w);
      const double on_host = Mse(host.Quantize(w).values, w);
      auto minmax = Make(QuantMethod::kMinMax, bits);
      EXPECT_LE(on_device, Mse(minmax->Quantize(w).values, w) * (1 + 1e-9)) << bits << " bits";
      worst_device = std::max(worst_device, on_device / best - 1.0);
      worst_host = std::max(worst_host, on_host / best - 1.0);
    }
  }
  std::printf("after 30 steps, squared error above EM's fixed point: device path (%d warm iterations) at most "
              "%.2e, CPU path (defaults) at most %.2e\n",
              EmQuantizer::kWarmDeviceIters, worst_device, worst_host);
  EXPECT_LE(worst_device, 1e-3);
}

TEST(DevicePathTest, ACheckpointedFitMovesBetweenThePaths) {
  const auto w = SampleWeights()[0];
  EmQuantizer device(2, 50);
  device.set_device_path(true);
  device.Fit(w);
  const auto state = device.State();  // read back once, at checkpoint time
  EmQuantizer host(2, 50);
  host.LoadState(state);
  EXPECT_TRUE(torch::equal(host.Quantize(w).indices, device.Quantize(w).indices));
  EXPECT_DOUBLE_EQ(host.alpha(), device.alpha());
}

}  // namespace
}  // namespace bitsweep::qgan
