#include "common/layer_allocation_spec.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "common/job_spec.h"
#include "common/network_layout.h"

namespace bitsweep {
namespace {

// A list of widths: whole numbers, each 1..8 or 32, sorted, no repeats.
std::vector<int> ReadWidths(SpecReader& r, const std::string& key) {
  std::vector<int> widths;
  for (double b : r.NumberArray(key, {}, 0, 1, 32)) {
    if (std::floor(b) != b || (b > 8 && b != 32)) {
      const std::string got = std::floor(b) == b ? std::to_string(static_cast<int64_t>(b)) : nlohmann::json(b).dump();
      r.Fail(key, "widths are 1..8 or 32 (full precision), got " + got);
      return {};
    }
    widths.push_back(static_cast<int>(b));
  }
  std::sort(widths.begin(), widths.end());
  widths.erase(std::unique(widths.begin(), widths.end()), widths.end());
  return widths;
}

// Checks that `name` is a layer of the generator; fails `field` otherwise.
bool CheckLayer(SpecReader& r, const std::string& name, const std::vector<std::string>& layers,
                const std::string& arch) {
  if (std::find(layers.begin(), layers.end(), name) != layers.end()) return true;
  std::string list;
  for (const auto& l : layers) list += (list.empty() ? "" : ", ") + l;
  r.Fail(name, "not a layer of the " + arch + " generator (its layers: " + list + ")");
  return false;
}

bool IsSha256Hex(const std::string& text) {
  return text.size() == 64 && text.find_first_not_of("0123456789abcdef") == std::string::npos;
}

std::vector<BaselineFile> ReadBaselineFiles(SpecReader& r, const std::string& base_dir) {
  std::vector<BaselineFile> files;
  for (SpecReader f : r.ObjectArray("baseline_files")) {
    BaselineFile file;
    file.path = f.RequiredString("path");
    if (f.status().ok() && file.path.empty()) f.Fail("path", "must not be empty");
    if (!file.path.empty() && !base_dir.empty() && std::filesystem::path(file.path).is_relative()) {
      file.path = (std::filesystem::path(base_dir) / file.path).lexically_normal().string();
    }
    if (f.status().ok() && !f.Has("seed")) f.Fail("seed", "missing (required: the seed its jobs run with)");
    file.seed = static_cast<uint64_t>(f.Int("seed", 0, 0, int64_t{1} << 53));
    file.sha256 = f.String("sha256", "");
    if (f.status().ok() && !file.sha256.empty() && !IsSha256Hex(file.sha256)) {
      f.Fail("sha256", "expected 64 lower-case hex digits (the SHA-256 of the file)");
    }
    for (const auto& other : files) {
      if (f.status().ok() && other.seed == file.seed) {
        f.Fail("seed", "another baseline file has seed " + std::to_string(file.seed) + " (one baseline per seed)");
      }
    }
    f.RejectUnknownKeys();
    files.push_back(std::move(file));
  }
  if (r.status().ok() && r.Has("baseline_files") && files.empty()) {
    r.Fail("baseline_files", "must name at least one file");
  }
  return files;
}

}  // namespace

std::vector<int> LayerAllocationSpec::CandidatesOf(const std::string& name) const {
  if (auto p = pinned.find(name); p != pinned.end()) return {p->second};
  if (auto l = layer_bits.find(name); l != layer_bits.end()) return l->second;
  return bits;
}

nlohmann::json LayerAllocationSpec::ToJson() const {
  nlohmann::json j = {{"kind", "layer_allocation"},
                      {"methods", methods},
                      {"bits", bits},
                      {"confidence", confidence},
                      {"max_seeds", max_seeds},
                      {"ptq_bn_batches", ptq_bn_batches},
                      {"distortion_samples", distortion_samples},
                      {"window", window},
                      {"spread", spread},
                      {"qat", qat},
                      {"max_in_flight", max_in_flight}};
  if (!layer_bits.empty()) j["layer_bits"] = layer_bits;
  if (!pinned.empty()) j["pinned"] = pinned;
  if (requirement) j["requirement"] = requirement->ToJson();
  if (budget_bytes) j["budget_bytes"] = *budget_bytes;
  if (fine_tune_iterations > 0) j["fine_tune_iterations"] = fine_tune_iterations;
  // The seeds are the named baselines' when there are some.
  if (!baseline_jobs.empty()) {
    j["baseline_jobs"] = baseline_jobs;
  } else if (!baseline_files.empty()) {
    nlohmann::json files = nlohmann::json::array();
    for (const auto& f : baseline_files) {
      nlohmann::json file = {{"path", f.path}, {"seed", f.seed}};
      if (!f.sha256.empty()) file["sha256"] = f.sha256;
      files.push_back(std::move(file));
    }
    j["baseline_files"] = files;
  } else {
    j["seeds"] = seeds;
  }
  return j;
}

Result<LayerAllocationSpec> ReadLayerAllocation(SpecReader r, const nlohmann::json& base, const std::string& base_dir) {
  LayerAllocationSpec spec;
  const std::string arch = base.value("model", nlohmann::json::object()).value("arch", "dcgan32");
  const std::vector<std::string> layers = LayerNamesOf(arch);

  spec.methods = r.StringArray("methods", {});
  if (r.status().ok() && spec.methods.empty()) r.Fail("methods", "missing (required: e.g. [\"em\", \"minmax\"])");
  for (size_t i = 0; i < spec.methods.size() && r.status().ok(); ++i) {
    auto method = ParseQuantMethod(spec.methods[i]);
    if (!method.ok() || method.value() == QuantMethod::kNone || method.value() == QuantMethod::kBinary) {
      r.Fail("methods[" + std::to_string(i) + "]",
             "\"" + spec.methods[i] + "\" is not a method with a choice of widths (minmax, log, tanh, em)");
    }
  }
  spec.bits = ReadWidths(r, "bits");
  if (r.status().ok() && spec.bits.empty()) r.Fail("bits", "missing (required: candidate widths, e.g. [1, 2, 3, 4, 8])");
  if (r.Has("layer_bits")) {
    SpecReader per_layer = r.Child("layer_bits");
    for (const auto& name : per_layer.Keys()) {
      if (!CheckLayer(per_layer, name, layers, arch)) break;
      std::vector<int> widths = ReadWidths(per_layer, name);
      if (per_layer.status().ok() && widths.empty()) per_layer.Fail(name, "must hold at least one width");
      spec.layer_bits[name] = std::move(widths);
    }
  }
  if (r.Has("pinned")) {
    SpecReader pinned = r.Child("pinned");
    for (const auto& name : pinned.Keys()) {
      if (!CheckLayer(pinned, name, layers, arch)) break;
      const int width = static_cast<int>(pinned.Int(name, 32, 1, 32));
      if (pinned.status().ok() && width > 8 && width != 32) {
        pinned.Fail(name, std::to_string(width) + " is outside 1..8 or 32");
      }
      if (spec.layer_bits.count(name)) pinned.Fail(name, "is pinned and has layer_bits too (give one)");
      spec.pinned[name] = width;
    }
  }
  if (r.status().ok() && spec.pinned.size() == layers.size()) {
    r.Fail("pinned", "every layer is pinned: there is nothing to allocate");
  }
  if (r.Has("requirement")) {
    spec.requirement = ReadRequirement(r.Child("requirement"));
    if (r.status().ok() && spec.requirement->metric != "fid") {
      r.Fail("requirement.metric", "the layer allocation predicts FID (its damage model is on log FID): use fid");
    }
  }
  if (r.Has("budget_bytes")) spec.budget_bytes = r.Int("budget_bytes", 0, 1, int64_t{1} << 50);
  if (r.status().ok() && !spec.requirement && !spec.budget_bytes) {
    r.Fail("requirement", "give a quality bound (requirement), a byte budget (budget_bytes), or both");
  }
  if (r.Has("seeds")) {
    spec.seeds.clear();
    for (double s : r.NumberArray("seeds", {}, 0, 0, 9.0e15)) {
      if (std::floor(s) != s) r.Fail("seeds", "seeds are whole numbers");
      spec.seeds.push_back(static_cast<uint64_t>(s));
    }
    if (r.status().ok() && spec.seeds.empty()) r.Fail("seeds", "must hold at least one seed");
  }
  spec.confidence = r.Number("confidence", spec.confidence, 0.0, 0.999);
  if (r.status().ok() && spec.confidence != 0.0 && spec.confidence <= 0.5) {
    r.Fail("confidence", "must be above 0.5 (e.g. 0.9), or 0 to compare point estimates");
  }
  for (double job : r.NumberArray("baseline_jobs", {}, 0, 1, 9.0e15)) {
    spec.baseline_jobs.push_back(static_cast<int64_t>(job));
  }
  if (r.status().ok() && !spec.baseline_jobs.empty() && r.Has("seeds")) {
    r.Fail("seeds", "not with baseline_jobs (the seeds are those jobs')");
  }
  spec.baseline_files = ReadBaselineFiles(r, base_dir);
  if (r.status().ok() && !spec.baseline_files.empty()) {
    if (!spec.baseline_jobs.empty()) r.Fail("baseline_files", "not with baseline_jobs (name the baselines one way)");
    if (r.Has("seeds")) r.Fail("seeds", "not with baseline_files (each file names its seed)");
    spec.seeds.clear();
    for (const auto& f : spec.baseline_files) spec.seeds.push_back(f.seed);
  }
  const bool named = !spec.baseline_jobs.empty() || !spec.baseline_files.empty();
  const int seeds = static_cast<int>(!spec.baseline_jobs.empty()    ? spec.baseline_jobs.size()
                                     : !spec.baseline_files.empty() ? spec.baseline_files.size()
                                                                    : spec.seeds.size());
  const int default_max = !named && spec.confidence != 0.0 ? seeds + 2 : seeds;
  spec.max_seeds = static_cast<int>(r.Int("max_seeds", default_max, 1, 1000));
  if (r.status().ok() && spec.max_seeds < seeds) {
    r.Fail("max_seeds", "must be at least the number of seeds (" + std::to_string(seeds) + ")");
  }
  if (r.status().ok() && !spec.baseline_jobs.empty() && spec.max_seeds > seeds) {
    r.Fail("max_seeds", "more seeds than baseline_jobs need baselines the search would train; name more jobs");
  }
  if (r.status().ok() && !spec.baseline_files.empty() && spec.max_seeds > seeds) {
    r.Fail("max_seeds", "more seeds than baseline_files need baselines the search would train; name more files");
  }
  spec.ptq_bn_batches = static_cast<int>(r.Int("ptq_bn_batches", spec.ptq_bn_batches, 0, 100000));
  spec.distortion_samples = static_cast<int>(r.Int("distortion_samples", spec.distortion_samples, 0, 100000));
  spec.window = r.Number("window", spec.window, 0.0, 10.0);
  spec.spread = static_cast<int>(r.Int("spread", spec.spread, 0, 1000));
  spec.qat = r.Bool("qat", spec.qat);
  spec.fine_tune_iterations = r.Int("fine_tune_iterations", 0, 1, int64_t{1} << 40);
  spec.max_in_flight = static_cast<int>(r.Int("max_in_flight", spec.max_in_flight, 1, 100000));
  r.RejectUnknownKeys();
  BITSWEEP_RETURN_IF_ERROR(r.status());
  return spec;
}

}  // namespace bitsweep
