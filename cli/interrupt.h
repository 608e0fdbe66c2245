// Ctrl-C and SIGTERM for long-running subcommands: the first sets a flag the
// command polls (so it can checkpoint and stop cleanly).
#pragma once

#include <atomic>

namespace bitsweep::cli {

/// Installs the handlers (once) and returns the flag they set.
const std::atomic<bool>& InterruptFlag();

/// Sets the flag as a signal would: for a command that must stop for a
/// reason of its own (its coordinator lost the store).
void RequestStop();

}  // namespace bitsweep::cli
