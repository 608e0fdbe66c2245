// What the fuzz targets share: a check that stops the fuzzer on a broken
// invariant (libFuzzer keeps the input that did it), and a scratch folder
// for the readers that only take a path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace bitsweep::fuzz {

/// Prints `what` and traps when `holds` is false: a crash libFuzzer records.
void Require(bool holds, const std::string& what);

/// A folder private to this process (libFuzzer's -fork/-jobs workers each
/// get their own), in memory when /dev/shm exists, removed at exit.
/// $TMPDIR, when set, is used instead.
const std::string& ScratchDir();

/// Writes `size` bytes to `path`, replacing the file; traps when it cannot
/// (a full disk is not a finding about the parser).
void WriteFile(const std::string& path, const uint8_t* data, size_t size);

/// Whether `text` contains `part`.
bool Mentions(const std::string& text, const std::string& part);

}  // namespace bitsweep::fuzz
