#include "worker/synthetic_task.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <chrono>
#include <cmath>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "common/hash.h"
#include "common/layer_widths.h"

namespace bitsweep::worker {
namespace {

using Clock = std::chrono::steady_clock;

double MethodFactor(QuantMethod m) {
  switch (m) {
    case QuantMethod::kNone: return 0.0;
    case QuantMethod::kEm: return 1.0;
    case QuantMethod::kMinMax: return 1.6;
    case QuantMethod::kTanh: return 1.8;
    case QuantMethod::kLog: return 2.2;
    case QuantMethod::kBinary: return 2.0;
  }
  return 0.0;
}

double Penalty(QuantMethod method, int bits) {
  if (method == QuantMethod::kNone) return 0.0;
  return MethodFactor(method) * std::pow(2.0, 2.0 - bits);
}

// A network's penalty: its method and bits (the formula from before
// per-layer widths, which ignores keep_first_last_fp), or with per-layer
// widths the mean over its layers.
double Penalty(const QuantSpec& q, const std::vector<std::string>& layers) {
  if (q.layers.empty()) return q.quantized() ? Penalty(q.method, q.bits) : 0.0;
  double sum = 0.0;
  for (size_t i = 0; i < layers.size(); ++i) {
    const LayerQuant l = q.ForLayer(layers, i);
    sum += Penalty(l.method, l.bits);
  }
  return sum / static_cast<double>(layers.size());
}

bool PerLayer(const JobSpec& spec) {
  const auto& s = spec.synthetic;
  return !spec.quant_g.layers.empty() || !s.layer_sensitivity_g.empty() || s.layer_damage != "sum";
}

// Each generator layer's damage s_g * w_l * p_l (post-training: times
// ptq_factor).
std::vector<double> LayerDamage(const JobSpec& spec) {
  const auto& s = spec.synthetic;
  const double scale = s.sensitivity_g * (s.post_training ? s.ptq_factor : 1.0);
  const std::vector<std::string> layers = LayerNamesOf(spec.model.arch);
  std::vector<double> damage;
  for (size_t i = 0; i < layers.size(); ++i) {
    auto weight = s.layer_sensitivity_g.find(layers[i]);
    const double w = weight != s.layer_sensitivity_g.end() ? weight->second : 1.0 / static_cast<double>(layers.size());
    const LayerQuant l = spec.quant_g.ForLayer(layers, i);
    damage.push_back(scale * w * Penalty(l.method, l.bits));
  }
  return damage;
}

// The faults a job in its own process must survive (synthetic.fault).
void RunFault(const std::string& fault, const TaskContext& context) {
  std::fprintf(stderr, "synthetic job %lld: fault \"%s\" requested\n", static_cast<long long>(context.job_id),
               fault.c_str());
  std::fflush(stderr);
  if (fault == "segfault") {
    volatile int* null_page = nullptr;
    *null_page = 1;
  } else if (fault == "allocate") {
    // 64 MiB blocks, each touched so that it is resident, until killed.
    std::vector<std::unique_ptr<char[]>> blocks;
    constexpr size_t kBlock = size_t{64} << 20;
    while (true) {
      blocks.emplace_back(new char[kBlock]);
      std::memset(blocks.back().get(), 1, kBlock);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  } else if (fault == "hang") {
    while (true) std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

}  // namespace

double SyntheticFid(const JobSpec& spec) {
  const auto& s = spec.synthetic;
  const std::vector<std::string> layers = LayerNamesOf(spec.model.arch);
  const double d_term = s.sensitivity_d * Penalty(spec.quant_d, layers);
  if (!PerLayer(spec)) {
    const double g_penalty = Penalty(spec.quant_g, layers) * (s.post_training ? s.ptq_factor : 1.0);
    return s.fid_full_precision * (1.0 + s.sensitivity_g * g_penalty + d_term);
  }
  const std::vector<double> damage = LayerDamage(spec);
  if (s.layer_damage == "product") {
    double factor = 1.0;
    for (double d : damage) factor *= 1.0 + d;
    return s.fid_full_precision * factor * (1.0 + d_term);
  }
  double sum = 0.0;
  for (double d : damage) sum += d;
  return s.fid_full_precision * (1.0 + sum + d_term);
}

double SyntheticDistortion(const JobSpec& spec) {
  double sum = 0.0;
  for (double d : LayerDamage(spec)) sum += d;
  std::mt19937_64 rng(Fnv1a64(spec.ToJson().dump()) ^ 0x64697374ull);
  return sum / 100.0 * std::exp(0.3 * std::normal_distribution<double>(0.0, 1.0)(rng));
}

Result<TaskOutcome> RunSyntheticTask(const JobSpec& spec, const TaskContext& context) {
  const auto start = Clock::now();
  const auto& s = spec.synthetic;
  if (s.crash) {
    std::fprintf(stderr, "synthetic job %lld: crash requested; aborting the worker process\n",
                 static_cast<long long>(context.job_id));
    std::abort();
  }
  if (!s.fault.empty()) RunFault(s.fault, context);
  // Noise and failures are seeded by the spec itself (hashing it costs more
  // than a zero-length job, so only when needed).
  const uint64_t spec_hash = s.failure_rate > 0.0 || s.noise > 0.0 ? Fnv1a64(spec.ToJson().dump()) : 0;
  if (s.failure_rate > 0.0) {
    std::mt19937_64 coin(spec_hash ^ (static_cast<uint64_t>(context.attempt) * 0x9E3779B97F4A7C15ULL));
    if (std::uniform_real_distribution<double>(0.0, 1.0)(coin) < s.failure_rate) {
      return Status::Unavailable("synthetic failure injected (failure_rate " + std::to_string(s.failure_rate) +
                                 ", attempt " + std::to_string(context.attempt) + ")");
    }
  }
  // Ten progress steps over the configured time.
  const int64_t steps = s.seconds > 0.0 ? 10 : 1;
  const auto step_time = std::chrono::duration<double>(s.seconds / static_cast<double>(steps));
  for (int64_t step = 1; step <= steps; ++step) {
    const auto until = start + std::chrono::duration_cast<Clock::duration>(step_time * static_cast<double>(step));
    if (s.busy) {
      while (Clock::now() < until) {
        if (context.cancel != nullptr && context.cancel->load()) break;
      }
    } else {
      while (Clock::now() < until) {
        if (context.cancel != nullptr && context.cancel->load()) break;
        std::this_thread::sleep_for(std::min<Clock::duration>(until - Clock::now(), std::chrono::milliseconds(50)));
      }
    }
    if (context.cancel != nullptr && context.cancel->load()) return Status::Cancelled("synthetic job cancelled");
    if (context.on_progress) context.on_progress({step, steps, 0.0, {}});
  }

  std::mt19937_64 rng(spec.train.seed ^ spec_hash);
  std::normal_distribution<double> normal(0.0, 1.0);
  const double fid = SyntheticFid(spec) * std::exp(s.noise * normal(rng));
  const double fp_fid = s.fid_full_precision > 0 ? s.fid_full_precision : 1.0;
  const double inception_score = 9.0 * fp_fid / std::max(fid, 1e-9) + 1.0;
  const double kid = fid / 1000.0;
  // What the packed generator of these widths would take (its payload).
  const int64_t model_bytes = PackedPayloadBytes(spec);

  TaskOutcome outcome;
  for (const auto& [name, value] : {std::pair<std::string, double>{"fid", fid},
                                    {"is", inception_score},
                                    {"kid", kid}}) {
    MetricValue m;
    m.metric = name;
    m.value = value;
    m.step = steps;
    m.n_samples = 0;
    m.evaluator = "synthetic";
    m.evaluator_hash = "-";
    outcome.metrics.push_back(m);
  }
  if (s.distortion) {
    MetricValue m;
    m.metric = "distortion";
    m.value = SyntheticDistortion(spec);
    m.step = steps;
    m.evaluator = "synthetic";
    m.evaluator_hash = "-";
    outcome.metrics.push_back(m);
  }
  outcome.wall_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  outcome.model_bytes = model_bytes;
  nlohmann::json result = {{"status", "completed"},
                           {"final_metrics", {{"fid", fid}, {"is", inception_score}, {"kid", kid}}},
                           {"model_bytes", {{"generator_packed", model_bytes}}},
                           {"wall_seconds", outcome.wall_seconds}};
  outcome.result_json = result.dump();
  return outcome;
}

}  // namespace bitsweep::worker
