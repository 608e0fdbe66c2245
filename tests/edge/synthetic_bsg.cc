#include "tests/edge/synthetic_bsg.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

#include "edge/crc32.h"
#include "edge/decode.h"

namespace bitsweep::edge::testing {
namespace {

void AppendFloats(const std::vector<float>& v, std::string* out) {
  out->append(reinterpret_cast<const char*>(v.data()), v.size() * 4);
}

std::string ShapeJson(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace

SyntheticGenerator MakeSynthetic(const Arch& arch, const std::vector<int>& bits, uint64_t seed, bool affine) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  SyntheticGenerator g;
  g.arch = arch;
  const auto shapes = GeneratorLayers(arch);
  for (size_t i = 0; i < shapes.size(); ++i) {
    const LayerShape& s = shapes[i];
    SyntheticLayer layer;
    layer.bits = i < bits.size() ? bits[i] : 32;
    const int taps = s.kind == LayerKind::kProject ? 1 : 4;
    const float range = std::sqrt(3.0f / static_cast<float>(taps * s.cin));
    const int64_t count = WeightCount(s);
    layer.weights.resize(static_cast<size_t>(count));
    if (layer.bits == 32) {
      for (auto& w : layer.weights) w = range * unit(rng);
    } else {
      const int n = 1 << layer.bits;
      layer.levels.resize(static_cast<size_t>(n));
      if (affine) {
        const float alpha = n == 1 ? 0.0f : 2.0f * range / static_cast<float>(n - 1);
        for (int l = 0; l < n; ++l) layer.levels[l] = -range + alpha * static_cast<float>(l);
      } else {
        for (auto& l : layer.levels) l = range * unit(rng);
        std::sort(layer.levels.begin(), layer.levels.end());
      }
      std::uniform_int_distribution<uint32_t> code(0, static_cast<uint32_t>(n - 1));
      layer.codes.resize(static_cast<size_t>(count));
      for (int64_t j = 0; j < count; ++j) {
        layer.codes[j] = code(rng);
        layer.weights[j] = layer.levels[layer.codes[j]];
      }
    }
    if (!s.norm.empty()) {
      for (int c = 0; c < s.cout; ++c) {
        layer.gamma.push_back(1.0f + 0.2f * unit(rng));
        layer.beta.push_back(0.1f * unit(rng));
        layer.mean.push_back(0.1f * unit(rng));
        layer.var.push_back(1.0f + 0.5f * unit(rng));
      }
    }
    g.layers.push_back(std::move(layer));
  }
  return g;
}

std::string WriteBsg(const SyntheticGenerator& g) {
  const auto shapes = GeneratorLayers(g.arch);
  std::string payload, tensors;
  auto add = [&](const std::string& name, const std::vector<int64_t>& shape, const std::string& encoding_fields,
                 size_t offset) {
    tensors += std::string(tensors.empty() ? "" : ",") + "{\"name\":\"" + name + "\",\"shape\":" + ShapeJson(shape) +
               ",\"offset\":" + std::to_string(offset) + "," + encoding_fields +
               ",\"bytes\":" + std::to_string(payload.size() - offset) + "}";
  };
  int64_t fp_bytes = 0;
  for (size_t i = 0; i < shapes.size(); ++i) {
    const LayerShape& s = shapes[i];
    const SyntheticLayer& layer = g.layers[i];
    size_t offset = payload.size();
    if (layer.bits == 32) {
      AppendFloats(layer.weights, &payload);
      add(s.name + ".weight", {s.cin, s.cout, 4, 4}, "\"encoding\":\"float32\"", offset);
    } else {
      AppendFloats(layer.levels, &payload);
      std::string codes((layer.codes.size() * layer.bits + 7) / 8, '\0');
      for (size_t j = 0; j < layer.codes.size(); ++j) {
        WriteCode(reinterpret_cast<uint8_t*>(codes.data()), layer.bits, static_cast<int64_t>(j), layer.codes[j]);
      }
      payload += codes;
      add(s.name + ".weight", {s.cin, s.cout, 4, 4},
          "\"encoding\":\"packed\",\"bits\":" + std::to_string(layer.bits) +
              ",\"levels\":" + std::to_string(layer.levels.size()),
          offset);
    }
    fp_bytes += static_cast<int64_t>(layer.weights.size()) * 4;
    if (s.norm.empty()) continue;
    const std::pair<const char*, const std::vector<float>*> parts[] = {
        {".bias", &layer.beta}, {".running_mean", &layer.mean}, {".running_var", &layer.var}, {".weight", &layer.gamma}};
    for (const auto& [suffix, values] : parts) {
      offset = payload.size();
      AppendFloats(*values, &payload);
      add(s.norm + suffix, {s.cout}, "\"encoding\":\"float32\"", offset);
      fp_bytes += static_cast<int64_t>(values->size()) * 4;
    }
  }
  const uint32_t crc = Crc32(reinterpret_cast<const uint8_t*>(payload.data()), payload.size());
  const Arch& a = g.arch;
  const std::string header =
      "{\"format\":\"bitsweep-packed-generator\",\"version\":1,\"arch\":{\"image_size\":" +
      std::to_string(a.image_size) + ",\"channels\":" + std::to_string(a.channels) + ",\"nz\":" + std::to_string(a.nz) +
      ",\"ngf\":" + std::to_string(a.ngf) + "},\"quant\":{\"method\":\"" + g.method +
      "\",\"bits\":" + std::to_string(g.nominal_bits) + ",\"keep_first_last_fp\":false},\"tensors\":[" + tensors +
      "],\"payload_bytes\":" + std::to_string(payload.size()) + ",\"payload_crc32\":" + std::to_string(crc) +
      ",\"full_precision_bytes\":" + std::to_string(fp_bytes) + "}";
  std::string file = "BSWPGEN1";
  for (int i = 0; i < 4; ++i) file.push_back(static_cast<char>((header.size() >> (8 * i)) & 0xff));
  return file + header + payload;
}

std::vector<float> ReferenceForward(const SyntheticGenerator& g, const std::vector<float>& z, int n) {
  const auto shapes = GeneratorLayers(g.arch);
  std::vector<double> x(z.begin(), z.begin() + static_cast<int64_t>(n) * g.arch.nz);  // [n][nz][1][1]
  for (size_t i = 0; i < shapes.size(); ++i) {
    const LayerShape& s = shapes[i];
    const SyntheticLayer& layer = g.layers[i];
    const int stride = s.kind == LayerKind::kProject ? 1 : 2, pad = s.kind == LayerKind::kProject ? 0 : 1;
    const int in = s.in_size, out = s.out_size;
    std::vector<double> y(static_cast<size_t>(n) * s.cout * out * out, 0.0);
    // out[oh][ow] += x[ih][iw] * w[kh][kw] with oh = ih * stride - pad + kh.
    for (int b = 0; b < n; ++b) {
      for (int ci = 0; ci < s.cin; ++ci) {
        for (int ih = 0; ih < in; ++ih) {
          for (int iw = 0; iw < in; ++iw) {
            const double v = x[((static_cast<size_t>(b) * s.cin + ci) * in + ih) * in + iw];
            for (int co = 0; co < s.cout; ++co) {
              for (int kh = 0; kh < 4; ++kh) {
                const int oh = ih * stride - pad + kh;
                if (oh < 0 || oh >= out) continue;
                for (int kw = 0; kw < 4; ++kw) {
                  const int ow = iw * stride - pad + kw;
                  if (ow < 0 || ow >= out) continue;
                  const double w = layer.weights[((static_cast<size_t>(ci) * s.cout + co) * 4 + kh) * 4 + kw];
                  y[((static_cast<size_t>(b) * s.cout + co) * out + oh) * out + ow] += v * w;
                }
              }
            }
          }
        }
      }
    }
    const size_t plane = static_cast<size_t>(out) * out;
    for (size_t j = 0; j < y.size(); ++j) {
      const size_t co = j / plane % static_cast<size_t>(s.cout);
      if (s.norm.empty()) {
        y[j] = std::tanh(y[j]);
      } else {
        const double norm = (y[j] - layer.mean[co]) / std::sqrt(layer.var[co] + kBatchNormEps) * layer.gamma[co] +
                            layer.beta[co];
        y[j] = norm > 0 ? norm : 0;
      }
    }
    x = std::move(y);
  }
  return std::vector<float>(x.begin(), x.end());
}

std::string HeaderOf(const std::string& bsg) {
  uint32_t size = 0;
  for (int i = 0; i < 4; ++i) size |= uint32_t{static_cast<uint8_t>(bsg[8 + i])} << (8 * i);
  return bsg.substr(12, size);
}

std::string WithHeader(const std::string& bsg, const std::string& header) {
  const std::string payload = bsg.substr(12 + HeaderOf(bsg).size());
  std::string file = "BSWPGEN1";
  for (int i = 0; i < 4; ++i) file.push_back(static_cast<char>((header.size() >> (8 * i)) & 0xff));
  return file + header + payload;
}

}  // namespace bitsweep::edge::testing
