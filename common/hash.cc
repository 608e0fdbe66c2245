#include "common/hash.h"

#include <cstdio>

namespace bitsweep {

uint64_t Fnv1a64(const std::string& data) {
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : data) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

std::string Fnv1a64Hex(const std::string& data) {
  char text[17];
  std::snprintf(text, sizeof(text), "%016llx", static_cast<unsigned long long>(Fnv1a64(data)));
  return text;
}

}  // namespace bitsweep
