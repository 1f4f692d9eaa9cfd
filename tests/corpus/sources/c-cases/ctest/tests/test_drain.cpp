#include <cstdio>
#include <cstdlib>
#include "ringbuf.h"
#define CHECK(c) do { if (!(c)) { std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c); return 1; } } while (0)
int main()
{
    RingBuf r(1000); int v = 0; long sum = 0;
    for (int i = 0; i < 1000; i++) r.push(i);
    for (int pass = 0; pass < 400; pass++) {
        while (r.pop(v)) sum += v;
        for (int i = 0; i < 1000; i++) r.push(i);
    }
    std::printf("sum %ld\n", sum);
    std::puts("ok");
    return 0;
}
