// Each instruction set's micro-kernels against a plain sum in double, over
// every block shape the layers use: partial rows and columns, several taps,
// accumulation and the epilogue (scale, bias, relu); and their tanh.
#include "edge/kernels/kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

namespace bitsweep::edge {
namespace {

struct Block {
  size_t mr, nc, kc, taps;
};

// C = (accumulate ? C0 : 0) + sum_t A_t B_t, with the epilogue, directly.
std::vector<float> Expected(const Kernels& k, const Block& s, const std::vector<std::vector<float>>& rows,
                            const std::vector<float>& b, const std::vector<float>& c0, bool accumulate,
                            const Epilogue* ep) {
  std::vector<float> c(s.mr * s.nc);
  for (size_t r = 0; r < s.mr; ++r) {
    for (size_t j = 0; j < s.nc; ++j) {
      double sum = accumulate ? c0[r * k.nr + j] : 0.0;
      for (size_t t = 0; t < s.taps; ++t) {
        for (size_t q = 0; q < s.kc; ++q) sum += double{rows[t * s.mr + r][q]} * b[(t * s.kc + q) * k.nr + j];
      }
      if (ep != nullptr) {
        sum = sum * (ep->scale ? ep->scale[j] : 1.0f) + ep->bias[j];
        if (ep->relu && sum < 0) sum = 0;
      }
      c[r * s.nc + j] = static_cast<float>(sum);
    }
  }
  return c;
}

TEST(KernelsTest, EveryInstructionSetComputesTheIgemmBlock) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (Isa isa : AvailableIsas()) {
    const Kernels& k = KernelsFor(isa);
    SCOPED_TRACE(k.name);
    EXPECT_EQ(k.isa, isa);
    const size_t mr_max = static_cast<size_t>(k.mr), nr = static_cast<size_t>(k.nr);
    for (size_t mr : {size_t{1}, size_t{2}, mr_max}) {
      for (size_t nc : {size_t{1}, nr / 2 + 1, nr}) {
        for (size_t taps : {1, 4}) {
          for (size_t kc : {1, 5, 37}) {
            for (int mode = 0; mode < 4; ++mode) {
              const bool accumulate = mode & 1, with_epilogue = mode & 2;
              const Block s{mr, nc, kc, taps};
              std::vector<std::vector<float>> rows(taps * mr, std::vector<float>(kc));
              for (auto& row : rows) for (auto& v : row) v = u(rng);
              std::vector<float> b(taps * kc * nr), scale(nr), bias(nr);
              for (auto& v : b) v = u(rng);
              for (auto& v : scale) v = 1.0f + u(rng);
              for (auto& v : bias) v = u(rng);
              // C rows nr wide with a guard after nc, which must survive.
              std::vector<float> c0(mr * nr), c(mr * nr + 1, 0.0f);
              for (auto& v : c0) v = u(rng);
              c = c0;
              c.push_back(1234.5f);
              std::vector<const float*> a;
              for (auto& row : rows) a.push_back(row.data());
              std::vector<float*> cp;
              for (size_t r = 0; r < mr; ++r) cp.push_back(c.data() + r * nr);
              Epilogue ep{mode == 3 ? nullptr : scale.data(), bias.data(), mode != 3};
              const IgemmFn fn = mr == 1 ? k.igemm_1 : k.igemm;
              fn(mr, nc, kc, taps, a.data(), b.data(), cp.data(), accumulate, with_epilogue ? &ep : nullptr);
              const auto want = Expected(k, s, rows, b, c0, accumulate, with_epilogue ? &ep : nullptr);
              for (size_t r = 0; r < mr; ++r) {
                for (size_t j = 0; j < nr; ++j) {
                  if (j < nc) {
                    ASSERT_NEAR(c[r * nr + j], want[r * nc + j], 1e-4f) << "mr " << mr << " nc " << nc << " kc " << kc;
                  } else {
                    ASSERT_EQ(c[r * nr + j], c0[r * nr + j]) << "column " << j << " past nc was written";
                  }
                }
              }
              ASSERT_EQ(c.back(), 1234.5f);
            }
          }
        }
      }
    }
  }
}

TEST(KernelsTest, EveryInstructionSetComputesThePlanarRows) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-0.5f, 0.5f);
  for (Isa isa : AvailableIsas()) {
    const Kernels& k = KernelsFor(isa);
    SCOPED_TRACE(k.name);
    // Widths of whole vector groups, single vectors and tails; rows read
    // at offsets (the taps' shifts).
    for (size_t width : {1, 5, 16, 32, 67}) {
      for (size_t cin : {1, 3, 32}) {
        const size_t taps = 4, stride = width + 9;
        std::vector<float> plane(cin * stride * taps + 8);
        for (auto& v : plane) v = u(rng);
        std::vector<float> w(taps * cin);
        for (auto& v : w) v = u(rng);
        const float* x[4];
        for (size_t t = 0; t < taps; ++t) x[t] = plane.data() + t * cin * stride + t % 3;
        std::vector<float> out(width + 1, 99.0f);
        k.planar(width, cin, taps, x, stride, w.data(), out.data());
        for (size_t b = 0; b < width; ++b) {
          double sum = 0;
          for (size_t t = 0; t < taps; ++t) {
            for (size_t q = 0; q < cin; ++q) sum += double{w[t * cin + q]} * x[t][q * stride + b];
          }
          ASSERT_NEAR(out[b], sum, 1e-5) << "width " << width << " cin " << cin << " b " << b;
        }
        ASSERT_EQ(out[width], 99.0f) << "wrote past the row";
      }
    }
  }
}

TEST(KernelsTest, EveryInstructionSetsTanhIsWithin2e7OfTanh) {
  // Over the range that matters, out to where tanh is 1 in float, at any
  // length and offset (vector bodies and tails), signed zeros and NaN.
  std::vector<float> x;
  for (float v = -12.0f; v <= 12.0f; v += 0.00137f) x.push_back(v);
  for (float v : {0.0f, -0.0f, 1e-30f, -1e-30f, 1e-8f, 88.0f, -104.0f, 3.4e38f, -3.4e38f}) x.push_back(v);
  for (Isa isa : AvailableIsas()) {
    const Kernels& k = KernelsFor(isa);
    SCOPED_TRACE(k.name);
    for (size_t offset : {0, 1, 3}) {
      std::vector<float> y(x.begin() + offset, x.end());
      k.tanh(y.data(), y.size());
      double worst = 0;
      for (size_t i = 0; i < y.size(); ++i) {
        const double want = std::tanh(static_cast<double>(x[i + offset]));
        worst = std::max(worst, std::fabs(y[i] - want));
        ASSERT_LE(std::fabs(y[i]), 1.0f) << x[i + offset];
      }
      EXPECT_LE(worst, 2e-7);
    }
    float zeros[2] = {0.0f, -0.0f};
    k.tanh(zeros, 2);
    EXPECT_FALSE(std::signbit(zeros[0]));
    EXPECT_TRUE(std::signbit(zeros[1]));
    float nan = std::numeric_limits<float>::quiet_NaN();
    k.tanh(&nan, 1);
    EXPECT_TRUE(std::isnan(nan));
  }
}

TEST(KernelsTest, DispatchPicksTheBestAvailable) {
  const auto isas = AvailableIsas();
  ASSERT_FALSE(isas.empty());
  EXPECT_EQ(isas.front(), Isa::kScalar);
  EXPECT_EQ(KernelsFor(Isa::kAuto).isa, isas.back());
  Isa parsed;
  EXPECT_TRUE(ParseIsa("avx2", &parsed));
  EXPECT_EQ(parsed, Isa::kAvx2);
  EXPECT_FALSE(ParseIsa("sse9", &parsed));
}

}  // namespace
}  // namespace bitsweep::edge
