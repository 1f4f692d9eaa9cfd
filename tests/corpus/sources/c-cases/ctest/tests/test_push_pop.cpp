#include <cstdio>
#include <cstdlib>
#include "ringbuf.h"
#define CHECK(c) do { if (!(c)) { std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c); return 1; } } while (0)
int main()
{
    RingBuf r(4); int v = 0;
    CHECK(r.push(1)); CHECK(r.push(2));
    CHECK(r.pop(v) && v == 1); CHECK(r.pop(v) && v == 2); CHECK(!r.pop(v));
    std::puts("ok");
    return 0;
}
