#include <cstdio>
#include <cstdlib>
#include "ringbuf.h"
#define CHECK(c) do { if (!(c)) { std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c); return 1; } } while (0)
int main()
{
    RingBuf r(8); for (int i = 0; i < 8; i++) r.push(i); CHECK(r.size() == 8);
    std::puts("ok");
    return 0;
}
