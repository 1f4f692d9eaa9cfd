#include <cstdio>
#include <cstdlib>
#include "ringbuf.h"
#define CHECK(c) do { if (!(c)) { std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c); return 1; } } while (0)
int main()
{
    RingBuf r(3); int v = 0;
    for (int round = 0; round < 5; round++) {
        CHECK(r.push(round)); CHECK(r.push(round + 100));
        CHECK(r.pop(v)); CHECK(v == round);
        CHECK(r.pop(v)); CHECK(v == round + 100);
    }
    std::puts("ok");
    return 0;
}
