#include <cstdio>
#include <cstdlib>
#include "ringbuf.h"
#define CHECK(c) do { if (!(c)) { std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c); return 1; } } while (0)
int main()
{
    RingBuf r(2); r.push(7); CHECK(r.peek() && *r.peek() == 7);
    std::puts("ok");
    return 0;
}
