// The page, its script and styles, and Chart.js, compiled into the binary
// at build time (dashboard/embed_assets.cmake).
#pragma once

#include <cstddef>
#include <string>

namespace bitsweep::dashboard {

struct Asset {
  const char* name;          // "index.html", "app.js", ...
  const char* content_type;
  const unsigned char* data;
  size_t size;
};

/// The asset called `name`, or nullptr.
const Asset* FindAsset(const std::string& name);

}  // namespace bitsweep::dashboard
