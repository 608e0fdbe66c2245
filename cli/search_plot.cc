#include "cli/search_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>

#include "cli/canvas.h"
#include "common/strategy_spec.h"

namespace bitsweep::cli {
namespace {

constexpr Rgb kBlack{30, 30, 30}, kGrey{150, 150, 150}, kLight{228, 228, 228}, kRed{200, 40, 40};

Rgb MethodColor(const std::string& method) {
  static const std::map<std::string, Rgb> colors = {
      {"em", {31, 119, 180}}, {"minmax", {255, 127, 14}}, {"log", {44, 160, 44}},
      {"tanh", {214, 39, 40}}, {"binary", {148, 103, 189}}, {"none", {110, 110, 110}}};
  auto it = colors.find(method);
  return it == colors.end() ? Rgb{140, 86, 75} : it->second;
}

const MetricStats& Stats(const ConfigSummary& c, const std::string& metric) {
  return metric == "is" ? c.is : metric == "kid" ? c.kid : c.fid;
}

std::string FormatTick(double v) {
  char text[32];
  if (std::fabs(v) >= 1e6 || (std::fabs(v) < 0.01 && v != 0.0)) {
    std::snprintf(text, sizeof text, "%.3g", v);
  } else {
    std::snprintf(text, sizeof text, "%g", std::round(v * 1000.0) / 1000.0);
  }
  return text;
}

std::string FormatBytes(double bytes) {
  char text[32];
  if (bytes >= 1e6) {
    std::snprintf(text, sizeof text, "%g MB", bytes / 1e6);
  } else if (bytes >= 1e3) {
    std::snprintf(text, sizeof text, "%g kB", bytes / 1e3);
  } else {
    std::snprintf(text, sizeof text, "%g B", bytes);
  }
  return text;
}

// Round tick steps (1, 2, 5 x 10^k) giving about `target` ticks over [lo, hi].
std::vector<double> NiceTicks(double lo, double hi, int target = 6) {
  const double raw = (hi - lo) / target;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * magnitude;
    if (step >= raw) break;
  }
  std::vector<double> ticks;
  for (double t = std::ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push_back(t);
  return ticks;
}

// A plotting area: pixel box and the data ranges mapped onto it.
struct Panel {
  double left, top, right, bottom;
  double x_lo = 0, x_hi = 1, y_lo = 0, y_hi = 1;
  double X(double x) const { return left + (x - x_lo) / (x_hi - x_lo) * (right - left); }
  double Y(double y) const { return bottom - (y - y_lo) / (y_hi - y_lo) * (bottom - top); }
};

void DrawFrame(Canvas* c, const Panel& p, const std::string& title, const std::string& y_label) {
  for (double t : NiceTicks(p.y_lo, p.y_hi)) {
    c->Line(p.left, p.Y(t), p.right, p.Y(t), kLight, 1.0);
    c->Text(p.left - 8, p.Y(t) + 5, FormatTick(t), 14, kBlack, Canvas::Align::kRight);
  }
  c->Line(p.left, p.bottom, p.right, p.bottom, kBlack, 1.2);
  c->Line(p.left, p.top, p.left, p.bottom, kBlack, 1.2);
  c->Text((p.left + p.right) / 2, p.top - 14, title, 18, kBlack, Canvas::Align::kCenter);
  c->TextVertical(p.left - 62, (p.top + p.bottom) / 2, y_label, 15, kBlack);
}

struct Point {
  double x;
  const ConfigSummary* config;
};

void DrawSeries(Canvas* c, const Panel& p, const std::vector<Point>& points, const std::string& metric, Rgb color,
                bool dashed) {
  std::vector<Point> sorted = points;
  std::sort(sorted.begin(), sorted.end(), [](const Point& a, const Point& b) { return a.x < b.x; });
  std::optional<std::pair<double, double>> previous;
  for (const auto& pt : sorted) {
    const MetricStats& s = Stats(*pt.config, metric);
    const double x = p.X(pt.x);
    if (s.n == 0) {
      // Failed (diverged) at this width: a cross on the top edge.
      c->Line(x - 6, p.top + 4, x + 6, p.top + 16, kRed, 2.0);
      c->Line(x - 6, p.top + 16, x + 6, p.top + 4, kRed, 2.0);
      previous.reset();
      continue;
    }
    const double y = p.Y(std::min(std::max(s.mean, p.y_lo), p.y_hi));
    // Error bars: the standard error of the mean (seeds and sampling).
    if (s.se() > 0.0) {
      const double y0 = p.Y(std::max(s.mean - s.se(), p.y_lo)), y1 = p.Y(std::min(s.mean + s.se(), p.y_hi));
      c->Line(x, y0, x, y1, color, 1.2);
      c->Line(x - 4, y0, x + 4, y0, color, 1.2);
      c->Line(x - 4, y1, x + 4, y1, color, 1.2);
    }
    if (previous) c->Line(previous->first, previous->second, x, y, color, 2.0, dashed ? 7.0 : 0.0);
    if (dashed) {
      c->Disc(x, y, 5.5, {255, 255, 255});
      c->Ring(x, y, 5.0, color, 2.0);
    } else {
      c->Disc(x, y, 5.0, color);
    }
    previous = std::make_pair(x, y);
  }
}

}  // namespace

Status PlotSearch(const SearchInfo& info, const std::vector<ConfigSummary>& configs, const std::string& path) {
  const std::string metric = SummaryMetric(info.outcome);
  const bool lower = LowerIsBetter(metric);
  std::vector<const ConfigSummary*> measured;
  for (const auto& c : configs) {
    if (Stats(c, metric).n > 0) measured.push_back(&c);
  }
  if (measured.empty()) {
    return Status::FailedPrecondition("sweep " + std::to_string(info.sweep_id) + " has no finished job with " +
                                      metric + " yet: nothing to plot");
  }

  Canvas canvas(1500, 620);
  canvas.Text(30, 34, "sweep " + std::to_string(info.sweep_id) + " \"" + info.name + "\" (" + info.strategy + ")", 20,
              kBlack);
  if (info.outcome.is_object() && info.outcome.contains("requirement")) {
    canvas.Text(1470, 34, "requirement: " + info.outcome["requirement"].get<std::string>(), 16, kBlack,
                Canvas::Align::kRight);
  }

  // ---- left: quality against bits, per method.
  std::vector<int> widths;
  for (const auto& c : configs) {
    if (c.method_g != "none") widths.push_back(c.bits_g);
    if (c.method_d != "none") widths.push_back(c.bits_d);
  }
  std::sort(widths.begin(), widths.end());
  widths.erase(std::unique(widths.begin(), widths.end()), widths.end());
  auto slot = [&](int bits) {  // x position: candidate widths in order, fp32 last
    auto it = std::find(widths.begin(), widths.end(), bits);
    return it == widths.end() ? static_cast<double>(widths.size()) : static_cast<double>(it - widths.begin());
  };
  double y_lo = 1e300, y_hi = -1e300;
  for (const auto* c : measured) {
    const MetricStats& s = Stats(*c, metric);
    y_lo = std::min(y_lo, s.mean - s.se());
    y_hi = std::max(y_hi, s.mean + s.se());
  }
  std::optional<double> bound;
  if (info.outcome.is_object() && info.outcome.contains("threshold") && info.outcome["threshold"].is_number()) {
    bound = info.outcome["threshold"].get<double>();
    y_lo = std::min(y_lo, *bound);
    y_hi = std::max(y_hi, *bound);
  }
  const double pad = std::max((y_hi - y_lo) * 0.08, std::fabs(y_hi) * 1e-3 + 1e-9);
  Panel left{110, 90, 700, 540};
  left.x_lo = -0.5;
  left.x_hi = widths.size() + 0.5;
  left.y_lo = y_lo - pad;
  left.y_hi = y_hi + pad;
  DrawFrame(&canvas, left, metric + " against bits (bars: +-1 standard error, seeds and sampling)",
            metric + (lower ? " (lower is better)" : " (higher is better)"));
  for (size_t i = 0; i <= widths.size(); ++i) {
    const std::string label = i < widths.size() ? std::to_string(widths[i]) : "fp32";
    canvas.Text(left.X(static_cast<double>(i)), left.bottom + 22, label, 14, kBlack, Canvas::Align::kCenter);
  }
  canvas.Text((left.left + left.right) / 2, left.bottom + 48, "bits (solid: G, D at fp32;  dashed: D, G at its chosen width)",
              14, kBlack, Canvas::Align::kCenter);
  for (const auto* c : measured) {
    if (c->method_g == "none" && c->method_d == "none") {
      const double y = left.Y(Stats(*c, metric).mean);
      canvas.Line(left.left, y, left.right, y, kGrey, 1.5);
      canvas.Text(left.left + 6, y - 6, "fp32 baseline", 13, kGrey);
      canvas.Disc(left.X(static_cast<double>(widths.size())), y, 5.0, MethodColor("none"));
    }
  }
  if (bound) {
    canvas.Line(left.left, left.Y(*bound), left.right, left.Y(*bound), kRed, 1.5, 8.0);
    canvas.Text(left.right - 6, left.Y(*bound) - 6, "bound", 13, kRed, Canvas::Align::kRight);
  }
  std::vector<std::string> methods;
  for (const auto& c : configs) {
    for (const auto& m : {c.method_g, c.method_d}) {
      if (m != "none" && std::find(methods.begin(), methods.end(), m) == methods.end()) methods.push_back(m);
    }
  }
  double legend_x = left.left + 10;
  for (const auto& m : methods) {
    std::vector<Point> g_points, d_points;
    for (const auto& c : configs) {
      if (c.method_g == m && c.method_d == "none") g_points.push_back({slot(c.bits_g), &c});
      if (c.method_d == m && (c.method_g == m || c.method_g == "none")) d_points.push_back({slot(c.bits_d), &c});
    }
    DrawSeries(&canvas, left, g_points, metric, MethodColor(m), false);
    DrawSeries(&canvas, left, d_points, metric, MethodColor(m), true);
    canvas.FillRect(legend_x, left.bottom + 66, legend_x + 22, left.bottom + 72, MethodColor(m));
    canvas.Text(legend_x + 28, left.bottom + 74, m, 15, kBlack);
    legend_x += 40 + canvas.TextWidth(m, 15) + 20;
  }

  // ---- right: packed generator size against quality, Pareto front.
  std::vector<const ConfigSummary*> sized;
  for (const auto* c : measured) {
    if (c->model_bytes > 0) sized.push_back(c);
  }
  Panel right{870, 90, 1460, 540};
  if (!sized.empty()) {
    double x_lo = 1e300, x_hi = -1e300;
    double ry_lo = 1e300, ry_hi = -1e300;
    for (const auto* c : sized) {
      x_lo = std::min(x_lo, std::log10(static_cast<double>(c->model_bytes)));
      x_hi = std::max(x_hi, std::log10(static_cast<double>(c->model_bytes)));
      ry_lo = std::min(ry_lo, Stats(*c, metric).mean);
      ry_hi = std::max(ry_hi, Stats(*c, metric).mean);
    }
    const double xpad = std::max((x_hi - x_lo) * 0.06, 0.05);
    const double ypad = std::max((ry_hi - ry_lo) * 0.08, std::fabs(ry_hi) * 1e-3 + 1e-9);
    right.x_lo = x_lo - xpad;
    right.x_hi = x_hi + xpad;
    right.y_lo = ry_lo - ypad;
    right.y_hi = ry_hi + ypad;
    DrawFrame(&canvas, right, "packed generator size against " + metric, "mean " + metric);
    for (int e = static_cast<int>(std::floor(right.x_lo)); e <= static_cast<int>(std::ceil(right.x_hi)); ++e) {
      for (double m : {1.0, 2.0, 5.0}) {
        const double x = e + std::log10(m);
        if (x < right.x_lo || x > right.x_hi) continue;
        canvas.Line(right.X(x), right.bottom, right.X(x), right.bottom + 5, kBlack, 1.0);
        canvas.Text(right.X(x), right.bottom + 22, FormatBytes(std::pow(10.0, x)), 13, kBlack, Canvas::Align::kCenter);
      }
    }
    canvas.Text((right.left + right.right) / 2, right.bottom + 48, "packed generator (log scale)", 14, kBlack,
                Canvas::Align::kCenter);
    // The front: configurations no other beats on both size and quality.
    std::vector<const ConfigSummary*> by_size = sized;
    std::sort(by_size.begin(), by_size.end(), [&](const ConfigSummary* a, const ConfigSummary* b) {
      if (a->model_bytes != b->model_bytes) return a->model_bytes < b->model_bytes;
      return lower ? Stats(*a, metric).mean < Stats(*b, metric).mean : Stats(*a, metric).mean > Stats(*b, metric).mean;
    });
    std::vector<const ConfigSummary*> front;
    for (const auto* c : by_size) {
      const double v = Stats(*c, metric).mean;
      if (front.empty() || (lower ? v < Stats(*front.back(), metric).mean : v > Stats(*front.back(), metric).mean)) {
        front.push_back(c);
      }
    }
    for (size_t i = 0; i + 1 < front.size(); ++i) {
      const double x0 = right.X(std::log10(static_cast<double>(front[i]->model_bytes)));
      const double x1 = right.X(std::log10(static_cast<double>(front[i + 1]->model_bytes)));
      const double y0 = right.Y(Stats(*front[i], metric).mean), y1 = right.Y(Stats(*front[i + 1], metric).mean);
      canvas.Line(x0, y0, x1, y0, kBlack, 1.5);
      canvas.Line(x1, y0, x1, y1, kBlack, 1.5);
    }
    for (const auto* c : sized) {
      const double x = right.X(std::log10(static_cast<double>(c->model_bytes)));
      const double y = right.Y(Stats(*c, metric).mean);
      const bool on_front = std::find(front.begin(), front.end(), c) != front.end();
      const std::string& method = c->method_g != "none" ? c->method_g : c->method_d;
      canvas.Disc(x, y, on_front ? 6.0 : 4.5, MethodColor(method));
      if (on_front) {
        const std::string label = (c->method_g == "none" ? std::string("fp32") : c->method_g + "-" +
                                                                                     std::to_string(c->bits_g)) +
                                  (c->method_d == "none" ? "" : " / D " + std::to_string(c->bits_d));
        canvas.Text(x + 9, y - 8, label, 13, kBlack);
      }
    }
    canvas.Text(right.left, right.bottom + 74, "black steps: Pareto front (smaller and better)", 14, kBlack);
  }
  return canvas.SavePng(path);
}

}  // namespace bitsweep::cli
