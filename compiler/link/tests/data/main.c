/* The main end-to-end program: archive members, data, bss, rodata, function pointer
   tables, a switch jump table, weak symbols, commons, the GOT, linker-defined symbols
   and an unreferenced metadata section. Prints what it finds; exits 0 if all is well. */
#include "sys.h"

START_ASM

extern void put_str(const char *s);
extern void put_num(long v);
extern int lib_add(int a, int b);
extern int lib_counter_bump(void);
extern int got_read(void);
extern int got_call(void);
extern int *got_address(void);
extern int got_common(void);
extern int *got_weak(void);
extern int bump_common(void);
extern int shared_value;

/* Undefined weak: resolves to 0. */
extern int weak_missing(void) __attribute__((weak));

/* Weak definition that util.o overrides. */
__attribute__((weak)) int overridden(void) { return 1; }

int common_var __attribute__((common));

extern char __executable_start[], __etext[], __bss_start[], _end[];

/* Kept although nothing references it. */
__attribute__((section(".wafer.meta"), used)) static const char meta[] = "wafer-meta-v1";

static int add(int a, int b) { return a + b; }
static int sub(int a, int b) { return a - b; }
static int mul(int a, int b) { return a * b; }

/* Writable table of function pointers: absolute relocations in .data. */
int (*ops[])(int, int) = {add, sub, mul, lib_add};

/* Read-only table of strings: absolute relocations in .rodata. */
static const char *const names[] = {"zero", "one", "two"};

static char buffer[256];
long zeros[512];
int initialized = 7;

__attribute__((noinline)) const char *classify(int x) {
    switch (x) {
    case 0: return "a";
    case 1: return "b";
    case 2: return "c";
    case 3: return "d";
    case 4: return "e";
    case 5: return "f";
    case 6: return "g";
    default: return "?";
    }
}

static int failures;

/* An address as a number the compiler cannot reason about (comparing distinct arrays
   would otherwise be folded to a constant). */
static unsigned long addr(const void *p) {
    unsigned long v;
    __asm__("" : "=r"(v) : "0"(p));
    return v;
}

static void check(int ok, const char *what) {
    if (!ok) {
        put_str("FAIL: ");
        put_str(what);
        put_str("\n");
        failures++;
    }
}

void start_c(long *sp) {
    (void)sp;
    put_str("hello from main\n");

    put_str("ops:");
    for (int i = 0; i < 4; i++) {
        put_str(" ");
        put_num(ops[i](6, 2));
    }
    put_str("\n");

    put_str("lib: ");
    put_num(lib_add(2, 3));
    put_str(" ");
    put_num(lib_counter_bump());
    put_str(" ");
    put_num(lib_counter_bump());
    put_str("\n");

    put_str("got: ");
    put_num(got_read());
    put_str(" ");
    put_num(got_call());
    put_str(" ");
    put_num(*got_address());
    check(got_address() == &shared_value, "GOT slot holds the address");
    check(got_weak() == 0, "a GOT slot for an undefined weak symbol holds 0");
    put_str("\n");

    put_str("weak: ");
    put_num(weak_missing ? 1 : 0);
    put_str(" ");
    put_num(overridden());
    put_str("\n");

    put_str("common: ");
    bump_common();
    bump_common();
    put_num(common_var);
    put_str(" ");
    put_num(got_common());
    put_str("\n");

    put_str("names: ");
    for (int i = 0; i < 3; i++) {
        put_str(names[i]);
        put_str(classify(i * 3));
        put_str(" ");
    }
    put_str("\n");

    long sum = 0;
    for (int i = 0; i < 512; i++) sum |= zeros[i];
    for (int i = 0; i < 256; i++) sum |= buffer[i];
    check(sum == 0, "bss is zero");
    buffer[0] = 'x';
    zeros[511] = initialized;
    check(zeros[511] == 7 && buffer[0] == 'x', "bss is writable");

    unsigned long start = addr(__executable_start), etext = addr(__etext);
    unsigned long bss_start = addr(__bss_start), end = addr(_end), text = addr((void *)start_c);
    check(start < etext, "__executable_start < __etext");
    check(text >= start && text < etext, "text within [__executable_start, __etext)");
    check(etext <= bss_start && bss_start <= end, "__etext <= __bss_start <= _end");
    check(addr(zeros) >= bss_start && addr(zeros + 512) <= end, "bss within [__bss_start, _end)");
    check(addr(&initialized) < bss_start, "data before bss");

    put_str(failures ? "failed\n" : "ok\n");
    sys_exit(failures);
}
