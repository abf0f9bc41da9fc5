/* Freestanding Linux system calls and an entry point for the linker's end-to-end tests. */
#ifndef SYS_H
#define SYS_H

typedef unsigned long size_t;

static inline long sys3(long n, long a, long b, long c) {
#if defined(__x86_64__)
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return ret;
#elif defined(__aarch64__)
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    __asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
    return x0;
#elif defined(__riscv)
    register long a7 __asm__("a7") = n;
    register long a0 __asm__("a0") = a;
    register long a1 __asm__("a1") = b;
    register long a2 __asm__("a2") = c;
    __asm__ volatile("ecall" : "+r"(a0) : "r"(a7), "r"(a1), "r"(a2) : "memory");
    return a0;
#else
#error "unsupported architecture"
#endif
}

#if defined(__x86_64__)
#define SYS_WRITE 1
#define SYS_EXIT 60
#else
#define SYS_WRITE 64
#define SYS_EXIT 93
#endif

static inline void sys_write(const char *s, size_t n) { sys3(SYS_WRITE, 1, (long)s, (long)n); }

static inline __attribute__((noreturn)) void sys_exit(int code) {
    sys3(SYS_EXIT, code, 0, 0);
    for (;;) {
    }
}

/* `_start`: align the stack, call start_c(sp). RISC-V also sets gp, which needs the
   linker-defined __global_pointer$. */
#if defined(__x86_64__)
#define START_ASM                                                                          \
    __asm__(".text\n.globl _start\n.type _start,@function\n_start:\n"                     \
            "  xor %ebp, %ebp\n  mov %rsp, %rdi\n  and $-16, %rsp\n  call start_c\n  ud2\n");
#elif defined(__aarch64__)
#define START_ASM                                                                          \
    __asm__(".text\n.globl _start\n.type _start,%function\n_start:\n"                     \
            "  mov x29, #0\n  mov x30, #0\n  mov x0, sp\n  bl start_c\n  brk #0\n");
#elif defined(__riscv)
#define START_ASM                                                                          \
    __asm__(".text\n.globl _start\n.type _start,@function\n_start:\n"                     \
            "  .option push\n  .option norelax\n  lla gp, __global_pointer$\n  .option pop\n" \
            "  mv a0, sp\n  call start_c\n  unimp\n");
#endif

#endif
