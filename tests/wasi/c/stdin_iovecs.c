// A read into many small buffers returns what the pipe holds, without waiting for more:
// the test keeps stdin open (and writes 17 bytes) until this program exits.
#include <stdio.h>
#include <wasi/api.h>

int main(void) {
    char bytes[40];
    __wasi_iovec_t iovs[40];
    for (int i = 0; i < 40; i++) iovs[i] = (__wasi_iovec_t){(uint8_t *)&bytes[i], 1};
    size_t n = 0;
    int e = __wasi_fd_read(0, iovs, 40, &n);
    printf("read into 40 one-byte buffers: errno %d, returned without waiting: %s\n", e,
           n > 0 ? "yes" : "no");
    return 0;
}
