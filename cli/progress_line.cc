#include "cli/progress_line.h"

#include <unistd.h>

#include <cstdio>

namespace bitsweep::cli {

ProgressLine::ProgressLine() : enabled_(isatty(STDERR_FILENO) != 0) {}

std::string FormatDuration(double seconds) {
  if (!(seconds >= 0)) seconds = 0;
  long s = static_cast<long>(seconds + 0.5);
  char text[32];
  if (s >= 3600) {
    std::snprintf(text, sizeof(text), "%ldh%02ldm", s / 3600, (s % 3600) / 60);
  } else if (s >= 60) {
    std::snprintf(text, sizeof(text), "%ldm%02lds", s / 60, s % 60);
  } else {
    std::snprintf(text, sizeof(text), "%lds", s);
  }
  return text;
}

void ProgressLine::Update(int64_t step, int64_t total, const std::string& detail, double elapsed) {
  if (!enabled_) return;
  if (step < total && elapsed - last_draw_ < 0.1) return;
  last_draw_ = elapsed;
  double fraction = total > 0 ? static_cast<double>(step) / static_cast<double>(total) : 1.0;
  double eta = fraction > 0 ? elapsed * (1.0 - fraction) / fraction : 0.0;
  constexpr int kWidth = 24;
  int filled = static_cast<int>(fraction * kWidth);
  std::string bar(static_cast<size_t>(filled), '#');
  bar.append(static_cast<size_t>(kWidth - filled), '.');
  std::fprintf(stderr, "\r\033[K[%s] %3d%% %lld/%lld %s ETA %s", bar.c_str(), static_cast<int>(fraction * 100),
               static_cast<long long>(step), static_cast<long long>(total), detail.c_str(),
               FormatDuration(eta).c_str());
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressLine::Finish() {
  if (drawn_) std::fprintf(stderr, "\n");
  drawn_ = false;
}

}  // namespace bitsweep::cli
