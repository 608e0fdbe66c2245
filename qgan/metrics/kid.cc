#include "qgan/metrics/kid.h"

#include <ATen/CPUGeneratorImpl.h>
#include <cmath>
#include <torch/torch.h>

namespace bitsweep::qgan {

torch::Tensor PolynomialKernel(const torch::Tensor& x, const torch::Tensor& y) {
  const double d = static_cast<double>(x.size(1));
  return (x.mm(y.t()) / d + 1.0).pow(3);
}

double UnbiasedMmd2(const torch::Tensor& x, const torch::Tensor& y) {
  const double m = static_cast<double>(x.size(0));
  auto kxx = PolynomialKernel(x, x);
  auto kyy = PolynomialKernel(y, y);
  auto kxy = PolynomialKernel(x, y);
  double xx = (kxx.sum() - kxx.diagonal().sum()).item<double>() / (m * (m - 1));
  double yy = (kyy.sum() - kyy.diagonal().sum()).item<double>() / (m * (m - 1));
  double xy = kxy.sum().item<double>() / (m * m);
  return xx + yy - 2.0 * xy;
}

ScoreWithSpread KernelInceptionDistance(const torch::Tensor& a, const torch::Tensor& b, int subsets,
                                        int64_t subset_size, uint64_t seed) {
  auto x = a.detach().to(torch::kCPU, torch::kFloat64);
  auto y = b.detach().to(torch::kCPU, torch::kFloat64);
  const int64_t m = std::min({subset_size, x.size(0), y.size(0)});
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  std::vector<double> values;
  for (int s = 0; s < subsets; ++s) {
    auto ix = torch::randperm(x.size(0), generator, torch::kInt64).narrow(0, 0, m);
    auto iy = torch::randperm(y.size(0), generator, torch::kInt64).narrow(0, 0, m);
    values.push_back(UnbiasedMmd2(x.index_select(0, ix), y.index_select(0, iy)));
  }
  return MeanAndStd(values);
}

}  // namespace bitsweep::qgan
