#include "cli/canvas.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iterator>

#include <stb/stb_easy_font.h>
#include <stb/stb_image_write.h>
#include <stb/stb_truetype.h>

namespace bitsweep::cli {
namespace {

// The font, loaded once; empty when no TrueType file was found.
struct Font {
  std::vector<unsigned char> data;
  stbtt_fontinfo info{};
  bool ok = false;
};

const Font& LoadFont() {
  static const Font font = [] {
    Font f;
    std::vector<std::string> candidates;
    if (const char* env = std::getenv("BITSWEEP_FONT")) candidates.push_back(env);
    candidates.push_back("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf");
    for (const auto& path : candidates) {
      std::ifstream in(path, std::ios::binary);
      if (!in) continue;
      f.data.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
      if (stbtt_InitFont(&f.info, f.data.data(), stbtt_GetFontOffsetForIndex(f.data.data(), 0))) {
        f.ok = true;
        break;
      }
    }
    return f;
  }();
  return font;
}

double Clamp01(double x) { return x < 0.0 ? 0.0 : x > 1.0 ? 1.0 : x; }

}  // namespace

Canvas::Canvas(int width, int height, Rgb background) : width_(width), height_(height) {
  pixels_.resize(static_cast<size_t>(width) * height * 3);
  for (size_t i = 0; i < pixels_.size(); i += 3) {
    pixels_[i] = background.r;
    pixels_[i + 1] = background.g;
    pixels_[i + 2] = background.b;
  }
}

void Canvas::Blend(int x, int y, Rgb color, double alpha) {
  if (x < 0 || y < 0 || x >= width_ || y >= height_ || alpha <= 0.0) return;
  alpha = std::min(alpha, 1.0);
  uint8_t* p = &pixels_[(static_cast<size_t>(y) * width_ + x) * 3];
  p[0] = static_cast<uint8_t>(std::lround(p[0] + (color.r - p[0]) * alpha));
  p[1] = static_cast<uint8_t>(std::lround(p[1] + (color.g - p[1]) * alpha));
  p[2] = static_cast<uint8_t>(std::lround(p[2] + (color.b - p[2]) * alpha));
}

void Canvas::Line(double x0, double y0, double x1, double y1, Rgb color, double thickness, double dash) {
  const double dx = x1 - x0, dy = y1 - y0;
  const double length = std::hypot(dx, dy);
  if (dash > 0.0 && length > dash) {
    // Dashes of `dash` px with gaps of 0.6 dash.
    for (double t = 0.0; t < length; t += dash * 1.6) {
      const double e = std::min(t + dash, length);
      Line(x0 + dx * t / length, y0 + dy * t / length, x0 + dx * e / length, y0 + dy * e / length, color,
           thickness);
    }
    return;
  }
  const double half = thickness / 2.0;
  const int xa = static_cast<int>(std::floor(std::min(x0, x1) - half - 1));
  const int xb = static_cast<int>(std::ceil(std::max(x0, x1) + half + 1));
  const int ya = static_cast<int>(std::floor(std::min(y0, y1) - half - 1));
  const int yb = static_cast<int>(std::ceil(std::max(y0, y1) + half + 1));
  const double len2 = dx * dx + dy * dy;
  for (int y = std::max(ya, 0); y <= std::min(yb, height_ - 1); ++y) {
    for (int x = std::max(xa, 0); x <= std::min(xb, width_ - 1); ++x) {
      // Distance from the pixel centre to the segment: coverage falls off
      // over one pixel at the edge (anti-aliasing).
      const double px = x + 0.5 - x0, py = y + 0.5 - y0;
      const double t = len2 > 0 ? Clamp01((px * dx + py * dy) / len2) : 0.0;
      const double d = std::hypot(px - t * dx, py - t * dy);
      Blend(x, y, color, Clamp01(half + 0.5 - d));
    }
  }
}

void Canvas::Disc(double cx, double cy, double radius, Rgb color) {
  for (int y = static_cast<int>(cy - radius - 1); y <= static_cast<int>(cy + radius + 1); ++y) {
    for (int x = static_cast<int>(cx - radius - 1); x <= static_cast<int>(cx + radius + 1); ++x) {
      Blend(x, y, color, Clamp01(radius + 0.5 - std::hypot(x + 0.5 - cx, y + 0.5 - cy)));
    }
  }
}

void Canvas::Ring(double cx, double cy, double radius, Rgb color, double thickness) {
  for (int y = static_cast<int>(cy - radius - thickness); y <= static_cast<int>(cy + radius + thickness); ++y) {
    for (int x = static_cast<int>(cx - radius - thickness); x <= static_cast<int>(cx + radius + thickness); ++x) {
      const double d = std::fabs(std::hypot(x + 0.5 - cx, y + 0.5 - cy) - radius);
      Blend(x, y, color, Clamp01(thickness / 2.0 + 0.5 - d));
    }
  }
}

void Canvas::FillRect(double x0, double y0, double x1, double y1, Rgb color) {
  for (int y = static_cast<int>(std::lround(y0)); y < static_cast<int>(std::lround(y1)); ++y) {
    for (int x = static_cast<int>(std::lround(x0)); x < static_cast<int>(std::lround(x1)); ++x) Blend(x, y, color, 1.0);
  }
}

std::vector<float> Canvas::RenderText(const std::string& text, double size, int* w, int* h, int* baseline) const {
  const Font& font = LoadFont();
  if (!font.ok) {
    // stb_easy_font: quads of a 6x7-ish stroke font, scaled to `size`.
    static char buffer[99999];
    const double scale = size / 10.0;
    const int quads = stb_easy_font_print(0, 0, const_cast<char*>(text.c_str()), nullptr, buffer, sizeof buffer);
    *w = static_cast<int>(std::ceil(stb_easy_font_width(const_cast<char*>(text.c_str())) * scale)) + 2;
    *h = static_cast<int>(std::ceil(size * 1.3));
    *baseline = static_cast<int>(std::ceil(size));
    std::vector<float> mask(static_cast<size_t>(*w) * *h, 0.0f);
    const float* v = reinterpret_cast<const float*>(buffer);
    for (int q = 0; q < quads; ++q, v += 16) {
      const int x0 = static_cast<int>(v[0] * scale), y0 = static_cast<int>(v[1] * scale);
      const int x1 = static_cast<int>(std::ceil(v[8] * scale)), y1 = static_cast<int>(std::ceil(v[9] * scale));
      for (int y = std::max(0, y0); y < std::min(*h, y1); ++y) {
        for (int x = std::max(0, x0); x < std::min(*w, x1); ++x) mask[static_cast<size_t>(y) * *w + x] = 1.0f;
      }
    }
    return mask;
  }
  const float scale = stbtt_ScaleForPixelHeight(&font.info, static_cast<float>(size));
  int ascent = 0, descent = 0, gap = 0;
  stbtt_GetFontVMetrics(&font.info, &ascent, &descent, &gap);
  *baseline = static_cast<int>(std::ceil(ascent * scale));
  *h = *baseline + static_cast<int>(std::ceil(-descent * scale)) + 1;
  *w = static_cast<int>(std::ceil(TextWidth(text, size))) + 2;
  std::vector<float> mask(static_cast<size_t>(*w) * *h, 0.0f);
  double pen = 0.0;
  for (size_t i = 0; i < text.size(); ++i) {
    const int c = static_cast<unsigned char>(text[i]);
    int advance = 0, lsb = 0, x0 = 0, y0 = 0, x1 = 0, y1 = 0;
    stbtt_GetCodepointHMetrics(&font.info, c, &advance, &lsb);
    stbtt_GetCodepointBitmapBox(&font.info, c, scale, scale, &x0, &y0, &x1, &y1);
    int gw = 0, gh = 0, xoff = 0, yoff = 0;
    unsigned char* glyph = stbtt_GetCodepointBitmap(&font.info, scale, scale, c, &gw, &gh, &xoff, &yoff);
    for (int y = 0; y < gh; ++y) {
      for (int x = 0; x < gw; ++x) {
        const int mx = static_cast<int>(pen) + xoff + x, my = *baseline + yoff + y;
        if (mx >= 0 && my >= 0 && mx < *w && my < *h) {
          float& m = mask[static_cast<size_t>(my) * *w + mx];
          m = std::max(m, glyph[y * gw + x] / 255.0f);
        }
      }
    }
    stbtt_FreeBitmap(glyph, nullptr);
    pen += advance * scale;
    if (i + 1 < text.size()) {
      pen += scale * stbtt_GetCodepointKernAdvance(&font.info, c, static_cast<unsigned char>(text[i + 1]));
    }
  }
  return mask;
}

double Canvas::TextWidth(const std::string& text, double size) const {
  const Font& font = LoadFont();
  if (!font.ok) return stb_easy_font_width(const_cast<char*>(text.c_str())) * size / 10.0;
  const float scale = stbtt_ScaleForPixelHeight(&font.info, static_cast<float>(size));
  double width = 0.0;
  for (size_t i = 0; i < text.size(); ++i) {
    int advance = 0, lsb = 0;
    stbtt_GetCodepointHMetrics(&font.info, static_cast<unsigned char>(text[i]), &advance, &lsb);
    width += advance * scale;
  }
  return width;
}

void Canvas::Text(double x, double y, const std::string& text, double size, Rgb color, Align align) {
  int w = 0, h = 0, baseline = 0;
  std::vector<float> mask = RenderText(text, size, &w, &h, &baseline);
  const double left = align == Align::kLeft ? x : align == Align::kCenter ? x - w / 2.0 : x - w;
  const int ox = static_cast<int>(std::lround(left)), oy = static_cast<int>(std::lround(y)) - baseline;
  for (int j = 0; j < h; ++j) {
    for (int i = 0; i < w; ++i) Blend(ox + i, oy + j, color, mask[static_cast<size_t>(j) * w + i]);
  }
}

void Canvas::TextVertical(double x, double y, const std::string& text, double size, Rgb color) {
  int w = 0, h = 0, baseline = 0;
  std::vector<float> mask = RenderText(text, size, &w, &h, &baseline);
  // Turned counter-clockwise: the text's x runs up the page.
  const int ox = static_cast<int>(std::lround(x - h / 2.0)), oy = static_cast<int>(std::lround(y + w / 2.0));
  for (int j = 0; j < h; ++j) {
    for (int i = 0; i < w; ++i) Blend(ox + j, oy - i, color, mask[static_cast<size_t>(j) * w + i]);
  }
}

Status Canvas::SavePng(const std::string& path) const {
  if (!stbi_write_png(path.c_str(), width_, height_, 3, pixels_.data(), width_ * 3)) {
    return Status::IoError(path + ": cannot write PNG");
  }
  return Status::Ok();
}

}  // namespace bitsweep::cli
