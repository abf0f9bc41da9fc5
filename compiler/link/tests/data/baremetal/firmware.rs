//! A `no_std` Rust staticlib for the bare-metal differential test, built the way wafer's
//! runtime is for boards (panic=abort, fat LTO, one codegen unit, a `-none` target): its
//! boot code and formatting pull `core::fmt` and `compiler_builtins` members from the
//! archive. It reads the layout's symbols as `extern "C"` statics, as the runtime does.

#![no_std]

use core::fmt::Write;
use core::hint::black_box;

// Boot: enable FP/SIMD (Rust's code for aarch64-unknown-none uses SIMD registers), copy
// .data, clear .bss, set the stack, call `rust_main`.
#[cfg(target_arch = "aarch64")]
core::arch::global_asm!(
    ".section .text.boot, \"ax\"",
    ".globl _start",
    "_start:",
    "mov x0, #(3 << 20)",
    "msr cpacr_el1, x0",
    "isb",
    "adrp x0, __wafer_data_load",
    "add x0, x0, :lo12:__wafer_data_load",
    "adrp x1, __wafer_data_start",
    "add x1, x1, :lo12:__wafer_data_start",
    "adrp x2, __wafer_data_end",
    "add x2, x2, :lo12:__wafer_data_end",
    "1: cmp x1, x2",
    "b.hs 2f",
    "ldp x3, x4, [x0], #16",
    "stp x3, x4, [x1], #16",
    "b 1b",
    "2: adrp x1, __wafer_bss_start",
    "add x1, x1, :lo12:__wafer_bss_start",
    "adrp x2, __wafer_bss_end",
    "add x2, x2, :lo12:__wafer_bss_end",
    "3: cmp x1, x2",
    "b.hs 4f",
    "stp xzr, xzr, [x1], #16",
    "b 3b",
    "4: adrp x0, __wafer_stack_top",
    "add x0, x0, :lo12:__wafer_stack_top",
    "mov sp, x0",
    "bl {main}",
    "5: b 5b",
    main = sym rust_main,
);

// Boot: set gp, enable the FPU (mstatus.FS), copy .data, clear .bss, set the stack,
// call `rust_main`.
#[cfg(target_arch = "riscv64")]
core::arch::global_asm!(
    ".section .text.boot, \"ax\"",
    ".globl _start",
    "_start:",
    ".option push",
    ".option norelax",
    "lla gp, __global_pointer$",
    ".option pop",
    "li t0, 1 << 13",
    "csrs mstatus, t0",
    "lla a0, __wafer_data_load",
    "lla a1, __wafer_data_start",
    "lla a2, __wafer_data_end",
    "1: bgeu a1, a2, 2f",
    "ld a3, 0(a0)",
    "ld a4, 8(a0)",
    "sd a3, 0(a1)",
    "sd a4, 8(a1)",
    "addi a0, a0, 16",
    "addi a1, a1, 16",
    "j 1b",
    "2: lla a1, __wafer_bss_start",
    "lla a2, __wafer_bss_end",
    "3: bgeu a1, a2, 4f",
    "sd zero, 0(a1)",
    "sd zero, 8(a1)",
    "addi a1, a1, 16",
    "j 3b",
    "4: lla sp, __wafer_stack_top",
    "call {main}",
    "5: j 5b",
    main = sym rust_main,
);

unsafe extern "C" {
    static __wafer_image_start: u8;
    static __wafer_data_load: u8;
    static __wafer_data_start: u8;
    static __wafer_data_end: u8;
    static __wafer_bss_start: u8;
    static __wafer_bss_end: u8;
    static __wafer_stack_bottom: u8;
    static __wafer_stack_top: u8;
    static __wafer_heap_start: u8;
    static __wafer_heap_end: u8;
    static __wafer_free_start: u8;
    static __wafer_ram_end: u8;
}

#[cfg(target_arch = "aarch64")]
const UART: *mut u8 = 0x0900_0000 as *mut u8;
#[cfg(target_arch = "riscv64")]
const UART: *mut u8 = 0x1000_0000 as *mut u8;

struct Console;

impl Write for Console {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for byte in s.bytes() {
            // SAFETY: the board's UART data register (QEMU needs no set-up).
            unsafe { UART.write_volatile(byte) };
        }
        Ok(())
    }
}

fn exit(code: u32) -> ! {
    #[cfg(target_arch = "aarch64")]
    {
        let block = [0x20026u64, u64::from(code)];
        // SAFETY: semihosting SYS_EXIT with a parameter block on the stack; QEMU ends.
        unsafe {
            core::arch::asm!("hlt #0xf000", in("w0") 0x18, in("x1") block.as_ptr(), options(nostack))
        };
    }
    #[cfg(target_arch = "riscv64")]
    {
        let value = if code == 0 { 0x5555 } else { (code << 16) | 0x3333 };
        // SAFETY: the test device of qemu's riscv64 `virt`; QEMU ends.
        unsafe { (0x10_0000 as *mut u32).write_volatile(value) };
    }
    loop {}
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    exit(101)
}

static GREETING: &str = "hello from rust on bare metal";
static mut COUNTER: u32 = 3;
static mut ZEROED: [u64; 40] = [0; 40];

extern "C" fn rust_main() -> ! {
    let mut out = Console;
    let _ = writeln!(out, "{GREETING}");
    macro_rules! show {
        ($($name:ident),*) => {$(
            let _ = writeln!(out, "{} = {:#x}", stringify!($name), &raw const $name as usize);
        )*};
    }
    show!(
        __wafer_image_start,
        __wafer_data_load,
        __wafer_data_start,
        __wafer_data_end,
        __wafer_bss_start,
        __wafer_bss_end,
        __wafer_stack_bottom,
        __wafer_stack_top,
        __wafer_heap_start,
        __wafer_heap_end,
        __wafer_free_start,
        __wafer_ram_end
    );
    let big: u128 = black_box(12_345_678_901_234_567_890_123_456_789);
    let divisor: u128 = black_box(1_000_000_007);
    let _ = writeln!(out, "{} {}", big / divisor, big % divisor);
    // SAFETY: single-threaded; nothing else refers to these statics. The pointer goes
    // through `black_box` so that ZEROED stays in .bss rather than folding away.
    let (counter, zeroed) = unsafe {
        COUNTER += black_box(4);
        let zeroed = &*black_box(&raw const ZEROED);
        (COUNTER, zeroed.iter().all(|&w| w == 0))
    };
    let here = 0u8;
    let stack = (&raw const __wafer_stack_bottom as usize)..(&raw const __wafer_stack_top as usize);
    let on_stack = stack.contains(&(&raw const here as usize));
    let _ = writeln!(out, "counter={counter} zeroed={zeroed} on_stack={on_stack}");
    exit(if counter == 7 && zeroed && on_stack { 0 } else { 1 })
}
