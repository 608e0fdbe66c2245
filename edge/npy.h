// NumPy .npy files: how latents (and images) travel between runtimes. The
// format numpy.save writes: a short text header, then little-endian values
// in C order. Latents are [N, nz], images [N, C, H, W].
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "edge/status.h"

namespace bitsweep::edge {

/// A float32 array read from .npy, with its shape.
struct NpyArray {
  std::vector<int64_t> shape;
  std::vector<float> values;
};

/// Reads a little-endian float32 or float64 (converted), C-order .npy file
/// of at most `max_values` values. Errors name the file and the problem.
Status ReadNpy(const std::string& path, NpyArray* array, int64_t max_values = int64_t{1} << 28);
/// The same from bytes in memory (`source` names them in errors).
Status ParseNpy(const uint8_t* data, size_t size, const std::string& source, NpyArray* array,
                int64_t max_values = int64_t{1} << 28);
/// Writes float32 values of `shape` as .npy (format version 1.0).
Status WriteNpy(const std::string& path, const std::vector<int64_t>& shape, const float* values);

}  // namespace bitsweep::edge
