#include "cli/search_summary.h"

#include "cli/allocation_summary.h"

#include <cmath>
#include <cstdio>

namespace bitsweep::cli {
namespace {

std::string Format(const char* format, double value) {
  char text[64];
  std::snprintf(text, sizeof text, format, value);
  return text;
}

// "em-2"; with layers of different widths (per-layer widths, or
// keep_first_last_fp), the method and the widths: "em 2,1,2,4".
std::string NetText(const std::string& method, int bits, const std::string& widths = "") {
  bool uniform = true;
  for (size_t at = 0; at < widths.size();) {
    size_t comma = widths.find(',', at);
    if (comma == std::string::npos) comma = widths.size();
    uniform = uniform && widths.compare(at, comma - at, std::to_string(bits)) == 0;
    at = comma + 1;
  }
  if (!uniform) return method + " " + widths;
  return method == "none" ? std::string("fp32") : method + "-" + std::to_string(bits);
}

void Accumulate(MetricStats* s, const std::optional<double>& value, const std::optional<double>& se,
                std::vector<double>* values) {
  if (!value || !std::isfinite(*value)) return;
  // The running sum of squared sampling errors, kept as n * sampling_se^2.
  const double squares = s->sampling_se * s->sampling_se * s->n + (se && std::isfinite(*se) ? *se * *se : 0.0);
  values->push_back(*value);
  s->n = static_cast<int>(values->size());
  double sum = 0.0;
  for (double v : *values) sum += v;
  s->mean = sum / s->n;
  double ss = 0.0;
  for (double v : *values) ss += (v - s->mean) * (v - s->mean);
  s->std = s->n > 1 ? std::sqrt(ss / (s->n - 1)) : 0.0;
  s->sampling_se = std::sqrt(squares / s->n);
}

Cell MeanCell(const MetricStats& s, const char* format) {
  return s.n > 0 ? Cell::Number(s.mean, format) : Cell::Missing();
}
// How sure the mean is; missing when nothing says (one run, no sampling error).
Cell SeCell(const MetricStats& s, const char* format) {
  return s.n > 0 && s.se() > 0.0 ? Cell::Number(s.se(), format) : Cell::Missing();
}

}  // namespace

double MetricStats::se() const {
  if (n == 0) return 0.0;
  const double over_seeds = n > 1 ? std / std::sqrt(static_cast<double>(n)) : 0.0;
  return std::max(over_seeds, sampling_se / std::sqrt(static_cast<double>(n)));
}

std::vector<ConfigSummary> GroupBySeed(const std::vector<RunRow>& runs) {
  std::vector<ConfigSummary> configs;
  std::vector<std::array<std::vector<double>, 3>> values;
  for (const auto& run : runs) {
    nlohmann::json key = run.params;
    key.erase("train.seed");
    size_t i = 0;
    while (i < configs.size() && !(configs[i].params == key && configs[i].method_g == run.method_g &&
                                   configs[i].bits_g == run.bits_g && configs[i].method_d == run.method_d &&
                                   configs[i].bits_d == run.bits_d)) {
      ++i;
    }
    if (i == configs.size()) {
      ConfigSummary c;
      c.method_g = run.method_g;
      c.bits_g = run.bits_g;
      c.method_d = run.method_d;
      c.bits_d = run.bits_d;
      c.widths_g = run.widths_g;
      c.params = key;
      configs.push_back(std::move(c));
      values.emplace_back();
    }
    ConfigSummary& c = configs[i];
    ++c.jobs;
    if (!run.succeeded) {
      ++c.failed;
      continue;
    }
    Accumulate(&c.fid, run.fid, run.fid_se, &values[i][0]);
    Accumulate(&c.is, run.is, run.is_se, &values[i][1]);
    Accumulate(&c.kid, run.kid, run.kid_se, &values[i][2]);
    if (run.model_bytes > 0) c.model_bytes = run.model_bytes;
  }
  return configs;
}

std::string SummaryMetric(const nlohmann::json& outcome) {
  if (outcome.is_object() && outcome.contains("metric") && outcome["metric"].is_string()) {
    return outcome["metric"].get<std::string>();
  }
  return "fid";
}

Table ConfigTable(std::vector<ConfigSummary>* configs, const nlohmann::json& outcome) {
  // Verdicts of multi_precision, matched by the networks' settings.
  if (outcome.is_object() && outcome.contains("configs")) {
    for (auto& c : *configs) {
      for (const auto& o : outcome["configs"]) {
        if (o["g"][0] == c.method_g && o["g"][1] == c.bits_g && o["d"][0] == c.method_d && o["d"][1] == c.bits_d) {
          c.verdict = o.value("verdict", "");
          if (o.contains("vs_bound")) {
            const auto& v = o["vs_bound"];
            c.vs_bound = Format("%.3f", v["estimate"].get<double>()) + " [" + Format("%.3f", v["low"].get<double>()) +
                         ", " + Format("%.3f", v["high"].get<double>()) + "]";
          }
        }
      }
    }
  }
  // Params other than the quantization settings (budgets, learning rates)
  // get a column so that configurations that differ only there are told apart.
  bool other_params = false;
  for (const auto& c : *configs) {
    for (const auto& [path, value] : c.params.items()) {
      if (path.rfind("quant.", 0) != 0) other_params = true;
    }
  }
  Table t;
  // Means over seeds with their standard errors (seeds and sampling).
  t.columns = {"g", "d", "jobs", "failed", "fid", "fid_se", "is", "is_se", "kid", "kid_se", "model_bytes"};
  if (other_params) t.columns.push_back("params");
  bool with_bounds = false;
  for (const auto& c : *configs) with_bounds = with_bounds || !c.vs_bound.empty();
  if (with_bounds) t.columns.push_back("vs_bound");
  t.columns.push_back("verdict");
  for (const auto& c : *configs) {
    std::vector<Cell> row = {Cell::Text(NetText(c.method_g, c.bits_g, c.widths_g)),
                             Cell::Text(NetText(c.method_d, c.bits_d)),
                             Cell::Number(c.jobs, "%.0f"),
                             Cell::Number(c.failed, "%.0f"),
                             MeanCell(c.fid, "%.2f"),
                             SeCell(c.fid, "%.2f"),
                             MeanCell(c.is, "%.3f"),
                             SeCell(c.is, "%.3f"),
                             MeanCell(c.kid, "%.4f"),
                             SeCell(c.kid, "%.4f"),
                             c.model_bytes > 0 ? Cell::Number(static_cast<double>(c.model_bytes), "%.0f")
                                               : Cell::Missing()};
    if (other_params) {
      nlohmann::json rest = nlohmann::json::object();
      for (const auto& [path, value] : c.params.items()) {
        if (path.rfind("quant.", 0) != 0) rest[path] = value;
      }
      row.push_back(Cell::Text(rest.dump()));
    }
    if (with_bounds) row.push_back(c.vs_bound.empty() ? Cell::Missing() : Cell::Text(c.vs_bound));
    row.push_back(Cell::Text(c.verdict));
    t.rows.push_back(std::move(row));
  }
  return t;
}

std::string FormatSearchSummary(const SearchInfo& info, std::vector<ConfigSummary> configs) {
  const nlohmann::json& o = info.outcome;
  const std::string metric = SummaryMetric(o);
  std::string out = "sweep " + std::to_string(info.sweep_id) + " \"" + info.name + "\" (" + info.strategy +
                    "): " + info.state + "\n";
  if (o.is_object() && o.contains("requirement")) {
    out += "requirement: " + o["requirement"].get<std::string>();
    if (o.contains("baseline")) {
      const auto& b = o["baseline"];
      out += "; baseline " + metric + " " + Format("%.3f", b["value"].get<double>()) + " (sd " +
             Format("%.3f", b["std"].get<double>()) + " over " + std::to_string(b["n"].get<int>()) + " seeds, " +
             o.value("aggregate", "mean") + ")";
    }
    if (o.contains("threshold") && o["threshold"].is_number()) {
      out += " -> bound " + Format("%.3f", o["threshold"].get<double>());
    }
    out += "\n";
    const double confidence = o.value("confidence", 0.0);
    if (confidence > 0.0) {
      out += "verdicts at " + Format("%.0f", 100.0 * confidence) +
             "% confidence over seeds and sampling (vs_bound: " + metric +
             (metric == "is" ? " bound / value" : " value / bound") +
             ", at most 1 meets, with its interval); undecided configurations got more seeds, up to " +
             std::to_string(o.value("max_seeds", 0)) + ", and count as failing";
      if (o.contains("seed_spread")) {
        out += "; seed-to-seed spread " + Format("%.1f", 100.0 * o["seed_spread"]["sd"].get<double>()) + "% (" +
               Format("%.0f", o["seed_spread"]["df"].get<double>()) + " df)";
      }
      out += "\n";
    } else if (o.contains("confidence")) {
      out += "verdicts compare the " + o.value("aggregate", std::string("mean")) +
             " over seeds with the bound (point estimates, confidence 0): differences smaller than the noise "
             "decide them too\n";
    }
  }
  if (o.is_object() && o.contains("error")) out += "error: " + o["error"].get<std::string>() + "\n";
  if (info.strategy == "layer_allocation") {
    out += FormatAllocationSummary(o);
  } else if (o.is_object() && o.contains("methods")) {
    Table chosen;
    chosen.columns = {"method", "bits_g", "bits_d"};
    auto describe = [](const nlohmann::json& m) -> Cell {
      if (m.is_null()) return Cell::Text("-");
      const std::string status = m.value("status", "");
      if (status == "found") return Cell::Number(m["bits"].get<int>(), "%.0f");
      if (status == "none_meets") return Cell::Text("none meets (32)");
      return Cell::Text(status);
    };
    for (const auto& [method, m] : o["methods"].items()) {
      chosen.rows.push_back({Cell::Text(method), describe(m.value("g", nlohmann::json())),
                             describe(m.value("d", nlohmann::json()))});
    }
    out += "\nchosen bit-widths (fewest that meet the requirement):\n" + FormatAligned(chosen);
  }
  if (o.is_object() && o.contains("best")) {
    const auto& b = o["best"];
    out += "\nbest: " + b["params"].dump() + "  " + metric + " " + Format("%.3f", b["value"].get<double>()) +
           " after " + std::to_string(b["iterations"].get<int64_t>()) + " iterations (job " +
           std::to_string(b["job"].get<int64_t>()) + ")\n";
  }
  Table table = ConfigTable(&configs, o);
  out += "\nconfigurations tried (" + std::to_string(configs.size()) +
         "; mean over seeds, _se: its standard error over seeds and sampling):\n" +
         FormatAligned(table);

  out += "\njobs: " + std::to_string(info.jobs);
  if (o.is_object() && o.contains("grid_jobs")) {
    const double grid = o["grid_jobs"].get<double>();
    out += " (a grid over the same candidates: " + Format("%.0f", grid) + " jobs; the search ran " +
           Format("%.2f", grid > 0 ? info.jobs / grid : 0.0) + " of it)";
  }
  out += "; worker-slot hours: " + Format("%.3f", info.slot_seconds / 3600.0) + " (GPU-hours on GPU workers)\n";

  auto front = ParetoFront(table, "model_bytes", metric == "is" ? "is" : metric);
  if (front.ok() && metric != "is") {
    out += "\nPareto front (packed generator bytes vs mean " + metric + "):\n" + FormatAligned(front.value());
  } else if (metric == "is") {
    out += "\n(the Pareto front is drawn for lower-is-better metrics; see `bitsweep plot`)\n";
  }
  return out;
}

}  // namespace bitsweep::cli
