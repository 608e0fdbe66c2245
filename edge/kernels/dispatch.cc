// Picks the kernels once: the best instruction set that was compiled in
// (CMake adds avx2.cc / avx512.cc on x86-64 compilers that take the flags)
// and that this CPU runs.
#include "edge/kernels/kernels.h"

namespace bitsweep::edge {

#if !defined(BITSWEEP_EDGE_HAVE_AVX2)
const Kernels* Avx2Kernels() { return nullptr; }
#endif
#if !defined(BITSWEEP_EDGE_HAVE_AVX512)
const Kernels* Avx512Kernels() { return nullptr; }
#endif

namespace {

bool CpuRuns(Isa isa) {
#if defined(__x86_64__) || defined(__i386__)
  switch (isa) {
    case Isa::kAvx2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case Isa::kAvx512: return __builtin_cpu_supports("avx512f");
    default: return true;
  }
#else
  return isa != Isa::kAvx2 && isa != Isa::kAvx512;
#endif
}

const Kernels* Built(Isa isa) {
  switch (isa) {
    case Isa::kScalar: return ScalarKernels();
    case Isa::kVec128: return Vec128Kernels();
    case Isa::kAvx2: return Avx2Kernels();
    case Isa::kAvx512: return Avx512Kernels();
    case Isa::kAuto: return nullptr;
  }
  return nullptr;
}

}  // namespace

bool IsaAvailable(Isa isa) { return isa != Isa::kAuto && Built(isa) != nullptr && CpuRuns(isa); }

std::vector<Isa> AvailableIsas() {
  std::vector<Isa> isas;
  for (Isa isa : {Isa::kScalar, Isa::kVec128, Isa::kAvx2, Isa::kAvx512}) {
    if (IsaAvailable(isa)) isas.push_back(isa);
  }
  return isas;
}

const Kernels& KernelsFor(Isa isa) {
  if (IsaAvailable(isa)) return *Built(isa);
  return *Built(AvailableIsas().back());
}

const char* IsaName(Isa isa) {
  switch (isa) {
    case Isa::kAuto: return "auto";
    case Isa::kScalar: return "scalar";
    case Isa::kVec128: return "vec128";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvx512: return "avx512";
  }
  return "?";
}

bool ParseIsa(const std::string& name, Isa* isa) {
  for (Isa candidate : {Isa::kAuto, Isa::kScalar, Isa::kVec128, Isa::kAvx2, Isa::kAvx512}) {
    if (name == IsaName(candidate)) {
      *isa = candidate;
      return true;
    }
  }
  return false;
}

}  // namespace bitsweep::edge
