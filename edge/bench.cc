#include "edge/bench.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>

#include "edge/latents.h"

namespace bitsweep::edge {
namespace {

std::string CpuName() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown CPU";
}

// The value at quantile q of sorted `v`, interpolated between neighbours.
double Quantile(const std::vector<double>& v, double q) {
  const double at = q * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(at);
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (at - static_cast<double>(lo));
}

// `text` as a JSON string literal.
std::string Quote(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

struct Case {
  int threads = 1;
  int batch = 1;
  int calls = 0;
  double p50_ms = 0, p99_ms = 0;
};

}  // namespace

int64_t PeakResidentBytes() {
  struct rusage usage {};
  if (getrusage(RUSAGE_SELF, &usage) != 0) return 0;
  return static_cast<int64_t>(usage.ru_maxrss) * 1024;  // Linux reports KiB
}

int RunBench(const BenchOptions& options) {
  std::vector<Case> cases;
  int64_t weight_bytes = 0;
  ModelInfo info;
  for (int threads : options.threads) {
    Options runtime = options.runtime;
    runtime.threads = threads;
    std::unique_ptr<Generator> g;
    Status s = Generator::Load(options.model_path, runtime, &g);
    if (!s.ok()) {
      std::fprintf(stderr, "error: %s\n", s.message().c_str());
      return 1;
    }
    weight_bytes = g->weight_bytes();
    info = g->info();
    for (int batch : options.batches) {
      std::vector<float> z(static_cast<size_t>(batch) * info.arch.nz);
      std::vector<float> images(static_cast<size_t>(batch * g->image_floats()));
      DrawLatents(1, batch, info.arch.nz, z.data());
      s = g->Generate(z.data(), batch, images.data());  // warm-up: buffers, caches, threads
      if (!s.ok()) {
        std::fprintf(stderr, "error: %s\n", s.message().c_str());
        return 1;
      }
      std::vector<double> per_image_ms;
      const auto begin = std::chrono::steady_clock::now();
      while (true) {
        const auto t0 = std::chrono::steady_clock::now();
        g->Generate(z.data(), batch, images.data());
        const auto t1 = std::chrono::steady_clock::now();
        per_image_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count() / batch);
        const double elapsed = std::chrono::duration<double>(t1 - begin).count();
        if (static_cast<int>(per_image_ms.size()) >= options.min_calls && elapsed >= options.seconds) break;
      }
      std::sort(per_image_ms.begin(), per_image_ms.end());
      cases.push_back({threads, batch, static_cast<int>(per_image_ms.size()), Quantile(per_image_ms, 0.5),
                       Quantile(per_image_ms, 0.99)});
    }
  }
  const int64_t peak = PeakResidentBytes();
  std::string layers;
  for (const auto& [name, bits] : info.layer_bits) layers += (layers.empty() ? "" : " ") + name + ":" + std::to_string(bits);
  if (options.json) {
    std::printf("{\"model\": %s, \"arch\": {\"image_size\": %d, \"channels\": %d, \"nz\": %d, \"ngf\": %d}, "
                "\"method\": %s, \"bits\": %d, \"weights\": \"%s\", \"kernels\": \"%s\", \"cpu\": %s, "
                "\"file_bytes\": %lld, \"weight_bytes\": %lld, \"peak_rss_bytes\": %lld, \"cases\": [",
                Quote(options.model_path).c_str(), info.arch.image_size, info.arch.channels, info.arch.nz, info.arch.ngf,
                Quote(info.method).c_str(), info.bits, options.runtime.weights == WeightMode::kPacked ? "packed" : "float32",
                info.kernels, Quote(CpuName()).c_str(), static_cast<long long>(info.file_bytes),
                static_cast<long long>(weight_bytes), static_cast<long long>(peak));
    for (size_t i = 0; i < cases.size(); ++i) {
      std::printf("%s{\"threads\": %d, \"batch\": %d, \"calls\": %d, \"p50_ms\": %.6f, \"p99_ms\": %.6f}",
                  i ? ", " : "", cases[i].threads, cases[i].batch, cases[i].calls, cases[i].p50_ms, cases[i].p99_ms);
    }
    std::printf("]}\n");
    return 0;
  }
  std::printf("model     %s: dcgan%d, %d channel(s), nz %d, ngf %d, %s %d-bit (layers %s)\n",
              options.model_path.c_str(), info.arch.image_size, info.arch.channels, info.arch.nz, info.arch.ngf,
              info.method.c_str(), info.bits, layers.c_str());
  std::printf("machine   %s, kernels %s\n", CpuName().c_str(), info.kernels);
  std::printf("weights   %lld bytes held (%s; file %lld bytes)\n", static_cast<long long>(weight_bytes),
              options.runtime.weights == WeightMode::kPacked ? "packed" : "decoded to float32 at load",
              static_cast<long long>(info.file_bytes));
  std::printf("%-8s %-6s %-6s %14s %14s\n", "threads", "batch", "calls", "p50 ms/image", "p99 ms/image");
  for (const Case& c : cases) {
    std::printf("%-8d %-6d %-6d %14.4f %14.4f\n", c.threads, c.batch, c.calls, c.p50_ms, c.p99_ms);
  }
  std::printf("peak RSS  %.1f MiB (the whole process)\n", static_cast<double>(peak) / (1 << 20));
  return 0;
}

}  // namespace bitsweep::edge
