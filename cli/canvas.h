// Canvas: a small RGB raster with anti-aliased lines, discs and text, saved
// as PNG. Enough to draw a chart without a plotting library (stb's
// TrueType rasteriser and PNG writer, from Debian's libstb).
//
// Text uses DejaVu Sans (Debian's fonts-dejavu-core; $BITSWEEP_FONT names
// another TrueType file) and falls back to stb's built-in stroke font.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace bitsweep::cli {

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
};

class Canvas {
 public:
  Canvas(int width, int height, Rgb background = {255, 255, 255});

  int width() const { return width_; }
  int height() const { return height_; }

  /// A line `thickness` px wide; `dash` > 0 draws dashes of that length.
  void Line(double x0, double y0, double x1, double y1, Rgb color, double thickness = 1.5, double dash = 0.0);
  void Disc(double x, double y, double radius, Rgb color);
  /// A ring (hollow marker).
  void Ring(double x, double y, double radius, Rgb color, double thickness = 1.5);
  void FillRect(double x0, double y0, double x1, double y1, Rgb color);

  enum class Align { kLeft, kCenter, kRight };
  /// Text with its baseline at `y`; `size` is the pixel height of the font.
  void Text(double x, double y, const std::string& text, double size, Rgb color, Align align = Align::kLeft);
  /// Text turned 90 degrees counter-clockwise, centred on (x, y) (y axis labels).
  void TextVertical(double x, double y, const std::string& text, double size, Rgb color);
  double TextWidth(const std::string& text, double size) const;

  Status SavePng(const std::string& path) const;

 private:
  void Blend(int x, int y, Rgb color, double alpha);
  /// Draws into an offscreen grey mask (for rotated text).
  std::vector<float> RenderText(const std::string& text, double size, int* w, int* h, int* baseline) const;

  int width_, height_;
  std::vector<uint8_t> pixels_;
};

}  // namespace bitsweep::cli
