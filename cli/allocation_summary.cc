#include "cli/allocation_summary.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "common/layer_widths.h"
#include "common/table.h"

namespace bitsweep::cli {
namespace {

std::string Format(const char* format, double value) {
  char text[64];
  std::snprintf(text, sizeof text, format, value);
  return text;
}

// 101232 -> "101,232".
std::string Bytes(int64_t bytes) {
  std::string digits = std::to_string(bytes), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

Cell Number(const nlohmann::json& j, const char* key, const char* format) {
  return j.contains(key) && j[key].is_number() ? Cell::Number(j[key].get<double>(), format) : Cell::Missing();
}

// The ratio to full precision of a judged configuration, with its
// interval: "1.52x full precision, 1.45-1.60" ("" when not judged).
std::string Ratio(const nlohmann::json& c, double bound_ratio, bool first) {
  if (!c.contains("vs_bound") || !(bound_ratio > 0.0)) return "";
  const auto& v = c["vs_bound"];
  return Format("%.2fx", bound_ratio * v["estimate"].get<double>()) + (first ? " full precision, " : ", ") +
         Format("%.2f", bound_ratio * v["low"].get<double>()) + "-" + Format("%.2f", bound_ratio * v["high"].get<double>());
}

std::string Bits(int bits) { return std::to_string(bits) + (bits == 1 ? " bit" : " bits"); }

// "meets", "fails" or "is undecided", as a verb.
std::string Verb(const nlohmann::json& c) {
  const std::string v = c.value("verdict", std::string("not measured"));
  return v == "meets" || v == "fails" ? v : "is " + v;
}

std::string Qat(const nlohmann::json& c, double bound_ratio) {
  if (!c.contains("qat")) return "";
  const auto& q = c["qat"];
  if (q.value("failed", false) || !q.contains("fid")) return "failed";
  std::string s = "fid " + Format("%.1f", q["fid"].get<double>()) + " +- " + Format("%.1f", q.value("fid_se", 0.0));
  if (q.contains("vs_bound") && bound_ratio > 0.0) {
    s += " (" + Format("%.2fx", bound_ratio * q["vs_bound"].get<double>()) + ")";
  }
  return s;
}

}  // namespace

std::string KiB(int64_t bytes) { return Format("%.1f KiB", static_cast<double>(bytes) / 1024.0); }

std::vector<std::string> AllocationVerdictLines(const nlohmann::json& o) {
  std::vector<std::string> lines;
  if (!o.is_object()) return lines;
  const double r = o.value("bound_ratio", 0.0);
  const std::string bound = r > 0.0 ? Format("%gx", r) : "the bound";
  const nlohmann::json methods = o.value("methods", nlohmann::json::object());
  for (const auto& [method, m] : methods.items()) {
    const std::string who = method + ": ";
    if (m.value("status", "") == "error") {
      lines.push_back(who + "no front: " + m.value("error", std::string()));
      continue;
    }
    if (!m.contains("front")) {
      lines.push_back(who + m.value("status", std::string("measuring sensitivities")));
      continue;
    }
    if (m.contains("bound")) {
      const auto& b = m["bound"];
      const std::string status = b.value("status", "");
      if (status == "searching") {
        lines.push_back(who + "still searching for the fewest bytes that meet " + bound);
        continue;
      }
      std::string line = who;
      const bool uniform = b.contains("uniform_answer");
      if (uniform) {
        const auto& u = b["uniform_answer"];
        line += "uniform " + Bits(u["bits"].get<int>());
        // Pinned layers keep their width in the uniform allocation too: say
        // so, or "uniform 1 bit" would read as every layer at 1 bit.
        const std::string widths = u.value("widths", std::string());
        const size_t layers = static_cast<size_t>(std::count(widths.begin(), widths.end(), ',')) + 1;
        if (!widths.empty() && widths != WidthsText(std::vector<int>(layers, u["bits"].get<int>()))) {
          line += " (" + widths + ", pinned layers held)";
        }
        line += " meets " + bound + " at " + KiB(u["bytes"].get<int64_t>());
        if (const std::string ratio = Ratio(u, r, true); !ratio.empty()) line += " (" + ratio + ")";
      } else {
        // The widest uniform width, and what it measured.
        const auto widths = m.value("uniform", nlohmann::json::array());
        line += "no uniform width tried meets " + bound;
        if (!widths.empty()) {
          const auto& w = widths.back();
          line += " (" + Bits(w.value("bits", 0)) + " " + Verb(w);
          if (const std::string ratio = Ratio(w, r, false); !ratio.empty()) line += ", " + ratio;
          line += ")";
        }
      }
      if (status == "found") {
        const auto& a = b["answer"];
        line += std::string("; per layer ") + a.value("widths", std::string("?")) + " meets " + (uniform ? "it" : bound) +
                " at " + KiB(a["bytes"].get<int64_t>());
        if (const std::string ratio = Ratio(a, r, !uniform); !ratio.empty()) line += " (" + ratio + ")";
        if (b.contains("saving")) {
          const double saving = b["saving"].get<double>();
          line += saving >= 0.0 ? ": " + Format("%.0f", 100.0 * saving) + "% fewer bytes"
                                : ": " + Format("%.0f", -100.0 * saving) + "% more bytes";
        }
      } else {
        line += "; no allocation of the front meets it";
      }
      lines.push_back(line);
      if (b.contains("cheaper_neighbour")) {
        const auto& n = b["cheaper_neighbour"];
        std::string next = "    the next cheaper allocation on the front, " + n.value("widths", std::string("?")) + " at " +
                           KiB(n["bytes"].get<int64_t>()) + ", " + Verb(n);
        if (const std::string ratio = Ratio(n, r, false); !ratio.empty()) next += " (" + ratio + ")";
        lines.push_back(next);
      } else if (status == "found") {
        lines.push_back("    it is the cheapest allocation on the front");
      }
      const std::string qat_answer = status == "found" ? Qat(b["answer"], r) : "";
      const std::string qat_uniform = uniform ? Qat(b["uniform_answer"], r) : "";
      if (!qat_answer.empty() || !qat_uniform.empty()) {
        std::string q = "    as warm-started QAT:";
        if (!qat_uniform.empty()) q += " uniform " + qat_uniform;
        if (!qat_answer.empty()) q += std::string(qat_uniform.empty() ? "" : ",") + " per layer " + qat_answer;
        lines.push_back(q);
      }
    }
    if (m.contains("budget")) {
      const auto& b = m["budget"];
      std::string line = "  budget " + KiB(b["bytes"].get<int64_t>()) + ": ";
      if (b.value("status", "") == "found") {
        const auto& a = b["answer"];
        line += "best measured " + a.value("widths", std::string("?")) + " at " + KiB(a["bytes"].get<int64_t>()) +
                ", fid " + Format("%.1f", a.value("fid", 0.0)) + " +- " + Format("%.1f", a.value("fid_se", 0.0));
      } else {
        line += b.value("status", std::string());
      }
      lines.push_back(m.contains("bound") ? line : who + line.substr(2));
    }
  }
  if (o.value("sampling_only", false)) {
    lines.push_back("(one seed: the intervals cover the evaluation's sampling error only, not training noise)");
  }
  return lines;
}

std::string AllocationReport(int64_t sweep_id, const std::string& name, const std::string& state,
                             const nlohmann::json& o) {
  const std::string running = state == "RUNNING" ? ", still running" : state == "CANCELLED" ? ", cancelled" : "";
  const std::string title = "layer allocation, sweep " + std::to_string(sweep_id) + " \"" + name + "\"";
  if (!o.is_object()) return title + running + ": nothing measured yet\n";
  std::string how;
  if (o.contains("requirement")) {
    how = o["requirement"].get<std::string>();
    const double confidence = o.value("confidence", 0.0);
    if (confidence > 0.0) {
      how += ", each verdict " + Format("%.0f", confidence * 100) + "% sure, intervals " +
             Format("%.0f", (2 * confidence - 1) * 100) + "%";
    } else {
      how += ", judged on the mean (no interval)";
    }
    how += "; ";
  }
  const nlohmann::json seeds = o.value("seeds", nlohmann::json::array());
  how += "post-training quantization, " + std::string(seeds.size() == 1 ? "seed " : "seeds ");
  for (size_t i = 0; i < seeds.size(); ++i) how += (i ? ", " : "") + seeds[i].dump();
  std::string out = title + " (" + how + ")" + running + ":\n";
  if (o.contains("error")) out += "  " + o["error"].get<std::string>() + "\n";
  for (const auto& line : AllocationVerdictLines(o)) out += "  " + line + "\n";
  return out;
}

std::string DescribeAllocation(const nlohmann::json& c) {
  std::string s = c.value("widths", std::string("?")) + " at " + Bytes(c.value("bytes", int64_t{0})) + " bytes (" +
                  Format("%.2f", c.value("mean_bits", 0.0)) + " bits)";
  if (c.contains("fid")) {
    s += ": fid " + Format("%.2f", c["fid"].get<double>()) + " +- " + Format("%.2f", c.value("fid_se", 0.0)) + " (" +
         std::to_string(c.value("n", 0)) + (c.value("n", 0) == 1 ? " seed)" : " seeds)");
  }
  if (c.contains("vs_bound")) {
    const auto& v = c["vs_bound"];
    s += ", " + Format("%.2f", v["estimate"].get<double>()) + " [" + Format("%.2f", v["low"].get<double>()) + ", " +
         Format("%.2f", v["high"].get<double>()) + "] of the bound";
  }
  if (c.contains("predicted_fid")) s += "; predicted " + Format("%.2f", c["predicted_fid"].get<double>());
  return s;
}

std::string FormatAllocationSummary(const nlohmann::json& o) {
  std::string out;
  if (!o.is_object()) return out;
  out += "damage model: " + o.value("damage_model", std::string()) + "\n";
  out += "bytes: " + o.value("bytes", std::string()) + "\n";
  if (o.contains("reference")) {
    const auto& r = o["reference"];
    out += "full precision (same post-training pipeline, first seed): fid " + Format("%.2f", r["fid"].get<double>()) +
           " at " + Bytes(r["bytes"].get<int64_t>()) + " bytes\n";
  }
  if (o.value("sampling_only", false)) {
    out += "verdicts: one seed and no other to run, so judged on the evaluation's sampling error alone (the intervals "
           "say nothing of training noise)\n";
  }
  for (const auto& b : o.value("baselines", nlohmann::json::array())) {
    if (!b.contains("file")) continue;
    out += "baseline of seed " + b["seed"].dump() + ": " + b["file"].get<std::string>() + " (sha256 " +
           b.value("sha256", std::string("?")).substr(0, 12) + "...)\n";
  }
  // (A named copy: items() of a temporary would outlive it.)
  const nlohmann::json methods = o.value("methods", nlohmann::json::object());
  for (const auto& [method, m] : methods.items()) {
    out += "\n" + method + ":";
    if (m.contains("status")) out += " " + m["status"].get<std::string>();
    if (m.contains("error")) out += " (" + m["error"].get<std::string>() + ")";
    out += "\n";
    int cached = 0;
    for (const auto& s : m.value("sensitivities", nlohmann::json::array())) cached += s.value("cached", false);
    out += "  sensitivities: " + std::to_string(m.value("sensitivities", nlohmann::json::array()).size()) +
           " (each layer alone at each width; " + std::to_string(cached) + " from the store)";
    if (m.contains("proxy")) {
      out += "; output-distortion proxy against FID: Kendall tau " +
             Format("%.2f", m["proxy"]["kendall_tau"].get<double>()) + " over " +
             std::to_string(m["proxy"]["pairs"].get<int>());
    }
    out += "\n";
    if (m.contains("front")) {
      out += "  predicted front: " + std::to_string(m["front"].size()) + " allocations";
      if (m.contains("additivity")) {
        const auto& a = m["additivity"];
        out += "; measured against predicted (log FID ratio, " + std::to_string(a["points"].get<int>()) +
               " points): mean |error| " + Format("%.3f", a["mean_abs_log_error"].get<double>()) + ", max " +
               Format("%.3f", a["max_abs_log_error"].get<double>());
      }
      out += "\n";
    }
    if (m.contains("bound")) {
      const auto& b = m["bound"];
      out += "  " + b.value("requirement", std::string()) + ": ";
      const std::string status = b.value("status", "");
      if (status == "found") {
        out += "per layer " + DescribeAllocation(b["answer"]) + "\n";
        if (b["answer"].contains("qat")) {
          const auto& q = b["answer"]["qat"];
          out += q.contains("fid") ? "    as warm-started QAT: fid " + Format("%.2f", q["fid"].get<double>()) + " +- " +
                                         Format("%.2f", q["fid_se"].get<double>()) + "\n"
                                   : "    as warm-started QAT: failed\n";
        }
        if (b.contains("cheaper_neighbour")) {
          out += "    next cheaper on the front: " + DescribeAllocation(b["cheaper_neighbour"]) + " (" +
                 b["cheaper_neighbour"].value("verdict", std::string("?")) + ")\n";
        }
      } else if (status == "none_meets") {
        out += "no allocation of the front meets it\n";
      } else {
        out += status + "\n";
      }
      if (b.contains("uniform_answer")) {
        out += "    uniform " + std::to_string(b["uniform_answer"]["bits"].get<int>()) + " bits: " +
               DescribeAllocation(b["uniform_answer"]) + "\n";
      } else if (status == "found" || status == "none_meets") {
        out += "    no uniform width meets it\n";
      }
      if (b.contains("saving")) {
        out += "    per layer takes " + Format("%.0f", 100.0 * b["saving"].get<double>()) +
               "% fewer bytes than the best uniform width\n";
      }
    }
    if (m.contains("budget")) {
      const auto& b = m["budget"];
      out += "  budget " + Bytes(b["bytes"].get<int64_t>()) + " bytes: ";
      out += b.value("status", "") == "found" ? "best measured " + DescribeAllocation(b["answer"]) + "\n"
                                              : b.value("status", std::string()) + "\n";
    }
    Table front;
    front.columns = {"widths", "bytes", "mean_bits", "fid", "fid_se", "n", "predicted_fid", "verdict"};
    for (const auto& c : m.value("measured_front", nlohmann::json::array())) {
      front.rows.push_back({Cell::Text(c.value("widths", "")), Number(c, "bytes", "%.0f"), Number(c, "mean_bits", "%.2f"),
                            Number(c, "fid", "%.2f"), Number(c, "fid_se", "%.2f"), Number(c, "n", "%.0f"),
                            Number(c, "predicted_fid", "%.2f"),
                            c.contains("verdict") ? Cell::Text(c["verdict"].get<std::string>()) : Cell::Missing()});
    }
    if (!front.rows.empty()) out += "  measured front (post-training, bytes against mean fid):\n" + FormatAligned(front);
    Table uniform;
    uniform.columns = {"bits", "bytes", "fid", "fid_se", "n", "predicted_fid", "verdict"};
    for (const auto& c : m.value("uniform", nlohmann::json::array())) {
      uniform.rows.push_back({Number(c, "bits", "%.0f"), Number(c, "bytes", "%.0f"), Number(c, "fid", "%.2f"),
                              Number(c, "fid_se", "%.2f"), Number(c, "n", "%.0f"), Number(c, "predicted_fid", "%.2f"),
                              c.contains("verdict") ? Cell::Text(c["verdict"].get<std::string>()) : Cell::Missing()});
    }
    if (!uniform.rows.empty()) out += "  uniform widths on the same axes:\n" + FormatAligned(uniform);
  }
  out += "\njobs: " + std::to_string(o.value("jobs", 0)) + " (post-training " + std::to_string(o.value("ptq_jobs", 0)) +
         "), answered from the store: " + std::to_string(o.value("cached", 0)) +
         "; post-training quantization of every allocation on one seed would take " +
         std::to_string(o.value("brute_force_jobs", int64_t{0})) + "\n";
  return out;
}

}  // namespace bitsweep::cli
