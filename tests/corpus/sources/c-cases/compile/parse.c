#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mathd.h"

int parse_sample(const char *line, struct sample *out)
{
    char *eq = strchr(line, '=');
    if (!eq)
        return -1;
    out->name = strndup(line, eq - line);
    out->value = strtod(eq + 1, NULL)
    return 0;
}

int count_fields(const char *line)
{
    int n = 1;
    for (const char *p = line; *p; p++)
        if (*p == ',')
            n++;
    return n
}
