//! What differs between architectures on Linux: the process entry point, the open flags
//! that differ, and the layouts of `struct sigaction` and `ucontext_t` (the rest is in
//! `sys::isa`).

#[cfg(target_arch = "x86_64")]
mod imp {
    /// `O_DIRECTORY`.
    pub const O_DIRECTORY: u32 = 0o200000;
    /// `O_NOFOLLOW`.
    pub const O_NOFOLLOW: u32 = 0o400000;
    /// Offset of the saved program counter (`gregs[REG_RIP]`) in `ucontext_t`.
    pub const UCONTEXT_PC_OFFSET: usize = 40 + 16 * 8;
    /// Offset of the saved frame pointer (`gregs[REG_RBP]`).
    pub const UCONTEXT_FP_OFFSET: usize = 40 + 10 * 8;
    /// Whether `struct sigaction` has an `sa_restorer` field that must be set.
    pub const HAS_SA_RESTORER: bool = true;

    #[cfg(feature = "image")]
    core::arch::global_asm!(
        ".pushsection .text._start,\"ax\",@progbits",
        ".globl _start",
        ".type _start,@function",
        "_start:",
        "xor ebp, ebp",
        "mov rdi, rsp",
        "and rsp, -16",
        "call {start}",
        "ud2",
        ".popsection",
        start = sym crate::sys::linux::wafer_rt_linux_start,
    );

    #[cfg(feature = "image")]
    core::arch::global_asm!(
        ".pushsection .text.wafer_harness_start,\"ax\",@progbits",
        ".globl wafer_harness_start",
        ".type wafer_harness_start,@function",
        "wafer_harness_start:",
        "xor ebp, ebp",
        "mov rdi, rsp",
        "and rsp, -16",
        "call {start}",
        "ud2",
        ".popsection",
        start = sym crate::sys::linux::wafer_rt_linux_harness_start,
    );

    core::arch::global_asm!(
        ".pushsection .text.wafer_rt_sigreturn,\"ax\",@progbits",
        ".globl wafer_rt_sigreturn",
        ".type wafer_rt_sigreturn,@function",
        "wafer_rt_sigreturn:",
        "mov eax, 15",
        "syscall",
        "ud2",
        ".popsection",
    );

    /// Rewrites the interrupted context so that returning from the signal handler
    /// resumes as a return from `wafer_rt_catch` with `code`.
    ///
    /// # Safety
    /// `context` must be the `ucontext_t` of the signal being handled and `saved` the
    /// static buffer of a `wafer_rt_catch` frame still on the stack.
    pub unsafe fn resume(
        context: *mut u8,
        saved: *const [usize; crate::sys::isa::CATCH_BUFFER_WORDS],
        code: usize,
    ) {
        // SAFETY: the caller guarantees the buffer is live and filled.
        let words = unsafe { &*saved };
        const GREGS: usize = 40;
        // (index in gregs, value): rbx, rbp, r12..r15, rsp, rip, rax.
        let registers = [
            (11, words[0]),
            (10, words[1]),
            (4, words[2]),
            (5, words[3]),
            (6, words[4]),
            (7, words[5]),
            (15, words[6]),
            (16, words[7]),
            (13, code),
        ];
        for (index, value) in registers {
            // SAFETY: the caller guarantees `context` is a live ucontext_t, whose
            // general registers start at GREGS.
            unsafe { (context.add(GREGS + index * 8) as *mut usize).write_unaligned(value) };
        }
    }
}

#[cfg(target_arch = "aarch64")]
mod imp {
    /// `O_DIRECTORY` (arm's own value, not the generic one).
    pub const O_DIRECTORY: u32 = 0o40000;
    /// `O_NOFOLLOW` (arm's own value).
    pub const O_NOFOLLOW: u32 = 0o100000;
    /// Offset of `uc_mcontext.pc`: the context starts 16-aligned at 176, after
    /// `fault_address`, 31 registers and `sp`.
    pub const UCONTEXT_PC_OFFSET: usize = 176 + 8 + 31 * 8 + 8;
    /// Offset of `uc_mcontext.regs[29]`, the frame pointer.
    pub const UCONTEXT_FP_OFFSET: usize = 176 + 8 + 29 * 8;
    /// Whether `struct sigaction` has an `sa_restorer` field that must be set.
    pub const HAS_SA_RESTORER: bool = true;

    #[cfg(feature = "image")]
    core::arch::global_asm!(
        ".pushsection .text._start,\"ax\",%progbits",
        ".globl _start",
        ".type _start,%function",
        "_start:",
        "mov x29, #0",
        "mov x30, #0",
        "mov x0, sp",
        "and x1, x0, #-16",
        "mov sp, x1",
        "bl {start}",
        "udf #0",
        ".popsection",
        start = sym crate::sys::linux::wafer_rt_linux_start,
    );

    #[cfg(feature = "image")]
    core::arch::global_asm!(
        ".pushsection .text.wafer_harness_start,\"ax\",%progbits",
        ".globl wafer_harness_start",
        ".type wafer_harness_start,%function",
        "wafer_harness_start:",
        "mov x29, #0",
        "mov x30, #0",
        "mov x0, sp",
        "and x1, x0, #-16",
        "mov sp, x1",
        "bl {start}",
        "udf #0",
        ".popsection",
        start = sym crate::sys::linux::wafer_rt_linux_harness_start,
    );

    core::arch::global_asm!(
        ".pushsection .text.wafer_rt_sigreturn,\"ax\",%progbits",
        ".globl wafer_rt_sigreturn",
        ".type wafer_rt_sigreturn,%function",
        "wafer_rt_sigreturn:",
        "mov x8, #139",
        "svc #0",
        "udf #0",
        ".popsection",
    );

    /// Rewrites the interrupted context so that returning from the signal handler runs
    /// `wafer_rt_catch_landing` with `code` and the buffer, on the saved stack.
    ///
    /// # Safety
    /// `context` must be the `ucontext_t` of the signal being handled and `saved` the
    /// static buffer of a `wafer_rt_catch` frame still on the stack.
    pub unsafe fn resume(
        context: *mut u8,
        saved: *const [usize; crate::sys::isa::CATCH_BUFFER_WORDS],
        code: usize,
    ) {
        // SAFETY: the caller guarantees the buffer is live and filled.
        let words = unsafe { &*saved };
        const REGS: usize = 184; // uc_mcontext.regs[0]
        let writes = [
            (REGS, code),
            (REGS + 8, saved as usize),
            (REGS + 31 * 8, words[12]),
            (
                REGS + 32 * 8,
                crate::sys::isa::wafer_rt_catch_landing as *const () as usize,
            ),
        ];
        for (offset, value) in writes {
            // SAFETY: the caller guarantees `context` is a live ucontext_t.
            unsafe { (context.add(offset) as *mut usize).write_unaligned(value) };
        }
    }
}

#[cfg(target_arch = "riscv64")]
mod imp {
    /// `O_DIRECTORY` (the generic value).
    pub const O_DIRECTORY: u32 = 0o200000;
    /// `O_NOFOLLOW` (the generic value).
    pub const O_NOFOLLOW: u32 = 0o400000;
    /// Offset of `uc_mcontext.sc_regs.pc`: the context starts 16-aligned at 176 and
    /// begins with `pc`.
    pub const UCONTEXT_PC_OFFSET: usize = 176;
    /// Offset of `uc_mcontext.sc_regs.s0`, the frame pointer (after `pc`, `ra`, `sp`,
    /// `gp`, `tp`, `t0`-`t2`).
    pub const UCONTEXT_FP_OFFSET: usize = 176 + 8 * 8;
    /// riscv64 has no `sa_restorer`; the kernel returns through the vDSO.
    pub const HAS_SA_RESTORER: bool = false;

    #[cfg(feature = "image")]
    core::arch::global_asm!(
        ".pushsection .text._start,\"ax\",@progbits",
        ".globl _start",
        ".type _start,@function",
        "_start:",
        ".option push",
        ".option norelax",
        "lla gp, __global_pointer$",
        ".option pop",
        "mv a0, sp",
        "andi sp, sp, -16",
        "call {start}",
        "unimp",
        ".popsection",
        start = sym crate::sys::linux::wafer_rt_linux_start,
    );

    #[cfg(feature = "image")]
    core::arch::global_asm!(
        ".pushsection .text.wafer_harness_start,\"ax\",@progbits",
        ".globl wafer_harness_start",
        ".type wafer_harness_start,@function",
        "wafer_harness_start:",
        ".option push",
        ".option norelax",
        "lla gp, __global_pointer$",
        ".option pop",
        "mv a0, sp",
        "andi sp, sp, -16",
        "call {start}",
        "unimp",
        ".popsection",
        start = sym crate::sys::linux::wafer_rt_linux_harness_start,
    );

    core::arch::global_asm!(
        ".pushsection .text.wafer_rt_sigreturn,\"ax\",@progbits",
        ".globl wafer_rt_sigreturn",
        ".type wafer_rt_sigreturn,@function",
        "wafer_rt_sigreturn:",
        "li a7, 139",
        "ecall",
        "unimp",
        ".popsection",
    );

    /// Rewrites the interrupted context so that returning from the signal handler runs
    /// `wafer_rt_catch_landing` with `code` and the buffer, on the saved stack.
    ///
    /// # Safety
    /// `context` must be the `ucontext_t` of the signal being handled and `saved` the
    /// static buffer of a `wafer_rt_catch` frame still on the stack.
    pub unsafe fn resume(
        context: *mut u8,
        saved: *const [usize; crate::sys::isa::CATCH_BUFFER_WORDS],
        code: usize,
    ) {
        // SAFETY: the caller guarantees the buffer is live and filled.
        let words = unsafe { &*saved };
        const REGS: usize = 176; // uc_mcontext.sc_regs: pc, ra, sp, gp, tp, t0-t2, s0, s1, a0, a1
        let writes = [
            (
                REGS,
                crate::sys::isa::wafer_rt_catch_landing as *const () as usize,
            ),
            (REGS + 2 * 8, words[1]),
            (REGS + 10 * 8, code),
            (REGS + 11 * 8, saved as usize),
        ];
        for (offset, value) in writes {
            // SAFETY: the caller guarantees `context` is a live ucontext_t.
            unsafe { (context.add(offset) as *mut usize).write_unaligned(value) };
        }
    }
}

pub use imp::*;

pub use crate::sys::isa::{
    CATCH_BUFFER_WORDS, call_on_stack, wafer_rt_catch, wafer_rt_catch_landing,
};

unsafe extern "C" {
    /// Returns from a signal handler (`rt_sigreturn`); only its address is used.
    pub fn wafer_rt_sigreturn();
}
