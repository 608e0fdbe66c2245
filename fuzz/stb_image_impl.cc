// stb_image and stb_image_resize built into the fuzz targets from the same
// headers as the system's libstb, instead of linking that prebuilt library:
// so the sanitizers and libFuzzer's coverage see inside the decoder that
// reads untrusted images.
#define STB_IMAGE_IMPLEMENTATION
#include <stb/stb_image.h>
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#include <stb/stb_image_resize.h>
