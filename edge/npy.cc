#include "edge/npy.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace bitsweep::edge {
namespace {

constexpr char kNpyMagic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

// The value of `key` in a .npy header dict, e.g. 'descr': '<f4' -> "'<f4'",
// up to the next top-level comma or closing brace.
bool HeaderValue(const std::string& header, const std::string& key, std::string* value) {
  const std::string quoted = "'" + key + "'";
  size_t at = header.find(quoted);
  if (at == std::string::npos) return false;
  at = header.find(':', at + quoted.size());
  if (at == std::string::npos) return false;
  ++at;
  while (at < header.size() && header[at] == ' ') ++at;
  size_t end = at;
  int depth = 0;
  for (; end < header.size(); ++end) {
    const char c = header[end];
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (depth == 0 && (c == ',' || c == '}')) break;
  }
  *value = header.substr(at, end - at);
  while (!value->empty() && value->back() == ' ') value->pop_back();
  return true;
}

}  // namespace

Status ParseNpy(const uint8_t* data, size_t size, const std::string& source, NpyArray* array, int64_t max_values) {
  auto bad = [&source](const std::string& what) { return Status::InvalidArgument(source + ": " + what); };
  if (size < 10 || std::memcmp(data, kNpyMagic, 6) != 0) return bad("not a .npy file (bad magic)");
  const int major = data[6];
  size_t header_len = 0, start = 0;
  if (major == 1) {
    header_len = data[8] | size_t{data[9]} << 8;
    start = 10;
  } else if (major == 2 || major == 3) {
    if (size < 12) return bad("truncated .npy header");
    header_len = data[8] | size_t{data[9]} << 8 | size_t{data[10]} << 16 | size_t{data[11]} << 24;
    start = 12;
  } else {
    return bad(".npy format version " + std::to_string(major) + " is not supported");
  }
  if (header_len > size - start) return bad("truncated .npy header");
  const std::string header(reinterpret_cast<const char*>(data) + start, header_len);
  std::string descr, fortran, shape_text;
  if (!HeaderValue(header, "descr", &descr) || !HeaderValue(header, "fortran_order", &fortran) ||
      !HeaderValue(header, "shape", &shape_text)) {
    return bad(".npy header lacks descr, fortran_order or shape");
  }
  int width = 0;
  if (descr == "'<f4'") {
    width = 4;
  } else if (descr == "'<f8'") {
    width = 8;
  } else {
    return bad("dtype " + descr.substr(0, 16) + " is not little-endian float32 or float64");
  }
  if (fortran != "False") return bad("Fortran-order arrays are not supported");
  if (shape_text.size() < 2 || shape_text.front() != '(' || shape_text.back() != ')') {
    return bad("cannot read the .npy shape " + shape_text.substr(0, 32));
  }
  array->shape.clear();
  std::stringstream dims(shape_text.substr(1, shape_text.size() - 2));
  std::string dim;
  int64_t total = 1;
  while (std::getline(dims, dim, ',')) {
    size_t b = dim.find_first_not_of(' '), e = dim.find_last_not_of(' ');
    if (b == std::string::npos) continue;  // "(N,)"
    dim = dim.substr(b, e - b + 1);
    if (dim.empty() || dim.size() > 12 || dim.find_first_not_of("0123456789") != std::string::npos) {
      return bad("cannot read the .npy shape " + shape_text.substr(0, 32));
    }
    const int64_t d = std::stoll(dim);
    array->shape.push_back(d);
    if (d > 0 && total > max_values / d) return bad("array is larger than " + std::to_string(max_values) + " values");
    total *= d;
  }
  const size_t body = size - start - header_len;
  if (body != static_cast<size_t>(total) * width) {
    return bad("holds " + std::to_string(body) + " data bytes, shape " + shape_text + " needs " +
               std::to_string(total * width));
  }
  array->values.resize(static_cast<size_t>(total));
  const uint8_t* p = data + start + header_len;
  for (int64_t i = 0; i < total; ++i) {
    if (width == 4) {
      std::memcpy(&array->values[i], p + i * 4, 4);
    } else {
      double v = 0;
      std::memcpy(&v, p + i * 8, 8);
      array->values[i] = static_cast<float>(v);
    }
  }
  return Status::Ok();
}

Status ReadNpy(const std::string& path, NpyArray* array, int64_t max_values) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(path + ": cannot open");
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string bytes = buffer.str();
  return ParseNpy(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), path, array, max_values);
}

Status WriteNpy(const std::string& path, const std::vector<int64_t>& shape, const float* values) {
  std::string dims = "(";
  int64_t total = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    dims += (i ? ", " : "") + std::to_string(shape[i]);
    total *= shape[i];
  }
  dims += shape.size() == 1 ? ",)" : ")";
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': " + dims + ", }";
  // Data starts on a multiple of 64 bytes, as numpy writes it.
  header.append((64 - (10 + header.size() + 1) % 64) % 64, ' ');
  header += '\n';
  std::string file(kNpyMagic, 6);
  file += '\x01';
  file += '\x00';
  file += static_cast<char>(header.size() & 0xff);
  file += static_cast<char>(header.size() >> 8);
  file += header;
  file.append(reinterpret_cast<const char*>(values), static_cast<size_t>(total) * 4);
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out.write(file.data(), static_cast<std::streamsize>(file.size())) || !out.flush()) {
      return Status::IoError(tmp + ": cannot write");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return Status::IoError(path + ": cannot write");
  return Status::Ok();
}

}  // namespace bitsweep::edge
