#include "qgan/export/packed_generator.h"

#include <zlib.h>

#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include <torch/torch.h>

namespace bitsweep::qgan {
namespace {

constexpr char kMagic[8] = {'B', 'S', 'W', 'P', 'G', 'E', 'N', '1'};
constexpr int kFormatVersion = 1;

void AppendFloats(const torch::Tensor& t, std::string* payload) {
  auto c = t.detach().to(torch::kCPU).to(torch::kFloat32).contiguous();
  payload->append(reinterpret_cast<const char*>(c.data_ptr<float>()), static_cast<size_t>(c.numel()) * 4);
}

void AppendU32(uint32_t v, std::string* out) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint32_t Crc32(const std::string& data, size_t offset) {
  return static_cast<uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(data.data() + offset),
                                     static_cast<uInt>(data.size() - offset)));
}

// Every named float tensor of the generator (parameters and running stats).
std::map<std::string, torch::Tensor> NamedFloatTensors(GeneratorImpl& g) {
  std::map<std::string, torch::Tensor> tensors;
  for (const auto& p : g.named_parameters()) tensors[p.key()] = p.value();
  for (const auto& b : g.named_buffers()) {
    if (b.value().is_floating_point()) tensors[b.key()] = b.value();
  }
  return tensors;
}

}  // namespace

std::vector<uint8_t> PackIndices(const std::vector<int64_t>& indices, int bits) {
  std::vector<uint8_t> out((indices.size() * static_cast<size_t>(bits) + 7) / 8, 0);
  size_t bit = 0;
  for (int64_t index : indices) {
    for (int b = 0; b < bits; ++b, ++bit) {
      if ((index >> b) & 1) out[bit / 8] |= static_cast<uint8_t>(1u << (bit % 8));
    }
  }
  return out;
}

std::vector<int64_t> UnpackIndices(const uint8_t* data, size_t size, int64_t count, int bits) {
  std::vector<int64_t> out(static_cast<size_t>(count), 0);
  size_t bit = 0;
  for (int64_t i = 0; i < count; ++i) {
    int64_t value = 0;
    for (int b = 0; b < bits; ++b, ++bit) {
      if (bit / 8 < size && ((data[bit / 8] >> (bit % 8)) & 1)) value |= int64_t{1} << b;
    }
    out[static_cast<size_t>(i)] = value;
  }
  return out;
}

Result<PackedGeneratorInfo> WritePackedGenerator(GeneratorImpl& generator, const std::string& path) {
  torch::NoGradGuard no_grad;
  PackedGeneratorInfo info;
  info.arch = generator.options();
  info.quant = generator.quantizers().spec();
  info.full_precision_bytes = FullPrecisionBytes(generator);

  std::map<std::string, size_t> layer_of_weight;
  for (size_t i = 0; i < generator.layer_names().size(); ++i) {
    layer_of_weight[generator.layer_names()[i] + ".weight"] = i;
  }

  std::string payload;
  nlohmann::json tensors = nlohmann::json::array();
  for (const auto& [name, tensor] : NamedFloatTensors(generator)) {
    nlohmann::json entry = {{"name", name}, {"shape", tensor.sizes().vec()}, {"offset", payload.size()}};
    auto layer = layer_of_weight.find(name);
    if (layer != layer_of_weight.end() && generator.quantizers().IsQuantized(layer->second)) {
      QuantizedWeight q = generator.quantizers().Quantize(layer->second, tensor);
      // Each layer at its own width (per-layer widths), as its quantizer has it.
      const int bits = generator.quantizers().LayerSpec(layer->second).bits;
      auto indices = q.indices.to(torch::kCPU).reshape({-1}).contiguous();
      std::vector<int64_t> index_vector(indices.data_ptr<int64_t>(), indices.data_ptr<int64_t>() + indices.numel());
      AppendFloats(q.levels, &payload);
      auto packed = PackIndices(index_vector, bits);
      payload.append(reinterpret_cast<const char*>(packed.data()), packed.size());
      entry["encoding"] = "packed";
      entry["bits"] = bits;
      entry["levels"] = q.levels.numel();
    } else {
      AppendFloats(tensor, &payload);
      entry["encoding"] = "float32";
    }
    entry["bytes"] = payload.size() - entry["offset"].get<size_t>();
    tensors.push_back(entry);
  }

  const auto& a = info.arch;
  nlohmann::json quant = {{"method", QuantMethodName(info.quant.method)},
                          {"bits", info.quant.bits},
                          {"keep_first_last_fp", info.quant.keep_first_last_fp}};
  // Per-layer widths, informative like the rest of "quant" (every packed
  // tensor carries its own bits): only when the spec had some, so a file of
  // uniform width is byte for byte what it was, and readers that know only
  // method and bits read either.
  for (const auto& [name, layer] : info.quant.layers) {
    quant["layers"][name] = {{"method", QuantMethodName(layer.method)}, {"bits", layer.bits}};
  }
  info.header = {{"format", "bitsweep-packed-generator"},
                 {"version", kFormatVersion},
                 {"arch", {{"image_size", a.image_size}, {"channels", a.channels}, {"nz", a.nz}, {"ngf", a.ngf}}},
                 {"quant", quant},
                 {"tensors", tensors},
                 {"payload_bytes", payload.size()},
                 {"payload_crc32", Crc32(payload, 0)},
                 {"full_precision_bytes", info.full_precision_bytes}};
  std::string header = info.header.dump();
  std::string file(kMagic, sizeof(kMagic));
  AppendU32(static_cast<uint32_t>(header.size()), &file);
  file += header;
  file += payload;

  // Write to a temporary name and rename, so a reader never sees half a file.
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out.write(file.data(), static_cast<std::streamsize>(file.size())) || !out.flush()) {
      return Status::IoError(tmp + ": cannot write packed generator");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return Status::IoError(path + ": cannot rename " + tmp);
  info.packed_bytes = static_cast<int64_t>(file.size());
  return info;
}

Result<LoadedGenerator> ReadPackedGenerator(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(path + ": cannot open packed generator");
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string file = buffer.str();
  auto corrupt = [&path](const std::string& what) { return Status::Corruption(path + ": " + what); };

  if (file.size() < sizeof(kMagic) + 4 || std::memcmp(file.data(), kMagic, sizeof(kMagic)) != 0) {
    return corrupt("bad magic (not a bitsweep packed generator)");
  }
  uint32_t header_size = 0;
  for (int i = 0; i < 4; ++i) header_size |= uint32_t{static_cast<uint8_t>(file[sizeof(kMagic) + i])} << (8 * i);
  const size_t payload_start = sizeof(kMagic) + 4 + header_size;
  if (payload_start > file.size()) return corrupt("truncated header");
  nlohmann::json header = nlohmann::json::parse(file.substr(sizeof(kMagic) + 4, header_size), nullptr, false);
  if (header.is_discarded() || !header.is_object()) return corrupt("header is not valid JSON");

  LoadedGenerator loaded;
  try {
    if (header.at("version").get<int>() != kFormatVersion) {
      return corrupt("format version " + header.at("version").dump() + " is not supported");
    }
    const std::string payload = file.substr(payload_start);
    if (payload.size() != header.at("payload_bytes").get<size_t>()) {
      return corrupt("truncated: payload has " + std::to_string(payload.size()) + " of " +
                     header.at("payload_bytes").dump() + " bytes");
    }
    if (Crc32(payload, 0) != header.at("payload_crc32").get<uint32_t>()) return corrupt("payload checksum mismatch");

    DcganOptions arch;
    const auto& a = header.at("arch");
    arch.image_size = a.at("image_size").get<int>();
    arch.channels = a.at("channels").get<int>();
    arch.nz = a.at("nz").get<int>();
    arch.ngf = a.at("ngf").get<int>();
    if ((arch.image_size != 32 && arch.image_size != 64) || (arch.channels != 1 && arch.channels != 3) ||
        arch.nz < 1 || arch.ngf < 1) {
      return corrupt("unsupported architecture " + a.dump());
    }
    const auto& q = header.at("quant");
    BITSWEEP_ASSIGN_OR_RETURN(loaded.info.quant.method, ParseQuantMethod(q.at("method").get<std::string>()));
    loaded.info.quant.bits = q.at("bits").get<int>();
    loaded.info.quant.keep_first_last_fp = q.at("keep_first_last_fp").get<bool>();
    if (q.contains("layers")) {
      for (const auto& [name, layer] : q.at("layers").items()) {
        BITSWEEP_ASSIGN_OR_RETURN(QuantMethod method, ParseQuantMethod(layer.at("method").get<std::string>()));
        loaded.info.quant.layers[name] = LayerQuant{method, layer.at("bits").get<int>()};
      }
    }
    loaded.info.arch = arch;
    loaded.info.header = header;
    loaded.info.packed_bytes = static_cast<int64_t>(file.size());
    loaded.info.full_precision_bytes = header.at("full_precision_bytes").get<int64_t>();

    Generator g(arch);
    auto targets = NamedFloatTensors(*g);
    torch::NoGradGuard no_grad;
    for (const auto& entry : header.at("tensors")) {
      const std::string name = entry.at("name").get<std::string>();
      auto target = targets.find(name);
      if (target == targets.end()) return corrupt("unknown tensor " + name);
      auto shape = entry.at("shape").get<std::vector<int64_t>>();
      if (shape != target->second.sizes().vec()) return corrupt("tensor " + name + " has the wrong shape");
      const size_t offset = entry.at("offset").get<size_t>();
      const size_t bytes = entry.at("bytes").get<size_t>();
      if (offset + bytes > payload.size()) return corrupt("tensor " + name + " lies outside the payload");
      const auto* data = reinterpret_cast<const uint8_t*>(payload.data() + offset);
      const int64_t count = target->second.numel();
      torch::Tensor decoded;
      if (entry.at("encoding") == "packed") {
        int bits = entry.at("bits").get<int>();
        int64_t levels = entry.at("levels").get<int64_t>();
        if (bits < 1 || bits > 8 || levels != (int64_t{1} << bits) ||
            bytes != static_cast<size_t>(levels * 4 + (count * bits + 7) / 8)) {
          return corrupt("tensor " + name + " has an inconsistent packed encoding");
        }
        auto table = torch::empty({levels}, torch::kFloat32);
        std::memcpy(table.data_ptr<float>(), data, static_cast<size_t>(levels) * 4);
        auto indices = UnpackIndices(data + levels * 4, bytes - static_cast<size_t>(levels) * 4, count, bits);
        auto index_tensor = torch::from_blob(indices.data(), {count}, torch::kInt64).clone();
        decoded = table.index_select(0, index_tensor);
      } else if (entry.at("encoding") == "float32") {
        if (bytes != static_cast<size_t>(count) * 4) return corrupt("tensor " + name + " has the wrong size");
        decoded = torch::empty({count}, torch::kFloat32);
        std::memcpy(decoded.data_ptr<float>(), data, bytes);
      } else {
        return corrupt("tensor " + name + " has unknown encoding " + entry.at("encoding").dump());
      }
      target->second.copy_(decoded.view(target->second.sizes()));
      targets.erase(target);
    }
    if (!targets.empty()) return corrupt("tensor " + targets.begin()->first + " is missing");
    g->eval();
    loaded.generator = g;
  } catch (const nlohmann::json::exception& e) {
    return corrupt(std::string("malformed header: ") + e.what());
  }
  return loaded;
}

}  // namespace bitsweep::qgan
