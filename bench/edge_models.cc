// The generators the edge benchmark runs: DCGAN-32 (Fashion-MNIST's shape,
// nz 100) at full precision and quantized by EM at 1, 2 and 4 bits, written
// as .bsg files.
//
//   edge_models --out DIR --ngf N [--from TRAINED.bsg] [--seed S]
//
// With --from, a trained full-precision generator is quantized after
// training (PTQ: EM fitted to convergence, batch norm re-estimated on 20
// batches, as examples/demo-ptq.json does); without it, a randomly
// initialised one is (its batch norm measured the same way). Latency and
// memory do not depend on the weights' values.
#include <cstdio>
#include <cstdlib>
#include <string>

#include <torch/torch.h>

#include "qgan/export/packed_generator.h"
#include "qgan/train/post_training.h"

namespace {

using namespace bitsweep;
using namespace bitsweep::qgan;

int Usage() {
  std::fprintf(stderr, "usage: edge_models --out DIR --ngf N [--from TRAINED.bsg] [--seed S]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string out, from;
  int ngf = 0;
  uint64_t seed = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--out") out = value;
    else if (flag == "--ngf") ngf = std::atoi(value.c_str());
    else if (flag == "--from") from = value;
    else if (flag == "--seed") seed = std::strtoull(value.c_str(), nullptr, 10);
    else return Usage();
  }
  if (out.empty() || ngf < 1) return Usage();
  torch::NoGradGuard no_grad;
  struct Config {
    const char* name;
    QuantMethod method;
    int bits;
  };
  for (const Config& c : {Config{"fp32", QuantMethod::kNone, 32}, Config{"em1", QuantMethod::kEm, 1},
                          Config{"em2", QuantMethod::kEm, 2}, Config{"em4", QuantMethod::kEm, 4}}) {
    DcganOptions arch;
    arch.image_size = 32;
    arch.channels = 1;
    arch.nz = 100;
    arch.ngf = ngf;
    torch::manual_seed(static_cast<int64_t>(seed));
    Generator g(arch);
    if (from.empty()) {
      InitDcganWeights(*g);
    } else if (Status s = LoadGeneratorFromPacked(from, *g); !s.ok()) {
      std::fprintf(stderr, "error: %s\n", s.ToString().c_str());
      return 1;
    }
    QuantSpec spec;
    spec.method = c.method;
    spec.bits = c.bits;
    g->quantizers().Configure(g->layer_names(), spec);
    FitQuantizersToConvergence(*g);
    RecalibrateBatchNorm(*g, 20, 64, seed, torch::kCPU);
    const std::string path = out + "/" + c.name + ".bsg";
    auto written = WritePackedGenerator(*g, path);
    if (!written.ok()) {
      std::fprintf(stderr, "error: %s\n", written.status().ToString().c_str());
      return 1;
    }
    std::printf("%s: %lld bytes (float32 generator %lld bytes)\n", path.c_str(),
                static_cast<long long>(written->packed_bytes), static_cast<long long>(written->full_precision_bytes));
  }
  return 0;
}
