#include "qgan/train/random_stream.h"

#include <ATen/CPUGeneratorImpl.h>
#include <mutex>
#include <torch/torch.h>

namespace bitsweep::qgan {

RandomStream::RandomStream(uint64_t seed, int64_t dataset_size, int64_t batch_size)
    : generator_(at::make_generator<at::CPUGeneratorImpl>(seed)),
      dataset_size_(dataset_size),
      batch_size_(std::min(batch_size, dataset_size)) {}

torch::Tensor RandomStream::NextBatchIndices() {
  if (!permutation_.defined() || cursor_ + batch_size_ > dataset_size_) {
    permutation_ = torch::randperm(dataset_size_, generator_, torch::kInt64);
    cursor_ = 0;
  }
  auto batch = permutation_.narrow(0, cursor_, batch_size_);
  cursor_ += batch_size_;
  return batch;
}

torch::Tensor RandomStream::Normal(at::IntArrayRef shape) { return torch::randn(shape, generator_); }

torch::Tensor RandomStream::Uniform(at::IntArrayRef shape) { return torch::rand(shape, generator_); }

RandomStream::State RandomStream::Save() const {
  State state;
  {
    std::lock_guard<std::mutex> lock(generator_.mutex());
    state.generator = generator_.get_state();
  }
  state.permutation = permutation_.defined() ? permutation_.clone() : torch::empty({0}, torch::kInt64);
  state.cursor = cursor_;
  return state;
}

void RandomStream::Restore(const State& state) {
  {
    std::lock_guard<std::mutex> lock(generator_.mutex());
    generator_.set_state(state.generator);
  }
  permutation_ = state.permutation.numel() > 0 ? state.permutation.clone() : torch::Tensor();
  cursor_ = state.cursor;
}

}  // namespace bitsweep::qgan
