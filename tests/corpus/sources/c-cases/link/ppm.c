#include <stdio.h>
#include "image.h"

int image_write_ppm(const image *im, const char *path)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    fprintf(f, "P6\n%d %d\n255\n", im->w, im->h);
    fwrite(im->px, 3, (size_t)im->w * im->h, f);
    return fclose(f);
}
