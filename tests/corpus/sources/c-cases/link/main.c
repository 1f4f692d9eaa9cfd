#include <stdio.h>
#include "image.h"

int main(int argc, char **argv)
{
    image *im = image_new(64, 64);
    image_blur(im, 2);
    printf("checksum %zu\n", image_checksum(im));
    if (argc > 1)
        image_write_ppm(im, argv[1]);
    image_free(im);
    return 0;
}
