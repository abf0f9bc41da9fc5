//! TCP sockets: the listener a grant asks for, and the calls the guest makes on it and on
//! the connections it accepts.

use super::syscall::{nr, syscall6};
use super::{Errno, IoVec, check};
use wafer_abi::grants::ListenAddr;

const AF_INET: usize = 2;
const AF_INET6: usize = 10;
const SOCK_STREAM: usize = 1;
/// `SOCK_NONBLOCK` (the same value as `O_NONBLOCK`).
pub const SOCK_NONBLOCK: u32 = 0o4000;
const SOCK_CLOEXEC: usize = 0o2000000;
const SOL_SOCKET: usize = 1;
const SO_REUSEADDR: usize = 2;
const IPPROTO_IPV6: usize = 41;
const IPV6_V6ONLY: usize = 26;
/// How many connections may wait for `sock_accept`.
const BACKLOG: usize = 128;

/// `MSG_PEEK`.
pub const MSG_PEEK: u32 = 0x2;
/// `MSG_TRUNC`, in the flags `recvmsg` returns.
pub const MSG_TRUNC: u32 = 0x20;
/// `MSG_WAITALL`.
pub const MSG_WAITALL: u32 = 0x100;
/// `MSG_NOSIGNAL`: a closed peer is `EPIPE`, never `SIGPIPE`.
const MSG_NOSIGNAL: usize = 0x4000;

fn set_option(fd: i32, level: usize, name: usize, value: i32) -> Result<(), Errno> {
    // SAFETY: the option value is one `int`.
    check(unsafe {
        syscall6(
            nr::SETSOCKOPT,
            fd as usize,
            level,
            name,
            &value as *const i32 as usize,
            4,
            0,
        )
    })
    .map(drop)
}

/// A TCP socket bound to `addr` and listening; close-on-exec.
pub fn listen(addr: &ListenAddr) -> Result<i32, Errno> {
    let family = if addr.ipv6 { AF_INET6 } else { AF_INET };
    // SAFETY: no pointers.
    let fd = check(unsafe { syscall6(nr::SOCKET, family, SOCK_STREAM | SOCK_CLOEXEC, 0, 0, 0, 0) })?
        as i32;
    let bound = (|| {
        set_option(fd, SOL_SOCKET, SO_REUSEADDR, 1)?;
        // `struct sockaddr_in6` is the larger; `sockaddr_in` uses its first 16 bytes.
        let mut sockaddr = [0u8; 28];
        sockaddr[0..2].copy_from_slice(&(family as u16).to_ne_bytes());
        sockaddr[2..4].copy_from_slice(&addr.port.to_be_bytes());
        let len = if addr.ipv6 {
            set_option(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1)?;
            sockaddr[8..24].copy_from_slice(&addr.ip);
            28
        } else {
            sockaddr[4..8].copy_from_slice(&addr.ip[..4]);
            16
        };
        // SAFETY: `sockaddr` holds `len` bytes of a socket address.
        check(unsafe {
            syscall6(
                nr::BIND,
                fd as usize,
                sockaddr.as_ptr() as usize,
                len,
                0,
                0,
                0,
            )
        })?;
        // SAFETY: no pointers.
        check(unsafe { syscall6(nr::LISTEN, fd as usize, BACKLOG, 0, 0, 0, 0) })
    })();
    match bound {
        Ok(_) => Ok(fd),
        Err(err) => {
            super::fs::close(fd);
            Err(err)
        }
    }
}

/// `accept4(2)` without the peer address; close-on-exec, and non-blocking if `flags`
/// has [`SOCK_NONBLOCK`].
pub fn accept(fd: i32, flags: u32) -> Result<i32, Errno> {
    // SAFETY: null address pointers ask for no peer address.
    check(unsafe {
        syscall6(
            nr::ACCEPT4,
            fd as usize,
            0,
            0,
            (flags & SOCK_NONBLOCK) as usize | SOCK_CLOEXEC,
            0,
            0,
        )
    })
    .map(|fd| fd as i32)
}

/// `struct msghdr` on 64-bit Linux.
#[repr(C)]
struct MsgHdr {
    name: usize,
    name_len: u32,
    iov: *const IoVec,
    iov_len: usize,
    control: usize,
    control_len: usize,
    flags: i32,
}

/// `recvmsg(2)` into `iov`; returns the bytes received and the `MSG_*` flags.
///
/// # Safety
/// Every iovec must describe writable memory.
pub unsafe fn recv(fd: i32, iov: &[IoVec], flags: u32) -> Result<(usize, u32), Errno> {
    let mut header = MsgHdr {
        name: 0,
        name_len: 0,
        iov: iov.as_ptr(),
        iov_len: iov.len(),
        control: 0,
        control_len: 0,
        flags: 0,
    };
    // SAFETY: the caller guarantees the iovecs; `header` is a valid `msghdr`.
    let received = check(unsafe {
        syscall6(
            nr::RECVMSG,
            fd as usize,
            &mut header as *mut MsgHdr as usize,
            flags as usize,
            0,
            0,
            0,
        )
    })?;
    Ok((received, header.flags as u32))
}

/// `sendmsg(2)` from `iov`, never raising `SIGPIPE`.
///
/// # Safety
/// Every iovec must describe readable memory.
pub unsafe fn send(fd: i32, iov: &[IoVec]) -> Result<usize, Errno> {
    let header = MsgHdr {
        name: 0,
        name_len: 0,
        iov: iov.as_ptr(),
        iov_len: iov.len(),
        control: 0,
        control_len: 0,
        flags: 0,
    };
    // SAFETY: the caller guarantees the iovecs; `header` is a valid `msghdr`.
    check(unsafe {
        syscall6(
            nr::SENDMSG,
            fd as usize,
            &header as *const MsgHdr as usize,
            MSG_NOSIGNAL,
            0,
            0,
            0,
        )
    })
}

/// `shutdown(2)`: `how` is `SHUT_RD` (0), `SHUT_WR` (1) or `SHUT_RDWR` (2).
pub fn shutdown(fd: i32, how: u32) -> Result<(), Errno> {
    // SAFETY: no pointers.
    check(unsafe { syscall6(nr::SHUTDOWN, fd as usize, how as usize, 0, 0, 0, 0) }).map(drop)
}
