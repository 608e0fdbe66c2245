// The baseline quantizers QGAN compares against, plus a binary baseline.
// Their levels follow directly from the weights, so they keep no state.
#pragma once

#include "qgan/quant/quantizer.h"

namespace bitsweep::qgan {

/// minmax-Q: 2^b uniform levels spanning [min(w), max(w)].
class MinMaxQuantizer : public Quantizer {
 public:
  explicit MinMaxQuantizer(int bits) : Quantizer(bits) {}
  QuantizedWeight Quantize(const torch::Tensor& weights) override;
  QuantMethod method() const override { return QuantMethod::kMinMax; }
};

/// log-Q: one sign bit and 2^(b-1) power-of-two magnitudes counting down from
/// 2^round(log2 max|w|); rounding is to the nearest exponent. Magnitudes below
/// the smallest level take the smallest level (there is no zero level, so all
/// 2^b codes carry a value).
class LogQuantizer : public Quantizer {
 public:
  explicit LogQuantizer(int bits) : Quantizer(bits) {}
  QuantizedWeight Quantize(const torch::Tensor& weights) override;
  QuantMethod method() const override { return QuantMethod::kLog; }
};

/// tanh-Q (DoReFa-Net): n = tanh(w) / (2 max|tanh(w)|) + 1/2 is rounded to
/// 2^b uniform levels in [0, 1] and mapped to 2n - 1. DoReFa leaves the result
/// in [-1, 1], relying on a normalisation layer after every convolution; the
/// last layer of a DCGAN generator has none, so we scale by max|w|, which keeps
/// each layer's range and changes nothing where batch norm follows.
class TanhQuantizer : public Quantizer {
 public:
  explicit TanhQuantizer(int bits) : Quantizer(bits) {}
  QuantizedWeight Quantize(const torch::Tensor& weights) override;
  torch::Tensor Surrogate(const torch::Tensor& weights) override;
  QuantMethod method() const override { return QuantMethod::kTanh; }
};

/// binary: sign(w) * mean|w| (XNOR-Net's weight binarisation), 1 bit only.
class BinaryQuantizer : public Quantizer {
 public:
  BinaryQuantizer() : Quantizer(1) {}
  QuantizedWeight Quantize(const torch::Tensor& weights) override;
  QuantMethod method() const override { return QuantMethod::kBinary; }
};

}  // namespace bitsweep::qgan
