//! `sock_*`: accepting connections on a granted listener and talking over them.

use super::fd;
use super::{Errno, Transfer, WasiResult, flags8, flags16, vectored};
use crate::guest::GuestMemory;
use crate::sys::Shutdown;
use wafer_abi::wasi::{errno, fdflags, sock};

pub(super) fn sock_accept(memory: &GuestMemory, fd: i32, flags: i32, result: i32) -> WasiResult {
    let flags = flags16(flags)?;
    if flags & !fdflags::NONBLOCK != 0 {
        return Err(Errno(errno::INVAL));
    }
    let connection = fd::get(fd)?.accept(flags & fdflags::NONBLOCK != 0)?;
    let new_fd = fd::insert(connection)?;
    if let Err(err) = memory.write_u32(result as u32, new_fd as u32) {
        fd::remove(new_fd)?.close();
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
    let desc = fd::get(fd)?.check_recv()?;
    let (peek, wait_all) = (
        ri_flags & sock::RECV_PEEK != 0,
        ri_flags & sock::RECV_WAITALL != 0,
    );
    let mut truncated = false;
    let received = vectored(memory, ri_data, ri_data_len, Transfer::Read, |iov, _| {
        // SAFETY: every iovec was range-checked against guest memory.
        let (received, cut) = unsafe { desc.recv(iov, peek, wait_all) }?;
        truncated |= cut;
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
    let desc = fd::get(fd)?.check_send()?;
    let sent = vectored(memory, si_data, si_data_len, Transfer::Write, |iov, _| {
        // SAFETY: every iovec was range-checked against guest memory.
        unsafe { desc.send(iov) }
    })?;
    memory.write_u32(so_data_len as u32, sent)?;
    Ok(())
}

pub(super) fn sock_shutdown(_: &GuestMemory, fd: i32, how: i32) -> WasiResult {
    let how = flags8(how)?;
    let direction = match (how & sock::SHUT_RD != 0, how & sock::SHUT_WR != 0) {
        _ if how & !(sock::SHUT_RD | sock::SHUT_WR) != 0 => None,
        (true, true) => Some(Shutdown::Both),
        (false, true) => Some(Shutdown::Write),
        (true, false) => Some(Shutdown::Read),
        (false, false) => None,
    };
    fd::get(fd)?.shutdown(direction)
}
