// AVX-512F kernels (compiled with -mavx512f -mfma; chosen only when the CPU
// has AVX-512F). 8 x 32 block: 16 accumulators of the 32 zmm registers.
#include <cstring>

#include "edge/kernels/kernels.h"

#define EDGE_VEC_BYTES 64
#define EDGE_MR 8
#define EDGE_NV 2

namespace bitsweep::edge::avx512 {
#include "edge/kernels/vec_kernels.inc"
}  // namespace bitsweep::edge::avx512

namespace bitsweep::edge {

const Kernels* Avx512Kernels() {
  static const Kernels kernels = {Isa::kAvx512, "avx512", EDGE_MR, avx512::kNr, avx512::Igemm<EDGE_MR>,
                                  avx512::Igemm<1>, avx512::Planar, avx512::TanhInPlace};
  return &kernels;
}

}  // namespace bitsweep::edge
