// Writing grids as PNG (stb_image_write, header-only): only the binary
// needs it, so the library stays free of it.
#pragma once

#include <string>

#include "edge/grid.h"
#include "edge/status.h"

namespace bitsweep::edge {

Status WritePng(const std::string& path, const Grid& grid);

}  // namespace bitsweep::edge
