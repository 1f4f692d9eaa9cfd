#ifndef IMAGE_H
#define IMAGE_H
#include <stddef.h>
typedef struct { int w, h; unsigned char *px; } image;
image *image_new(int w, int h);
void image_free(image *im);
int image_write_ppm(const image *im, const char *path);
void image_blur(image *im, int radius);
size_t image_checksum(const image *im);
#endif
