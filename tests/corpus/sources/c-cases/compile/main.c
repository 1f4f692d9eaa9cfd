#include <stdio.h>
#include "mathd.h"

int main(void)
{
    double v[3] = {1, 2, 2};
    struct sample s;
    if (parse_sample("temp=21.5", &s) == 0)
        printf("%s %.1f %.1f\n", s.name, s.value, vec_norm(v, 3));
    return 0;
}
