#include "coordinator/strategies/allocation_front.h"

#include <algorithm>
#include <cmath>

namespace bitsweep::coordinator {

std::vector<Allocation> FrontOf(std::vector<Allocation> allocations) {
  std::sort(allocations.begin(), allocations.end(), [](const Allocation& a, const Allocation& b) {
    if (a.bytes != b.bytes) return a.bytes < b.bytes;
    if (a.damage != b.damage) return a.damage < b.damage;
    return a.bits < b.bits;
  });
  std::vector<Allocation> front;
  for (auto& a : allocations) {
    // Sorted by bytes: a point is on the front when it is less damaged than
    // every cheaper (or equally cheap, earlier) one.
    if (front.empty() || a.damage < front.back().damage) front.push_back(std::move(a));
  }
  return front;
}

std::vector<Allocation> AllocationFront(const std::vector<std::vector<LayerChoice>>& layers) {
  std::vector<Allocation> front = {Allocation{}};
  for (const auto& choices : layers) {
    std::vector<Allocation> extended;
    extended.reserve(front.size() * choices.size());
    for (const auto& partial : front) {
      for (const auto& choice : choices) {
        Allocation a = partial;
        a.bits.push_back(choice.bits);
        a.bytes += choice.bytes;
        a.damage += choice.damage;
        extended.push_back(std::move(a));
      }
    }
    front = FrontOf(std::move(extended));
  }
  return front;
}

std::vector<Allocation> AllAllocations(const std::vector<std::vector<LayerChoice>>& layers) {
  std::vector<Allocation> all = {Allocation{}};
  for (const auto& choices : layers) {
    std::vector<Allocation> next;
    for (const auto& partial : all) {
      for (const auto& choice : choices) {
        Allocation a = partial;
        a.bits.push_back(choice.bits);
        a.bytes += choice.bytes;
        a.damage += choice.damage;
        next.push_back(std::move(a));
      }
    }
    all = std::move(next);
  }
  return all;
}

double KendallTau(const std::vector<double>& a, const std::vector<double>& b) {
  const size_t n = std::min(a.size(), b.size());
  double concordant = 0, discordant = 0, ties_a = 0, ties_b = 0;
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = i + 1; j < n; ++j) {
      const double da = a[i] - a[j], db = b[i] - b[j];
      if (da == 0 && db == 0) continue;
      if (da == 0) {
        ++ties_a;
      } else if (db == 0) {
        ++ties_b;
      } else if ((da > 0) == (db > 0)) {
        ++concordant;
      } else {
        ++discordant;
      }
    }
  }
  const double denominator = std::sqrt((concordant + discordant + ties_a) * (concordant + discordant + ties_b));
  return denominator > 0 ? (concordant - discordant) / denominator : 0.0;
}

}  // namespace bitsweep::coordinator
