#include <stdio.h>
#include <stdlib.h>

int main(void) {
    const char *g = getenv("GREETING");
    printf("%s from a multi-stage build\n", g ? g : "hi");
    return 0;
}
