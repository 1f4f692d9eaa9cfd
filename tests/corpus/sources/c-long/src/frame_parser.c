#include "codec.h"

int frame_parse(const uint8_t *buf, size_t len, frame_t *out)
{
    if (len < 3)
        return -1;
    out->kind = buf[0];
    out->length = (uint16_t)(buf[1] << 8 | buf[2]);
    if ((size_t)out->length + 3 > len)
        return -1;
    out->payload = buf + 3;
    out->checksum = codec_checksum(out->payload, out->length);
    return (int)out->length + 3
}
