#include "qgan/train/trainer.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "common/hash.h"
#include "qgan/data/dataset.h"
#include "qgan/export/image_grid.h"
#include "qgan/export/packed_generator.h"
#include "qgan/metrics/sample_quality.h"
#include "qgan/train/gan.h"
#include "qgan/train/post_training.h"
#include "qgan/train/train_step.h"

namespace bitsweep::qgan {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kGridSamples = 64;
constexpr uint64_t kGridNoiseSeedOffset = 0x9e3779b97f4a7c15ull;
// The distortion proxy's latents follow the sweep's evaluation latents
// (eval.noise_seed), so every job of a sweep measures on the same batch.
constexpr uint64_t kDistortionSeedOffset = 0x64697374726e2131ull;

Result<torch::Device> ResolveDevice(const std::string& name) {
  if (name == "auto") return torch::cuda::is_available() ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  if (name == "cpu") return torch::Device(torch::kCPU);
  if (!torch::cuda::is_available()) {
    return Status::FailedPrecondition("runtime.device: " + name + " requested, but LibTorch sees no CUDA device");
  }
  int index = name == "cuda" ? 0 : std::stoi(name.substr(5));
  if (index >= static_cast<int>(torch::cuda::device_count())) {
    return Status::FailedPrecondition("runtime.device: " + name + " does not exist (" +
                                      std::to_string(torch::cuda::device_count()) + " CUDA devices)");
  }
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
}

int ResolveThreads(int requested) {
  if (requested > 0) return requested;
  unsigned cores = std::thread::hardware_concurrency();
  return cores > 0 ? static_cast<int>(cores) : 1;
}

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

Status WriteJson(const std::string& path, const nlohmann::json& json) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!(out << json.dump(2) << "\n") || !out.flush()) return Status::IoError(tmp + ": cannot write");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return Status::IoError(path + ": cannot rename " + tmp);
  return Status::Ok();
}

nlohmann::json StatsJson(const std::vector<LevelStats>& stats) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& s : stats) out.push_back(s.ToJson());
  return out;
}

// Every convolution of `g` with its width and its bytes in the packed file
// (`header`): what per-layer widths cost, layer by layer.
nlohmann::json LayerBytes(GeneratorImpl& g, const nlohmann::json& header) {
  std::map<std::string, int64_t> bytes;
  for (const auto& t : header.value("tensors", nlohmann::json::array())) {
    bytes[t.value("name", "")] = t.value("bytes", int64_t{0});
  }
  nlohmann::json layers = nlohmann::json::array();
  for (size_t i = 0; i < g.layer_names().size(); ++i) {
    const LayerQuant q = g.quantizers().LayerSpec(i);
    layers.push_back({{"layer", g.layer_names()[i]},
                      {"method", QuantMethodName(q.method)},
                      {"bits", q.bits},
                      {"bytes", bytes[g.layer_names()[i] + ".weight"]}});
  }
  return layers;
}

// One run of the training loop; everything LibTorch may throw stays inside.
class TrainingRun {
 public:
  TrainingRun(const JobSpec& spec, const TrainOptions& options) : spec_(spec), options_(options) {}

  Result<TrainReport> Run();

 private:
  Status Prepare();
  // Task ptq: quantizes the loaded generator as it is, then evaluates and
  // exports it like a trained one.
  Result<TrainReport> RunPostTraining(Clock::time_point start);
  Status LoadStartingWeights(const std::string& path);
  Result<TrainReport> Report(Clock::time_point start, int64_t steps_this_run, double train_seconds_this_run);
  Status Finish(TrainReport* report);
  // Measures sample quality now, records it and returns the new values.
  Result<std::vector<MetricValue>> Evaluate();
  std::string OutPath(const char* name) const { return (std::filesystem::path(options_.out_dir) / name).string(); }

  const JobSpec& spec_;
  const TrainOptions& options_;
  torch::Device device_{torch::kCPU};
  int threads_ = 1;
  std::unique_ptr<Dataset> data_;
  Gan gan_;
  std::unique_ptr<RandomStream> random_;
  std::unique_ptr<SampleQuality> quality_;  // null when the spec has no eval section
  RunState state_;
  int64_t resumed_from_ = 0;
  // Time spent measuring sample quality in this run, kept out of the
  // training time and throughput.
  double eval_seconds_ = 0.0;
  std::string diverged_reason_;
};

Status TrainingRun::Prepare() {
  BITSWEEP_ASSIGN_OR_RETURN(device_, ResolveDevice(spec_.runtime.device));
  threads_ = ResolveThreads(spec_.runtime.threads);
  torch::set_num_threads(threads_);
  std::error_code ec;
  std::filesystem::create_directories(options_.out_dir, ec);
  if (ec) return Status::IoError(options_.out_dir + ": cannot create output folder: " + ec.message());

  BITSWEEP_ASSIGN_OR_RETURN(data_, OpenDataset(spec_.dataset));
  if (data_->size() < 1) return Status::InvalidArgument("dataset: no images in " + data_->description());
  if (spec_.eval.enabled) {
    std::string cache = options_.cache_dir.empty() ? DefaultCacheDir() : options_.cache_dir;
    BITSWEEP_ASSIGN_OR_RETURN(quality_, SampleQuality::Create(spec_, device_, cache));
  }
  gan_ = BuildGan(spec_, data_->channels(), device_);
  random_ = std::make_unique<RandomStream>(spec_.train.seed, data_->size(), spec_.train.batch_size);
  state_.compatibility_key = CheckpointCompatibilityKey(spec_);

  std::string checkpoint = OutPath("checkpoint.pt");
  // Post-training quantization takes seconds: a retry does it again.
  const bool post_training = spec_.task == "ptq";
  if (options_.resume && !post_training && std::filesystem::exists(checkpoint)) {
    BITSWEEP_ASSIGN_OR_RETURN(state_, LoadCheckpoint(checkpoint, state_.compatibility_key, gan_, device_));
    random_->Restore(state_.rng);
    resumed_from_ = state_.step;
    return Status::Ok();
  }
  // A warm start carries the weights and batch-norm statistics over, not the
  // optimizer state: Adam's moments describe the full-precision weights'
  // trajectory, while quantization-aware fine-tuning follows the
  // straight-through gradients of the quantized ones.
  const std::string init = !options_.init_checkpoint.empty() ? options_.init_checkpoint : spec_.train.init_from_file;
  if (init.empty() && spec_.train.init_from_job != 0) {
    return Status::FailedPrecondition("train.init_from_job: " + std::to_string(spec_.train.init_from_job) +
                                      " needs a coordinator to fetch the checkpoint from (or use init_from_file)");
  }
  if (!init.empty()) BITSWEEP_RETURN_IF_ERROR(LoadStartingWeights(init));
  return Status::Ok();
}

Status TrainingRun::LoadStartingWeights(const std::string& path) {
  if (std::filesystem::path(path).extension() != ".bsg") return LoadInitialWeights(path, gan_, device_);
  if (spec_.task != "ptq") {
    return Status::InvalidArgument(path + ": a packed generator has no discriminator to train against; "
                                          "warm-start training from a checkpoint (.pt), or use it with task ptq");
  }
  return LoadGeneratorFromPacked(path, *gan_.generator);
}

Result<TrainReport> TrainingRun::RunPostTraining(Clock::time_point start) {
  auto quantize_start = Clock::now();
  const uint64_t distortion_seed = spec_.eval.noise_seed ^ kDistortionSeedOffset;
  torch::Tensor reference;  // the loaded generator's outputs, before anything is quantized
  if (spec_.ptq.distortion_samples > 0) {
    reference = OutputsAtFullPrecision(*gan_.generator, spec_.ptq.distortion_samples, distortion_seed, device_);
  }
  FitQuantizersToConvergence(*gan_.generator);
  RecalibrateBatchNorm(*gan_.generator, spec_.ptq.bn_batches, spec_.train.batch_size, spec_.train.seed, device_);
  gan_.generator->eval();
  const double quantize_seconds = Seconds(quantize_start);
  if (reference.defined()) {
    MetricValue distortion;
    distortion.metric = "distortion";
    distortion.value = OutputDistortion(*gan_.generator, reference, distortion_seed, device_);
    distortion.step = state_.step;
    distortion.n_samples = spec_.ptq.distortion_samples;
    distortion.evaluator = "output-mse";
    distortion.evaluator_hash = "-";
    state_.metrics.push_back(distortion.ToJson());
  }
  if (quality_) BITSWEEP_RETURN_IF_ERROR(Evaluate().status());
  state_.train_seconds = quantize_seconds;
  state_.rng = random_->Save();
  // The checkpoint holds the quantized model (its fit and re-estimated
  // statistics), so a later job can warm-start from it.
  BITSWEEP_RETURN_IF_ERROR(SaveCheckpoint(OutPath("checkpoint.pt"), gan_, state_));
  return Report(start, /*steps_this_run=*/0, quantize_seconds);
}

Result<TrainReport> TrainingRun::Run() {
  auto start = Clock::now();
  BITSWEEP_RETURN_IF_ERROR(Prepare());
  if (spec_.task == "ptq") return RunPostTraining(start);
  const int64_t total = spec_.train.iterations;
  const int64_t log_every = spec_.train.log_every > 0 ? spec_.train.log_every : std::max<int64_t>(1, total / 100);
  gan_.generator->train();
  gan_.discriminator->train();

  auto train_start = Clock::now();
  const double seconds_before = state_.train_seconds;
  const int64_t step_before = state_.step;
  auto save_checkpoint = [&]() {
    state_.train_seconds = seconds_before + Seconds(train_start) - eval_seconds_;
    state_.rng = random_->Save();
    return SaveCheckpoint(OutPath("checkpoint.pt"), gan_, state_);
  };

  while (state_.step < total) {
    if (options_.cancel != nullptr && options_.cancel->load()) {
      BITSWEEP_RETURN_IF_ERROR(save_checkpoint());
      return Status::Cancelled("training cancelled at step " + std::to_string(state_.step) +
                               "; checkpoint written to " + OutPath("checkpoint.pt"));
    }
    StepLosses losses = TrainIteration(spec_, gan_, *data_, *random_, device_);
    const double d_loss = losses.d_loss, g_loss = losses.g_loss;
    ++state_.step;
    if (!losses.finite()) {
      diverged_reason_ = "non-finite loss at step " + std::to_string(state_.step) + " (d_loss " +
                         std::to_string(d_loss) + ", g_loss " + std::to_string(g_loss) + ")";
      state_.history.push_back({static_cast<double>(state_.step), d_loss, g_loss});
      break;
    }
    if (state_.step % log_every == 0 || state_.step == total) {
      state_.history.push_back({static_cast<double>(state_.step), d_loss, g_loss});
    }
    std::vector<MetricValue> new_metrics;
    if (quality_ && spec_.eval.every > 0 && state_.step % spec_.eval.every == 0 && state_.step < total) {
      BITSWEEP_ASSIGN_OR_RETURN(new_metrics, Evaluate());
    }
    if (options_.on_progress) {
      TrainProgress p;
      p.metrics = std::move(new_metrics);
      p.step = state_.step;
      p.total = total;
      p.d_loss = d_loss;
      p.g_loss = g_loss;
      p.elapsed_seconds = Seconds(train_start) - eval_seconds_;
      p.images_per_second = static_cast<double>((state_.step - step_before) * spec_.train.batch_size *
                                                spec_.train.n_critic) /
                            std::max(1e-9, p.elapsed_seconds);
      options_.on_progress(p);
    }
    if (spec_.train.checkpoint_every > 0 && state_.step % spec_.train.checkpoint_every == 0 && state_.step < total) {
      BITSWEEP_RETURN_IF_ERROR(save_checkpoint());
    }
  }
  const double train_seconds_this_run = Seconds(train_start) - eval_seconds_;
  if (quality_ && diverged_reason_.empty() &&
      (state_.metrics.empty() || state_.metrics.back()["step"].get<int64_t>() != state_.step)) {
    BITSWEEP_RETURN_IF_ERROR(Evaluate().status());
  }
  BITSWEEP_RETURN_IF_ERROR(save_checkpoint());
  return Report(start, state_.step - step_before, train_seconds_this_run);
}

Result<TrainReport> TrainingRun::Report(Clock::time_point start, int64_t steps_this_run,
                                        double train_seconds_this_run) {
  TrainReport report;
  BITSWEEP_RETURN_IF_ERROR(Finish(&report));
  report.result["wall_seconds"] = Seconds(start);
  report.result["train_seconds"] = state_.train_seconds;
  report.result["eval_seconds"] = eval_seconds_;
  report.result["images_per_second"] =
      steps_this_run > 0 ? static_cast<double>(steps_this_run * spec_.train.batch_size * spec_.train.n_critic) /
                               std::max(1e-9, train_seconds_this_run)
                         : 0.0;
  BITSWEEP_RETURN_IF_ERROR(WriteJson(OutPath("result.json"), report.result));
  return report;
}

Result<std::vector<MetricValue>> TrainingRun::Evaluate() {
  auto start = Clock::now();
  BITSWEEP_ASSIGN_OR_RETURN(std::vector<MetricValue> values, quality_->Measure(*gan_.generator, state_.step));
  eval_seconds_ += Seconds(start);
  for (const auto& v : values) state_.metrics.push_back(v.ToJson());
  return values;
}

Status TrainingRun::Finish(TrainReport* report) {
  Generator& g = gan_.generator;
  g->eval();
  torch::NoGradGuard no_grad;

  // The sample grid uses noise of its own seed, so it shows the same latent
  // points for every job of a sweep that shares the seed.
  auto grid_noise = torch::randn({kGridSamples, spec_.model.nz},
                                 at::make_generator<at::CPUGeneratorImpl>(spec_.train.seed ^ kGridNoiseSeedOffset));
  BITSWEEP_RETURN_IF_ERROR(WriteImageGrid(g->forward(grid_noise.to(device_)), OutPath("samples.png")));
  BITSWEEP_ASSIGN_OR_RETURN(PackedGeneratorInfo packed, WritePackedGenerator(*g, OutPath("generator.bsg")));

  nlohmann::json losses = nlohmann::json::array();
  for (const auto& h : state_.history) losses.push_back({{"step", h[0]}, {"d_loss", h[1]}, {"g_loss", h[2]}});
  report->diverged = !diverged_reason_.empty();
  report->result = {
      {"spec", spec_.ToJson()},
      {"status", report->diverged ? "diverged" : "completed"},
      {"steps", state_.step},
      {"resumed_from_step", resumed_from_},
      {"dataset", data_->description()},
      {"device", device_.str()},
      {"threads", threads_},
      {"losses", losses},
      {"quantization",
       {{"g", StatsJson(g->quantizers().Measure(g->layer_weights()))},
        {"d", StatsJson(gan_.discriminator->quantizers().Measure(gan_.discriminator->layer_weights()))}}},
      {"model_bytes",
       {{"generator_fp32", packed.full_precision_bytes},
        {"generator_packed", packed.packed_bytes},
        {"generator_payload", packed.header.value("payload_bytes", int64_t{0})},
        {"generator_layers", LayerBytes(*g, packed.header)},
        {"compression", static_cast<double>(packed.full_precision_bytes) / static_cast<double>(packed.packed_bytes)}}},
      {"artifacts", {{"samples", "samples.png"}, {"generator", "generator.bsg"}, {"checkpoint", "checkpoint.pt"}}},
  };
  if (report->diverged) report->result["diverged_reason"] = diverged_reason_;
  if (!options_.init_from.is_null()) {
    report->result["init_from"] = options_.init_from;
  } else if (!spec_.train.init_from_file.empty()) {
    report->result["init_from"] = {{"file", spec_.train.init_from_file}};
  }
  report->result["metrics"] = state_.metrics;
  nlohmann::json final_metrics = nlohmann::json::object();
  for (const auto& m : state_.metrics) {
    if (m["step"].get<int64_t>() == state_.step) final_metrics[m["metric"].get<std::string>()] = m["value"];
  }
  report->result["final_metrics"] = final_metrics;
  if (quality_) {
    report->result["evaluator"] = {{"kind", spec_.eval.evaluator.kind},
                                   {"path", spec_.eval.evaluator.path},
                                   {"reference_cache", quality_->reference().cache_path}};
  }
  return Status::Ok();
}

}  // namespace

std::string CheckpointCompatibilityKey(const JobSpec& spec) {
  nlohmann::json j = spec.ToJson();
  j["train"].erase("iterations");
  j["train"].erase("checkpoint_every");
  j["train"].erase("log_every");
  j["train"].erase("resume_from_job");
  j["train"].erase("upload_checkpoint");
  j.erase("runtime");
  j.erase("eval");
  return Fnv1a64Hex(j.dump());
}

Result<TrainReport> RunTraining(const JobSpec& spec, const TrainOptions& options) {
  if (options.out_dir.empty()) return Status::InvalidArgument("training needs an output folder");
  if (spec.task != "qgan" && spec.task != "ptq") {
    return Status::InvalidArgument("task: \"" + spec.task + "\" jobs are run by workers, not by the trainer");
  }
  try {
    TrainingRun run(spec, options);
    return run.Run();
  } catch (const c10::Error& e) {
    return Status::Internal(std::string("LibTorch error during training: ") + e.what_without_backtrace());
  } catch (const std::exception& e) {
    return Status::Internal(std::string("error during training: ") + e.what());
  }
}

}  // namespace bitsweep::qgan
