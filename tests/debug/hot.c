// A guest that spends its time in one function, for the profiler test
// (tests/debug.rs): `perf report` must name `hot_loop`.
#include <stdio.h>

__attribute__((noinline)) unsigned hot_loop(unsigned rounds) {
    unsigned x = 1;
    for (unsigned i = 0; i < rounds; i++) {
        x = x * 1103515245u + 12345u;
        x ^= x >> 7;
    }
    return x;
}

int main(void) {
    printf("%u\n", hot_loop(300000000u));
    return 0;
}
