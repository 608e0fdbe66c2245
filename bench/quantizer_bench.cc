// Cost of fitting and applying each quantizer to one layer-sized tensor
// (128 x 256 x 4 x 4 = 524,288 weights, DCGAN-32's largest layer at
// ngf = 64). Calls alternate between two tensors an Adam-sized step apart,
// so EM's warm start is exercised as in training. Each quantizer runs its
// CPU path and its device path (the tensor operations a GPU runs, with no
// host reads) forced on the CPU, side by side.
//
//   build/bench/quantizer_bench --benchmark_enable_random_interleaving=true
#include <benchmark/benchmark.h>

#include <torch/torch.h>

#include "qgan/quant/em_quantizer.h"
#include "qgan/quant/quantizer.h"

namespace bitsweep::qgan {
namespace {

void BM_FitAndQuantize(benchmark::State& state, QuantMethod method, int bits, bool device_path) {
  torch::set_num_threads(1);
  torch::manual_seed(1);
  auto w0 = torch::randn({128, 256, 4, 4}) * 0.02;
  auto w1 = w0 + torch::randn_like(w0) * (2e-4 * 0.02);
  QuantSpec spec;
  spec.method = method;
  spec.bits = bits;
  auto quantizer = MakeQuantizer(spec);
  quantizer->set_device_path(device_path);
  double em_iterations = 0;
  int64_t call = 0;
  for (auto _ : state) {
    const torch::Tensor& w = (call++ % 2) ? w1 : w0;
    quantizer->Fit(w);
    benchmark::DoNotOptimize(quantizer->Quantize(w).values.data_ptr());
    if (auto* em = dynamic_cast<EmQuantizer*>(quantizer.get())) {
      em_iterations += static_cast<double>(em->last_mse_history().size() - 1);
    }
  }
  state.counters["weights_per_second"] =
      benchmark::Counter(static_cast<double>(w0.numel()), benchmark::Counter::kIsIterationInvariantRate);
  if (method == QuantMethod::kEm && !device_path) {
    state.counters["em_iterations"] = em_iterations / static_cast<double>(state.iterations());
  }
}

BENCHMARK_CAPTURE(BM_FitAndQuantize, minmax_2bit, QuantMethod::kMinMax, 2, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_FitAndQuantize, minmax_2bit_device_path, QuantMethod::kMinMax, 2, true)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_FitAndQuantize, log_2bit, QuantMethod::kLog, 2, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_FitAndQuantize, log_2bit_device_path, QuantMethod::kLog, 2, true)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_FitAndQuantize, tanh_2bit, QuantMethod::kTanh, 2, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_FitAndQuantize, tanh_2bit_device_path, QuantMethod::kTanh, 2, true)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_FitAndQuantize, em_2bit, QuantMethod::kEm, 2, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_FitAndQuantize, em_2bit_device_path, QuantMethod::kEm, 2, true)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_FitAndQuantize, em_1bit, QuantMethod::kEm, 1, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_FitAndQuantize, em_1bit_device_path, QuantMethod::kEm, 1, true)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_FitAndQuantize, em_4bit, QuantMethod::kEm, 4, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_FitAndQuantize, em_4bit_device_path, QuantMethod::kEm, 4, true)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_FitAndQuantize, binary_1bit, QuantMethod::kBinary, 1, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_FitAndQuantize, binary_1bit_device_path, QuantMethod::kBinary, 1, true)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace bitsweep::qgan

BENCHMARK_MAIN();
