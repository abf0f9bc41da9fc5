// A C guest for the debugger tests (tests/debug.rs): built with -g -O0, then
// driven by gdb. The tests name lines by the markers in comments.
#include <stdio.h>
#include <stdlib.h>

int counter = 5;
static const char *greeting = "hello from wasm";

struct point {
    int x;
    int y;
};

static int square(int x) {
    int y = x * x; // LINE_SQUARE
    return y + counter;
}

static int divide(int a, int b) {
    return a / b; // LINE_DIVIDE
}

int main(int argc, char **argv) {
    struct point origin = {3, 4};
    int total = 0;
    for (int i = 0; i < 3; i++) {
        total += square(i); // LINE_LOOP
    }
    counter += total;
    printf("%s: total %d, counter %d, point %d,%d\n", greeting, total, counter, origin.x,
           origin.y);
    if (argc > 1) {
        // `debug trap`: divides by zero.
        printf("%d\n", divide(total, atoi(argv[1])));
    }
    return 0;
}
