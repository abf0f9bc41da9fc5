/* A freestanding firmware for the linker's bare-metal differential test: linked by
   wafer-link and by rust-lld with an equivalent linker script, both images must print
   the same (symbol values and addresses included) and exit the same way. */

typedef unsigned long u64;
typedef unsigned char u8;

#if defined(__aarch64__)
#define UART ((volatile u8 *)0x09000000)
#elif defined(__riscv)
#define UART ((volatile u8 *)0x10000000)
#else
#error "unsupported architecture"
#endif

extern char __wafer_image_start[], __wafer_data_load[], __wafer_data_start[],
    __wafer_data_end[], __wafer_bss_start[], __wafer_bss_end[], __wafer_stack_bottom[],
    __wafer_stack_top[], __wafer_heap_start[], __wafer_heap_end[], __wafer_free_start[],
    __wafer_ram_end[];
#if defined(__riscv)
extern char __global_pointer$[];
#endif

static void put(char c) { *UART = (u8)c; }

static void puts_(const char *s) {
    while (*s) put(*s++);
}

static void hex(u64 value) {
    puts_("0x");
    for (int shift = 60; shift >= 0; shift -= 4) put("0123456789abcdef"[(value >> shift) & 15]);
}

static void show(const char *name, const void *value) {
    puts_(name);
    puts_(" = ");
    hex((u64)value);
    put('\n');
}

__attribute__((noreturn)) static void exit_(int code) {
#if defined(__aarch64__)
    static volatile u64 block[2];
    block[0] = 0x20026; /* ADP_Stopped_ApplicationExit */
    block[1] = (u64)code;
    register u64 x0 __asm__("x0") = 0x18; /* SYS_EXIT */
    register volatile u64 *x1 __asm__("x1") = block;
    __asm__ volatile("hlt #0xf000" : : "r"(x0), "r"(x1) : "memory");
#else
    /* The test device: (code << 16) | 0x3333 exits with `code`, 0x5555 with 0. */
    *(volatile unsigned *)0x100000 = code ? ((unsigned)code << 16) | 0x3333 : 0x5555;
#endif
    for (;;) {
    }
}

/* Initialised data, pointers to read-only data and to functions. */
static int add(int a, int b) { return a + b; }
static int sub(int a, int b) { return a - b; }
static int mul(int a, int b) { return a * b; }
int (*operations[])(int, int) = {add, sub, mul};
const char *names[] = {"zero", "one", "two"};
long counter = 5;
short small = 7; /* small data on RV64 */

/* Zero-initialised data. */
char buffer[300];
long zeroed;

/* Metadata, kept without references, the descriptor first. */
__attribute__((used, section(".wafer.traps"))) static const char traps[] = "TRAPS";
__attribute__((used, section(".wafer.image"))) static const char descriptor[] = "IMAGE";

static long fib(long n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

int main(void) {
    puts_("hello from bare metal\n");
    show("__wafer_image_start", __wafer_image_start);
    show("__wafer_data_load", __wafer_data_load);
    show("__wafer_data_start", __wafer_data_start);
    show("__wafer_data_end", __wafer_data_end);
    show("__wafer_bss_start", __wafer_bss_start);
    show("__wafer_bss_end", __wafer_bss_end);
    show("__wafer_stack_bottom", __wafer_stack_bottom);
    show("__wafer_stack_top", __wafer_stack_top);
    show("__wafer_heap_start", __wafer_heap_start);
    show("__wafer_heap_end", __wafer_heap_end);
    show("__wafer_free_start", __wafer_free_start);
    show("__wafer_ram_end", __wafer_ram_end);
#if defined(__riscv)
    show("__global_pointer$", __global_pointer$);
#endif
    show("main", (void *)main);
    show("operations", operations);
    show("buffer", buffer);
    int failures = 0;
    for (int i = 0; i < 300; i++) failures += buffer[i] != 0;
    failures += zeroed != 0;
    failures += operations[0](counter, small) != 12;
    failures += operations[1](counter, small) != -2;
    failures += operations[2](counter, small) != 35;
    failures += names[2][1] != 'w';
    failures += fib(20) != 6765;
    char here;
    failures += &here < __wafer_stack_bottom || &here >= __wafer_stack_top;
    failures += __wafer_data_end - __wafer_data_start < (long)sizeof operations;
    counter += failures;
    puts_(failures ? "FAILED\n" : "ok\n");
    exit_(failures ? 1 : 0);
}
