#ifndef CODEC_H
#define CODEC_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint8_t kind;
    uint16_t length;
    const uint8_t *payload;
} frame_t;

int frame_parse(const uint8_t *buf, size_t len, frame_t *out);
uint32_t codec_checksum(const uint8_t *buf, size_t len);
#endif
