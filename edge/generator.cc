#include "edge/generator.h"

#include <algorithm>
#include <cstdio>

#include "edge/bsg_file.h"

namespace bitsweep::edge {
namespace {

// A .bsg of a DCGAN is kilobytes to tens of megabytes; a file far beyond
// any architecture the format allows is refused before it is read.
constexpr int64_t kMaxFileBytes = int64_t{4} << 30;

}  // namespace

Generator::Generator(const Options& options, const Kernels& kernels)
    : options_(options), kernels_(kernels), pool_(options.threads) {
  workspaces_.resize(static_cast<size_t>(pool_.threads()));
}

Status Generator::Load(const std::string& path, const Options& options, std::unique_ptr<Generator>* generator) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return Status::NotFound(path + ": cannot open packed generator");
  std::vector<uint8_t> bytes;
  bool ok = std::fseek(f, 0, SEEK_END) == 0;
  const long size = ok ? std::ftell(f) : -1;
  ok = ok && size >= 0 && static_cast<int64_t>(size) <= kMaxFileBytes && std::fseek(f, 0, SEEK_SET) == 0;
  if (ok) {
    bytes.resize(static_cast<size_t>(size));
    ok = std::fread(bytes.data(), 1, bytes.size(), f) == bytes.size();
  }
  std::fclose(f);
  if (!ok && static_cast<int64_t>(size) > kMaxFileBytes) {
    return Status::Corruption(path + ": " + std::to_string(size) + " bytes is not a packed generator");
  }
  if (!ok) return Status::IoError(path + ": cannot read");
  return LoadFromMemory(bytes.data(), bytes.size(), path, options, generator);
}

Status Generator::LoadFromMemory(const uint8_t* data, size_t size, const std::string& name, const Options& options,
                                 std::unique_ptr<Generator>* generator) {
  if (data == nullptr && size > 0) return Status::InvalidArgument(name + ": no data");
  if (options.threads < 1 || options.threads > 256) {
    return Status::InvalidArgument("threads " + std::to_string(options.threads) + " is outside 1..256");
  }
  std::unique_ptr<Generator> g(new Generator(options, KernelsFor(options.isa)));
  BITSWEEP_EDGE_RETURN_IF_ERROR(g->Build(data, size, name));
  *generator = std::move(g);
  return Status::Ok();
}

Status Generator::Build(const uint8_t* data, size_t size, const std::string& name) {
  BsgFile file;
  ParseOptions parse;
  parse.verify_checksum = options_.verify_checksum;
  BITSWEEP_EDGE_RETURN_IF_ERROR(ParseBsg(data, size, name, &file, parse));
  info_.arch = file.arch;
  info_.method = file.method;
  info_.bits = file.bits;
  info_.file_bytes = static_cast<int64_t>(size);
  info_.full_precision_bytes = file.full_precision_bytes;
  info_.kernels = kernels_.name;

  const std::vector<LayerShape> shapes = GeneratorLayers(file.arch);
  int64_t per_image = 0;  // activation floats per image, the largest layer's input + output
  for (size_t i = 0; i < shapes.size(); ++i) {
    const bool output = i + 1 == shapes.size();
    Layer layer;
    BITSWEEP_EDGE_RETURN_IF_ERROR(BuildLayer(file, shapes[i], output, kernels_.nr, options_.weights, name, &layer));
    info_.layer_bits.emplace_back(shapes[i].name, layer.bits);
    info_.file_bits.push_back(file.Find(shapes[i].name + ".weight")->bits);
    const LayerShape& s = shapes[i];
    per_image = std::max<int64_t>(per_image, int64_t{s.in_size} * s.in_size * s.cin + int64_t{s.out_size} * s.out_size * s.cout);
    layers_.push_back(std::move(layer));
  }
  chunk_ = static_cast<int>(std::clamp<int64_t>(options_.activation_budget_bytes / (per_image * 4), 1, 1 << 20));
  zeros_.assign(static_cast<size_t>(kKc), 0.0f);
  return Status::Ok();
}

int64_t Generator::image_floats() const {
  return int64_t{info_.arch.channels} * info_.arch.image_size * info_.arch.image_size;
}

int64_t Generator::weight_bytes() const {
  int64_t bytes = 0;
  for (const Layer& layer : layers_) bytes += layer.held_bytes();
  return bytes;
}

Status Generator::Generate(const float* latents, int64_t n, float* images) {
  if (n < 1) return Status::InvalidArgument("a batch needs at least one latent vector, got " + std::to_string(n));
  if (latents == nullptr || images == nullptr) return Status::InvalidArgument("Generate: null latents or images");
  for (int64_t start = 0; start < n; start += chunk_) {
    const int m = static_cast<int>(std::min<int64_t>(chunk_, n - start));
    RunChunk(latents + start * info_.arch.nz, m, images + start * image_floats());
  }
  return Status::Ok();
}

void Generator::RunChunk(const float* latents, int images, float* out) {
  size_t largest = 0;
  for (const Layer& layer : layers_) {
    const LayerShape& s = layer.shape;
    if (!layer.output) largest = std::max(largest, static_cast<size_t>(images) * s.out_size * s.out_size * s.cout);
  }
  if (ping_.size() < largest) {
    ping_.resize(largest);
    pong_.resize(largest);
  }
  const float* x = latents;  // [images][1][1][nz]: NHWC already
  for (size_t i = 0; i + 1 < layers_.size(); ++i) {
    const Layer& layer = layers_[i];
    float* y = i % 2 == 0 ? ping_.data() : pong_.data();
    const LayerPlan plan = PlanLayer(layer, kernels_, images, pool_.threads());
    pool_.ParallelFor(plan.tasks(), [&](int task, int thread) {
      RunHiddenTask(layer, kernels_, plan, task, x, images, y, zeros_.data(), &workspaces_[thread]);
    });
    x = y;
  }
  const Layer& last = layers_.back();
  const float* weights = OutputWeights(last, &workspaces_[0]);
  const LayerPlan plan = PlanLayer(last, kernels_, images, pool_.threads());
  pool_.ParallelFor(plan.tasks(), [&](int task, int thread) {
    RunOutputTask(last, kernels_, plan, task, weights, x, images, out, &workspaces_[thread]);
  });
}

}  // namespace bitsweep::edge
