// Stable, non-cryptographic hashing for cache keys and compatibility checks.
#pragma once

#include <cstdint>
#include <string>

namespace bitsweep {

/// 64-bit FNV-1a of `data`. Stable across platforms and releases.
uint64_t Fnv1a64(const std::string& data);

/// The same as 16 lower-case hex digits.
std::string Fnv1a64Hex(const std::string& data);

}  // namespace bitsweep
