//! Raw Linux system calls: no libc. Each architecture contributes its calling sequence
//! and its syscall numbers; everything above this file is architecture independent.

/// Syscall numbers for x86_64 (`arch/x86/entry/syscalls/syscall_64.tbl`).
#[cfg(target_arch = "x86_64")]
#[allow(missing_docs, reason = "the kernel's names")]
pub mod nr {
    pub const READ: usize = 0;
    pub const WRITE: usize = 1;
    pub const CLOSE: usize = 3;
    pub const FSTAT: usize = 5;
    pub const LSEEK: usize = 8;
    pub const MMAP: usize = 9;
    pub const MPROTECT: usize = 10;
    pub const MUNMAP: usize = 11;
    pub const RT_SIGACTION: usize = 13;
    pub const RT_SIGRETURN: usize = 15;
    pub const READV: usize = 19;
    pub const WRITEV: usize = 20;
    pub const SCHED_YIELD: usize = 24;
    pub const SIGALTSTACK: usize = 131;
    pub const CLOCK_GETTIME: usize = 228;
    pub const CLOCK_GETRES: usize = 229;
    pub const EXIT_GROUP: usize = 231;
    pub const GETRANDOM: usize = 318;
    pub const OPENAT: usize = 257;
    pub const OPENAT2: usize = 437;
    pub const STATX: usize = 332;
    pub const MKDIRAT: usize = 258;
    pub const UNLINKAT: usize = 263;
    pub const RENAMEAT2: usize = 316;
    pub const LINKAT: usize = 265;
    pub const SYMLINKAT: usize = 266;
    pub const READLINKAT: usize = 267;
    pub const UTIMENSAT: usize = 280;
    pub const FTRUNCATE: usize = 77;
    pub const FALLOCATE: usize = 285;
    pub const FADVISE64: usize = 221;
    pub const FSYNC: usize = 74;
    pub const FDATASYNC: usize = 75;
    pub const PREADV: usize = 295;
    pub const PWRITEV: usize = 296;
    pub const PWRITEV2: usize = 328;
    pub const GETDENTS64: usize = 217;
    pub const FCNTL: usize = 72;
    pub const PPOLL: usize = 271;
    pub const EPOLL_CREATE1: usize = 291;
    pub const EPOLL_CTL: usize = 233;
    pub const EPOLL_PWAIT: usize = 281;
    pub const CLOCK_NANOSLEEP: usize = 230;
    pub const IOCTL: usize = 16;
    pub const SOCKET: usize = 41;
    pub const BIND: usize = 49;
    pub const LISTEN: usize = 50;
    pub const ACCEPT4: usize = 288;
    pub const CONNECT: usize = 42;
    pub const GETSOCKNAME: usize = 51;
    pub const GETPEERNAME: usize = 52;
    pub const RECVFROM: usize = 45;
    pub const SENDTO: usize = 44;
    pub const SENDMSG: usize = 46;
    pub const RECVMSG: usize = 47;
    pub const SHUTDOWN: usize = 48;
    pub const SETSOCKOPT: usize = 54;
    pub const GETSOCKOPT: usize = 55;
    pub const GETPID: usize = 39;
    pub const GETTID: usize = 186;
    pub const TGKILL: usize = 234;
    pub const PRLIMIT64: usize = 302;
}

/// Syscall numbers for the generic table (`include/uapi/asm-generic/unistd.h`), used by
/// aarch64 and riscv64.
#[cfg(any(target_arch = "aarch64", target_arch = "riscv64"))]
#[allow(missing_docs, reason = "the kernel's names")]
pub mod nr {
    pub const READ: usize = 63;
    pub const WRITE: usize = 64;
    pub const CLOSE: usize = 57;
    pub const FSTAT: usize = 80;
    pub const LSEEK: usize = 62;
    pub const MMAP: usize = 222;
    pub const MPROTECT: usize = 226;
    pub const MUNMAP: usize = 215;
    pub const RT_SIGACTION: usize = 134;
    pub const RT_SIGRETURN: usize = 139;
    pub const READV: usize = 65;
    pub const WRITEV: usize = 66;
    pub const SCHED_YIELD: usize = 124;
    pub const SIGALTSTACK: usize = 132;
    pub const CLOCK_GETTIME: usize = 113;
    pub const CLOCK_GETRES: usize = 114;
    pub const EXIT_GROUP: usize = 94;
    pub const GETRANDOM: usize = 278;
    pub const OPENAT: usize = 56;
    pub const OPENAT2: usize = 437;
    pub const STATX: usize = 291;
    pub const MKDIRAT: usize = 34;
    pub const UNLINKAT: usize = 35;
    pub const RENAMEAT2: usize = 276;
    pub const LINKAT: usize = 37;
    pub const SYMLINKAT: usize = 36;
    pub const READLINKAT: usize = 78;
    pub const UTIMENSAT: usize = 88;
    pub const FTRUNCATE: usize = 46;
    pub const FALLOCATE: usize = 47;
    pub const FADVISE64: usize = 223;
    pub const FSYNC: usize = 82;
    pub const FDATASYNC: usize = 83;
    pub const PREADV: usize = 69;
    pub const PWRITEV: usize = 70;
    pub const PWRITEV2: usize = 287;
    pub const GETDENTS64: usize = 61;
    pub const FCNTL: usize = 25;
    pub const PPOLL: usize = 73;
    pub const EPOLL_CREATE1: usize = 20;
    pub const EPOLL_CTL: usize = 21;
    pub const EPOLL_PWAIT: usize = 22;
    pub const CLOCK_NANOSLEEP: usize = 115;
    pub const IOCTL: usize = 29;
    pub const SOCKET: usize = 198;
    pub const BIND: usize = 200;
    pub const LISTEN: usize = 201;
    pub const ACCEPT4: usize = 242;
    pub const CONNECT: usize = 203;
    pub const GETSOCKNAME: usize = 204;
    pub const GETPEERNAME: usize = 205;
    pub const RECVFROM: usize = 207;
    pub const SENDTO: usize = 206;
    pub const SENDMSG: usize = 211;
    pub const RECVMSG: usize = 212;
    pub const SHUTDOWN: usize = 210;
    pub const SETSOCKOPT: usize = 208;
    pub const GETSOCKOPT: usize = 209;
    pub const GETPID: usize = 172;
    pub const GETTID: usize = 178;
    pub const TGKILL: usize = 131;
    pub const PRLIMIT64: usize = 261;
}

/// Performs system call `n` with up to six arguments; returns the raw result (a negated
/// errno on failure).
///
/// # Safety
/// The arguments must be valid for the system call: pointers must point to memory of the
/// size and mutability the kernel will access.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub unsafe fn syscall6(
    n: usize,
    a0: usize,
    a1: usize,
    a2: usize,
    a3: usize,
    a4: usize,
    a5: usize,
) -> isize {
    let ret: isize;
    // SAFETY: the caller guarantees the arguments; `syscall` clobbers rcx and r11.
    unsafe {
        core::arch::asm!(
            "syscall",
            inlateout("rax") n as isize => ret,
            in("rdi") a0,
            in("rsi") a1,
            in("rdx") a2,
            in("r10") a3,
            in("r8") a4,
            in("r9") a5,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack)
        );
    }
    ret
}

/// See the x86_64 version.
///
/// # Safety
/// As for the x86_64 version.
#[cfg(target_arch = "aarch64")]
#[inline(always)]
pub unsafe fn syscall6(
    n: usize,
    a0: usize,
    a1: usize,
    a2: usize,
    a3: usize,
    a4: usize,
    a5: usize,
) -> isize {
    let ret: isize;
    // SAFETY: the caller guarantees the arguments; `svc 0` takes the number in x8.
    unsafe {
        core::arch::asm!(
            "svc 0",
            in("x8") n,
            inlateout("x0") a0 as isize => ret,
            in("x1") a1,
            in("x2") a2,
            in("x3") a3,
            in("x4") a4,
            in("x5") a5,
            options(nostack)
        );
    }
    ret
}

/// See the x86_64 version.
///
/// # Safety
/// As for the x86_64 version.
#[cfg(target_arch = "riscv64")]
#[inline(always)]
pub unsafe fn syscall6(
    n: usize,
    a0: usize,
    a1: usize,
    a2: usize,
    a3: usize,
    a4: usize,
    a5: usize,
) -> isize {
    let ret: isize;
    // SAFETY: the caller guarantees the arguments; `ecall` takes the number in a7.
    unsafe {
        core::arch::asm!(
            "ecall",
            in("a7") n,
            inlateout("a0") a0 as isize => ret,
            in("a1") a1,
            in("a2") a2,
            in("a3") a3,
            in("a4") a4,
            in("a5") a5,
            options(nostack)
        );
    }
    ret
}

/// Three-argument shorthand for [`syscall6`].
///
/// # Safety
/// As for [`syscall6`].
#[inline(always)]
pub unsafe fn syscall3(n: usize, a0: usize, a1: usize, a2: usize) -> isize {
    // SAFETY: forwarded contract.
    unsafe { syscall6(n, a0, a1, a2, 0, 0, 0) }
}
