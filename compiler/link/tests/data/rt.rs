//! A `no_std` Rust staticlib built like wafer's runtime (panic=abort, fat LTO, one
//! codegen unit, static relocation model), for the linker's end-to-end tests. It has its
//! own `_start`, formats with `core::fmt`, and divides `u128`s so `compiler_builtins`
//! members are pulled from the archive.

#![no_std]

use core::fmt::Write;
use core::hint::black_box;

#[cfg(target_arch = "x86_64")]
core::arch::global_asm!(
    ".globl _start",
    "_start:",
    "xor ebp, ebp",
    "mov rdi, rsp",
    "and rsp, -16",
    "call {entry}",
    "ud2",
    entry = sym rust_start,
);

#[cfg(target_arch = "aarch64")]
core::arch::global_asm!(
    ".globl _start",
    "_start:",
    "mov x29, #0",
    "mov x30, #0",
    "mov x0, sp",
    "bl {entry}",
    "brk #0",
    entry = sym rust_start,
);

#[cfg(target_arch = "riscv64")]
core::arch::global_asm!(
    ".globl _start",
    "_start:",
    ".option push",
    ".option norelax",
    "lla gp, __global_pointer$",
    ".option pop",
    "mv a0, sp",
    "call {entry}",
    "unimp",
    entry = sym rust_start,
);

fn syscall3(n: usize, a: usize, b: usize, c: usize) -> isize {
    let ret: isize;
    // SAFETY: a Linux system call with register arguments; the kernel reads at most
    // `c` bytes from `b` for write, which the callers pass from live slices.
    unsafe {
        #[cfg(target_arch = "x86_64")]
        core::arch::asm!("syscall", inlateout("rax") n as isize => ret, in("rdi") a, in("rsi") b,
            in("rdx") c, lateout("rcx") _, lateout("r11") _, options(nostack));
        #[cfg(target_arch = "aarch64")]
        core::arch::asm!("svc #0", in("x8") n, inlateout("x0") a as isize => ret, in("x1") b,
            in("x2") c, options(nostack));
        #[cfg(target_arch = "riscv64")]
        core::arch::asm!("ecall", in("a7") n, inlateout("a0") a as isize => ret, in("a1") b,
            in("a2") c, options(nostack));
    }
    ret
}

#[cfg(target_arch = "x86_64")]
const SYS_WRITE: usize = 1;
#[cfg(target_arch = "x86_64")]
const SYS_EXIT: usize = 60;
#[cfg(not(target_arch = "x86_64"))]
const SYS_WRITE: usize = 64;
#[cfg(not(target_arch = "x86_64"))]
const SYS_EXIT: usize = 93;

fn exit(code: i32) -> ! {
    syscall3(SYS_EXIT, code as usize, 0, 0);
    loop {}
}

struct Stdout;

impl Write for Stdout {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        syscall3(SYS_WRITE, 1, s.as_ptr() as usize, s.len());
        Ok(())
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    exit(101)
}

static GREETING: &str = "hello from rust";
static mut COUNTER: u32 = 0;

extern "C" fn rust_start(_sp: *const usize) -> ! {
    let mut out = Stdout;
    let big: u128 = black_box(12_345_678_901_234_567_890_123_456_789);
    let divisor: u128 = black_box(1_000_000_007);
    let _ = writeln!(out, "{GREETING}");
    let _ = writeln!(out, "{} {}", big / divisor, big % divisor);
    let words = ["alpha", "beta", "gamma"];
    for (i, word) in words.iter().enumerate() {
        // SAFETY: single-threaded program.
        unsafe { COUNTER += black_box(i as u32 + 1) };
        let _ = write!(out, "{word}:{} ", word.len());
    }
    // SAFETY: single-threaded program.
    let counter = unsafe { COUNTER };
    let _ = writeln!(out, "counter={counter}");
    exit(black_box(7))
}

// compiler_builtins does not provide these on Linux targets; byte loops through volatile
// accesses so they are not turned back into calls to themselves.

#[unsafe(no_mangle)]
unsafe extern "C" fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    for i in 0..n {
        // SAFETY: the caller passes valid, non-overlapping ranges of `n` bytes.
        unsafe { dst.add(i).write_volatile(src.add(i).read_volatile()) };
    }
    dst
}

#[unsafe(no_mangle)]
unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    if (dst as usize) < (src as usize) {
        for i in 0..n {
            // SAFETY: the caller passes valid ranges of `n` bytes.
            unsafe { dst.add(i).write_volatile(src.add(i).read_volatile()) };
        }
    } else {
        for i in (0..n).rev() {
            // SAFETY: as above.
            unsafe { dst.add(i).write_volatile(src.add(i).read_volatile()) };
        }
    }
    dst
}

#[unsafe(no_mangle)]
unsafe extern "C" fn memset(dst: *mut u8, c: i32, n: usize) -> *mut u8 {
    for i in 0..n {
        // SAFETY: the caller passes a valid range of `n` bytes.
        unsafe { dst.add(i).write_volatile(c as u8) };
    }
    dst
}

#[unsafe(no_mangle)]
unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    for i in 0..n {
        // SAFETY: the caller passes valid ranges of `n` bytes.
        let (x, y) = unsafe { (a.add(i).read_volatile(), b.add(i).read_volatile()) };
        if x != y {
            return i32::from(x) - i32::from(y);
        }
    }
    0
}

#[unsafe(no_mangle)]
unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: same contract as memcmp.
    unsafe { memcmp(a, b, n) }
}
