#include "edge/bsg_file.h"

#include <cstring>
#include <map>

#include "edge/crc32.h"
#include "edge/json.h"

namespace bitsweep::edge {
namespace {

constexpr char kMagic[8] = {'B', 'S', 'W', 'P', 'G', 'E', 'N', '1'};
constexpr size_t kPrefixBytes = sizeof(kMagic) + 4;
constexpr int64_t kFormatVersion = 1;

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? "," : "") + std::to_string(shape[i]);
  return text + "]";
}

// Reads the header's fields with messages that name the field.
class HeaderReader {
 public:
  explicit HeaderReader(std::string* error) : error_(error) {}

  const JsonValue* Member(const JsonValue& object, const std::string& key, const std::string& path) {
    const JsonValue* v = object.Find(key);
    if (v == nullptr) Fail(path + key + " is missing");
    return v;
  }

  bool Int(const JsonValue& object, const std::string& key, const std::string& path, int64_t lo, int64_t hi,
           int64_t* out) {
    const JsonValue* v = Member(object, key, path);
    if (v == nullptr) return false;
    if (!v->AsInt(lo, hi, out)) {
      return Fail(path + key + " must be a whole number within " + std::to_string(lo) + ".." + std::to_string(hi));
    }
    return true;
  }

  bool String(const JsonValue& object, const std::string& key, const std::string& path, std::string* out) {
    const JsonValue* v = Member(object, key, path);
    if (v == nullptr) return false;
    if (!v->is_string()) return Fail(path + key + " must be a string, not " + JsonValue::TypeName(v->type()));
    *out = v->string();
    return true;
  }

  bool Object(const JsonValue& object, const std::string& key, const std::string& path, const JsonValue** out) {
    *out = Member(object, key, path);
    if (*out == nullptr) return false;
    if (!(*out)->is_object()) return Fail(path + key + " must be an object");
    return true;
  }

  bool Fail(const std::string& what) {
    if (error_->empty()) *error_ = what;
    return false;
  }

 private:
  std::string* error_;
};

struct Expected {
  std::vector<int64_t> shape;
  /// Convolution weights may be packed; batch-norm vectors are float32.
  bool may_pack = false;
};

std::map<std::string, Expected> ExpectedTensors(const Arch& arch) {
  std::map<std::string, Expected> expected;
  for (const LayerShape& layer : GeneratorLayers(arch)) {
    expected[layer.name + ".weight"] = {{layer.cin, layer.cout, 4, 4}, true};
    if (layer.norm.empty()) continue;
    for (const char* part : {".weight", ".bias", ".running_mean", ".running_var"}) {
      expected[layer.norm + part] = {{layer.cout}, false};
    }
  }
  return expected;
}

}  // namespace

const BsgTensor* BsgFile::Find(const std::string& name) const {
  for (const auto& t : tensors) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

Status ParseBsg(const uint8_t* data, size_t size, const std::string& source, BsgFile* file,
                const ParseOptions& options) {
  auto corrupt = [&source](const std::string& what) { return Status::Corruption(source + ": " + what); };
  *file = BsgFile();
  if (size < kPrefixBytes || std::memcmp(data, kMagic, sizeof(kMagic)) != 0) {
    return corrupt(size < sizeof(kMagic) ? "too short for a packed generator (" + std::to_string(size) + " bytes)"
                                         : "bad magic (not a bitsweep packed generator)");
  }
  uint32_t header_bytes = 0;
  for (int i = 0; i < 4; ++i) header_bytes |= uint32_t{data[sizeof(kMagic) + i]} << (8 * i);
  if (header_bytes > kMaxHeaderBytes) {
    return corrupt("header length " + std::to_string(header_bytes) + " is absurd (at most " +
                   std::to_string(kMaxHeaderBytes) + ")");
  }
  if (header_bytes > size - kPrefixBytes) {
    return corrupt("truncated header: " + std::to_string(size - kPrefixBytes) + " of " + std::to_string(header_bytes) +
                   " bytes");
  }
  JsonValue header;
  std::string error;
  if (!ParseJson(reinterpret_cast<const char*>(data + kPrefixBytes), header_bytes, &header, &error)) {
    return corrupt("header is not valid JSON: " + error);
  }
  if (!header.is_object()) return corrupt("header is not a JSON object");

  HeaderReader r(&error);
  int64_t version = 0;
  if (!r.Int(header, "version", "", 0, INT32_MAX, &version)) return corrupt(error);
  if (version != kFormatVersion) return corrupt("format version " + std::to_string(version) + " is not supported");
  if (const JsonValue* format = header.Find("format");
      format != nullptr && !(format->is_string() && format->string() == "bitsweep-packed-generator")) {
    return corrupt("format is not \"bitsweep-packed-generator\"");
  }

  // The architecture fixes every tensor's shape.
  const JsonValue* arch_json = nullptr;
  int64_t image_size = 0, channels = 0, nz = 0, ngf = 0;
  if (!r.Object(header, "arch", "", &arch_json) ||
      !r.Int(*arch_json, "image_size", "arch.", 0, INT32_MAX, &image_size) ||
      !r.Int(*arch_json, "channels", "arch.", 0, INT32_MAX, &channels) ||
      !r.Int(*arch_json, "nz", "arch.", 0, INT32_MAX, &nz) || !r.Int(*arch_json, "ngf", "arch.", 0, INT32_MAX, &ngf)) {
    return corrupt(error);
  }
  file->arch = {static_cast<int>(image_size), static_cast<int>(channels), static_cast<int>(nz), static_cast<int>(ngf)};
  if (std::string why; !ValidArch(file->arch, &why)) return corrupt("unsupported architecture: " + why);

  // What the header says about quantization is informative only (every
  // tensor carries its own encoding), but it must be well-formed.
  if (const JsonValue* quant = header.Find("quant"); quant != nullptr) {
    int64_t bits = 0;
    if (!quant->is_object() || !r.String(*quant, "method", "quant.", &file->method) ||
        !r.Int(*quant, "bits", "quant.", 1, 32, &bits)) {
      return corrupt(error.empty() ? "quant must be an object" : error);
    }
    file->bits = static_cast<int>(bits);
    if (const JsonValue* keep = quant->Find("keep_first_last_fp"); keep != nullptr) {
      if (!keep->is_bool()) return corrupt("quant.keep_first_last_fp must be a boolean");
      file->keep_first_last_fp = keep->bool_value();
    }
  }
  if (header.Find("full_precision_bytes") != nullptr &&
      !r.Int(header, "full_precision_bytes", "", 0, INT64_MAX / 2, &file->full_precision_bytes)) {
    return corrupt(error);
  }

  // The payload: the rest of the file, all of it, checksummed.
  const uint8_t* payload = data + kPrefixBytes + header_bytes;
  const size_t payload_size = size - kPrefixBytes - header_bytes;
  int64_t payload_bytes = 0, crc = 0;
  if (!r.Int(header, "payload_bytes", "", 0, INT64_MAX / 2, &payload_bytes) ||
      !r.Int(header, "payload_crc32", "", 0, UINT32_MAX, &crc)) {
    return corrupt(error);
  }
  if (static_cast<uint64_t>(payload_bytes) != payload_size) {
    return corrupt((static_cast<uint64_t>(payload_bytes) > payload_size ? "truncated: payload has " : "payload has ") +
                   std::to_string(payload_size) + " bytes, the header says " + std::to_string(payload_bytes));
  }
  if (options.verify_checksum && Crc32(payload, payload_size) != static_cast<uint32_t>(crc)) {
    return corrupt("payload checksum mismatch (the file is damaged)");
  }

  // Every tensor: known, once, with the architecture's shape, inside the payload.
  auto expected = ExpectedTensors(file->arch);
  const JsonValue* tensors = r.Member(header, "tensors", "");
  if (tensors == nullptr) return corrupt(error);
  if (!tensors->is_array()) return corrupt("tensors must be an array");
  if (tensors->items().size() > expected.size()) {
    return corrupt("the header lists " + std::to_string(tensors->items().size()) + " tensors, the architecture has " +
                   std::to_string(expected.size()));
  }
  for (size_t i = 0; i < tensors->items().size(); ++i) {
    const JsonValue& entry = tensors->items()[i];
    const std::string path = "tensors[" + std::to_string(i) + "].";
    if (!entry.is_object()) return corrupt("tensors[" + std::to_string(i) + "] is not an object");
    BsgTensor t;
    if (!r.String(entry, "name", path, &t.name)) return corrupt(error);
    auto want = expected.find(t.name);
    if (want == expected.end()) {
      if (file->Find(t.name) != nullptr) return corrupt("tensor " + t.name + " is listed twice");
      return corrupt("unknown tensor \"" + t.name.substr(0, 64) + "\" for this architecture");
    }
    const std::string what = "tensor " + t.name;
    const JsonValue* shape = r.Member(entry, "shape", path);
    if (shape == nullptr) return corrupt(error);
    if (!shape->is_array() || shape->items().size() > 8) return corrupt(what + ": shape must be a short array");
    for (const JsonValue& dim : shape->items()) {
      int64_t d = 0;
      if (!dim.AsInt(0, INT64_MAX / 2, &d)) return corrupt(what + ": shape holds something other than a size");
      t.shape.push_back(d);
    }
    if (t.shape != want->second.shape) {
      return corrupt(what + " has shape " + ShapeText(t.shape) + ", the architecture needs " +
                     ShapeText(want->second.shape));
    }
    t.count = 1;
    for (int64_t d : t.shape) t.count *= d;  // bounded: the shape is the architecture's

    int64_t offset = 0, bytes = 0;
    if (!r.Int(entry, "offset", path, 0, INT64_MAX / 2, &offset) || !r.Int(entry, "bytes", path, 0, INT64_MAX / 2, &bytes)) {
      return corrupt(error);
    }
    if (offset > payload_bytes || bytes > payload_bytes - offset) {
      return corrupt(what + " lies outside the payload (offset " + std::to_string(offset) + " + " +
                     std::to_string(bytes) + " bytes > " + std::to_string(payload_bytes) + ")");
    }
    std::string encoding;
    if (!r.String(entry, "encoding", path, &encoding)) return corrupt(error);
    int64_t need = 0;
    if (encoding == "float32") {
      t.encoding = Encoding::kFloat32;
      need = t.count * 4;
    } else if (encoding == "packed") {
      if (!want->second.may_pack) return corrupt(what + " is packed, but only convolution weights may be");
      int64_t bits = 0, levels = 0;
      if (!r.Int(entry, "bits", path, 1, 8, &bits)) return corrupt(error);
      if (!r.Int(entry, "levels", path, 0, 1 << 16, &levels)) return corrupt(error);
      if (levels != (int64_t{1} << bits)) {
        return corrupt(what + " has " + std::to_string(levels) + " levels for " + std::to_string(bits) +
                       " bits (needs " + std::to_string(int64_t{1} << bits) + ")");
      }
      t.encoding = Encoding::kPacked;
      t.bits = static_cast<int>(bits);
      need = levels * 4 + (t.count * bits + 7) / 8;
    } else {
      return corrupt(what + " has unknown encoding \"" + encoding.substr(0, 32) + "\"");
    }
    if (bytes != need) {
      return corrupt(what + " has the wrong size: " + std::to_string(bytes) + " bytes, " + encoding + " " +
                     ShapeText(t.shape) + " needs " + std::to_string(need));
    }
    t.data = payload + offset;
    t.bytes = static_cast<size_t>(bytes);
    expected.erase(want);
    file->tensors.push_back(std::move(t));
  }
  if (!expected.empty()) return corrupt("tensor " + expected.begin()->first + " is missing");
  return Status::Ok();
}

}  // namespace bitsweep::edge
