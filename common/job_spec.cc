#include "common/job_spec.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/network_layout.h"
#include "common/spec_reader.h"

namespace bitsweep {
namespace {

constexpr int kFullPrecisionBits = 32;

const std::vector<std::string> kQuantMethodNames = {"none", "minmax", "log", "tanh", "em", "binary"};
const std::vector<std::string> kLossNames = {"bce", "wgan-gp", "lsgan", "hinge"};

std::string ResolvePath(const std::string& path, const std::string& base_dir) {
  if (path.empty() || base_dir.empty()) return path;
  std::filesystem::path p(path);
  if (p.is_absolute()) return path;
  return (std::filesystem::path(base_dir) / p).lexically_normal().string();
}

DatasetSpec ReadDataset(SpecReader r, const std::string& base_dir) {
  DatasetSpec d;
  d.name = r.OneOf("name", d.name, {"fashion-mnist", "mnist", "cifar10", "image-folder"});
  d.root = ResolvePath(r.String("root", d.name == "fashion-mnist" ? kDefaultFashionMnistRoot : ""), base_dir);
  if (d.root.empty() && r.status().ok()) r.Fail("root", "missing (required for dataset " + d.name + ")");
  d.image_size = static_cast<int>(r.Int("image_size", d.image_size, 1, 1024));
  if (r.status().ok() && d.image_size != 32 && d.image_size != 64) {
    r.Fail("image_size", std::to_string(d.image_size) + " is not supported (use 32 or 64)");
  }
  d.split = r.OneOf("split", d.split, {"train", "test"});
  d.limit = r.Int("limit", d.limit, 0, int64_t{1} << 40);
  r.RejectUnknownKeys();
  return d;
}

ModelSpec ReadModel(SpecReader r) {
  ModelSpec m;
  m.arch = r.OneOf("arch", m.arch, {"dcgan32", "dcgan64"});
  m.nz = static_cast<int>(r.Int("nz", m.nz, 1, 4096));
  m.ngf = static_cast<int>(r.Int("ngf", m.ngf, 1, 4096));
  m.ndf = static_cast<int>(r.Int("ndf", m.ndf, 1, 4096));
  r.RejectUnknownKeys();
  return m;
}

// The rules every width follows, a network's or a layer's (`method_name`
// as the spec wrote it).
void CheckWidth(SpecReader& r, QuantMethod method, int bits, const std::string& method_name) {
  if (!r.status().ok()) return;
  if (bits != kFullPrecisionBits && (bits < 1 || bits > 8)) {
    r.Fail("bits", std::to_string(bits) + " is outside 1..8 or 32");
  } else if (method == QuantMethod::kNone && bits != kFullPrecisionBits) {
    r.Fail("bits", std::to_string(bits) + " needs a quantization method (method is none, which means 32 bits)");
  } else if (method != QuantMethod::kNone && bits == kFullPrecisionBits) {
    r.Fail("bits", "32 means full precision: use method none, or 1..8 bits with method " + method_name);
  } else if (method == QuantMethod::kBinary && bits != 1) {
    r.Fail("bits", std::to_string(bits) + " is not allowed with method binary (1 bit only)");
  }
}

// One entry of quant.<net>.layers: bits, method or both; what it leaves
// out comes from the network's quantization.
LayerQuant ReadLayerQuant(SpecReader r, const QuantSpec& network) {
  LayerQuant q;
  const bool has_method = r.Has("method"), has_bits = r.Has("bits");
  if (!has_method && !has_bits) {
    r.Fail("bits", "missing (give the layer's bits, its method, or both)");
    return q;
  }
  const std::string method = r.OneOf("method", QuantMethodName(network.method), kQuantMethodNames);
  const int64_t bits = r.Int("bits", 0, INT32_MIN, INT32_MAX);
  if (!r.status().ok()) return q;
  if (has_method) {
    q.method = ParseQuantMethod(method).value();
  } else if (bits == kFullPrecisionBits) {
    q.method = QuantMethod::kNone;
  } else if (!network.quantized()) {
    r.Fail("method", "missing (the network's method is none: give this layer's)");
    return q;
  } else {
    q.method = network.method;
  }
  if (has_bits) {
    q.bits = static_cast<int>(bits);
  } else if (q.method == QuantMethod::kNone) {
    q.bits = kFullPrecisionBits;
  } else if (q.method == QuantMethod::kBinary) {
    q.bits = 1;
  } else if (network.quantized()) {
    q.bits = network.bits;
  } else {
    r.Fail("bits", std::string("missing (required with method ") + QuantMethodName(q.method) +
                       ": the network is at full precision)");
    return q;
  }
  CheckWidth(r, q.method, q.bits, QuantMethodName(q.method));
  r.RejectUnknownKeys();
  return q;
}

// `layers`: the network's layer names in order; `network`: "generator" or
// "discriminator" and `arch`, for messages.
QuantSpec ReadQuant(SpecReader r, const std::vector<std::string>& layers, const std::string& network,
                    const std::string& arch) {
  QuantSpec q;
  std::string method = r.OneOf("method", "none", kQuantMethodNames);
  if (r.status().ok()) q.method = ParseQuantMethod(method).value();
  q.bits = static_cast<int>(r.Int("bits", q.quantized() ? 0 : kFullPrecisionBits, INT32_MIN, INT32_MAX));
  if (r.status().ok() && !r.Has("bits") && q.quantized()) {
    r.Fail("bits", "missing (required with method " + method + ")");
  }
  CheckWidth(r, q.method, q.bits, method);
  q.keep_first_last_fp = r.Bool("keep_first_last_fp", q.keep_first_last_fp);
  q.em_max_iters = static_cast<int>(r.Int("em_max_iters", q.em_max_iters, 1, 1000));
  if (r.Has("layers")) {
    SpecReader per_layer = r.Child("layers");
    for (const auto& name : per_layer.Keys()) {
      if (!r.status().ok()) break;
      const auto found = std::find(layers.begin(), layers.end(), name);
      if (found == layers.end()) {
        std::string list;
        for (const auto& l : layers) list += (list.empty() ? "" : ", ") + l;
        per_layer.Fail(name, "not a layer of the " + arch + " " + network + " (its layers: " + list + ")");
        break;
      }
      const bool edge = found == layers.begin() || found + 1 == layers.end();
      if (q.keep_first_last_fp && edge) {
        per_layer.Fail(name, "conflicts with keep_first_last_fp, which keeps " + name +
                                 " at full precision (give one or the other)");
        break;
      }
      LayerQuant layer = ReadLayerQuant(per_layer.Child(name), q);
      if (r.status().ok()) q.layers[name] = layer;
    }
  }
  r.RejectUnknownKeys();
  return q;
}

TrainSpec ReadTrain(SpecReader r, const std::string& base_dir) {
  TrainSpec t;
  t.iterations = r.Int("iterations", t.iterations, 1, int64_t{1} << 40);
  t.batch_size = static_cast<int>(r.Int("batch_size", t.batch_size, 1, 65536));
  t.lr_g = r.Number("lr_g", t.lr_g, 0.0, 10.0);
  t.lr_d = r.Number("lr_d", t.lr_d, 0.0, 10.0);
  auto betas = r.NumberArray("betas", {t.betas[0], t.betas[1]}, 2, 0.0, 0.999999);
  t.betas = {betas[0], betas[1]};
  t.n_critic = static_cast<int>(r.Int("n_critic", t.n_critic, 1, 100));
  t.seed = static_cast<uint64_t>(r.Int("seed", static_cast<int64_t>(t.seed), 0, INT64_MAX));
  t.checkpoint_every = r.Int("checkpoint_every", t.checkpoint_every, 0, int64_t{1} << 40);
  t.log_every = r.Int("log_every", t.log_every, 0, int64_t{1} << 40);
  t.gp_weight = r.Number("gp_weight", t.gp_weight, 0.0, 1e6);
  t.resume_from_job = r.Int("resume_from_job", t.resume_from_job, 0, INT64_MAX);
  t.upload_checkpoint = r.Bool("upload_checkpoint", t.upload_checkpoint);
  t.init_from_job = r.Int("init_from_job", t.init_from_job, 0, INT64_MAX);
  t.init_from_file = ResolvePath(r.String("init_from_file", ""), base_dir);
  if (t.init_from_job != 0 && !t.init_from_file.empty()) {
    r.Fail("init_from_file", "give init_from_job or init_from_file, not both");
  }
  if (t.resume_from_job != 0 && (t.init_from_job != 0 || !t.init_from_file.empty())) {
    r.Fail("resume_from_job", "a job resumes its own training or starts from another's weights, not both");
  }
  r.RejectUnknownKeys();
  return t;
}

EvalSpec ReadEval(SpecReader r, const std::string& base_dir) {
  EvalSpec e;
  SpecReader ev = r.Child("evaluator");
  e.evaluator.kind = ev.OneOf("kind", e.evaluator.kind, {"classifier", "inception"});
  e.evaluator.path = ResolvePath(ev.String("path", ""), base_dir);
  ev.RejectUnknownKeys();
  e.metrics = r.StringArray("metrics", e.metrics);
  for (size_t i = 0; i < e.metrics.size(); ++i) {
    const auto& m = e.metrics[i];
    if (m != "fid" && m != "is" && m != "kid") {
      r.Fail("metrics[" + std::to_string(i) + "]", "\"" + m + "\" is not one of: fid, is, kid");
    }
  }
  e.num_samples = r.Int("num_samples", e.num_samples, 2, 10000000);
  e.every = r.Int("every", e.every, 0, int64_t{1} << 40);
  e.noise_seed = static_cast<uint64_t>(r.Int("noise_seed", static_cast<int64_t>(e.noise_seed), 0, INT64_MAX));
  r.RejectUnknownKeys();
  return e;
}

RuntimeSpec ReadRuntime(SpecReader r) {
  RuntimeSpec rt;
  rt.device = r.String("device", rt.device);
  bool device_ok = rt.device == "auto" || rt.device == "cpu" || rt.device == "cuda" ||
                   (rt.device.rfind("cuda:", 0) == 0 && rt.device.size() > 5 &&
                    rt.device.find_first_not_of("0123456789", 5) == std::string::npos);
  if (!device_ok) r.Fail("device", "\"" + rt.device + "\" is not one of: auto, cpu, cuda, cuda:N");
  rt.threads = static_cast<int>(r.Int("threads", rt.threads, 0, 1024));
  rt.max_wall_seconds = r.Number("max_wall_seconds", rt.max_wall_seconds, 0.0, 1e9);
  rt.max_memory_mb = r.Int("max_memory_mb", rt.max_memory_mb, 0, int64_t{1} << 40);
  r.RejectUnknownKeys();
  return rt;
}

SyntheticSpec ReadSynthetic(SpecReader r, const std::vector<std::string>& g_layers, const std::string& arch) {
  SyntheticSpec s;
  s.seconds = r.Number("seconds", s.seconds, 0.0, 7 * 24 * 3600.0);
  s.busy = r.Bool("busy", s.busy);
  s.fid_full_precision = r.Number("fid_full_precision", s.fid_full_precision, 0.0, 1e6);
  s.sensitivity_g = r.Number("sensitivity_g", s.sensitivity_g, 0.0, 1e3);
  s.sensitivity_d = r.Number("sensitivity_d", s.sensitivity_d, 0.0, 1e3);
  s.noise = r.Number("noise", s.noise, 0.0, 10.0);
  s.failure_rate = r.Number("failure_rate", s.failure_rate, 0.0, 1.0);
  s.crash = r.Bool("crash", s.crash);
  s.fault = r.OneOf("fault", s.fault, {"", "segfault", "allocate", "hang"});
  s.post_training = r.Bool("post_training", s.post_training);
  s.ptq_factor = r.Number("ptq_factor", s.ptq_factor, 0.0, 1e3);
  if (r.Has("layer_sensitivity_g")) {
    SpecReader sensitivity = r.Child("layer_sensitivity_g");
    for (const auto& name : sensitivity.Keys()) {
      if (std::find(g_layers.begin(), g_layers.end(), name) == g_layers.end()) {
        sensitivity.Fail(name, "not a layer of the " + arch + " generator");
        break;
      }
      const double weight = sensitivity.Number(name, 0.0, 0.0, 1e6);
      if (r.status().ok()) s.layer_sensitivity_g[name] = weight;
    }
  }
  s.layer_damage = r.OneOf("layer_damage", s.layer_damage, {"sum", "product"});
  s.distortion = r.Bool("distortion", s.distortion);
  r.RejectUnknownKeys();
  return s;
}

PtqSpec ReadPtq(SpecReader r) {
  PtqSpec p;
  p.bn_batches = static_cast<int>(r.Int("bn_batches", p.bn_batches, 0, 100000));
  p.distortion_samples = static_cast<int>(r.Int("distortion_samples", p.distortion_samples, 0, 1000000));
  r.RejectUnknownKeys();
  return p;
}

// What post-training quantization needs beyond a training job's fields: a
// trained model to start from, and nothing that only training reads. (With
// quant.g method none it evaluates the trained model as it is: the
// full-precision reference on the same latents.)
void CheckPtq(const JobSpec& spec, SpecReader& r) {
  if (spec.train.init_from_job == 0 && spec.train.init_from_file.empty()) {
    r.Fail("train", "task ptq quantizes a trained model: give train.init_from_job or train.init_from_file");
  }
  if (spec.train.resume_from_job != 0) r.Fail("train.resume_from_job", "not allowed with task ptq (nothing trains)");
  if (spec.quant_d.AnyQuantized(LayerNamesOf(spec.model.arch))) {
    r.Fail("quant.d", "task ptq quantizes the generator only (the discriminator is not used after training)");
  }
}

}  // namespace

const char* QuantMethodName(QuantMethod method) {
  return kQuantMethodNames[static_cast<size_t>(method)].c_str();
}

Result<QuantMethod> ParseQuantMethod(const std::string& name) {
  for (size_t i = 0; i < kQuantMethodNames.size(); ++i) {
    if (kQuantMethodNames[i] == name) return static_cast<QuantMethod>(i);
  }
  return Status::InvalidArgument("unknown quantization method \"" + name + "\"");
}

const char* LossKindName(LossKind loss) { return kLossNames[static_cast<size_t>(loss)].c_str(); }

LayerQuant QuantSpec::ForLayer(const std::vector<std::string>& names, size_t index) const {
  if (index < names.size()) {
    auto found = layers.find(names[index]);
    if (found != layers.end()) return found->second;
  }
  const bool edge = index == 0 || index + 1 == names.size();
  if (!quantized() || (keep_first_last_fp && edge)) return LayerQuant{};
  return LayerQuant{method, bits};
}

bool QuantSpec::AnyQuantized(const std::vector<std::string>& names) const {
  for (size_t i = 0; i < names.size(); ++i) {
    if (ForLayer(names, i).quantized()) return true;
  }
  return false;
}

Result<JobSpec> JobSpec::FromJson(const nlohmann::json& json, const std::string& base_dir) {
  SpecReader r(json);
  JobSpec spec;
  spec.task = r.OneOf("task", spec.task, {"qgan", "ptq", "synthetic"});
  // The architecture first: it names the layers that per-layer fields use.
  spec.model = ReadModel(r.Child("model"));
  const std::vector<std::string> layers = LayerNamesOf(spec.model.arch);
  if (spec.task == "synthetic") {
    spec.synthetic = ReadSynthetic(r.Child("synthetic"), layers, spec.model.arch);
  } else if (r.Has("synthetic")) {
    r.Fail("synthetic", "only allowed with task synthetic");
  }
  if (spec.task == "ptq") {
    spec.ptq = ReadPtq(r.Child("ptq"));
  } else if (r.Has("ptq")) {
    r.Fail("ptq", "only allowed with task ptq");
  }
  spec.dataset = ReadDataset(r.Child("dataset"), base_dir);
  std::string loss = r.OneOf("loss", "bce", kLossNames);
  for (size_t i = 0; i < kLossNames.size(); ++i) {
    if (kLossNames[i] == loss) spec.loss = static_cast<LossKind>(i);
  }
  SpecReader quant = r.Child("quant");
  spec.quant_g = ReadQuant(quant.Child("g"), layers, "generator", spec.model.arch);
  spec.quant_d = ReadQuant(quant.Child("d"), layers, "discriminator", spec.model.arch);
  quant.RejectUnknownKeys();
  spec.train = ReadTrain(r.Child("train"), base_dir);
  spec.eval.enabled = r.Has("eval");
  bool enabled = spec.eval.enabled;
  spec.eval = ReadEval(r.Child("eval"), base_dir);
  spec.eval.enabled = enabled;
  spec.runtime = ReadRuntime(r.Child("runtime"));
  r.RejectUnknownKeys();
  BITSWEEP_RETURN_IF_ERROR(r.status());
  if (spec.task == "ptq") CheckPtq(spec, r);

  int arch_size = spec.model.arch == "dcgan64" ? 64 : 32;
  if (arch_size != spec.dataset.image_size) {
    r.Fail("model", "arch " + spec.model.arch + " needs dataset.image_size " + std::to_string(arch_size) +
                        ", got " + std::to_string(spec.dataset.image_size));
  }
  return r.status().ok() ? Result<JobSpec>(spec) : Result<JobSpec>(r.status());
}

Result<JobSpec> JobSpec::FromFile(const std::string& path) {
  BITSWEEP_ASSIGN_OR_RETURN(nlohmann::json json, ReadJsonFile(path));
  std::string base_dir = std::filesystem::absolute(path).parent_path().string();
  auto spec = FromJson(json, base_dir);
  if (!spec.ok()) return spec.status().WithContext(path);
  return spec;
}

nlohmann::json JobSpec::ToJson() const {
  // Field by field rather than from nested initializer lists, which copy
  // every value once more: a large grid writes one of these per point.
  auto quant_json = [](const QuantSpec& q) {
    nlohmann::json j = nlohmann::json::object();
    j["method"] = QuantMethodName(q.method);
    j["bits"] = q.bits;
    j["keep_first_last_fp"] = q.keep_first_last_fp;
    j["em_max_iters"] = q.em_max_iters;
    for (const auto& [name, layer] : q.layers) {
      j["layers"][name] = {{"method", QuantMethodName(layer.method)}, {"bits", layer.bits}};
    }
    return j;
  };
  nlohmann::json j = nlohmann::json::object();
  j["task"] = task;
  auto& d = j["dataset"];
  d["name"] = dataset.name;
  d["root"] = dataset.root;
  d["image_size"] = dataset.image_size;
  d["split"] = dataset.split;
  d["limit"] = dataset.limit;
  auto& m = j["model"];
  m["arch"] = model.arch;
  m["nz"] = model.nz;
  m["ngf"] = model.ngf;
  m["ndf"] = model.ndf;
  j["loss"] = LossKindName(loss);
  j["quant"]["g"] = quant_json(quant_g);
  j["quant"]["d"] = quant_json(quant_d);
  auto& t = j["train"];
  t["iterations"] = train.iterations;
  t["batch_size"] = train.batch_size;
  t["lr_g"] = train.lr_g;
  t["lr_d"] = train.lr_d;
  t["betas"] = nlohmann::json::array({train.betas[0], train.betas[1]});
  t["n_critic"] = train.n_critic;
  t["seed"] = train.seed;
  t["checkpoint_every"] = train.checkpoint_every;
  t["log_every"] = train.log_every;
  t["gp_weight"] = train.gp_weight;
  t["resume_from_job"] = train.resume_from_job;
  t["upload_checkpoint"] = train.upload_checkpoint;
  j["runtime"]["device"] = runtime.device;
  j["runtime"]["threads"] = runtime.threads;
  // Only when set, so that the canonical form (and hash) of every spec
  // written before warm starts stays as it was.
  if (train.init_from_job != 0) j["train"]["init_from_job"] = train.init_from_job;
  if (!train.init_from_file.empty()) j["train"]["init_from_file"] = train.init_from_file;
  if (runtime.max_wall_seconds > 0.0) j["runtime"]["max_wall_seconds"] = runtime.max_wall_seconds;
  if (runtime.max_memory_mb > 0) j["runtime"]["max_memory_mb"] = runtime.max_memory_mb;
  if (task == "synthetic") {
    j["synthetic"] = {{"seconds", synthetic.seconds},
                      {"busy", synthetic.busy},
                      {"fid_full_precision", synthetic.fid_full_precision},
                      {"sensitivity_g", synthetic.sensitivity_g},
                      {"sensitivity_d", synthetic.sensitivity_d},
                      {"noise", synthetic.noise},
                      {"failure_rate", synthetic.failure_rate}};
    // Only when set, so that the canonical form (and the hashes seeded by it)
    // of every other synthetic job stays as it was.
    if (synthetic.crash) j["synthetic"]["crash"] = true;
    if (!synthetic.fault.empty()) j["synthetic"]["fault"] = synthetic.fault;
    if (synthetic.post_training) j["synthetic"]["post_training"] = true;
    if (synthetic.ptq_factor != SyntheticSpec().ptq_factor) j["synthetic"]["ptq_factor"] = synthetic.ptq_factor;
    for (const auto& [name, weight] : synthetic.layer_sensitivity_g) j["synthetic"]["layer_sensitivity_g"][name] = weight;
    if (synthetic.layer_damage != SyntheticSpec().layer_damage) j["synthetic"]["layer_damage"] = synthetic.layer_damage;
    if (synthetic.distortion) j["synthetic"]["distortion"] = true;
  }
  if (task == "ptq") {
    j["ptq"] = {{"bn_batches", ptq.bn_batches}};
    // Only when set, so that the canonical form of every earlier ptq job stays.
    if (ptq.distortion_samples > 0) j["ptq"]["distortion_samples"] = ptq.distortion_samples;
  }
  if (eval.enabled) {
    j["eval"] = {{"evaluator", {{"kind", eval.evaluator.kind}, {"path", eval.evaluator.path}}},
                 {"metrics", eval.metrics},
                 {"num_samples", eval.num_samples},
                 {"every", eval.every}};
    // Only when set, so that the canonical form (and the spec hash) of every
    // spec written before the field existed stays as it was.
    if (eval.noise_seed != kDefaultEvalNoiseSeed) j["eval"]["noise_seed"] = eval.noise_seed;
  }
  return j;
}

}  // namespace bitsweep
