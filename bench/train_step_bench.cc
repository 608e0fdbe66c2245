// Images/s of one training iteration (D step + G step) of DCGAN-32 with
// ngf = ndf = 64 and batch 64 on real Fashion-MNIST, at full precision and
// with each quantizer, through the same TrainIteration the trainer runs.
//
//   build/bench/train_step_bench --threads=2
// bench/run_train_step.sh runs it next to the PyTorch reference.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include <torch/torch.h>

#include "qgan/data/dataset.h"
#include "qgan/train/gan.h"
#include "qgan/train/train_step.h"

namespace bitsweep::qgan {
namespace {

int g_threads = 2;

const Dataset& FashionMnist() {
  static std::unique_ptr<Dataset> data = [] {
    DatasetSpec spec;
    spec.limit = 8192;
    auto opened = OpenDataset(spec);
    if (!opened.ok()) {
      std::fprintf(stderr, "%s\n", opened.status().ToString().c_str());
      std::exit(1);
    }
    return std::move(opened).value();
  }();
  return *data;
}

JobSpec BenchSpec(QuantMethod method, int bits) {
  JobSpec spec;
  spec.model.ngf = 64;
  spec.model.ndf = 64;
  spec.train.batch_size = 64;
  spec.quant_g.method = method;
  spec.quant_g.bits = bits;
  spec.quant_d.method = method;
  spec.quant_d.bits = bits;
  return spec;
}

// Both networks quantized with `method` (the costlier case: every forward
// of G and D fits and applies quantizers).
void BM_TrainIteration(benchmark::State& state, QuantMethod method, int bits) {
  torch::set_num_threads(g_threads);
  JobSpec spec = BenchSpec(method, bits);
  const Dataset& data = FashionMnist();
  Gan gan = BuildGan(spec, 1, torch::kCPU);
  gan.generator->train();
  gan.discriminator->train();
  RandomStream random(1, data.size(), spec.train.batch_size);
  for (int i = 0; i < 2; ++i) TrainIteration(spec, gan, data, random, torch::kCPU);  // warm-up
  for (auto _ : state) {
    StepLosses losses = TrainIteration(spec, gan, data, random, torch::kCPU);
    benchmark::DoNotOptimize(losses);
  }
  state.counters["images_per_second"] =
      benchmark::Counter(static_cast<double>(spec.train.batch_size), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["threads"] = g_threads;
}

BENCHMARK_CAPTURE(BM_TrainIteration, fp32, QuantMethod::kNone, 32)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_TrainIteration, minmax_2bit, QuantMethod::kMinMax, 2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_TrainIteration, log_2bit, QuantMethod::kLog, 2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_TrainIteration, tanh_2bit, QuantMethod::kTanh, 2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_TrainIteration, em_2bit, QuantMethod::kEm, 2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_TrainIteration, binary_1bit, QuantMethod::kBinary, 1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace bitsweep::qgan

int main(int argc, char** argv) {
  // --threads=N is ours; everything else goes to Google Benchmark.
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--threads=", 10) == 0) {
      bitsweep::qgan::g_threads = std::atoi(argv[i] + 10);
    } else {
      rest.push_back(argv[i]);
    }
  }
  int rest_argc = static_cast<int>(rest.size());
  benchmark::Initialize(&rest_argc, rest.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
