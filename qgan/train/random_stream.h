// RandomStream: every random number a training run draws after
// initialisation (batch order, latent noise, interpolation weights) comes from
// one seeded CPU generator, whose state goes into checkpoints. A resumed run
// therefore draws exactly what the uninterrupted run would have drawn.
#pragma once

#include <ATen/core/Generator.h>
#include <torch/types.h>

namespace bitsweep::qgan {

class RandomStream {
 public:
  /// `dataset_size` items are served in random order, `batch_size` at a time;
  /// a new permutation starts whenever fewer than a batch remain.
  RandomStream(uint64_t seed, int64_t dataset_size, int64_t batch_size);

  /// Indices (int64, CPU) of the next batch of data.
  torch::Tensor NextBatchIndices();
  /// Standard normal noise of `shape` (CPU float).
  torch::Tensor Normal(at::IntArrayRef shape);
  /// Uniform [0, 1) of `shape` (CPU float).
  torch::Tensor Uniform(at::IntArrayRef shape);

  /// Everything needed to continue the stream: generator state, current
  /// permutation, position in it.
  struct State {
    torch::Tensor generator;
    torch::Tensor permutation;
    int64_t cursor = 0;
  };
  State Save() const;
  void Restore(const State& state);

 private:
  mutable at::Generator generator_;  // mutable: reading its state takes its lock
  int64_t dataset_size_;
  int64_t batch_size_;
  torch::Tensor permutation_;
  int64_t cursor_ = 0;
};

}  // namespace bitsweep::qgan
