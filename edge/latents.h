// Latent vectors: the runtime's own documented random generator, and .npy
// files to pass latents between runtimes.
//
// `bitsweep sample` draws latents with LibTorch's generator, which nothing
// without LibTorch can reproduce. So both sides read and write latents as
// NumPy .npy files (the format numpy.save writes: little-endian float32 or
// float64, C order, shape [N, nz]), and the runtime, given only a seed,
// draws its own with DrawLatents below, the same on every platform.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "edge/status.h"

namespace bitsweep::edge {

/// Fills out[0 .. n*nz) with standard normal values, row after row:
/// SplitMix64 seeded with `seed` gives 64-bit words; each word w becomes
/// u = (w >> 11) * 2^-53 in [0, 1); each pair of values comes from two
/// consecutive words by Box-Muller in double precision,
///   r = sqrt(-2 ln(1 - u1)),  out[2i] = r cos(2 pi u2),  out[2i+1] = r sin(2 pi u2),
/// rounded to float (an odd count drops the last sine).
void DrawLatents(uint64_t seed, int64_t n, int nz, float* out);

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
