#include "cli/allocation_summary.h"

#include <cstdio>

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

}  // namespace

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
