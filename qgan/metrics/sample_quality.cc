#include "qgan/metrics/sample_quality.h"

#include <unistd.h>

#include <ATen/CPUGeneratorImpl.h>
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <thread>
#include <torch/torch.h>

#include "common/hash.h"
#include "qgan/data/dataset.h"
#include "qgan/metrics/inception_score.h"
#include "qgan/metrics/kid.h"
#include "qgan/metrics/sampling_error.h"

namespace bitsweep::qgan {
namespace {

constexpr int64_t kBatch = 500;

bool Wants(const std::vector<std::string>& metrics, const char* name) {
  return std::find(metrics.begin(), metrics.end(), name) != metrics.end();
}

// Runs `evaluator` over `count` images produced batch by batch by `images`.
Result<EvaluatorOutput> EvaluateInBatches(Evaluator& evaluator, int64_t count, bool with_probabilities,
                                          const std::function<torch::Tensor(int64_t, int64_t)>& images) {
  std::vector<torch::Tensor> features, probabilities;
  for (int64_t begin = 0; begin < count; begin += kBatch) {
    const int64_t n = std::min(kBatch, count - begin);
    BITSWEEP_ASSIGN_OR_RETURN(EvaluatorOutput out, evaluator.Evaluate(images(begin, n), with_probabilities));
    features.push_back(out.features);
    if (with_probabilities) probabilities.push_back(out.probabilities);
  }
  EvaluatorOutput all;
  all.features = torch::cat(features);
  if (with_probabilities) all.probabilities = torch::cat(probabilities);
  return all;
}

}  // namespace

std::string DefaultCacheDir() {
  if (const char* dir = std::getenv("BITSWEEP_CACHE_DIR"); dir && *dir) return dir;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return std::string(xdg) + "/bitsweep";
  if (const char* home = std::getenv("HOME"); home && *home) return std::string(home) + "/.cache/bitsweep";
  return (std::filesystem::temp_directory_path() / "bitsweep-cache").string();
}

std::string ReferenceKey(const DatasetSpec& d, const Evaluator& evaluator) {
  nlohmann::json key = {{"name", d.name},   {"root", d.root},       {"split", d.split},
                        {"size", d.image_size}, {"limit", d.limit}, {"evaluator", evaluator.name()},
                        {"evaluator_hash", evaluator.hash()}};
  return Fnv1a64Hex(key.dump());
}

Result<ReferenceFeatures> LoadOrComputeReference(const DatasetSpec& dataset, Evaluator& evaluator,
                                                 const std::string& cache_dir) {
  ReferenceFeatures ref;
  const std::string key = ReferenceKey(dataset, evaluator);
  ref.cache_path = (std::filesystem::path(cache_dir) / ("reference-" + key + ".pt")).string();
  if (std::filesystem::exists(ref.cache_path)) {
    try {
      torch::serialize::InputArchive archive;
      archive.load_from(ref.cache_path);
      c10::IValue stored_key;
      archive.read("key", stored_key);
      if (stored_key.toStringRef() == key) {
        archive.read("features", ref.features);
        ref.stats = ComputeStats(ref.features);
        ref.from_cache = true;
        return ref;
      }
    } catch (const c10::Error&) {
      // An unreadable cache entry is recomputed and overwritten below.
    }
  }
  BITSWEEP_ASSIGN_OR_RETURN(auto data, OpenDataset(dataset));
  BITSWEEP_ASSIGN_OR_RETURN(
      EvaluatorOutput out,
      EvaluateInBatches(evaluator, data->size(), false, [&](int64_t begin, int64_t n) {
        return data->Batch(torch::arange(begin, begin + n));
      }));
  ref.features = out.features.to(torch::kFloat32).contiguous();
  ref.stats = ComputeStats(ref.features);

  std::error_code ec;
  std::filesystem::create_directories(cache_dir, ec);
  try {
    torch::serialize::OutputArchive archive;
    archive.write("key", c10::IValue(key));
    archive.write("features", ref.features);
    // Workers on one machine may compute the same reference at once: each
    // writes its own temporary file and the rename is atomic.
    std::string tmp = ref.cache_path + ".tmp." + std::to_string(getpid()) + "." +
                      std::to_string(std::hash<std::thread::id>{}(std::this_thread::get_id()));
    archive.save_to(tmp);
    std::filesystem::rename(tmp, ref.cache_path, ec);
  } catch (const c10::Error&) {
    // Caching is an optimisation; an unwritable cache only costs time.
  }
  return ref;
}

torch::Tensor EvalLatents(const JobSpec& spec) {
  auto noise = at::make_generator<at::CPUGeneratorImpl>(spec.eval.noise_seed);
  // Drawn batch by batch, as Measure consumes them: randn's Box-Muller works
  // in blocks of 16 values, so one large draw could differ from the batched
  // draws that earlier versions made (see kDefaultEvalNoiseSeed).
  std::vector<torch::Tensor> batches;
  for (int64_t begin = 0; begin < spec.eval.num_samples; begin += kBatch) {
    batches.push_back(torch::randn({std::min(kBatch, spec.eval.num_samples - begin), spec.model.nz}, noise));
  }
  return torch::cat(batches);
}

Result<std::unique_ptr<SampleQuality>> SampleQuality::Create(const JobSpec& spec, const torch::Device& device,
                                                             const std::string& cache_dir) {
  std::unique_ptr<SampleQuality> quality(new SampleQuality(spec, device));
  BITSWEEP_ASSIGN_OR_RETURN(quality->evaluator_, LoadEvaluator(spec.eval.evaluator, device));
  BITSWEEP_ASSIGN_OR_RETURN(quality->reference_,
                            LoadOrComputeReference(spec.dataset, *quality->evaluator_, cache_dir));
  return quality;
}

Result<std::vector<MetricValue>> SampleQuality::Measure(GeneratorImpl& generator, int64_t step) {
  const bool was_training = generator.is_training();
  generator.eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor latents = EvalLatents(spec_);
  auto scores = Score(spec_.eval.num_samples, step, [&](int64_t begin, int64_t n) {
    return generator.forward(latents.narrow(0, begin, n).to(device_));
  });
  if (was_training) generator.train();
  return scores;
}

Result<std::vector<MetricValue>> SampleQuality::MeasureRealImages(const DatasetSpec& dataset) {
  BITSWEEP_ASSIGN_OR_RETURN(auto data, OpenDataset(dataset));
  const int64_t count = spec_.eval.num_samples;
  if (data->size() < count) {
    return Status::InvalidArgument("the " + dataset.split + " split of " + dataset.name + " has " +
                                   std::to_string(data->size()) + " images, fewer than eval.num_samples (" +
                                   std::to_string(count) + ")");
  }
  torch::NoGradGuard no_grad;
  // The first num_samples images: reproducible, and the dataset files are
  // already in random order.
  return Score(count, 0, [&](int64_t begin, int64_t n) {
    return data->Batch(torch::arange(begin, begin + n)).to(device_);
  });
}

Result<std::vector<MetricValue>> SampleQuality::Score(int64_t count, int64_t step,
                                                      const std::function<torch::Tensor(int64_t, int64_t)>& images) {
  const bool want_is = Wants(spec_.eval.metrics, "is");
  BITSWEEP_ASSIGN_OR_RETURN(EvaluatorOutput generated, EvaluateInBatches(*evaluator_, count, want_is, images));

  std::vector<MetricValue> values;
  auto add = [&](const char* metric, double value, std::optional<double> spread) {
    MetricValue v;
    v.metric = metric;
    v.value = value;
    v.std = spread;
    v.step = step;
    v.n_samples = count;
    v.evaluator = evaluator_->name();
    v.evaluator_hash = evaluator_->hash();
    values.push_back(v);
  };
  // `std` is the standard error with respect to the generated sample, not
  // the spread over IS splits or KID subsets that the reference tools print
  // (that spread says how the pieces differ, not how far the value is from
  // its expectation). FID and IS share one set of resample indices.
  const torch::Tensor resamples = BootstrapIndices(count);
  if (Wants(spec_.eval.metrics, "fid")) {
    add("fid", FrechetDistance(ComputeStats(generated.features), reference_.stats),
        FidStandardError(generated.features, reference_.stats, resamples));
  }
  if (want_is) {
    add("is", InceptionScore(generated.probabilities).mean,
        InceptionScoreStandardError(generated.probabilities, resamples));
  }
  if (Wants(spec_.eval.metrics, "kid")) {
    add("kid", KernelInceptionDistance(generated.features, reference_.features).mean,
        KidBlockStandardError(generated.features, reference_.features));
  }
  return values;
}

}  // namespace bitsweep::qgan
