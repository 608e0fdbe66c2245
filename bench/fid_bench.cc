// FID timing on feature files, and the throughput of sample evaluation.
//
//   build/bench/fid_bench A.npy B.npy
//       -> {"fid": ..., "cold_seconds": first call, "seconds": median of 3 more}
//       statistics of both sets plus the square-root trace, in float64,
//       timed in process (bench/run_metrics.sh compares it with scipy's
//       sqrtm-based FID on the same files)
//   build/bench/fid_bench --eval-throughput [N]
//       N (default 10000) DCGAN-32 (ngf = 64) samples generated and passed
//       through the classifier evaluator, in batches of 500: samples/s
//   build/bench/fid_bench --sampling-error [N] [d] [B]
//       the plain FID of N (default 5000) synthetic d-dimensional (default
//       128, the classifier's width) features against fixed reference
//       statistics, next to its bootstrap standard error (B replicates,
//       default 100 as the trainer uses); likewise IS (10 classes) and KID
//       with their standard errors: median seconds of 3 runs after a
//       warm-up, and the ratios
#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <vector>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>

#include <torch/torch.h>

#include "qgan/metrics/classifier_evaluator.h"
#include "qgan/metrics/fid.h"
#include "qgan/metrics/inception_score.h"
#include "qgan/metrics/kid.h"
#include "qgan/metrics/npy.h"
#include "qgan/metrics/sampling_error.h"
#include "qgan/models/dcgan.h"

namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

int Fid(const char* a_path, const char* b_path) {
  auto a = bitsweep::qgan::ReadNpyMatrix(a_path);
  auto b = bitsweep::qgan::ReadNpyMatrix(b_path);
  if (!a.ok() || !b.ok()) {
    std::fprintf(stderr, "%s\n", (a.ok() ? b.status() : a.status()).ToString().c_str());
    return 1;
  }
  // The first call pays one-off costs (symbol binding, thread pool start);
  // a trainer evaluating every N steps pays them once. Report both.
  double fid = 0.0, cold = 0.0;
  std::vector<double> warm;
  for (int run = 0; run < 4; ++run) {
    auto start = Clock::now();
    fid = bitsweep::qgan::FrechetDistance(bitsweep::qgan::ComputeStats(*a), bitsweep::qgan::ComputeStats(*b));
    (run == 0 ? cold : warm.emplace_back()) = Since(start);
  }
  std::sort(warm.begin(), warm.end());
  std::printf("{\"fid\": %.12g, \"cold_seconds\": %.4f, \"seconds\": %.4f, \"n\": %lld, \"d\": %lld, "
              "\"threads\": %d}\n",
              fid, cold, warm[warm.size() / 2], static_cast<long long>(a->size(0)),
              static_cast<long long>(a->size(1)), torch::get_num_threads());
  return 0;
}

int EvalThroughput(int64_t n) {
  using namespace bitsweep::qgan;
  std::string path = (std::filesystem::temp_directory_path() / "bitsweep-bench-classifier.pt").string();
  {
    // Timing does not depend on the weights: a classifier trained for one
    // epoch on a slice of the data is a real, loadable evaluator file.
    ClassifierTrainOptions options;
    options.epochs = 1;
    options.dataset.limit = 1024;
    auto trained = TrainClassifier(options, path);
    if (!trained.ok()) {
      std::fprintf(stderr, "%s\n", trained.status().ToString().c_str());
      return 1;
    }
  }
  bitsweep::EvaluatorSpec spec;
  spec.path = path;
  auto evaluator = LoadEvaluator(spec, torch::kCPU);
  if (!evaluator.ok()) return 1;
  DcganOptions options;
  Generator g(options);
  g->eval();
  torch::NoGradGuard no_grad;
  auto start = Clock::now();
  for (int64_t begin = 0; begin < n; begin += 500) {
    auto images = g->forward(torch::randn({std::min<int64_t>(500, n - begin), options.nz}));
    auto out = (*evaluator)->Evaluate(images, true);
    if (!out.ok()) return 1;
  }
  double seconds = Since(start);
  std::printf("{\"samples\": %lld, \"seconds\": %.3f, \"samples_per_second\": %.1f, \"threads\": %d}\n",
              static_cast<long long>(n), seconds, static_cast<double>(n) / seconds, torch::get_num_threads());
  std::filesystem::remove(path);
  return 0;
}

// Median seconds of 3 timed calls of `f`, after one untimed warm-up call.
template <typename F>
double MedianSeconds(F&& f) {
  f();
  std::vector<double> times;
  for (int run = 0; run < 3; ++run) {
    auto start = Clock::now();
    f();
    times.push_back(Since(start));
  }
  std::sort(times.begin(), times.end());
  return times[1];
}

int SamplingError(int64_t n, int64_t d, int replicates) {
  using namespace bitsweep::qgan;
  torch::manual_seed(0);
  // Correlated, non-Gaussian features, so that eigen-solvers do real work.
  auto mix = torch::randn({d, d}) / std::sqrt(static_cast<double>(d));
  auto generated = (torch::randn({n, d}).mm(mix) + 0.1).relu();
  auto real = torch::randn({10000, d}).mm(mix).relu();
  const GaussianStats reference = ComputeStats(real);
  auto probabilities = torch::softmax(torch::randn({n, 10}) * 3, 1);

  double fid = 0.0;
  std::optional<double> fid_se, is_se, kid_se;
  const double fid_s = MedianSeconds([&] { fid = FrechetDistance(ComputeStats(generated), reference); });
  const double fid_se_s = MedianSeconds([&] { fid_se = FidStandardError(generated, reference, BootstrapIndices(n, replicates)); });
  const double is_s = MedianSeconds([&] { InceptionScore(probabilities); });
  const double is_se_s =
      MedianSeconds([&] { is_se = InceptionScoreStandardError(probabilities, BootstrapIndices(n, replicates)); });
  const double kid_s = MedianSeconds([&] { KernelInceptionDistance(generated, real); });
  const double kid_se_s = MedianSeconds([&] { kid_se = KidBlockStandardError(generated, real); });
  std::printf("{\"n\": %lld, \"d\": %lld, \"replicates\": %d, \"threads\": %d,\n"
              " \"fid\": %.6g, \"fid_se\": %.3g, \"fid_seconds\": %.4f, \"fid_se_seconds\": %.4f, \"fid_ratio\": %.1f,\n"
              " \"is_se\": %.3g, \"is_seconds\": %.4f, \"is_se_seconds\": %.4f, \"is_ratio\": %.1f,\n"
              " \"kid_se\": %.3g, \"kid_seconds\": %.4f, \"kid_se_seconds\": %.4f, \"kid_ratio\": %.2f}\n",
              static_cast<long long>(n), static_cast<long long>(d), replicates, torch::get_num_threads(),
              fid, fid_se.value_or(-1), fid_s, fid_se_s, fid_se_s / fid_s, is_se.value_or(-1), is_s, is_se_s,
              is_se_s / is_s, kid_se.value_or(-1), kid_s, kid_se_s, kid_se_s / kid_s);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const char* threads = std::getenv("BITSWEEP_BENCH_THREADS");
  torch::set_num_threads(threads ? std::atoi(threads) : 2);
  if (argc >= 2 && std::strcmp(argv[1], "--eval-throughput") == 0) {
    return EvalThroughput(argc >= 3 ? std::atoll(argv[2]) : 10000);
  }
  if (argc >= 2 && std::strcmp(argv[1], "--sampling-error") == 0) {
    return SamplingError(argc >= 3 ? std::atoll(argv[2]) : 5000, argc >= 4 ? std::atoll(argv[3]) : 128,
                         argc >= 5 ? std::atoi(argv[4]) : bitsweep::qgan::kBootstrapReplicates);
  }
  if (argc == 3) return Fid(argv[1], argv[2]);
  std::fprintf(stderr, "usage: fid_bench A.npy B.npy | fid_bench --eval-throughput [N] | "
                       "fid_bench --sampling-error [N] [d] [B]\n");
  return 2;
}
