#include "dashboard/quality_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <vector>

namespace bitsweep::dashboard {
namespace {

struct Value {
  double value;
  std::optional<double> se;
};

std::optional<Value> MetricOf(const v1::ResultRow& r, const std::string& metric) {
  if (metric == "fid" && r.has_fid()) return Value{r.fid(), r.has_fid_se() ? std::optional(r.fid_se()) : std::nullopt};
  if (metric == "is" && r.has_is()) return Value{r.is(), r.has_is_se() ? std::optional(r.is_se()) : std::nullopt};
  if (metric == "kid" && r.has_kid()) return Value{r.kid(), r.has_kid_se() ? std::optional(r.kid_se()) : std::nullopt};
  return std::nullopt;
}

bool FullPrecision(const std::string& method, int bits) { return method == "none" || bits >= 32; }

// Whether G's layers are of one width: every layer at bits_g, or the first
// and last kept at full precision (keep_first_last_fp). A generator whose
// layers differ (per-layer widths, "2,2,4,8") is not a point of its
// nominal bits_g.
bool UniformWidths(const std::string& widths, int bits) {
  if (widths.empty()) return true;  // an older coordinator: no widths
  std::vector<int> w;
  size_t at = 0;
  while (at <= widths.size()) {
    size_t comma = widths.find(',', at);
    if (comma == std::string::npos) comma = widths.size();
    w.push_back(std::atoi(widths.substr(at, comma - at).c_str()));
    at = comma + 1;
  }
  bool all = true, middle = w.size() >= 2 && w.front() == 32 && w.back() == 32;
  for (size_t i = 0; i < w.size(); ++i) {
    all = all && w[i] == bits;
    if (i > 0 && i + 1 < w.size()) middle = middle && w[i] == bits;
  }
  return all || middle;
}

// Jobs listed per point (for the tooltip and the link); `n` counts them all.
constexpr size_t kMostJobsListed = 12;

struct Runs {
  /// Per-layer generators: their widths and weight-averaged bits (the x).
  std::string widths;
  double mean_bits = 0.0;
  std::vector<double> values;
  std::vector<double> ses;  // of runs that estimated one
  nlohmann::json jobs = nlohmann::json::array();
};

}  // namespace

Result<nlohmann::json> QualityChart(const v1::QueryResultsResponse& results, const std::string& metric,
                                    const std::string& side) {
  if (metric != "fid" && metric != "is" && metric != "kid") {
    return Status::InvalidArgument("metric: \"" + metric + "\" is not one of fid, is, kid");
  }
  if (side != "g" && side != "d") return Status::InvalidArgument("side: \"" + side + "\" is not g or d");
  // series label -> point (bits, or "widths" of a per-layer generator) -> runs
  std::map<std::string, std::map<std::string, Runs>> series;
  auto key = [](int bits) {  // sorts as the number it is
    char text[16];
    std::snprintf(text, sizeof text, "%03d", bits);
    return std::string(text);
  };
  for (const auto& r : results.rows()) {
    if (r.state() != "SUCCEEDED" || !MetricOf(r, metric)) continue;
    const bool g_fp = FullPrecision(r.method_g(), r.bits_g());
    const bool d_fp = FullPrecision(r.method_d(), r.bits_d());
    std::string label;
    int bits;
    bool per_layer = false;
    if (g_fp && d_fp && UniformWidths(r.widths_g(), 32)) {
      label = "full precision";
      bits = 32;
    } else if (side == "g" && d_fp && !UniformWidths(r.widths_g(), r.bits_g())) {
      // Layers of their own widths: at their weight-averaged bits, in a
      // series of their own, one point per allocation.
      label = r.method_g() + " per layer";
      bits = r.bits_g();
      per_layer = true;
    } else if (side == "g" && d_fp) {
      label = r.method_g();
      bits = r.bits_g();
    } else if (side == "d" && !d_fp) {
      label = "D " + r.method_d() + (g_fp ? "" : ", G " + r.method_g() + "-" + std::to_string(r.bits_g()));
      bits = r.bits_d();
    } else {
      continue;
    }
    if (!r.protocol().empty()) label += " · " + r.protocol();
    Runs& runs = series[label][per_layer ? r.widths_g() : key(bits)];
    if (per_layer) {
      runs.widths = r.widths_g();
      runs.mean_bits = r.has_mean_bits_g() ? r.mean_bits_g() : bits;
    } else {
      runs.mean_bits = bits;
    }
    const Value v = *MetricOf(r, metric);
    runs.values.push_back(v.value);
    if (v.se) runs.ses.push_back(*v.se);
    if (runs.jobs.size() < kMostJobsListed) {
      runs.jobs.push_back({{"job", r.job_id()}, {"seed", r.seed()}, {"value", v.value}});
    }
  }

  nlohmann::json out_series = nlohmann::json::array();
  for (const auto& [label, points] : series) {
    nlohmann::json out_points = nlohmann::json::array();
    for (const auto& [point, runs] : points) {
      const double n = static_cast<double>(runs.values.size());
      double mean = 0;
      for (double v : runs.values) mean += v / n;
      nlohmann::json err = nullptr;
      std::string err_kind;
      if (runs.values.size() >= 2) {
        double ss = 0;
        for (double v : runs.values) ss += (v - mean) * (v - mean);
        err = std::sqrt(ss / (n - 1));
        err_kind = "std over seeds";
      } else if (!runs.ses.empty()) {
        err = runs.ses.front();
        err_kind = "sampling SE, one seed";
      }
      const nlohmann::json x = runs.widths.empty() ? nlohmann::json(static_cast<int>(runs.mean_bits))
                                                   : nlohmann::json(runs.mean_bits);
      nlohmann::json p = {{"bits", x},
                           {"mean", mean},
                           {"err", err},
                           {"err_kind", err_kind},
                           {"n", runs.values.size()},
                           {"jobs", runs.jobs}};
      if (!runs.widths.empty()) p["widths"] = runs.widths;
      out_points.push_back(std::move(p));
    }
    const bool per_layer = !points.empty() && !points.begin()->second.widths.empty();
    if (per_layer) {
      // By weight-averaged bits, as the axis reads.
      std::stable_sort(out_points.begin(), out_points.end(), [](const nlohmann::json& a, const nlohmann::json& b) {
        return a["bits"].get<double>() < b["bits"].get<double>();
      });
    }
    out_series.push_back({{"label", label}, {"per_layer", per_layer}, {"points", std::move(out_points)}});
  }
  return nlohmann::json{{"metric", metric}, {"x", side == "d" ? "bits_d" : "bits_g"}, {"series", std::move(out_series)}};
}

}  // namespace bitsweep::dashboard
