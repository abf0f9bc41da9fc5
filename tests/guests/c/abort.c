// abort() is `unreachable` in wasi-libc: the image must trap and exit 134, after the
// output the guest flushed.
#include <stdio.h>
#include <stdlib.h>

int main(void) {
    printf("about to abort\n");
    fflush(stdout);
    abort();
}
