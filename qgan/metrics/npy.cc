// Format: "\x93NUMPY", major, minor, header length (uint16 for 1.x, uint32
// for 2.x/3.x), then a Python dict literal such as
// {'descr': '<f4', 'fortran_order': False, 'shape': (10000, 2048), }
// padded with spaces to a multiple of 64 bytes, then the raw data.
#include "qgan/metrics/npy.h"

#include <cctype>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <torch/torch.h>

namespace bitsweep::qgan {
namespace {

constexpr char kMagic[] = "\x93NUMPY";

constexpr char kBlank[] = " \t\n\r\f\v";

bool IsQuote(char c) { return c == '\'' || c == '"'; }

// Header text for an error message: at most 60 characters of it, as a
// header may be up to 1 MiB long.
std::string Excerpt(const std::string& text) { return text.size() <= 60 ? text : text.substr(0, 57) + "..."; }

// The value of the first `key` of the header dict followed by a colon, as
// text: a quoted string, a tuple "(...)" or a bare word (True, False). One
// pass over the header: a regular expression here recursed once per
// character and overflowed the stack on a long header.
bool HeaderField(const std::string& header, const std::string& key, std::string* value) {
  for (size_t at = header.find(key); at != std::string::npos; at = header.find(key, at + 1)) {
    const size_t after = at + key.size();
    if (at == 0 || !IsQuote(header[at - 1]) || after >= header.size() || !IsQuote(header[after])) continue;
    size_t start = header.find_first_not_of(kBlank, after + 1);
    if (start == std::string::npos || header[start] != ':') continue;
    start = header.find_first_not_of(kBlank, start + 1);
    if (start == std::string::npos) return false;
    size_t end = start;  // one past the value
    if (header[start] == '(' || IsQuote(header[start])) {
      const size_t close = header.find(header[start] == '(' ? ')' : header[start], start + 1);
      if (close == std::string::npos) return false;
      end = close + 1;
    } else {
      while (end < header.size() && std::isalpha(static_cast<unsigned char>(header[end]))) ++end;
      if (end == start) return false;
    }
    *value = header.substr(start, end - start);
    return true;
  }
  return false;
}

}  // namespace

Result<torch::Tensor> ReadNpyMatrix(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(path + ": cannot open .npy file");
  auto bad = [&path](const std::string& what) { return Status::InvalidArgument(path + ": " + what); };

  char preamble[10];
  if (!in.read(preamble, 8) || std::memcmp(preamble, kMagic, 6) != 0) {
    return bad("not a .npy file (bad magic)");
  }
  const int major = static_cast<unsigned char>(preamble[6]);
  uint32_t header_len = 0;
  if (major == 1) {
    unsigned char len[2];
    if (!in.read(reinterpret_cast<char*>(len), 2)) return bad("truncated header");
    header_len = len[0] | (uint32_t{len[1]} << 8);
  } else if (major == 2 || major == 3) {
    unsigned char len[4];
    if (!in.read(reinterpret_cast<char*>(len), 4)) return bad("truncated header");
    header_len = len[0] | (uint32_t{len[1]} << 8) | (uint32_t{len[2]} << 16) | (uint32_t{len[3]} << 24);
  } else {
    return bad("unsupported .npy version " + std::to_string(major));
  }
  if (header_len > (1u << 20)) return bad("header length " + std::to_string(header_len) + " is implausible");
  std::string header(header_len, '\0');
  if (!in.read(header.data(), header_len)) return bad("truncated header");

  std::string descr, fortran, shape_text;
  if (!HeaderField(header, "descr", &descr) || !HeaderField(header, "fortran_order", &fortran) ||
      !HeaderField(header, "shape", &shape_text)) {
    return bad("malformed header: " + header.substr(0, 120));
  }
  descr = descr.substr(1, descr.size() - 2);
  torch::ScalarType dtype;
  int64_t item_size;
  if (descr == "<f4" || descr == "=f4") {
    dtype = torch::kFloat32;
    item_size = 4;
  } else if (descr == "<f8" || descr == "=f8") {
    dtype = torch::kFloat64;
    item_size = 8;
  } else {
    return bad("dtype '" + Excerpt(descr) + "' is not supported (use little-endian float32 '<f4' or float64 '<f8')");
  }
  if (fortran != "False") return bad("Fortran-order arrays are not supported (save with C order)");

  std::vector<int64_t> shape;
  std::stringstream dims(shape_text.substr(1, shape_text.size() - 2));
  std::string dim;
  while (std::getline(dims, dim, ',')) {
    dim.erase(0, dim.find_first_not_of(" \t"));
    dim.erase(dim.find_last_not_of(" \t") + 1);
    if (dim.empty()) continue;
    int64_t size = 0;
    const auto parsed = std::from_chars(dim.data(), dim.data() + dim.size(), size);
    if (parsed.ec == std::errc::result_out_of_range) return bad("shape " + Excerpt(shape_text) + " is implausible");
    if (parsed.ec != std::errc() || parsed.ptr != dim.data() + dim.size() || size < 0) {
      return bad("malformed shape " + Excerpt(shape_text));
    }
    shape.push_back(size);
  }
  if (shape.empty() || shape.size() > 2) {
    return bad("expected a matrix (N x d) or a vector, got shape " + Excerpt(shape_text));
  }
  if (shape.size() == 1) shape.push_back(1);
  // Checked before multiplying, so that the count cannot overflow.
  if (shape[0] > (int64_t{1} << 32) || shape[1] > (int64_t{1} << 24)) return bad("shape " + Excerpt(shape_text) + " is implausible");
  const int64_t count = shape[0] * shape[1];

  const auto data_start = static_cast<std::uintmax_t>(in.tellg());
  const std::uintmax_t expected = static_cast<std::uintmax_t>(count * item_size);
  const std::uintmax_t actual = std::filesystem::file_size(path) - data_start;
  if (actual < expected) {
    return bad("truncated: data has " + std::to_string(actual) + " of " + std::to_string(expected) + " bytes");
  }
  auto matrix = torch::empty(shape, dtype);
  if (!in.read(static_cast<char*>(matrix.data_ptr()), static_cast<std::streamsize>(expected))) {
    return bad("read failed");
  }
  return matrix.to(torch::kFloat64);
}

Status WriteNpy(const std::string& path, const torch::Tensor& matrix) {
  auto m = matrix.detach().to(torch::kCPU).contiguous();
  std::string descr;
  if (m.scalar_type() == torch::kFloat32) {
    descr = "<f4";
  } else if (m.scalar_type() == torch::kFloat64) {
    descr = "<f8";
  } else {
    return Status::InvalidArgument("WriteNpy: only float32 and float64 are supported");
  }
  // Python tuple syntax: "(N, d)", and "(N,)" for a vector.
  std::string shape = "(";
  for (int64_t i = 0; i < m.dim(); ++i) shape += (i ? ", " : "") + std::to_string(m.size(i));
  shape += m.dim() == 1 ? ",)" : ")";
  std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(kMagic, 6);
  out.put(1);
  out.put(0);
  out.put(static_cast<char>(header.size() & 0xff));
  out.put(static_cast<char>(header.size() >> 8));
  out << header;
  out.write(static_cast<const char*>(m.data_ptr()), static_cast<std::streamsize>(m.numel() * m.element_size()));
  if (!out.flush()) return Status::IoError(path + ": cannot write");
  return Status::Ok();
}

}  // namespace bitsweep::qgan
