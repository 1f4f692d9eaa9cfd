#include <cstdio>
#include <cstdlib>
#include "ringbuf.h"
#define CHECK(c) do { if (!(c)) { std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c); return 1; } } while (0)
int main()
{
    RingBuf r(1); CHECK(r.push(1)); CHECK(!r.push(2));
    std::puts("ok");
    return 0;
}
