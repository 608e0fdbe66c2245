// The edge runtime's public API: load a packed generator (.bsg), make images.
//
//   bitsweep::edge::Options options;           // packed weights, 1 thread, best kernels
//   std::unique_ptr<bitsweep::edge::Generator> g;
//   auto s = bitsweep::edge::Generator::Load("generator.bsg", options, &g);
//   std::vector<float> z(n * g->info().arch.nz), images(n * g->image_floats());
//   bitsweep::edge::DrawLatents(seed, n, g->info().arch.nz, z.data());
//   s = g->Generate(z.data(), n, images.data());   // NCHW, in [-1, 1]
//
// C++17 and the standard library only: no LibTorch, nothing else of bitsweep.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "edge/architecture.h"
#include "edge/conv_layer.h"
#include "edge/kernels/kernels.h"
#include "edge/layer.h"
#include "edge/status.h"
#include "edge/thread_pool.h"

namespace bitsweep::edge {

struct Options {
  /// kPacked keeps packed layers packed (the point of the runtime);
  /// kFloat32 decodes them at load (to see what decoding costs).
  WeightMode weights = WeightMode::kPacked;
  /// Threads per Generate call, the caller's included.
  int threads = 1;
  /// Kernels: kAuto is the best this CPU runs.
  Isa isa = Isa::kAuto;
  /// Activation memory per Generate chunk: a large batch runs in chunks of
  /// as many images as fit (at least one). 1 MiB keeps a chunk's layer input
  /// and output within a core's L2 cache and the process small; the weights'
  /// tiles are decoded once per chunk (21 images of the demo's generator).
  int64_t activation_budget_bytes = int64_t{1} << 20;
  /// Check the payload's CRC-32. Off only where the bytes were checked
  /// otherwise (the fuzz target, to reach the checks behind it).
  bool verify_checksum = true;
};

/// What was loaded.
struct ModelInfo {
  Arch arch;
  /// The header's quantization: method name and nominal bits.
  std::string method;
  int bits = 32;
  /// Per layer, input to output: its name and the bits it is held at (32:
  /// float).
  std::vector<std::pair<std::string, int>> layer_bits;
  /// Per layer, the bits the file stores it at (32: float32).
  std::vector<int> file_bits;
  int64_t file_bytes = 0;
  int64_t full_precision_bytes = 0;
  /// Kernels in use.
  const char* kernels = "";
};

class Generator {
 public:
  /// Reads and checks `path`. A damaged, truncated or hostile file gives a
  /// Corruption status naming the file and the problem.
  static Status Load(const std::string& path, const Options& options, std::unique_ptr<Generator>* generator);
  /// The same from `size` bytes in memory (copied what is needed; `name`
  /// stands for the file in error messages).
  static Status LoadFromMemory(const uint8_t* data, size_t size, const std::string& name, const Options& options,
                               std::unique_ptr<Generator>* generator);

  const ModelInfo& info() const { return info_; }
  /// Floats per image: channels * size * size.
  int64_t image_floats() const;
  /// Bytes held for the weights (codes, level tables, folded batch norm,
  /// float layers): what generating needs besides activations and scratch.
  int64_t weight_bytes() const;

  /// images[n][channels][size][size] = G(latents[n][nz]), in [-1, 1]. One
  /// call at a time per Generator.
  Status Generate(const float* latents, int64_t n, float* images);

 private:
  Generator(const Options& options, const Kernels& kernels);
  Status Build(const uint8_t* data, size_t size, const std::string& name);
  void RunChunk(const float* latents, int images, float* out);

  Options options_;
  const Kernels& kernels_;
  ModelInfo info_;
  std::vector<Layer> layers_;
  ThreadPool pool_;
  std::vector<Workspace> workspaces_;
  // Two activation buffers used in turn, and a row of zeros for pixels
  // outside the image.
  std::vector<float> ping_, pong_, zeros_;
  int chunk_ = 1;
};

}  // namespace bitsweep::edge
