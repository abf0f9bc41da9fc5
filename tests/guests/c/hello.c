// The smallest real C guest: printf through wasi-libc's stdio, exit 0.
#include <stdio.h>

int main(void) {
    printf("Hello from C, compiled by %s!\n", "wafer");
    return 0;
}
