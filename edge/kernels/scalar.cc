// The portable kernels: plain loops, no vectors. They define what the
// others must compute (tests compare each instruction set against these),
// and run wherever nothing better is built in.
#include <cmath>

#include "edge/kernels/kernels.h"

namespace bitsweep::edge {
namespace {

constexpr int kMr = 4;
constexpr int kNr = 8;

template <int MR>
void Igemm(size_t mr, size_t nc, size_t kc, size_t taps, const float* const* a, const float* b, float* const* c,
           bool accumulate, const Epilogue* epilogue) {
  float acc[MR][kNr] = {};
  for (size_t r = 0; r < mr; ++r) {
    for (size_t j = 0; j < nc && accumulate; ++j) acc[r][j] = c[r][j];
  }
  for (size_t t = 0; t < taps; ++t) {
    const float* panel = b + t * kc * kNr;
    for (size_t k = 0; k < kc; ++k) {
      for (size_t r = 0; r < mr; ++r) {
        const float x = a[t * mr + r][k];
        for (int j = 0; j < kNr; ++j) acc[r][j] += x * panel[k * kNr + j];
      }
    }
  }
  for (size_t r = 0; r < mr; ++r) {
    for (size_t j = 0; j < nc; ++j) {
      float v = acc[r][j];
      if (epilogue != nullptr) {
        v = v * (epilogue->scale ? epilogue->scale[j] : 1.0f) + epilogue->bias[j];
        if (epilogue->relu && v < 0.0f) v = 0.0f;
      }
      c[r][j] = v;
    }
  }
}

void Planar(size_t width, size_t cin, size_t taps, const float* const* x, size_t channel_stride, const float* w,
            float* out) {
  for (size_t b = 0; b < width; ++b) {
    float sum = 0.0f;
    for (size_t t = 0; t < taps; ++t) {
      for (size_t k = 0; k < cin; ++k) sum += w[t * cin + k] * x[t][k * channel_stride + b];
    }
    out[b] = sum;
  }
}

void Tanh(float* x, size_t n) {
  for (size_t i = 0; i < n; ++i) x[i] = std::tanh(x[i]);
}

}  // namespace

const Kernels* ScalarKernels() {
  static const Kernels kernels = {Isa::kScalar, "scalar", kMr, kNr, Igemm<kMr>, Igemm<1>, Planar, Tanh};
  return &kernels;
}

}  // namespace bitsweep::edge
