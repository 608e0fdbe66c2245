// Ctrl-C and SIGTERM for long-running subcommands: the first sets a flag the
// command polls (so it can checkpoint and stop cleanly).
#pragma once

#include <atomic>

namespace bitsweep::cli {

/// Installs the handlers (once) and returns the flag they set.
const std::atomic<bool>& InterruptFlag();

}  // namespace bitsweep::cli
