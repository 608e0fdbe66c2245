// The LibTorch side of the edge benchmark: a .bsg loaded the way `bitsweep
// sample` loads it (weights decoded to float32 into a LibTorch generator),
// timed like `bitsweep-edge bench`, printing the same JSON.
//
//   edge_libtorch_bench MODEL.bsg [--threads 1,2] [--batch 1,64] [--seconds S]
//
// Each (threads, batch) case: one warm-up call, then calls for S seconds
// (at least 20); latency per image = call time / batch; p50 and p99 over
// calls. Weight bytes are the generator's float32 parameters and batch-norm
// buffers; peak resident memory is the whole process's (LibTorch included).
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>
#include <torch/version.h>

#include "qgan/export/packed_generator.h"

namespace {

std::vector<int> List(const std::string& text) {
  std::vector<int> values;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) values.push_back(std::stoi(item));
  return values;
}

double Quantile(const std::vector<double>& v, double q) {
  const double at = q * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(at), hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (at - static_cast<double>(lo));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: edge_libtorch_bench MODEL.bsg [--threads 1,2] [--batch 1,64] [--seconds S]\n");
    return 2;
  }
  const std::string model = argv[1];
  std::vector<int> threads = {1, 2}, batches = {1, 64};
  double seconds = 1.0;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--threads") threads = List(value);
    else if (flag == "--batch") batches = List(value);
    else if (flag == "--seconds") seconds = std::stod(value);
  }
  auto loaded = bitsweep::qgan::ReadPackedGenerator(model);
  if (!loaded.ok()) {
    std::fprintf(stderr, "error: %s\n", loaded.status().ToString().c_str());
    return 1;
  }
  auto& g = loaded->generator;
  torch::NoGradGuard no_grad;
  const int nz = loaded->info.arch.nz;
  std::string cases;
  for (int t : threads) {
    torch::set_num_threads(t);
    for (int batch : batches) {
      auto z = torch::randn({batch, nz}, at::make_generator<at::CPUGeneratorImpl>(1));
      g->forward(z);  // warm-up
      std::vector<double> per_image_ms;
      const auto begin = std::chrono::steady_clock::now();
      while (true) {
        const auto t0 = std::chrono::steady_clock::now();
        auto images = g->forward(z);
        const auto t1 = std::chrono::steady_clock::now();
        per_image_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count() / batch);
        if (per_image_ms.size() >= 20 && std::chrono::duration<double>(t1 - begin).count() >= seconds) break;
      }
      std::sort(per_image_ms.begin(), per_image_ms.end());
      char line[256];
      std::snprintf(line, sizeof line,
                    "%s{\"threads\": %d, \"batch\": %d, \"calls\": %zu, \"p50_ms\": %.6f, \"p99_ms\": %.6f}",
                    cases.empty() ? "" : ", ", t, batch, per_image_ms.size(), Quantile(per_image_ms, 0.5),
                    Quantile(per_image_ms, 0.99));
      cases += line;
    }
  }
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("{\"model\": \"%s\", \"runtime\": \"libtorch %d.%d\", \"weights\": \"float32\", \"file_bytes\": %lld, "
              "\"weight_bytes\": %lld, \"peak_rss_bytes\": %lld, \"cases\": [%s]}\n",
              model.c_str(), TORCH_VERSION_MAJOR, TORCH_VERSION_MINOR, static_cast<long long>(loaded->info.packed_bytes),
              static_cast<long long>(bitsweep::qgan::FullPrecisionBytes(*g)),
              static_cast<long long>(usage.ru_maxrss) * 1024, cases.c_str());
  return 0;
}
