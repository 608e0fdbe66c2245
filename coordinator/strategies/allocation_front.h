// The exact front of per-layer width allocations: packed bytes against
// predicted damage, for the layer-allocation search.
//
// The damage model: the damage of an allocation is the sum of its layers'
// damages (each measured alone, the other layers at full precision), i.e.
// log(FID / FID at full precision) is additive over layers. Bytes are exact
// and additive by construction (every layer's packed bytes). With both
// additive, the front is found exactly by dynamic programming over layers:
// a partial allocation dominated by another over the same layers can only
// extend to dominated allocations, so each step keeps only its own front.
#pragma once

#include <cstdint>
#include <vector>

namespace bitsweep::coordinator {

/// One candidate width of one layer.
struct LayerChoice {
  int bits = 32;
  int64_t bytes = 0;
  double damage = 0.0;
};

/// One width per layer, with the sums.
struct Allocation {
  std::vector<int> bits;
  int64_t bytes = 0;
  double damage = 0.0;
};

/// The Pareto front of `layers` (the choices of each layer, in network
/// order): every allocation that no other beats on both bytes and damage
/// (at most equal on both, lower on one), in ascending bytes (so descending
/// damage). Of allocations equal on both, the one with the lexicographically
/// smallest widths. Damages are summed in layer order, so equal inputs give
/// equal sums whatever the method.
std::vector<Allocation> AllocationFront(const std::vector<std::vector<LayerChoice>>& layers);

/// Every allocation of `layers` (for brute-force checks), and the front of
/// any set of allocations by the same rule as AllocationFront.
std::vector<Allocation> AllAllocations(const std::vector<std::vector<LayerChoice>>& layers);
std::vector<Allocation> FrontOf(std::vector<Allocation> allocations);

/// Kendall's tau-b rank correlation of two equally long series (ties
/// counted out); 0 when fewer than two pairs differ in both.
double KendallTau(const std::vector<double>& a, const std::vector<double>& b);

}  // namespace bitsweep::coordinator
