// The float micro-kernels the layers run on, one set per instruction set,
// chosen once at load (XNNPACK's shape: small kernels, separately tested,
// behind function pointers).
//
// igemm: an indirect GEMM block. For rows r < mr and taps t < taps:
//   C[r][0..nc) (+)= sum_t sum_{k<kc} A[t][r][k] * B[t][k][0..nr)
// where A[t][r] is a row pointer (an input pixel's channels, or a row of
// zeros for a pixel outside the image: the "indirection" that makes a
// convolution a GEMM without copying its input), B is a tile panel laid out
// [taps][kc][nr] (tile_layout.h), and C[r] a row pointer into the output.
// With `accumulate` C's current values are added to; with an epilogue the
// result becomes relu?(C * scale + bias) (batch norm folded: scale is null
// when it was multiplied into the weights at load).
//
// dot: the output layer. For rows r < rows:
//   out[r][c] = sum_t sum_{k<kc} A[t][r][k] * W[t][c][k], c < cout
// with W laid out [taps][cout][kc] and out[r] a row pointer whose channel c
// lies at out[r] + c * channel_stride (the runtime writes NCHW directly).
//
// tanh: x[i] = tanh(x[i]) for i < n, in place, over the finished images (a
// contiguous pass vectorises; the dot kernel's outputs are scattered). The
// vector kernels use a polynomial exp and are within 2e-7 of tanh; NaN
// stays NaN.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace bitsweep::edge {

struct Epilogue {
  /// Per output column of this block, or nullptr (scale 1).
  const float* scale = nullptr;
  /// Per output column of this block.
  const float* bias = nullptr;
  bool relu = true;
};

using IgemmFn = void (*)(size_t mr, size_t nc, size_t kc, size_t taps, const float* const* a, const float* b,
                         float* const* c, bool accumulate, const Epilogue* epilogue);

using DotFn = void (*)(size_t rows, size_t cout, size_t kc, size_t taps, const float* const* a, const float* w,
                       float* const* out, size_t channel_stride);

using TanhFn = void (*)(float* x, size_t n);

enum class Isa {
  /// The best the CPU supports.
  kAuto,
  /// Plain C++ loops: the reference, and the fallback anywhere.
  kScalar,
  /// 128-bit vectors through the compiler's vector extension: SSE2 on
  /// x86-64, NEON on ARM, SIMD128 in WebAssembly.
  kVec128,
  /// x86-64 AVX2 + FMA, 256-bit.
  kAvx2,
  /// x86-64 AVX-512F, 512-bit.
  kAvx512,
};

struct Kernels {
  Isa isa = Isa::kScalar;
  const char* name = "scalar";
  /// Rows and columns of one igemm call (the register block).
  int mr = 1;
  int nr = 8;
  /// Any mr <= this->mr.
  IgemmFn igemm = nullptr;
  /// Exactly one row: used when a phase has a single row (a batch of one
  /// latent), where the mr-row kernel would compute mr - 1 rows for nothing.
  IgemmFn igemm_1 = nullptr;
  DotFn dot = nullptr;
  TanhFn tanh = nullptr;
};

/// The kernels for `isa`; kAuto or one this CPU or build lacks gives the
/// best available.
const Kernels& KernelsFor(Isa isa);
/// Whether `isa` was built in and runs on this CPU.
bool IsaAvailable(Isa isa);
/// Every available instruction set, best last.
std::vector<Isa> AvailableIsas();
const char* IsaName(Isa isa);
/// "scalar", "vec128", "avx2", "avx512" or "auto" -> Isa; false if unknown.
bool ParseIsa(const std::string& name, Isa* isa);

// Per instruction set (kernels/*.cc); nullptr when that file was not built.
const Kernels* ScalarKernels();
const Kernels* Vec128Kernels();
const Kernels* Avx2Kernels();
const Kernels* Avx512Kernels();

}  // namespace bitsweep::edge
