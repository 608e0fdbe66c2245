#include "edge/png.h"

#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#include <stb/stb_image_write.h>

namespace bitsweep::edge {

Status WritePng(const std::string& path, const Grid& grid) {
  if (!stbi_write_png(path.c_str(), grid.width, grid.height, grid.channels, grid.pixels.data(),
                      grid.width * grid.channels)) {
    return Status::IoError(path + ": cannot write PNG");
  }
  return Status::Ok();
}

}  // namespace bitsweep::edge
