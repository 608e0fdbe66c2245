#include "common/job_spec.h"

#include <filesystem>
#include <fstream>
#include <sstream>

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

QuantSpec ReadQuant(SpecReader r) {
  QuantSpec q;
  std::string method = r.OneOf("method", "none", kQuantMethodNames);
  if (r.status().ok()) q.method = ParseQuantMethod(method).value();
  q.bits = static_cast<int>(r.Int("bits", q.quantized() ? 0 : kFullPrecisionBits, INT32_MIN, INT32_MAX));
  if (r.status().ok()) {
    if (!r.Has("bits") && q.quantized()) {
      r.Fail("bits", "missing (required with method " + method + ")");
    } else if (q.bits != kFullPrecisionBits && (q.bits < 1 || q.bits > 8)) {
      r.Fail("bits", std::to_string(q.bits) + " is outside 1..8 or 32");
    } else if (q.method == QuantMethod::kNone && q.bits != kFullPrecisionBits) {
      r.Fail("bits", std::to_string(q.bits) + " needs a quantization method (method is none, which means 32 bits)");
    } else if (q.quantized() && q.bits == kFullPrecisionBits) {
      r.Fail("bits", "32 means full precision: use method none, or 1..8 bits with method " + method);
    } else if (q.method == QuantMethod::kBinary && q.bits != 1) {
      r.Fail("bits", std::to_string(q.bits) + " is not allowed with method binary (1 bit only)");
    }
  }
  q.keep_first_last_fp = r.Bool("keep_first_last_fp", q.keep_first_last_fp);
  q.em_max_iters = static_cast<int>(r.Int("em_max_iters", q.em_max_iters, 1, 1000));
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

SyntheticSpec ReadSynthetic(SpecReader r) {
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
  r.RejectUnknownKeys();
  return s;
}

PtqSpec ReadPtq(SpecReader r) {
  PtqSpec p;
  p.bn_batches = static_cast<int>(r.Int("bn_batches", p.bn_batches, 0, 100000));
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
  if (spec.quant_d.quantized()) {
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

Result<JobSpec> JobSpec::FromJson(const nlohmann::json& json, const std::string& base_dir) {
  SpecReader r(json);
  JobSpec spec;
  spec.task = r.OneOf("task", spec.task, {"qgan", "ptq", "synthetic"});
  if (spec.task == "synthetic") {
    spec.synthetic = ReadSynthetic(r.Child("synthetic"));
  } else if (r.Has("synthetic")) {
    r.Fail("synthetic", "only allowed with task synthetic");
  }
  if (spec.task == "ptq") {
    spec.ptq = ReadPtq(r.Child("ptq"));
  } else if (r.Has("ptq")) {
    r.Fail("ptq", "only allowed with task ptq");
  }
  spec.dataset = ReadDataset(r.Child("dataset"), base_dir);
  spec.model = ReadModel(r.Child("model"));
  std::string loss = r.OneOf("loss", "bce", kLossNames);
  for (size_t i = 0; i < kLossNames.size(); ++i) {
    if (kLossNames[i] == loss) spec.loss = static_cast<LossKind>(i);
  }
  SpecReader quant = r.Child("quant");
  spec.quant_g = ReadQuant(quant.Child("g"));
  spec.quant_d = ReadQuant(quant.Child("d"));
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
  }
  if (task == "ptq") j["ptq"] = {{"bn_batches", ptq.bn_batches}};
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
