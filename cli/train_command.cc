#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "cli/interrupt.h"
#include "cli/progress_line.h"
#include "common/job_spec.h"
#include "qgan/train/trainer.h"

namespace bitsweep::cli {
namespace {

void PrintSummary(const nlohmann::json& r, const std::string& out_dir) {
  const auto& bytes = r["model_bytes"];
  std::printf("status       %s after %lld steps (%s)\n", r["status"].get<std::string>().c_str(),
              static_cast<long long>(r["steps"].get<int64_t>()), r["device"].get<std::string>().c_str());
  if (r.contains("diverged_reason")) std::printf("diverged     %s\n", r["diverged_reason"].get<std::string>().c_str());
  if (!r["losses"].empty()) {
    const auto& last = r["losses"].back();
    std::printf("final loss   d %.4f  g %.4f\n", last["d_loss"].get<double>(), last["g_loss"].get<double>());
  }
  for (const auto& m : r["metrics"]) {
    if (m["step"] != r["steps"]) continue;
    std::string spread = m["std"].is_number() ? " +- " + std::to_string(m["std"].get<double>()) : "";
    std::printf("%-12s %.4f%s (%lld samples, %s evaluator %s)\n", m["metric"].get<std::string>().c_str(),
                m["value"].get<double>(), spread.c_str(), static_cast<long long>(m["n_samples"].get<int64_t>()),
                m["evaluator"].get<std::string>().c_str(), m["evaluator_hash"].get<std::string>().c_str());
  }
  std::printf("speed        %.1f images/s, %.1f s training, %.1f s wall\n", r["images_per_second"].get<double>(),
              r["train_seconds"].get<double>(), r["wall_seconds"].get<double>());
  std::printf("generator    %lld bytes packed vs %lld bytes fp32 (%.1fx smaller)\n",
              static_cast<long long>(bytes["generator_packed"].get<int64_t>()),
              static_cast<long long>(bytes["generator_fp32"].get<int64_t>()), bytes["compression"].get<double>());
  for (const char* net : {"g", "d"}) {
    for (const auto& layer : r["quantization"][net]) {
      std::printf("levels %s.%-6s %-6s %d bit: %lld/%d levels used, utilisation %.2f, mse %.3g\n", net,
                  layer["layer"].get<std::string>().c_str(), layer["method"].get<std::string>().c_str(),
                  layer["bits"].get<int>(), static_cast<long long>(layer["levels_used"].get<int64_t>()),
                  1 << layer["bits"].get<int>(), layer["utilisation"].get<double>(), layer["mse"].get<double>());
    }
  }
  namespace fs = std::filesystem;
  std::printf("result       %s\n", (fs::path(out_dir) / "result.json").string().c_str());
  std::printf("samples      %s\n", (fs::path(out_dir) / "samples.png").string().c_str());
  std::printf("generator    %s\n", (fs::path(out_dir) / "generator.bsg").string().c_str());
}

}  // namespace

int RunTrainCommand(const TrainCommandOptions& options) {
  auto spec = JobSpec::FromFile(options.spec_path);
  if (!spec.ok()) {
    std::fprintf(stderr, "error: %s\n", spec.status().message().c_str());
    return kExitUsage;
  }
  if (options.threads >= 0) spec->runtime.threads = options.threads;
  if (!options.device.empty()) spec->runtime.device = options.device;
  if (options.iterations > 0) spec->train.iterations = options.iterations;
  if (options.seed >= 0) spec->train.seed = static_cast<uint64_t>(options.seed);
  // Re-validate after the overrides, so a bad --device is reported like a bad spec.
  auto checked = JobSpec::FromJson(spec->ToJson());
  if (!checked.ok()) {
    std::fprintf(stderr, "error: %s\n", checked.status().message().c_str());
    return kExitUsage;
  }

  ProgressLine progress;
  qgan::TrainOptions train;
  train.out_dir = options.out_dir;
  train.resume = !options.fresh;
  train.cancel = &InterruptFlag();
  if (!options.quiet) {
    train.on_progress = [&progress](const qgan::TrainProgress& p) {
      char detail[96];
      std::snprintf(detail, sizeof(detail), "d %.3f g %.3f %.0f img/s", p.d_loss, p.g_loss, p.images_per_second);
      progress.Update(p.step, p.total, detail, p.elapsed_seconds);
    };
  }
  auto report = qgan::RunTraining(*spec, train);
  progress.Finish();
  if (!report.ok()) {
    std::fprintf(stderr, "error: %s\n", report.status().message().c_str());
    return report.status().code() == StatusCode::kCancelled ? kExitCancelled : kExitFailure;
  }
  PrintSummary(report->result, options.out_dir);
  return report->diverged ? kExitFailure : kExitOk;
}

}  // namespace bitsweep::cli
