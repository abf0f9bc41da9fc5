/* The smallest program: print a line, exit 42. */
#include "sys.h"

START_ASM

static const char message[] = "hello\n";

void start_c(long *sp) {
    (void)sp;
    sys_write(message, sizeof message - 1);
    sys_exit(42);
}
