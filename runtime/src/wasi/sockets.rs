//! `sock_*`: accepting connections on a granted listener and talking over them.

use super::fd::{self, FdEntry, FdKind, READ, WRITE};
use super::{Errno, Transfer, WasiResult, flags8, flags16, vectored};
use crate::guest::GuestMemory;
use crate::sys::net;
use wafer_abi::wasi::{errno, fdflags, rights, sock};

/// The entry for `fd` if it is a socket (`ENOTSOCK` for any other open descriptor).
fn socket(fd: i32) -> WasiResult<(FdEntry, bool)> {
    let entry = fd::get(fd)?;
    match entry.kind {
        FdKind::Socket { listening } => Ok((entry, listening)),
        _ => Err(Errno(errno::NOTSOCK)),
    }
}

/// A connection (not a listener).
fn connection(fd: i32) -> WasiResult<FdEntry> {
    match socket(fd)? {
        (entry, false) => Ok(entry),
        // A listener has no peer to talk to: what recv/send on it report.
        (_, true) => Err(Errno(errno::NOTCONN)),
    }
}

pub(super) fn sock_accept(memory: &GuestMemory, fd: i32, flags: i32, result: i32) -> WasiResult {
    let flags = flags16(flags)?;
    if flags & !fdflags::NONBLOCK != 0 {
        return Err(Errno(errno::INVAL));
    }
    let (entry, listening) = socket(fd)?;
    if !listening {
        return Err(Errno(errno::INVAL));
    }
    let entry = entry.require(rights::SOCK_ACCEPT)?;
    let host_flags = if flags & fdflags::NONBLOCK != 0 {
        net::SOCK_NONBLOCK
    } else {
        0
    };
    let host_fd = net::accept(entry.host_fd, host_flags)?;
    let connection_rights = fd::SOCKET_RIGHTS & !rights::SOCK_ACCEPT;
    let new_fd = fd::insert(FdEntry {
        host_fd,
        kind: FdKind::Socket { listening: false },
        rights_base: connection_rights,
        rights_inheriting: connection_rights,
        read_only: false,
        access: READ | WRITE,
    })?;
    if let Err(err) = memory.write_u32(result as u32, new_fd as u32) {
        fd::close_host(fd::remove(new_fd)?);
        return Err(err.into());
    }
    Ok(())
}

pub(super) fn sock_recv(
    memory: &GuestMemory,
    fd: i32,
    ri_data: i32,
    ri_data_len: i32,
    ri_flags: i32,
    ro_data_len: i32,
    ro_flags: i32,
) -> WasiResult {
    let ri_flags = flags16(ri_flags)?;
    if ri_flags & !(sock::RECV_PEEK | sock::RECV_WAITALL) != 0 {
        return Err(Errno(errno::INVAL));
    }
    let entry = connection(fd)?.require(rights::FD_READ)?;
    let mut host_flags = 0;
    if ri_flags & sock::RECV_PEEK != 0 {
        host_flags |= net::MSG_PEEK;
    }
    if ri_flags & sock::RECV_WAITALL != 0 {
        host_flags |= net::MSG_WAITALL;
    }
    let mut truncated = false;
    let received = vectored(memory, ri_data, ri_data_len, Transfer::Read, |iov, _| {
        // SAFETY: every iovec was range-checked against guest memory.
        let (received, flags) = unsafe { net::recv(entry.host_fd, iov, host_flags) }?;
        truncated |= flags & net::MSG_TRUNC != 0;
        Ok(received)
    })?;
    memory.write_u32(ro_data_len as u32, received)?;
    let out_flags = if truncated {
        sock::RECV_DATA_TRUNCATED
    } else {
        0
    };
    memory.write(ro_flags as u32, &out_flags.to_le_bytes())?;
    Ok(())
}

pub(super) fn sock_send(
    memory: &GuestMemory,
    fd: i32,
    si_data: i32,
    si_data_len: i32,
    _si_flags: i32,
    so_data_len: i32,
) -> WasiResult {
    let entry = connection(fd)?.require(rights::FD_WRITE)?;
    let sent = vectored(memory, si_data, si_data_len, Transfer::Write, |iov, _| {
        // SAFETY: every iovec was range-checked against guest memory.
        unsafe { net::send(entry.host_fd, iov) }
    })?;
    memory.write_u32(so_data_len as u32, sent)?;
    Ok(())
}

pub(super) fn sock_shutdown(_: &GuestMemory, fd: i32, how: i32) -> WasiResult {
    let how = flags8(how)?;
    let (entry, _) = socket(fd)?;
    let entry = entry.require(rights::SOCK_SHUTDOWN)?;
    let host_how = match (how & sock::SHUT_RD != 0, how & sock::SHUT_WR != 0) {
        _ if how & !(sock::SHUT_RD | sock::SHUT_WR) != 0 => return Err(Errno(errno::INVAL)),
        (true, true) => 2,
        (false, true) => 1,
        (true, false) => 0,
        (false, false) => return Err(Errno(errno::INVAL)),
    };
    net::shutdown(entry.host_fd, host_how)?;
    Ok(())
}
