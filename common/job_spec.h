// JobSpec: one training job, parsed and validated from JSON.
//
// The field names are the ones users write (see examples/job.json). Parsing
// rejects anything invalid before any work starts, naming the field by its
// path: "quant.g.bits: 0 is outside 1..8 or 32". Unknown fields are errors
// too, so a typo never silently falls back to a default.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace bitsweep {

/// Weight quantization methods (see qgan/quant/).
enum class QuantMethod { kNone, kMinMax, kLog, kTanh, kEm, kBinary };

/// GAN objectives (see qgan/train/losses.h).
enum class LossKind { kBce, kWganGp, kLsgan, kHinge };

const char* QuantMethodName(QuantMethod method);
Result<QuantMethod> ParseQuantMethod(const std::string& name);
const char* LossKindName(LossKind loss);

/// Where Debian's dataset-fashion-mnist package installs the IDX files.
inline constexpr const char* kDefaultFashionMnistRoot = "/usr/share/datasets/fashion-mnist";

struct DatasetSpec {
  /// fashion-mnist, mnist, cifar10 or image-folder.
  std::string name = "fashion-mnist";
  /// Folder holding the dataset files. Relative paths are resolved against
  /// the spec file's folder. Default for fashion-mnist: the Debian package's.
  std::string root = kDefaultFashionMnistRoot;
  /// 32 or 64: images are padded/resized to this square size.
  int image_size = 32;
  /// train or test.
  std::string split = "train";
  /// Use only the first `limit` images (0 = all).
  int64_t limit = 0;
};

struct ModelSpec {
  /// dcgan32 or dcgan64; must match dataset.image_size.
  std::string arch = "dcgan32";
  int nz = 100;
  int ngf = 64;
  int ndf = 64;
};

/// The quantization of one layer: method none is full precision (32 bits).
struct LayerQuant {
  QuantMethod method = QuantMethod::kNone;
  int bits = 32;

  bool quantized() const { return method != QuantMethod::kNone; }
  bool operator==(const LayerQuant& o) const { return method == o.method && bits == o.bits; }
  bool operator!=(const LayerQuant& o) const { return !(*this == o); }
};

/// The quantization of one network (quant.g or quant.d).
///
/// Per-layer widths: `layers` gives named layers (the names of the
/// per-layer quantization table: conv1, conv2, ...; common/network_layout.h)
/// their own method and bits, e.g. quant.g = {"method": "em", "bits": 2,
/// "layers": {"conv3": {"bits": 4}, "conv4": {"bits": 8}}}. A layer entry
/// gives bits, method or both: bits alone keep the network's method (32
/// alone means full precision), a method alone keeps the network's bits.
/// The network's method may be none with some layers quantized. A layer
/// named here may not also be kept at full precision by keep_first_last_fp.
struct QuantSpec {
  QuantMethod method = QuantMethod::kNone;
  /// 1..8, or 32 with method none.
  int bits = 32;
  /// Keep the network's first and last layer at full precision.
  bool keep_first_last_fp = false;
  /// Cap on EM iterations per fit (method em only).
  int em_max_iters = 20;
  /// Per-layer overrides, by layer name (empty: every layer as above). In
  /// the canonical JSON only when not empty, so every spec written before
  /// per-layer widths keeps its canonical form and hash.
  std::map<std::string, LayerQuant> layers;

  /// Whether the network's own method quantizes (its layers may differ:
  /// see ForLayer and AnyQuantized).
  bool quantized() const { return method != QuantMethod::kNone; }
  /// The quantization of layer `index` of `names` (the network's layers in
  /// order): its override, else full precision for a first or last layer
  /// kept so, else the network's method and bits.
  LayerQuant ForLayer(const std::vector<std::string>& names, size_t index) const;
  /// Whether any of the network's layers is quantized.
  bool AnyQuantized(const std::vector<std::string>& names) const;
};

struct TrainSpec {
  int64_t iterations = 1000;
  int batch_size = 64;
  double lr_g = 2e-4;
  double lr_d = 2e-4;
  std::array<double, 2> betas = {0.5, 0.999};
  /// Discriminator steps per generator step.
  int n_critic = 1;
  uint64_t seed = 1;
  /// Write a checkpoint every this many iterations (0 = only at the end).
  int64_t checkpoint_every = 0;
  /// Record losses every this many iterations (0 = about 100 points per run).
  int64_t log_every = 0;
  /// Gradient-penalty weight for wgan-gp.
  double gp_weight = 10.0;
  /// Continue from the final checkpoint of this earlier job of the same
  /// coordinator (0 = start fresh). The worker fetches it (an artifact the
  /// job uploaded with upload_checkpoint) and trains on to `iterations`.
  int64_t resume_from_job = 0;
  /// Upload the final checkpoint as an artifact, so that a later job can
  /// continue from it (successive halving does) or start from it (warm
  /// starts do).
  bool upload_checkpoint = false;
  /// Warm start: G and D start from the weights (and batch-norm statistics)
  /// of this earlier job's final checkpoint (0 = from scratch), fetched from
  /// the coordinator like resume_from_job, or from a checkpoint file. Unlike
  /// a resume, the job then trains its own `iterations` from step 0 with
  /// fresh optimizers and its own quantization (docs/protocols.md).
  int64_t init_from_job = 0;
  std::string init_from_file;
};

struct EvaluatorSpec {
  /// classifier (a domain classifier for grey 28/32 px data) or inception.
  std::string kind = "classifier";
  /// TorchScript or checkpoint file of the evaluator.
  std::string path;
};

/// Default of eval.noise_seed. It is the seed that a job with the default
/// train.seed (1) drew its evaluation latents from before eval.noise_seed
/// existed, so those jobs' earlier results stay reproducible.
inline constexpr uint64_t kDefaultEvalNoiseSeed = 0x51ed270b27d6e3a4ull;

struct EvalSpec {
  EvaluatorSpec evaluator;
  std::vector<std::string> metrics = {"fid", "is", "kid"};
  int64_t num_samples = 10000;
  /// Evaluate every this many iterations (0 = only at the end).
  int64_t every = 0;
  /// Seed of the evaluation latents (0..2^63-1). Independent of train.seed on
  /// purpose: every job of a sweep (one base eval section) scores its
  /// generator on the same latent vectors, so differences between
  /// configurations and seeds are paired comparisons (common random
  /// numbers). Written to the canonical JSON only when not the default, so
  /// the canonical form and hash of specs that do not set it are unchanged.
  uint64_t noise_seed = kDefaultEvalNoiseSeed;
  /// False when the spec has no "eval" section.
  bool enabled = false;
};

struct RuntimeSpec {
  /// auto, cpu, cuda or cuda:N. auto picks CUDA when LibTorch sees a GPU.
  std::string device = "auto";
  /// Intra-op threads; 0 = all cores available.
  int threads = 0;
  /// Limits of a job run in its own process (worker --isolate): stopped and
  /// failed past this wall time (seconds) or resident memory (MiB). 0 = none.
  double max_wall_seconds = 0.0;
  int64_t max_memory_mb = 0;
};

/// The `synthetic` task: no training, no LibTorch. It waits (or spins) for
/// `seconds` and reports a quality that is a deterministic function of the
/// quantization settings, for dry runs, load tests and strategy tests.
struct SyntheticSpec {
  double seconds = 0.0;
  /// Spin on a core instead of sleeping (to load a machine).
  bool busy = false;
  /// FID of the full-precision model; quantization multiplies it (see
  /// worker/synthetic_task.cc for the formula).
  double fid_full_precision = 20.0;
  /// Sensitivity of G and D to fewer bits (the paper: G is the more sensitive).
  double sensitivity_g = 1.0;
  double sensitivity_d = 0.25;
  /// Relative noise (log-normal sigma) added to the quality, seeded by train.seed.
  double noise = 0.0;
  /// Probability that an attempt fails (retryable), decided by hash of the
  /// spec and the attempt number, so it is reproducible.
  double failure_rate = 0.0;
  /// Abort the whole worker process when the job starts: a poison job that
  /// kills whoever runs it, for fault tests.
  bool crash = false;
  /// A fault of the job alone, for the tests of jobs in their own process:
  /// "segfault" (a null write), "allocate" (touches memory until killed),
  /// "hang" (ignores cancellation). "" = none.
  std::string fault;
  /// Stand-in for post-training quantization (task ptq): the generator's
  /// sensitivity to fewer bits is multiplied by `ptq_factor`, since a
  /// quantized network that never trains cannot adapt to its levels.
  bool post_training = false;
  double ptq_factor = 3.0;
  /// Per-layer sensitivities of the generator: layer name -> weight of its
  /// damage (absent layers: 1 / number of layers, so a uniform width gives
  /// the same quality as before layers had any). See SyntheticFid.
  std::map<std::string, double> layer_sensitivity_g;
  /// How the layers' damage combines: "sum" (FID = fp x (1 + sum of the
  /// layers' damage)) or "product" (FID = fp x the product of (1 + each
  /// layer's damage): additive in log FID, exactly the damage model of the
  /// layer-allocation search).
  std::string layer_damage = "sum";
  /// Also report the output-distortion proxy (metric "distortion"), as a
  /// post-training job with ptq.distortion_samples does.
  bool distortion = false;
};

/// The `ptq` task: post-training quantization of a trained generator, no
/// training. Its source is train.init_from_job or train.init_from_file (a
/// bitsweep checkpoint, or a full-precision packed generator .bsg).
struct PtqSpec {
  /// Batches of generated images over which the batch-norm running
  /// statistics are re-estimated with the quantized weights (0 = keep the
  /// trained model's statistics). The default is measured to help most at
  /// 1-3 bits (docs/protocols.md).
  int bn_batches = 20;
  /// The label-free sensitivity proxy: the mean squared difference between
  /// the quantized and the full-precision generator's outputs on this many
  /// fixed latent vectors (metric "distortion"; 0 = not measured).
  int distortion_samples = 0;
};

struct JobSpec {
  /// qgan (real training), ptq (post-training quantization) or synthetic.
  std::string task = "qgan";
  DatasetSpec dataset;
  ModelSpec model;
  LossKind loss = LossKind::kBce;
  QuantSpec quant_g;
  QuantSpec quant_d;
  TrainSpec train;
  EvalSpec eval;
  RuntimeSpec runtime;
  /// Read only when task is synthetic.
  SyntheticSpec synthetic;
  /// Read only when task is ptq.
  PtqSpec ptq;

  /// Parses and validates `json`. Relative paths in it are resolved against
  /// `base_dir` (the spec file's folder; "" leaves them as they are).
  static Result<JobSpec> FromJson(const nlohmann::json& json, const std::string& base_dir = "");
  /// Reads, parses and validates a spec file.
  static Result<JobSpec> FromFile(const std::string& path);

  /// The canonical, complete form (every field, defaults filled in).
  nlohmann::json ToJson() const;
};

}  // namespace bitsweep
