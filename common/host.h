// Facts about the machine and the moment, as people read them in errors and
// tables: the host name and a UTC time stamp.
#pragma once

#include <cstdint>
#include <string>

namespace bitsweep {

/// This machine's host name ("unknown" when it cannot be read).
std::string HostName();

/// `unix_ms` as "2026-12-02 03:04:05 UTC".
std::string FormatUtc(int64_t unix_ms);

/// Milliseconds since the Unix epoch, from the system clock.
int64_t UnixNowMs();

}  // namespace bitsweep
