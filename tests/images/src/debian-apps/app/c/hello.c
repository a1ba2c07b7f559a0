#include <stdio.h>

int main(void) {
    puts("hello, static world");
    return 0;
}
