//! TCP sockets: the listener a grant asks for, and the calls the guest makes on it and on
//! the connections it accepts.

use super::syscall::{nr, syscall6};
use super::{Errno, IoVec, check};
use crate::sys::{SocketAddr, SocketOption};
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

const SOCK_DGRAM: usize = 2;
const AF_UNSPEC: u16 = 0;
const SOL_TCP: usize = 6;
const IPPROTO_IP: usize = 0;

/// `struct sockaddr_in6` is the larger socket address; `sockaddr_in` is its first 16
/// bytes.
const SOCKADDR_LEN: usize = 28;

/// `addr` as a `sockaddr_in` or `sockaddr_in6`; returns it and its length.
fn encode(addr: &SocketAddr) -> ([u8; SOCKADDR_LEN], usize) {
    let mut out = [0u8; SOCKADDR_LEN];
    let family = if addr.ipv6 { AF_INET6 } else { AF_INET } as u16;
    out[0..2].copy_from_slice(&family.to_ne_bytes());
    out[2..4].copy_from_slice(&addr.port.to_be_bytes());
    if addr.ipv6 {
        out[4..8].copy_from_slice(&addr.flow_info.to_be_bytes());
        out[8..24].copy_from_slice(&addr.ip);
        out[24..28].copy_from_slice(&addr.scope_id.to_ne_bytes());
        (out, 28)
    } else {
        out[4..8].copy_from_slice(&addr.ip[..4]);
        (out, 16)
    }
}

/// The socket address in a `sockaddr_in` or `sockaddr_in6` (`EAFNOSUPPORT` for others).
fn decode(raw: &[u8; SOCKADDR_LEN]) -> Result<SocketAddr, Errno> {
    let family = u16::from_ne_bytes([raw[0], raw[1]]);
    let port = u16::from_be_bytes([raw[2], raw[3]]);
    let mut addr = SocketAddr {
        port,
        ..SocketAddr::default()
    };
    if family == AF_INET6 as u16 {
        addr.ipv6 = true;
        addr.flow_info = u32::from_be_bytes([raw[4], raw[5], raw[6], raw[7]]);
        addr.ip.copy_from_slice(&raw[8..24]);
        addr.scope_id = u32::from_ne_bytes([raw[24], raw[25], raw[26], raw[27]]);
    } else if family == AF_INET as u16 {
        addr.ip[..4].copy_from_slice(&raw[4..8]);
    } else {
        return Err(Errno::AFNOSUPPORT);
    }
    Ok(addr)
}

/// A new socket, non-blocking and close-on-exec; IPv6 ones take no IPv4 traffic.
pub fn socket(ipv6: bool, datagram: bool) -> Result<i32, Errno> {
    let family = if ipv6 { AF_INET6 } else { AF_INET };
    let ty = if datagram { SOCK_DGRAM } else { SOCK_STREAM };
    let flags = ty | SOCK_NONBLOCK as usize | SOCK_CLOEXEC;
    // SAFETY: no pointers.
    let fd = check(unsafe { syscall6(nr::SOCKET, family, flags, 0, 0, 0, 0) })? as i32;
    if ipv6 && let Err(err) = set_option(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1) {
        super::fs::close(fd);
        return Err(err);
    }
    Ok(fd)
}

/// `bind(2)`.
pub fn bind(fd: i32, addr: &SocketAddr) -> Result<(), Errno> {
    let (raw, len) = encode(addr);
    // SAFETY: `raw` holds `len` bytes of a socket address.
    check(unsafe { syscall6(nr::BIND, fd as usize, raw.as_ptr() as usize, len, 0, 0, 0) }).map(drop)
}

/// `listen(2)`.
pub fn listen_on(fd: i32, backlog: u32) -> Result<(), Errno> {
    // SAFETY: no pointers.
    check(unsafe { syscall6(nr::LISTEN, fd as usize, backlog as usize, 0, 0, 0, 0) }).map(drop)
}

/// `connect(2)` (`None`: dissolve a datagram socket's association, `AF_UNSPEC`).
pub fn connect(fd: i32, addr: Option<&SocketAddr>) -> Result<(), Errno> {
    let (raw, len) = match addr {
        Some(addr) => encode(addr),
        None => {
            let mut raw = [0u8; SOCKADDR_LEN];
            raw[0..2].copy_from_slice(&AF_UNSPEC.to_ne_bytes());
            (raw, 16)
        }
    };
    // SAFETY: `raw` holds `len` bytes of a socket address.
    check(unsafe {
        syscall6(
            nr::CONNECT,
            fd as usize,
            raw.as_ptr() as usize,
            len,
            0,
            0,
            0,
        )
    })
    .map(drop)
}

/// `getsockname(2)` (`peer`: `getpeername(2)`).
pub fn address(fd: i32, peer: bool) -> Result<SocketAddr, Errno> {
    let mut raw = [0u8; SOCKADDR_LEN];
    let mut len = SOCKADDR_LEN as u32;
    let call = if peer {
        nr::GETPEERNAME
    } else {
        nr::GETSOCKNAME
    };
    // SAFETY: `raw` is writable for `len` bytes, and `len` is a writable `socklen_t`.
    check(unsafe {
        syscall6(
            call,
            fd as usize,
            raw.as_mut_ptr() as usize,
            &mut len as *mut u32 as usize,
            0,
            0,
            0,
        )
    })?;
    decode(&raw)
}

/// The level and name of `option` for a socket of the given family.
fn option_name(option: SocketOption, ipv6: bool) -> (usize, usize) {
    match option {
        SocketOption::KeepAlive => (SOL_SOCKET, 9),
        SocketOption::KeepIdle => (SOL_TCP, 4),
        SocketOption::KeepInterval => (SOL_TCP, 5),
        SocketOption::KeepCount => (SOL_TCP, 6),
        SocketOption::HopLimit if ipv6 => (IPPROTO_IPV6, 16),
        SocketOption::HopLimit => (IPPROTO_IP, 2),
        SocketOption::ReceiveBuffer => (SOL_SOCKET, 8),
        SocketOption::SendBuffer => (SOL_SOCKET, 7),
        SocketOption::Error => (SOL_SOCKET, 4),
        SocketOption::NoDelay => (SOL_TCP, 1),
    }
}

/// `getsockopt(2)` of an `int` option.
pub fn get_option(fd: i32, option: SocketOption, ipv6: bool) -> Result<i32, Errno> {
    let (level, name) = option_name(option, ipv6);
    let mut value = 0i32;
    let mut len = 4u32;
    // SAFETY: `value` is a writable `int` and `len` a writable `socklen_t`.
    check(unsafe {
        syscall6(
            nr::GETSOCKOPT,
            fd as usize,
            level,
            name,
            &mut value as *mut i32 as usize,
            &mut len as *mut u32 as usize,
            0,
        )
    })?;
    Ok(value)
}

/// `setsockopt(2)` of an `int` option.
pub fn set_socket_option(
    fd: i32,
    option: SocketOption,
    ipv6: bool,
    value: i32,
) -> Result<(), Errno> {
    let (level, name) = option_name(option, ipv6);
    set_option(fd, level, name, value)
}

/// `sendto(2)` from `iov` to `to` (or the connected peer), never raising `SIGPIPE`.
///
/// # Safety
/// Every iovec must describe readable memory.
pub unsafe fn send_to(fd: i32, iov: &[IoVec], to: Option<&SocketAddr>) -> Result<usize, Errno> {
    let encoded = to.map(encode);
    let (name, name_len) = match &encoded {
        Some((raw, len)) => (raw.as_ptr() as usize, *len as u32),
        None => (0, 0),
    };
    let header = MsgHdr {
        name,
        name_len,
        iov: iov.as_ptr(),
        iov_len: iov.len(),
        control: 0,
        control_len: 0,
        flags: 0,
    };
    // SAFETY: the caller guarantees the iovecs; `header` and the address it points to
    // are valid for the call.
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

/// `recvmsg(2)` into `iov`, with the sender's address; returns the bytes received (a
/// longer datagram is cut short).
///
/// # Safety
/// Every iovec must describe writable memory.
pub unsafe fn recv_from(fd: i32, iov: &[IoVec]) -> Result<(usize, SocketAddr), Errno> {
    let mut raw = [0u8; SOCKADDR_LEN];
    let mut header = MsgHdr {
        name: raw.as_mut_ptr() as usize,
        name_len: SOCKADDR_LEN as u32,
        iov: iov.as_ptr(),
        iov_len: iov.len(),
        control: 0,
        control_len: 0,
        flags: 0,
    };
    // SAFETY: the caller guarantees the iovecs; `header` is a valid `msghdr` whose name
    // buffer is writable for its length.
    let received = check(unsafe {
        syscall6(
            nr::RECVMSG,
            fd as usize,
            &mut header as *mut MsgHdr as usize,
            0,
            0,
            0,
            0,
        )
    })?;
    Ok((received, decode(&raw)?))
}
