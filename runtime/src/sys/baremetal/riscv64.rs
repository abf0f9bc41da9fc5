//! RV64 in machine mode without an OS: boot, the trap vector, semihosting.
//!
//! Boot (`_start`): every hart starts at the image origin with its id in `a0`; all but
//! the board's boot hart park (sifive_u's hart 0 is an E51 without an FPU, so that board
//! boots on hart 1). The boot hart sets `gp` and the stack, turns the FPU on, installs
//! the trap vector, clears `.bss`, copies `.data` if it was loaded elsewhere, and runs
//! Rust. Machine mode has no MMU; QEMU performs misaligned accesses in hardware.

use core::arch::{asm, global_asm};

use super::{Board, ThisBoard};

global_asm!(
    // A harness image enters here instead: the same boot, then the harness. Its own
    // section, so ordinary images (whose linker keeps what `_start` reaches) leave the
    // harness out.
    ".pushsection .text.wafer_harness_start,\"ax\",@progbits",
    ".globl wafer_harness_start",
    ".type wafer_harness_start,@function",
    "wafer_harness_start:",
    "lla s1, {harness}",
    "j wafer_rt_boot",
    ".popsection",
    ".pushsection .text._start,\"ax\",@progbits",
    ".globl _start",
    ".type _start,@function",
    "_start:",
    // s1 (kept through the boot; a0 is the hart id) holds what Rust runs once booted.
    "lla s1, {guest}",
    "wafer_rt_boot:",
    ".option push",
    ".option norelax",
    "lla gp, __global_pointer$",
    ".option pop",
    "li t0, {boot_hart}",
    "bne a0, t0, 9f",
    "lla sp, __wafer_stack_top",
    // FS = initial: compiled code and Rust use the FPU. VS = initial too: code built
    // with `--target-cpu rv64gcv` uses the vector unit (on a core without one the
    // field is read-only zero, so this is harmless).
    "li t0, 0x2200",
    "csrs mstatus, t0",
    "lla t0, wafer_rt_trap_vector",
    "csrw mtvec, t0",
    // Clear .bss.
    "lla t0, __wafer_bss_start",
    "lla t1, __wafer_bss_end",
    "1:",
    "bgeu t0, t1, 2f",
    "sb zero, 0(t0)",
    "addi t0, t0, 1",
    "j 1b",
    "2:",
    // Copy .data from where it was loaded, if that is elsewhere.
    "lla t0, __wafer_data_start",
    "lla t1, __wafer_data_end",
    "lla t2, __wafer_data_load",
    "beq t0, t2, 4f",
    "3:",
    "bgeu t0, t1, 4f",
    "lb t3, 0(t2)",
    "sb t3, 0(t0)",
    "addi t0, t0, 1",
    "addi t2, t2, 1",
    "j 3b",
    "4:",
    "li ra, 0",
    "li s0, 0",
    "mv a0, s1",
    "call {boot}",
    "9:",
    "wfi",
    "j 9b",
    ".popsection",
    boot_hart = const <ThisBoard as Board>::BOOT_HART,
    boot = sym super::boot,
    guest = sym crate::entry::run_guest,
    harness = sym crate::harness::run,
);

// The trap vector (direct mode): saves every register and the trap CSRs, calls
// `on_trap` with the frame, restores (the frame may have been changed to resume
// elsewhere) and returns.
global_asm!(
    ".pushsection .text.wafer_rt_trap_vector,\"ax\",@progbits",
    ".balign 4",
    ".globl wafer_rt_trap_vector",
    "wafer_rt_trap_vector:",
    "addi sp, sp, -{frame}",
    "sd x1, 8(sp)",
    "sd x3, 24(sp)",
    "sd x4, 32(sp)",
    "sd x5, 40(sp)",
    "sd x6, 48(sp)",
    "sd x7, 56(sp)",
    "sd x8, 64(sp)",
    "sd x9, 72(sp)",
    "sd x10, 80(sp)",
    "sd x11, 88(sp)",
    "sd x12, 96(sp)",
    "sd x13, 104(sp)",
    "sd x14, 112(sp)",
    "sd x15, 120(sp)",
    "sd x16, 128(sp)",
    "sd x17, 136(sp)",
    "sd x18, 144(sp)",
    "sd x19, 152(sp)",
    "sd x20, 160(sp)",
    "sd x21, 168(sp)",
    "sd x22, 176(sp)",
    "sd x23, 184(sp)",
    "sd x24, 192(sp)",
    "sd x25, 200(sp)",
    "sd x26, 208(sp)",
    "sd x27, 216(sp)",
    "sd x28, 224(sp)",
    "sd x29, 232(sp)",
    "sd x30, 240(sp)",
    "sd x31, 248(sp)",
    "addi t0, sp, {frame}",
    "sd t0, 16(sp)",
    "csrr t0, mepc",
    "sd t0, 256(sp)",
    "csrr t0, mcause",
    "sd t0, 264(sp)",
    "csrr t0, mtval",
    "sd t0, 272(sp)",
    "mv a0, sp",
    "call {handler}",
    "ld t0, 256(sp)",
    "csrw mepc, t0",
    "ld x1, 8(sp)",
    "ld x3, 24(sp)",
    "ld x4, 32(sp)",
    "ld x5, 40(sp)",
    "ld x6, 48(sp)",
    "ld x7, 56(sp)",
    "ld x8, 64(sp)",
    "ld x9, 72(sp)",
    "ld x10, 80(sp)",
    "ld x11, 88(sp)",
    "ld x12, 96(sp)",
    "ld x13, 104(sp)",
    "ld x14, 112(sp)",
    "ld x15, 120(sp)",
    "ld x16, 128(sp)",
    "ld x17, 136(sp)",
    "ld x18, 144(sp)",
    "ld x19, 152(sp)",
    "ld x20, 160(sp)",
    "ld x21, 168(sp)",
    "ld x22, 176(sp)",
    "ld x23, 184(sp)",
    "ld x24, 192(sp)",
    "ld x25, 200(sp)",
    "ld x26, 208(sp)",
    "ld x27, 216(sp)",
    "ld x28, 224(sp)",
    "ld x29, 232(sp)",
    "ld x30, 240(sp)",
    "ld x31, 248(sp)",
    "addi sp, sp, {frame}",
    "mret",
    ".popsection",
    frame = const FRAME_BYTES,
    handler = sym on_trap,
);

/// Bytes of the frame the trap vector saves: x0–x31, mepc, mcause, mtval, padded to 16.
const FRAME_BYTES: usize = 288;

/// The registers saved by the trap vector.
#[repr(C)]
#[derive(Debug)]
pub struct TrapFrame {
    /// x0–x31 (x0 unused, x2 the interrupted stack pointer).
    pub x: [usize; 32],
    /// Where the trap returns to.
    pub mepc: usize,
    /// Why it happened.
    pub mcause: usize,
    /// The faulting address or instruction.
    pub mtval: usize,
}

/// `mcause` values of trap instructions.
const ILLEGAL_INSTRUCTION: usize = 2;
const BREAKPOINT: usize = 3;

extern "C" fn on_trap(frame: &mut TrapFrame) {
    let fault = crate::trap::Fault {
        pc: frame.mepc,
        stack_overflow: false,
        fp: frame.x[8],
        signal: frame.mcause as i32,
    };
    let is_trap_instruction = matches!(frame.mcause, ILLEGAL_INSTRUCTION | BREAKPOINT);
    if is_trap_instruction
        && let Some(kind) = crate::trap::kind_of(&fault)
        && let Some(saved) = crate::sys::catch::take()
    {
        // Resume in `wafer_rt_catch_landing(kind, buffer)`, which restores the catching
        // frame's registers and stack.
        frame.x[10] = kind as usize;
        frame.x[11] = saved as usize;
        frame.mepc = crate::sys::isa::wafer_rt_catch_landing as *const () as usize;
        return;
    }
    super::report_fault(fault, frame.mcause, frame.mtval)
}

/// Ends the program under a debugger or QEMU (`-semihosting`) with `code`.
pub fn semihosting_exit(code: i32) {
    // ADP_Stopped_ApplicationExit and the code.
    let block: [u64; 2] = [0x20026, code as u64];
    // SAFETY: SYS_EXIT (0x18) reads the two words `a1` points to. The sequence must be
    // uncompressed and within one page (hence the alignment) for the host to recognise
    // it; without semihosting the `ebreak` lands in our trap vector.
    unsafe {
        asm!(
            ".option push",
            ".option norvc",
            ".balign 16",
            "slli x0, x0, 0x1f",
            "ebreak",
            "srai x0, x0, 7",
            ".option pop",
            in("a0") 0x18usize,
            in("a1") block.as_ptr(),
        )
    };
}

/// Stops this hart for good.
pub fn park() -> ! {
    loop {
        // SAFETY: clears MIE and waits; nothing else is touched.
        unsafe { asm!("csrci mstatus, 8", "wfi") };
    }
}
