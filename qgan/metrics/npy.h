// NumPy .npy files: the exchange format for feature and probability
// matrices (what pytorch-fid, torch-fidelity and clean-fid can dump).
#pragma once

#include <string>

#include <torch/types.h>

#include "common/status.h"

namespace bitsweep::qgan {

/// Reads a little-endian float32 or float64, C-order .npy file holding a
/// matrix (N x d; a vector reads as N x 1) into a float64 tensor. Malformed
/// files (bad magic, bad header, other dtypes, Fortran order, truncated
/// data) give an error naming the file and the problem.
Result<torch::Tensor> ReadNpyMatrix(const std::string& path);

/// Writes a float32 or float64 matrix or vector as .npy (version 1.0).
Status WriteNpy(const std::string& path, const torch::Tensor& matrix);

}  // namespace bitsweep::qgan
