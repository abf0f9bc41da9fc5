//! What differs between instruction sets, on every platform: catching traps by resuming
//! at a saved frame, throwing to and resuming at exception handlers, and switching to
//! the guest stack. Each entry is in its own section, so unused ones are collected.

#[cfg(target_arch = "x86_64")]
mod imp {
    // wafer_rt_catch(f, arg, buf): saves the callee-saved registers, the stack pointer
    // after return and the return address in `buf`, then calls f(arg) and returns 0.
    // A trap resumes at the saved return address with the saved registers and the trap
    // code in rax (see `resume`), as if wafer_rt_catch had returned it.
    core::arch::global_asm!(
        ".pushsection .text.wafer_rt_catch,\"ax\",@progbits",
        ".globl wafer_rt_catch",
        ".type wafer_rt_catch,@function",
        "wafer_rt_catch:",
        "mov [rdx], rbx",
        "mov [rdx + 8], rbp",
        "mov [rdx + 16], r12",
        "mov [rdx + 24], r13",
        "mov [rdx + 32], r14",
        "mov [rdx + 40], r15",
        "lea rax, [rsp + 8]",
        "mov [rdx + 48], rax",
        "mov rax, [rsp]",
        "mov [rdx + 56], rax",
        "push rbp",
        "mov rax, rdi",
        "mov rdi, rsi",
        "call rax",
        "pop rbp",
        "xor eax, eax",
        "ret",
        ".popsection",
    );

    // wafer_rt_catch_landing(code, buf): returns `code` from the wafer_rt_catch frame
    // whose registers `buf` holds.
    core::arch::global_asm!(
        ".pushsection .text.wafer_rt_catch_landing,\"ax\",@progbits",
        ".globl wafer_rt_catch_landing",
        ".type wafer_rt_catch_landing,@function",
        "wafer_rt_catch_landing:",
        "mov rbx, [rsi]",
        "mov rbp, [rsi + 8]",
        "mov r12, [rsi + 16]",
        "mov r13, [rsi + 24]",
        "mov r14, [rsi + 32]",
        "mov r15, [rsi + 40]",
        "mov rsp, [rsi + 48]",
        "mov rax, rdi",
        "jmp qword ptr [rsi + 56]",
        ".popsection",
    );

    // wafer_rt_throw(exception): called from compiled code, which keeps frame pointers;
    // hands the unwinder the caller's frame pointer and return address.
    core::arch::global_asm!(
        ".pushsection .text.wafer_rt_throw,\"ax\",@progbits",
        ".globl wafer_rt_throw",
        ".type wafer_rt_throw,@function",
        "wafer_rt_throw:",
        "mov rsi, rbp",
        "mov rdx, [rsp]",
        "sub rsp, 8",
        "call {unwind}",
        "ud2",
        ".popsection",
        unwind = sym crate::exceptions::unwind,
    );

    // wafer_rt_resume(pc, sp, fp, exception): continues at an exception handler.
    core::arch::global_asm!(
        ".pushsection .text.wafer_rt_resume,\"ax\",@progbits",
        ".globl wafer_rt_resume",
        ".type wafer_rt_resume,@function",
        "wafer_rt_resume:",
        "mov rsp, rsi",
        "mov rbp, rdx",
        "mov rax, rcx",
        "jmp rdi",
        ".popsection",
    );

    /// Registers saved by `wafer_rt_catch`, in its buffer order.
    pub const CATCH_BUFFER_WORDS: usize = 8;

    core::arch::global_asm!(
        ".pushsection .text.wafer_rt_call_on_stack,\"ax\",@progbits",
        ".globl wafer_rt_call_on_stack",
        ".type wafer_rt_call_on_stack,@function",
        "wafer_rt_call_on_stack:",
        "push rbp",
        "mov rbp, rsp",
        "mov rsp, rdi",
        "call rsi",
        "mov rsp, rbp",
        "pop rbp",
        "ret",
        ".popsection",
    );

    // wafer_rt_fiber_switch(save, to): pushes the callee-saved registers, stores the
    // stack pointer in `*save`, then pops the registers saved at `to` and returns on
    // that stack. A new fiber's stack (see `FIBER_FRAME_WORDS`) returns into
    // wafer_rt_fiber_start with its entry in r12 and argument in rbx.
    core::arch::global_asm!(
        ".pushsection .text.wafer_rt_fiber_switch,\"ax\",@progbits",
        ".globl wafer_rt_fiber_switch",
        ".type wafer_rt_fiber_switch,@function",
        "wafer_rt_fiber_switch:",
        "push rbp",
        "push rbx",
        "push r12",
        "push r13",
        "push r14",
        "push r15",
        "mov [rdi], rsp",
        "mov rsp, rsi",
        "pop r15",
        "pop r14",
        "pop r13",
        "pop r12",
        "pop rbx",
        "pop rbp",
        "ret",
        ".globl wafer_rt_fiber_start",
        ".type wafer_rt_fiber_start,@function",
        "wafer_rt_fiber_start:",
        "mov rdi, rbx",
        "call r12",
        "ud2",
        ".popsection",
    );

    /// A new fiber's first frame, in words from its stack pointer: r15, r14, r13, r12
    /// (entry), rbx (argument), rbp (zero: the end of the frame chain), the return
    /// address (`wafer_rt_fiber_start`) and one unused word.
    pub const FIBER_FRAME_WORDS: usize = 8;
    /// The first frame's address modulo 16: the entry is called with the stack 16-byte
    /// aligned before the call pushes its return address.
    pub const FIBER_FRAME_BIAS: usize = 8;
    /// Where the entry, its argument and the return address go in that frame.
    pub const FIBER_FRAME_SLOTS: super::FiberFrameSlots = super::FiberFrameSlots {
        entry: 3,
        argument: 4,
        start: 6,
    };
}

#[cfg(target_arch = "aarch64")]
mod imp {
    // wafer_rt_catch(f, arg, buf): saves x19-x30, sp and d8-d15 in `buf`, calls f(arg)
    // and returns 0. A trap resumes in wafer_rt_catch_landing (see `resume`), which
    // restores them and returns the trap code from wafer_rt_catch's frame.
    core::arch::global_asm!(
        ".pushsection .text.wafer_rt_catch,\"ax\",%progbits",
        ".globl wafer_rt_catch",
        ".type wafer_rt_catch,%function",
        "wafer_rt_catch:",
        "stp x19, x20, [x2, #0]",
        "stp x21, x22, [x2, #16]",
        "stp x23, x24, [x2, #32]",
        "stp x25, x26, [x2, #48]",
        "stp x27, x28, [x2, #64]",
        "stp x29, x30, [x2, #80]",
        "mov x9, sp",
        "str x9, [x2, #96]",
        "stp d8, d9, [x2, #104]",
        "stp d10, d11, [x2, #120]",
        "stp d12, d13, [x2, #136]",
        "stp d14, d15, [x2, #152]",
        "stp x29, x30, [sp, #-16]!",
        "mov x29, sp",
        "mov x9, x0",
        "mov x0, x1",
        "blr x9",
        "ldp x29, x30, [sp], #16",
        "mov x0, #0",
        "ret",
        ".globl wafer_rt_catch_landing",
        ".type wafer_rt_catch_landing,%function",
        "wafer_rt_catch_landing:",
        "ldp x19, x20, [x1, #0]",
        "ldp x21, x22, [x1, #16]",
        "ldp x23, x24, [x1, #32]",
        "ldp x25, x26, [x1, #48]",
        "ldp x27, x28, [x1, #64]",
        "ldp x29, x30, [x1, #80]",
        "ldr x9, [x1, #96]",
        "mov sp, x9",
        "ldp d8, d9, [x1, #104]",
        "ldp d10, d11, [x1, #120]",
        "ldp d12, d13, [x1, #136]",
        "ldp d14, d15, [x1, #152]",
        "ret",
        ".popsection",
    );

    core::arch::global_asm!(
        ".pushsection .text.wafer_rt_throw,\"ax\",%progbits",
        ".globl wafer_rt_throw",
        ".type wafer_rt_throw,%function",
        "wafer_rt_throw:",
        "mov x1, x29",
        "mov x2, x30",
        "bl {unwind}",
        "udf #0",
        ".popsection",
        unwind = sym crate::exceptions::unwind,
    );

    core::arch::global_asm!(
        ".pushsection .text.wafer_rt_resume,\"ax\",%progbits",
        ".globl wafer_rt_resume",
        ".type wafer_rt_resume,%function",
        "wafer_rt_resume:",
        "mov sp, x1",
        "mov x29, x2",
        "mov x9, x0",
        "mov x0, x3",
        "br x9",
        ".popsection",
    );

    /// Words of the buffer `wafer_rt_catch` saves registers in.
    pub const CATCH_BUFFER_WORDS: usize = 21;

    core::arch::global_asm!(
        ".pushsection .text.wafer_rt_call_on_stack,\"ax\",%progbits",
        ".globl wafer_rt_call_on_stack",
        ".type wafer_rt_call_on_stack,%function",
        "wafer_rt_call_on_stack:",
        "stp x29, x30, [sp, #-16]!",
        "mov x29, sp",
        "mov sp, x0",
        "blr x1",
        "mov sp, x29",
        "ldp x29, x30, [sp], #16",
        "ret",
        ".popsection",
    );

    // wafer_rt_fiber_switch(save, to): saves x19-x30 and d8-d15 on the stack, stores
    // the stack pointer in `*save`, then restores them from `to` and returns there. A
    // new fiber's frame returns into wafer_rt_fiber_start with its entry in x20 and
    // argument in x19.
    core::arch::global_asm!(
        ".pushsection .text.wafer_rt_fiber_switch,\"ax\",%progbits",
        ".globl wafer_rt_fiber_switch",
        ".type wafer_rt_fiber_switch,%function",
        "wafer_rt_fiber_switch:",
        "sub sp, sp, #160",
        "stp x19, x20, [sp, #0]",
        "stp x21, x22, [sp, #16]",
        "stp x23, x24, [sp, #32]",
        "stp x25, x26, [sp, #48]",
        "stp x27, x28, [sp, #64]",
        "stp x29, x30, [sp, #80]",
        "stp d8, d9, [sp, #96]",
        "stp d10, d11, [sp, #112]",
        "stp d12, d13, [sp, #128]",
        "stp d14, d15, [sp, #144]",
        "mov x9, sp",
        "str x9, [x0]",
        "mov sp, x1",
        "ldp x19, x20, [sp, #0]",
        "ldp x21, x22, [sp, #16]",
        "ldp x23, x24, [sp, #32]",
        "ldp x25, x26, [sp, #48]",
        "ldp x27, x28, [sp, #64]",
        "ldp x29, x30, [sp, #80]",
        "ldp d8, d9, [sp, #96]",
        "ldp d10, d11, [sp, #112]",
        "ldp d12, d13, [sp, #128]",
        "ldp d14, d15, [sp, #144]",
        "add sp, sp, #160",
        "ret",
        ".globl wafer_rt_fiber_start",
        ".type wafer_rt_fiber_start,%function",
        "wafer_rt_fiber_start:",
        "mov x0, x19",
        "blr x20",
        "brk #1",
        ".popsection",
    );

    /// A new fiber's first frame, in words from its stack pointer: x19 (argument), x20
    /// (entry), x21-x28, x29 (zero: the end of the frame chain), x30 (the return
    /// address, `wafer_rt_fiber_start`) and d8-d15.
    pub const FIBER_FRAME_WORDS: usize = 20;
    /// The first frame's address modulo 16 (the stack pointer stays 16-byte aligned).
    pub const FIBER_FRAME_BIAS: usize = 0;
    /// Where the entry, its argument and the return address go in that frame.
    pub const FIBER_FRAME_SLOTS: super::FiberFrameSlots = super::FiberFrameSlots {
        entry: 1,
        argument: 0,
        start: 11,
    };
}

#[cfg(target_arch = "riscv64")]
mod imp {
    // wafer_rt_catch(f, arg, buf): saves ra, sp, s0-s11 and fs0-fs11 in `buf`, calls
    // f(arg) and returns 0. A trap resumes in wafer_rt_catch_landing (see `resume`).
    core::arch::global_asm!(
        ".pushsection .text.wafer_rt_catch,\"ax\",@progbits",
        // Module-level assembly does not get the target's features on every target
        // (riscv64gc-unknown-none-elf): say that the FP registers exist.
        ".option push",
        ".option arch, +d",
        ".globl wafer_rt_catch",
        ".type wafer_rt_catch,@function",
        "wafer_rt_catch:",
        "sd ra, 0(a2)",
        "sd sp, 8(a2)",
        "sd s0, 16(a2)",
        "sd s1, 24(a2)",
        "sd s2, 32(a2)",
        "sd s3, 40(a2)",
        "sd s4, 48(a2)",
        "sd s5, 56(a2)",
        "sd s6, 64(a2)",
        "sd s7, 72(a2)",
        "sd s8, 80(a2)",
        "sd s9, 88(a2)",
        "sd s10, 96(a2)",
        "sd s11, 104(a2)",
        "fsd fs0, 112(a2)",
        "fsd fs1, 120(a2)",
        "fsd fs2, 128(a2)",
        "fsd fs3, 136(a2)",
        "fsd fs4, 144(a2)",
        "fsd fs5, 152(a2)",
        "fsd fs6, 160(a2)",
        "fsd fs7, 168(a2)",
        "fsd fs8, 176(a2)",
        "fsd fs9, 184(a2)",
        "fsd fs10, 192(a2)",
        "fsd fs11, 200(a2)",
        "addi sp, sp, -16",
        "sd ra, 8(sp)",
        "mv t0, a0",
        "mv a0, a1",
        "jalr t0",
        "ld ra, 8(sp)",
        "addi sp, sp, 16",
        "li a0, 0",
        "ret",
        ".globl wafer_rt_catch_landing",
        ".type wafer_rt_catch_landing,@function",
        "wafer_rt_catch_landing:",
        "ld ra, 0(a1)",
        "ld sp, 8(a1)",
        "ld s0, 16(a1)",
        "ld s1, 24(a1)",
        "ld s2, 32(a1)",
        "ld s3, 40(a1)",
        "ld s4, 48(a1)",
        "ld s5, 56(a1)",
        "ld s6, 64(a1)",
        "ld s7, 72(a1)",
        "ld s8, 80(a1)",
        "ld s9, 88(a1)",
        "ld s10, 96(a1)",
        "ld s11, 104(a1)",
        "fld fs0, 112(a1)",
        "fld fs1, 120(a1)",
        "fld fs2, 128(a1)",
        "fld fs3, 136(a1)",
        "fld fs4, 144(a1)",
        "fld fs5, 152(a1)",
        "fld fs6, 160(a1)",
        "fld fs7, 168(a1)",
        "fld fs8, 176(a1)",
        "fld fs9, 184(a1)",
        "fld fs10, 192(a1)",
        "fld fs11, 200(a1)",
        "ret",
        ".option pop",
        ".popsection",
    );

    core::arch::global_asm!(
        ".pushsection .text.wafer_rt_throw,\"ax\",@progbits",
        ".globl wafer_rt_throw",
        ".type wafer_rt_throw,@function",
        "wafer_rt_throw:",
        "mv a1, s0",
        "mv a2, ra",
        "call {unwind}",
        "unimp",
        ".popsection",
        unwind = sym crate::exceptions::unwind,
    );

    core::arch::global_asm!(
        ".pushsection .text.wafer_rt_resume,\"ax\",@progbits",
        ".globl wafer_rt_resume",
        ".type wafer_rt_resume,@function",
        "wafer_rt_resume:",
        "mv sp, a1",
        "mv s0, a2",
        "mv t0, a0",
        "mv a0, a3",
        "jr t0",
        ".popsection",
    );

    /// Words of the buffer `wafer_rt_catch` saves registers in.
    pub const CATCH_BUFFER_WORDS: usize = 26;

    // wafer_rt_meter_slow_path(): the metering checks' slow path, in Cranelift's
    // `preserve_all` convention: it calls wafer_rt_meter_exhausted (which leaves its
    // answer in the meter) and keeps every register. Cranelift writes this shim itself on
    // the other architectures, but on riscv64 it would save the vector registers too,
    // with instructions an rv64gc CPU does not have; the runtime, built for rv64gc,
    // never touches them, so saving the integer and FP registers the call may clobber is
    // enough. The frame is a standard one (ra and the caller's s0 at its top, s0 the
    // frame pointer), so frame walks pass through it.
    core::arch::global_asm!(
        ".pushsection .text.wafer_rt_meter_slow_path,\"ax\",@progbits",
        ".option push",
        ".option arch, +d",
        ".globl wafer_rt_meter_slow_path",
        ".type wafer_rt_meter_slow_path,@function",
        "wafer_rt_meter_slow_path:",
        "addi sp, sp, -304",
        "sd ra, 296(sp)",
        "sd s0, 288(sp)",
        "addi s0, sp, 304",
        "sd t0, 0(sp)",
        "sd t1, 8(sp)",
        "sd t2, 16(sp)",
        "sd a0, 24(sp)",
        "sd a1, 32(sp)",
        "sd a2, 40(sp)",
        "sd a3, 48(sp)",
        "sd a4, 56(sp)",
        "sd a5, 64(sp)",
        "sd a6, 72(sp)",
        "sd a7, 80(sp)",
        "sd t3, 88(sp)",
        "sd t4, 96(sp)",
        "sd t5, 104(sp)",
        "sd t6, 112(sp)",
        "fsd ft0, 120(sp)",
        "fsd ft1, 128(sp)",
        "fsd ft2, 136(sp)",
        "fsd ft3, 144(sp)",
        "fsd ft4, 152(sp)",
        "fsd ft5, 160(sp)",
        "fsd ft6, 168(sp)",
        "fsd ft7, 176(sp)",
        "fsd ft8, 184(sp)",
        "fsd ft9, 192(sp)",
        "fsd ft10, 200(sp)",
        "fsd ft11, 208(sp)",
        "fsd fa0, 216(sp)",
        "fsd fa1, 224(sp)",
        "fsd fa2, 232(sp)",
        "fsd fa3, 240(sp)",
        "fsd fa4, 248(sp)",
        "fsd fa5, 256(sp)",
        "fsd fa6, 264(sp)",
        "fsd fa7, 272(sp)",
        "call {exhausted}",
        "ld t0, 0(sp)",
        "ld t1, 8(sp)",
        "ld t2, 16(sp)",
        "ld a0, 24(sp)",
        "ld a1, 32(sp)",
        "ld a2, 40(sp)",
        "ld a3, 48(sp)",
        "ld a4, 56(sp)",
        "ld a5, 64(sp)",
        "ld a6, 72(sp)",
        "ld a7, 80(sp)",
        "ld t3, 88(sp)",
        "ld t4, 96(sp)",
        "ld t5, 104(sp)",
        "ld t6, 112(sp)",
        "fld ft0, 120(sp)",
        "fld ft1, 128(sp)",
        "fld ft2, 136(sp)",
        "fld ft3, 144(sp)",
        "fld ft4, 152(sp)",
        "fld ft5, 160(sp)",
        "fld ft6, 168(sp)",
        "fld ft7, 176(sp)",
        "fld ft8, 184(sp)",
        "fld ft9, 192(sp)",
        "fld ft10, 200(sp)",
        "fld ft11, 208(sp)",
        "fld fa0, 216(sp)",
        "fld fa1, 224(sp)",
        "fld fa2, 232(sp)",
        "fld fa3, 240(sp)",
        "fld fa4, 248(sp)",
        "fld fa5, 256(sp)",
        "fld fa6, 264(sp)",
        "fld fa7, 272(sp)",
        "ld s0, 288(sp)",
        "ld ra, 296(sp)",
        "addi sp, sp, 304",
        "ret",
        ".option pop",
        ".popsection",
        exhausted = sym crate::meter::wafer_rt_meter_exhausted,
    );

    core::arch::global_asm!(
        ".pushsection .text.wafer_rt_call_on_stack,\"ax\",@progbits",
        ".globl wafer_rt_call_on_stack",
        ".type wafer_rt_call_on_stack,@function",
        "wafer_rt_call_on_stack:",
        "addi sp, sp, -16",
        "sd ra, 8(sp)",
        "sd s0, 0(sp)",
        "mv s0, sp",
        "mv sp, a0",
        "jalr a1",
        "mv sp, s0",
        "ld s0, 0(sp)",
        "ld ra, 8(sp)",
        "addi sp, sp, 16",
        "ret",
        ".popsection",
    );

    // wafer_rt_fiber_switch(save, to): saves ra, s0-s11 and fs0-fs11 on the stack,
    // stores the stack pointer in `*save`, then restores them from `to` and returns
    // there. A new fiber's frame returns into wafer_rt_fiber_start with its entry in s2
    // and argument in s1.
    core::arch::global_asm!(
        ".pushsection .text.wafer_rt_fiber_switch,\"ax\",@progbits",
        ".globl wafer_rt_fiber_switch",
        ".type wafer_rt_fiber_switch,@function",
        "wafer_rt_fiber_switch:",
        "addi sp, sp, -208",
        "sd ra, 0(sp)",
        "sd s0, 8(sp)",
        "sd s1, 16(sp)",
        "sd s2, 24(sp)",
        "sd s3, 32(sp)",
        "sd s4, 40(sp)",
        "sd s5, 48(sp)",
        "sd s6, 56(sp)",
        "sd s7, 64(sp)",
        "sd s8, 72(sp)",
        "sd s9, 80(sp)",
        "sd s10, 88(sp)",
        "sd s11, 96(sp)",
        "fsd fs0, 104(sp)",
        "fsd fs1, 112(sp)",
        "fsd fs2, 120(sp)",
        "fsd fs3, 128(sp)",
        "fsd fs4, 136(sp)",
        "fsd fs5, 144(sp)",
        "fsd fs6, 152(sp)",
        "fsd fs7, 160(sp)",
        "fsd fs8, 168(sp)",
        "fsd fs9, 176(sp)",
        "fsd fs10, 184(sp)",
        "fsd fs11, 192(sp)",
        "sd sp, 0(a0)",
        "mv sp, a1",
        "ld ra, 0(sp)",
        "ld s0, 8(sp)",
        "ld s1, 16(sp)",
        "ld s2, 24(sp)",
        "ld s3, 32(sp)",
        "ld s4, 40(sp)",
        "ld s5, 48(sp)",
        "ld s6, 56(sp)",
        "ld s7, 64(sp)",
        "ld s8, 72(sp)",
        "ld s9, 80(sp)",
        "ld s10, 88(sp)",
        "ld s11, 96(sp)",
        "fld fs0, 104(sp)",
        "fld fs1, 112(sp)",
        "fld fs2, 120(sp)",
        "fld fs3, 128(sp)",
        "fld fs4, 136(sp)",
        "fld fs5, 144(sp)",
        "fld fs6, 152(sp)",
        "fld fs7, 160(sp)",
        "fld fs8, 168(sp)",
        "fld fs9, 176(sp)",
        "fld fs10, 184(sp)",
        "fld fs11, 192(sp)",
        "addi sp, sp, 208",
        "ret",
        ".globl wafer_rt_fiber_start",
        ".type wafer_rt_fiber_start,@function",
        "wafer_rt_fiber_start:",
        "mv a0, s1",
        "jalr s2",
        "unimp",
        ".popsection",
    );

    /// A new fiber's first frame, in words from its stack pointer: ra (the return
    /// address, `wafer_rt_fiber_start`), s0 (zero: the end of the frame chain), s1
    /// (argument), s2 (entry), s3-s11, fs0-fs11 and one word of padding.
    pub const FIBER_FRAME_WORDS: usize = 26;
    /// The first frame's address modulo 16 (the stack pointer stays 16-byte aligned).
    pub const FIBER_FRAME_BIAS: usize = 0;
    /// Where the entry, its argument and the return address go in that frame.
    pub const FIBER_FRAME_SLOTS: super::FiberFrameSlots = super::FiberFrameSlots {
        entry: 3,
        argument: 2,
        start: 0,
    };
}

pub use imp::*;

/// Where a new fiber's first frame (`FIBER_FRAME_WORDS` words, lowest first) holds
/// the values `wafer_rt_fiber_start` reads.
pub struct FiberFrameSlots {
    /// The entry function, `extern "C" fn(usize)`.
    pub entry: usize,
    /// Its argument.
    pub argument: usize,
    /// The address of `wafer_rt_fiber_start`, where the first switch returns to.
    pub start: usize,
}

unsafe extern "C" {
    /// See the `wafer_rt_fiber_switch` assembly.
    pub fn wafer_rt_fiber_switch(save: *mut usize, to: usize);
    /// Where a new fiber's first switch returns to (never called directly).
    pub fn wafer_rt_fiber_start();
    fn wafer_rt_call_on_stack(top: *mut u8, f: extern "C" fn());
    /// See the `wafer_rt_catch` assembly.
    pub fn wafer_rt_catch(
        f: unsafe extern "C" fn(*mut u8),
        arg: *mut u8,
        buffer: *mut usize,
    ) -> usize;
    /// Returns `code` from the `wafer_rt_catch` frame whose registers `buffer` holds.
    pub fn wafer_rt_catch_landing(code: usize, buffer: *const usize) -> !;
    /// Continues at exception handler `pc` with the given stack and frame pointers and
    /// the exception object in the first payload register.
    pub fn wafer_rt_resume(pc: usize, sp: usize, fp: usize, exception: *mut u8) -> !;
}

/// Runs `f` with the stack pointer set to `top`, then returns on the original stack.
///
/// # Safety
/// `top` must be the 16-byte aligned upper end of a writable stack large enough for `f`.
pub unsafe fn call_on_stack(top: *mut u8, f: extern "C" fn()) {
    // SAFETY: the caller guarantees the stack; the trampoline saves and restores the
    // original stack pointer and follows the C calling convention.
    unsafe { wafer_rt_call_on_stack(top, f) }
}
