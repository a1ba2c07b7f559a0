#include <stdio.h>

int main(void)
{
    puts("hello from imgscope");
    return 0;
}
