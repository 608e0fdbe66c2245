#include "cli/interrupt.h"

#include <csignal>

namespace bitsweep::cli {
namespace {
std::atomic<bool> g_interrupted{false};
extern "C" void OnInterruptSignal(int) { g_interrupted = true; }
}  // namespace

const std::atomic<bool>& InterruptFlag() {
  static const bool installed = [] {
    std::signal(SIGINT, OnInterruptSignal);
    std::signal(SIGTERM, OnInterruptSignal);
    return true;
  }();
  (void)installed;
  return g_interrupted;
}

void RequestStop() { g_interrupted = true; }

}  // namespace bitsweep::cli
