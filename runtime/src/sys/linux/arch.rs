//! What differs between architectures on Linux: the process entry point, switching to the
//! guest stack, and the layouts of `struct stat`, `struct sigaction` and `ucontext_t`.

#[cfg(target_arch = "x86_64")]
mod imp {
    /// Offset of `st_mode` in `struct stat`.
    pub const STAT_MODE_OFFSET: usize = 24;
    /// Offset of the saved program counter (`gregs[REG_RIP]`) in `ucontext_t`.
    pub const UCONTEXT_PC_OFFSET: usize = 40 + 16 * 8;
    /// Whether `struct sigaction` has an `sa_restorer` field that must be set.
    pub const HAS_SA_RESTORER: bool = true;

    #[cfg(feature = "image")]
    core::arch::global_asm!(
        ".globl _start",
        ".type _start,@function",
        "_start:",
        "xor ebp, ebp",
        "mov rdi, rsp",
        "and rsp, -16",
        "call {start}",
        "ud2",
        start = sym crate::sys::linux::wafer_rt_linux_start,
    );

    core::arch::global_asm!(
        ".globl wafer_rt_sigreturn",
        ".type wafer_rt_sigreturn,@function",
        "wafer_rt_sigreturn:",
        "mov eax, 15",
        "syscall",
        "ud2",
    );

    core::arch::global_asm!(
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
    );
}

#[cfg(target_arch = "aarch64")]
mod imp {
    /// Offset of `st_mode` in `struct stat` (the generic layout).
    pub const STAT_MODE_OFFSET: usize = 16;
    /// Offset of `uc_mcontext.pc`: the context starts 16-aligned at 176, after
    /// `fault_address`, 31 registers and `sp`.
    pub const UCONTEXT_PC_OFFSET: usize = 176 + 8 + 31 * 8 + 8;
    /// Whether `struct sigaction` has an `sa_restorer` field that must be set.
    pub const HAS_SA_RESTORER: bool = true;

    #[cfg(feature = "image")]
    core::arch::global_asm!(
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
        start = sym crate::sys::linux::wafer_rt_linux_start,
    );

    core::arch::global_asm!(
        ".globl wafer_rt_sigreturn",
        ".type wafer_rt_sigreturn,%function",
        "wafer_rt_sigreturn:",
        "mov x8, #139",
        "svc #0",
        "udf #0",
    );

    core::arch::global_asm!(
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
    );
}

#[cfg(target_arch = "riscv64")]
mod imp {
    /// Offset of `st_mode` in `struct stat` (the generic layout).
    pub const STAT_MODE_OFFSET: usize = 16;
    /// Offset of `uc_mcontext.sc_regs.pc`: the context starts 16-aligned at 176 and
    /// begins with `pc`.
    pub const UCONTEXT_PC_OFFSET: usize = 176;
    /// riscv64 has no `sa_restorer`; the kernel returns through the vDSO.
    pub const HAS_SA_RESTORER: bool = false;

    #[cfg(feature = "image")]
    core::arch::global_asm!(
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
        start = sym crate::sys::linux::wafer_rt_linux_start,
    );

    core::arch::global_asm!(
        ".globl wafer_rt_sigreturn",
        ".type wafer_rt_sigreturn,@function",
        "wafer_rt_sigreturn:",
        "li a7, 139",
        "ecall",
        "unimp",
    );

    core::arch::global_asm!(
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
    );
}

pub use imp::*;

unsafe extern "C" {
    fn wafer_rt_call_on_stack(top: *mut u8, f: extern "C" fn());
    /// Returns from a signal handler (`rt_sigreturn`); only its address is used.
    pub fn wafer_rt_sigreturn();
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
