#include <stdio.h>
#include <stdlib.h>
#include "image.h"

image *image_new(int w, int h)
{
    image *im = malloc(sizeof *im);
    im->w = w;
    im->h = h;
    im->px = calloc((size_t)w * h * 3, 1);
    return im;
}

void image_free(image *im)
{
    free(im->px);
    free(im);
}

size_t image_checksum(const image *im)
{
    size_t s = 0;
    for (size_t i = 0; i < (size_t)im->w * im->h * 3; i++)
        s = s * 31 + im->px[i];
    return s;
}
