// bitsweep-edge: a packed generator on a device, without LibTorch.
//
//   bitsweep-edge generate MODEL.bsg [-n 64] [--seed 1] [-o grid.png]
//                 [--raw images.npy] [--latents z.npy] [--latents-out z.npy]
//   bitsweep-edge bench MODEL.bsg [--threads 1,2] [--batch 1,64]
//   bitsweep-edge info MODEL.bsg
//
// Options shared by all: --threads N, --float32 (decode weights at load),
// --isa auto|scalar|vec128|avx2|avx512. main() only parses flags.
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "edge/bench.h"
#include "edge/generator.h"
#include "edge/grid.h"
#include "edge/latents.h"
#include "edge/npy.h"
#include "edge/png.h"

namespace {

using namespace bitsweep::edge;

constexpr int kExitOk = 0, kExitFailure = 1, kExitUsage = 2;

const char kUsage[] =
    "usage: bitsweep-edge COMMAND MODEL.bsg [options]\n"
    "\n"
    "commands:\n"
    "  generate   images from the packed generator\n"
    "               -n N                 images (default 64; or as many as --latents holds)\n"
    "               --seed S             seed of the runtime's latent generator (default 1)\n"
    "               --latents FILE.npy   latent vectors [N, nz] instead (float32 or float64)\n"
    "               --latents-out FILE   write the latents used (.npy, float32)\n"
    "               -o, --out FILE.png   the images as a grid (default samples.png unless --raw)\n"
    "               --raw FILE.npy       the images as float32 [N, C, H, W] in [-1, 1]\n"
    "  bench      weight bytes held, latency per image (p50, p99), peak resident memory\n"
    "               --threads LIST       default 1,2\n"
    "               --batch LIST         default 1,64\n"
    "               --seconds S          timed seconds per case (default 1)\n"
    "               --json               one JSON object\n"
    "  info       what the file holds\n"
    "\n"
    "options:\n"
    "  --threads N      threads (generate; default 1)\n"
    "  --float32        decode the weights to float32 at load instead of keeping them packed\n"
    "  --isa NAME       kernels: auto (default), scalar, vec128, avx2, avx512\n";

int Usage(const std::string& problem) {
  std::fprintf(stderr, "bitsweep-edge: %s\n\n%s", problem.c_str(), kUsage);
  return kExitUsage;
}

bool ParseInt(const std::string& text, long long lo, long long hi, long long* out) {
  if (text.empty()) return false;
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (*end != '\0' || errno != 0 || v < lo || v > hi) return false;
  *out = v;
  return true;
}

// A seed: any 64-bit unsigned value (the browser draws them at random).
bool ParseSeed(const std::string& text, unsigned long long* out) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) return false;
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  if (*end != '\0' || errno != 0) return false;
  *out = v;
  return true;
}

bool ParseList(const std::string& text, int lo, int hi, std::vector<int>* out) {
  out->clear();
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    long long v = 0;
    if (!ParseInt(text.substr(start, comma - start), lo, hi, &v)) return false;
    out->push_back(static_cast<int>(v));
    start = comma + 1;
  }
  return !out->empty();
}

int Fail(const Status& s) {
  std::fprintf(stderr, "error: %s\n", s.message().c_str());
  return s.code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailure;
}

struct Flags {
  std::string command, model;
  Options runtime;
  long long count = -1;
  unsigned long long seed = 1;
  std::string latents_in, latents_out, out_png, raw;
  BenchOptions bench;
};

int RunGenerate(const Flags& f) {
  std::unique_ptr<Generator> g;
  Status s = Generator::Load(f.model, f.runtime, &g);
  if (!s.ok()) return Fail(s);
  const int nz = g->info().arch.nz;
  std::vector<float> z;
  int64_t n = f.count < 0 ? 64 : f.count;
  if (!f.latents_in.empty()) {
    NpyArray array;
    s = ReadNpy(f.latents_in, &array);
    if (!s.ok()) return Fail(s);
    if (array.shape.size() != 2 || array.shape[1] != nz || array.shape[0] < 1) {
      return Fail(Status::InvalidArgument(f.latents_in + ": latents must be [N, " + std::to_string(nz) +
                                          "] for this generator"));
    }
    if (f.count >= 0 && f.count != array.shape[0]) {
      return Fail(Status::InvalidArgument("-n " + std::to_string(f.count) + " but " + f.latents_in + " holds " +
                                          std::to_string(array.shape[0]) + " latent vectors"));
    }
    n = array.shape[0];
    z = std::move(array.values);
  } else {
    z.resize(static_cast<size_t>(n) * nz);
    DrawLatents(f.seed, n, nz, z.data());
  }
  std::vector<float> images(static_cast<size_t>(n * g->image_floats()));
  s = g->Generate(z.data(), n, images.data());
  if (!s.ok()) return Fail(s);
  if (!f.latents_out.empty()) {
    s = WriteNpy(f.latents_out, {n, nz}, z.data());
    if (!s.ok()) return Fail(s);
  }
  const int size = g->info().arch.image_size, channels = g->info().arch.channels;
  if (!f.raw.empty()) {
    s = WriteNpy(f.raw, {n, channels, size, size}, images.data());
    if (!s.ok()) return Fail(s);
  }
  const std::string png = !f.out_png.empty() ? f.out_png : (f.raw.empty() ? "samples.png" : "");
  if (!png.empty()) {
    s = WritePng(png, MakeGrid(images.data(), n, channels, size));
    if (!s.ok()) return Fail(s);
  }
  std::printf("generated %lld image(s) from %s (%s, weights %s, %lld bytes held)%s%s%s%s\n",
              static_cast<long long>(n), f.model.c_str(), g->info().kernels,
              f.runtime.weights == WeightMode::kPacked ? "packed" : "float32",
              static_cast<long long>(g->weight_bytes()), png.empty() ? "" : ": ", png.c_str(),
              f.raw.empty() ? "" : (png.empty() ? ": " : ", "), f.raw.c_str());
  return kExitOk;
}

int RunInfo(const Flags& f) {
  std::unique_ptr<Generator> g;
  Status s = Generator::Load(f.model, f.runtime, &g);
  if (!s.ok()) return Fail(s);
  const ModelInfo& info = g->info();
  std::printf("%s: dcgan%d, %d channel(s), nz %d, ngf %d\n", f.model.c_str(), info.arch.image_size,
              info.arch.channels, info.arch.nz, info.arch.ngf);
  std::printf("quantization: %s, %d bit(s) nominal\n", info.method.c_str(), info.bits);
  for (size_t i = 0; i < info.layer_bits.size(); ++i) {
    const int bits = info.file_bits[i];
    std::printf("  %-6s %s\n", info.layer_bits[i].first.c_str(),
                bits == 32 ? "float32" : (std::to_string(bits) + "-bit packed").c_str());
  }
  std::printf("file %lld bytes, float32 generator %lld bytes, held %lld bytes (%s), kernels %s\n",
              static_cast<long long>(info.file_bytes), static_cast<long long>(info.full_precision_bytes),
              static_cast<long long>(g->weight_bytes()),
              f.runtime.weights == WeightMode::kPacked ? "packed" : "float32", info.kernels);
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "-h" || args[0] == "--help") {
    std::printf("%s", kUsage);
    return args.empty() ? kExitUsage : kExitOk;
  }
  Flags f;
  f.command = args[0];
  if (f.command != "generate" && f.command != "bench" && f.command != "info") {
    return Usage("unknown command \"" + f.command + "\"");
  }
  bool threads_given = false;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= args.size()) return false;
      *out = args[++i];
      return true;
    };
    std::string v;
    long long n = 0;
    if (a == "--float32") {
      f.runtime.weights = WeightMode::kFloat32;
    } else if (a == "--json") {
      f.bench.json = true;
    } else if (a == "--isa") {
      if (!value(&v) || !ParseIsa(v, &f.runtime.isa)) return Usage("--isa needs auto, scalar, vec128, avx2 or avx512");
    } else if (a == "--threads") {
      if (!value(&v) || !ParseList(v, 1, 256, &f.bench.threads)) return Usage("--threads needs a number (1..256)");
      f.runtime.threads = f.bench.threads[0];
      threads_given = true;
    } else if (a == "--batch") {
      if (!value(&v) || !ParseList(v, 1, 4096, &f.bench.batches)) return Usage("--batch needs numbers within 1..4096");
    } else if (a == "--seconds") {
      if (!value(&v) || !ParseInt(v, 0, 3600, &n)) return Usage("--seconds needs whole seconds (0..3600)");
      f.bench.seconds = static_cast<double>(n);
    } else if (a == "-n" || a == "--count") {
      if (!value(&v) || !ParseInt(v, 1, 1 << 20, &f.count)) return Usage("-n needs a number within 1..1048576");
    } else if (a == "--seed") {
      if (!value(&v) || !ParseSeed(v, &f.seed)) return Usage("--seed needs a whole number within 0..2^64-1");
    } else if (a == "--latents") {
      if (!value(&f.latents_in)) return Usage("--latents needs a file");
    } else if (a == "--latents-out") {
      if (!value(&f.latents_out)) return Usage("--latents-out needs a file");
    } else if (a == "-o" || a == "--out") {
      if (!value(&f.out_png)) return Usage("-o needs a file");
    } else if (a == "--raw") {
      if (!value(&f.raw)) return Usage("--raw needs a file");
    } else if (!a.empty() && a[0] == '-') {
      return Usage("unknown option " + a);
    } else if (f.model.empty()) {
      f.model = a;
    } else {
      return Usage("unexpected argument " + a);
    }
  }
  if (f.model.empty()) return Usage("which model? give a .bsg file");
  if (f.command == "generate") {
    if (threads_given && f.bench.threads.size() != 1) return Usage("generate takes one --threads value");
    return RunGenerate(f);
  }
  if (f.command == "info") return RunInfo(f);
  f.bench.model_path = f.model;
  f.bench.runtime = f.runtime;
  return RunBench(f.bench);
}
