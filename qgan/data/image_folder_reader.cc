// A folder of JPEG/PNG files (CelebA's aligned images, or any photo set),
// decoded with stb_image, centre-cropped to a square and resized.
#include <stb/stb_image.h>
#include <stb/stb_image_resize.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "qgan/data/readers.h"

namespace bitsweep::qgan {
namespace {

bool IsImageFile(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png";
}

// The largest image decoded (8192 x 8192): far above any GAN dataset's
// photos, small enough that one hostile file cannot exhaust memory.
constexpr int64_t kMaxPixels = int64_t{1} << 26;

struct StbFree {
  void operator()(unsigned char* p) const { stbi_image_free(p); }
};

// stb_image picks its decoder from the content, not from the file's name:
// only PNG and JPEG, the formats this reader is for, may reach it. Its
// other decoders (GIF, PSD, TGA, HDR, ...) are more attack surface, and
// some have had published memory-safety bugs.
bool IsPngOrJpeg(const std::vector<unsigned char>& bytes) {
  static const unsigned char kPng[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  static const unsigned char kJpeg[] = {0xff, 0xd8, 0xff};
  auto starts_with = [&bytes](const unsigned char* magic, size_t size) {
    return bytes.size() >= size && std::equal(magic, magic + size, bytes.begin());
  };
  return starts_with(kPng, sizeof kPng) || starts_with(kJpeg, sizeof kJpeg);
}

uint32_t BigEndian(const unsigned char* b) {
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | uint32_t{b[3]};
}

// The length of the first chunk of a PNG whose data runs past the end of
// the file, or 0 when all fit. stb_image grows its buffer by the length a
// chunk declares before reading it: a 100-byte file claiming a 2 GiB chunk
// has it allocate 2 GiB.
uint32_t PngChunkPastTheEnd(const std::vector<unsigned char>& bytes) {
  size_t at = 8;  // after the signature; each chunk: length, type, data, CRC
  while (bytes.size() - at >= 8) {
    const uint32_t length = BigEndian(&bytes[at]);
    if (std::equal(bytes.begin() + at + 4, bytes.begin() + at + 8, "IEND")) break;  // what follows is not read
    if (length > bytes.size() - at - 8) return length;
    at += 8 + static_cast<size_t>(length) + 4;
    if (at >= bytes.size()) break;
  }
  return 0;
}

// What is wrong with a JPEG's Huffman tables, or "" when nothing is. Two
// faults make stb_image (2.27, as Debian 12 ships it) read and write out of
// bounds: a table of more than 256 codes (it fills a 256-entry array), and
// a scan that decodes with a table no DHT segment before it defined (it
// decodes with uninitialised memory). Walks the markers as stb does; a
// progressive scan uses its DC table only in the first DC pass and its AC
// table only in AC passes.
std::string JpegHuffmanTableFault(const std::vector<unsigned char>& bytes) {
  bool defined[2][4] = {};  // [DC, AC][table index]
  bool frame_seen = false, progressive = false;
  size_t at = 2;  // after the start-of-image marker
  while (at + 4 <= bytes.size()) {
    const unsigned char marker = bytes[at + 1];
    // Entropy-coded data, fill bytes, stuffed zeros and restart markers
    // are not segments: look further for the next marker.
    if (bytes[at] != 0xff || marker == 0xff || marker == 0x00 || (marker >= 0xd0 && marker <= 0xd7)) {
      ++at;
      continue;
    }
    if (marker == 0xd9) break;  // end of image
    const size_t end = std::min(bytes.size(), at + 2 + ((size_t{bytes[at + 2]} << 8) | bytes[at + 3]));
    if ((marker == 0xc0 || marker == 0xc1 || marker == 0xc2) && !frame_seen) {
      frame_seen = true;
      progressive = marker == 0xc2;
    } else if (marker == 0xc4) {  // DHT: per table, class << 4 | index, 16 counts, the symbols
      for (size_t p = at + 4; p + 17 <= end;) {
        const int table_class = bytes[p] >> 4, index = bytes[p] & 15;
        if (table_class > 1 || index > 3) break;  // stb refuses the file
        size_t codes = 0;
        for (int i = 1; i <= 16; ++i) codes += bytes[p + i];
        if (codes > 256) return "a Huffman table declares " + std::to_string(codes) + " codes, more than 256";
        defined[table_class][index] = true;
        p += 17 + codes;
      }
    } else if (marker == 0xda) {  // SOS: count, per component id and DC << 4 | AC, then Ss, Se, Ah << 4 | Al
      const size_t count = at + 4 < end ? bytes[at + 4] : 0;
      if (at + 5 + 2 * count + 3 > end) break;  // a short scan header, which stb refuses
      const bool first_dc_pass = bytes[at + 5 + 2 * count] == 0 && (bytes[at + 7 + 2 * count] >> 4) == 0;
      const bool uses_dc = !progressive || first_dc_pass;
      const bool uses_ac = !progressive || bytes[at + 5 + 2 * count] > 0;
      for (size_t c = 0; c < count; ++c) {
        const int dc = bytes[at + 6 + 2 * c] >> 4, ac = bytes[at + 6 + 2 * c] & 15;
        if ((uses_dc && dc <= 3 && !defined[0][dc]) || (uses_ac && ac <= 3 && !defined[1][ac])) {
          return "a scan uses a Huffman table the file does not define";
        }
      }
    }
    at = std::max(end, at + 2);
  }
  return "";
}

// Decodes one file into `out` (size x size x 3, interleaved RGB).
Status LoadSquare(const std::string& path, int size, unsigned char* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IoError(path + ": cannot open");
  const std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!IsPngOrJpeg(bytes)) return Status::Corruption(path + ": not a PNG or JPEG file");
  if (const uint32_t length = bytes[0] == 0x89 ? PngChunkPastTheEnd(bytes) : 0) {
    return Status::Corruption(path + ": truncated or corrupt PNG: a chunk of " + std::to_string(length) +
                              " bytes runs past the end of the file");
  }
  if (const std::string fault = bytes[0] == 0xff ? JpegHuffmanTableFault(bytes) : ""; !fault.empty()) {
    return Status::Corruption(path + ": corrupt JPEG: " + fault);
  }
  if (bytes.size() > static_cast<size_t>(INT_MAX)) return Status::Corruption(path + ": image file too large");
  int w = 0, h = 0, channels = 0;
  // The header's size is checked before decoding: a JPEG of a few hundred
  // bytes can declare 16000 x 16000 pixels, which stb would decode (and
  // allocate) in full.
  if (stbi_info_from_memory(bytes.data(), static_cast<int>(bytes.size()), &w, &h, &channels) &&
      static_cast<int64_t>(w) * h > kMaxPixels) {
    return Status::Corruption(path + ": image is " + std::to_string(w) + " x " + std::to_string(h) +
                              " pixels, more than the " + std::to_string(kMaxPixels) + " this reader decodes");
  }
  std::unique_ptr<unsigned char, StbFree> pixels(
      stbi_load_from_memory(bytes.data(), static_cast<int>(bytes.size()), &w, &h, &channels, 3));
  if (!pixels) return Status::Corruption(path + ": cannot decode image: " + stbi_failure_reason());
  int side = std::min(w, h);
  int x0 = (w - side) / 2;
  int y0 = (h - side) / 2;
  const unsigned char* crop = pixels.get() + (static_cast<size_t>(y0) * w + x0) * 3;
  if (!stbir_resize_uint8(crop, side, side, w * 3, out, size, size, size * 3, 3)) {
    return Status::Internal(path + ": resize failed");
  }
  return Status::Ok();
}

}  // namespace

Result<RawImages> ReadImageFolder(const std::string& root, int size, int64_t limit) {
  if (!std::filesystem::is_directory(root)) return Status::NotFound(root + ": image folder does not exist");
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (entry.is_regular_file() && IsImageFile(entry.path())) files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  if (limit > 0 && static_cast<int64_t>(files.size()) > limit) files.resize(static_cast<size_t>(limit));
  if (files.empty()) return Status::NotFound(root + ": no .jpg, .jpeg or .png files");

  const int64_t n = static_cast<int64_t>(files.size());
  auto hwc = torch::empty({n, size, size, 3}, torch::kUInt8);
  for (int64_t i = 0; i < n; ++i) {
    BITSWEEP_RETURN_IF_ERROR(LoadSquare(files[static_cast<size_t>(i)], size, hwc[i].data_ptr<uint8_t>()));
  }
  return RawImages{hwc.permute({0, 3, 1, 2}).contiguous(), torch::Tensor()};
}

}  // namespace bitsweep::qgan
