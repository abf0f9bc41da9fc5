//! `wasi:sockets/types@0.3.udp-socket` over 0.2's socket (`super::super::udp`):
//! `connect` and `disconnect` set the default peer, and datagrams go one at a time
//! through `send` and `receive`, both `async`: one that would block is a host subtask
//! that finishes when the socket is ready. A socket not bound yet is bound by its
//! first `connect` or `send`, which needs a client's grant.

use wafer_abi::trap::TrapKind;

use super::super::udp::{
    BUFFER, MAX_DATAGRAM, UdpSocket, address, create, get_option, set_option, socket,
};
use super::super::{
    Code, SocketResult, Version, family_matches, is_remote, lift_address, load_address,
    store_address, store_unit,
};
use super::{Op, pend, returned};
use crate::errno::Errno;
use crate::host::net::check_bind;
use crate::p2::objects::{self, Object};
use crate::p2::{Call, HostResult, Params, host_fns};
use crate::sys::SocketOption::{HopLimit, ReceiveBuffer, SendBuffer};
use crate::sys::{IoVec, SocketAddr};

use Version::P3;

/// The largest datagram `send` takes (wasmtime's limit; the platform may refuse
/// smaller ones, as `datagram-too-large` too).
const MAX_SEND: u32 = u16::MAX as u32;

/// A socket not bound yet is bound by the platform as a client's would be: that must
/// be granted.
fn check_implicit_bind(socket: &UdpSocket) -> SocketResult {
    if socket.bound {
        return Ok(());
    }
    let unspecified = SocketAddr {
        ipv6: socket.ipv6,
        ..SocketAddr::default()
    };
    check_bind(&unspecified).map(drop).map_err(Code::from)
}

/// `bind`.
fn bind(call: &Call, handle: i32, flat: [i32; 12], ret: i32) -> HostResult<()> {
    let addr = lift_address(flat)?;
    let (index, mut socket) = socket(call, P3, handle)?;
    let result = super::super::udp::bind(&mut socket, &addr);
    if result.is_ok() {
        objects::set(index, Object::Udp(socket));
    }
    store_unit(call, P3, ret, result)
}

/// `connect`: `remote` becomes the default peer (and the only one datagrams come
/// from), as the grants allow.
fn connect(call: &Call, handle: i32, flat: [i32; 12], ret: i32) -> HostResult<()> {
    let addr = lift_address(flat)?;
    let (index, mut socket) = socket(call, P3, handle)?;
    let result = (|| {
        if !is_remote(&addr) || !family_matches(&addr, socket.ipv6) {
            return Err(Code::INVALID_ARGUMENT);
        }
        check_implicit_bind(&socket)?;
        // Linux keeps the local address of an earlier association: dissolve it first.
        if socket.remote.is_some() {
            socket.desc.connect(None).map_err(Code::from)?;
            socket.remote = None;
        }
        socket.desc.connect(Some(&addr)).map_err(Code::from)?;
        socket.remote = Some(addr);
        socket.bound = true;
        Ok(())
    })();
    objects::set(index, Object::Udp(socket));
    store_unit(call, P3, ret, result)
}

/// `disconnect`.
fn disconnect(call: &Call, handle: i32, ret: i32) -> HostResult<()> {
    let (index, mut socket) = socket(call, P3, handle)?;
    let result = match socket.remote {
        None => Err(Code::INVALID_STATE),
        Some(_) => {
            socket.remote = None;
            objects::set(index, Object::Udp(socket));
            socket.desc.connect(None).map_err(Code::from)
        }
    };
    store_unit(call, P3, ret, result)
}

/// Sends the datagram of `len` bytes at `data` in the memory of `call` to `to` (`None`:
/// the connected peer): `None` while the socket cannot take it.
fn try_send(
    call: &Call,
    socket: &UdpSocket,
    (data, len): (u32, u32),
    to: Option<SocketAddr>,
) -> HostResult<Option<SocketResult>> {
    let base = call
        .memory()
        .range(data, len)
        .map_err(|_| TrapKind::ListOutOfBounds)?;
    let iov = [IoVec {
        base,
        len: len as usize,
    }];
    loop {
        // SAFETY: `range` checked the guest buffer, which a send only reads.
        return Ok(match unsafe { socket.desc.send_to(&iov, to.as_ref()) } {
            Ok(_) => Some(Ok(())),
            Err(Errno::INTR) => continue,
            Err(Errno::AGAIN) => None,
            Err(err) => Some(Err(Code::from(err))),
        });
    }
}

/// `send`, lowered `async`: `(self, list<u8>, option<ip-socket-address>)` at `params`.
fn send(call: &Call, params: i32, ret: i32) -> HostResult<u32> {
    let p = Params::new(call, params, 48, 4)?;
    let (data, len) = p.string(4)?;
    let (data, len) = (data as u32, len as u32);
    let remote = match p.u8(12)? {
        0 => None,
        1 => Some(load_address(call, params as u32 + 16)?),
        _ => return Err(TrapKind::InvalidDiscriminant),
    };
    call.memory()
        .range(data, len)
        .map_err(|_| TrapKind::ListOutOfBounds)?;
    let (index, mut socket) = socket(call, P3, p.i32(0)?)?;
    // The destination as wasmtime decides it: a datagram to the connected peer goes
    // without an address.
    let to = (|| {
        if len > MAX_SEND {
            return Err(Code::DATAGRAM_TOO_LARGE);
        }
        let to = match (remote, socket.remote) {
            (Some(addr), _) if !is_remote(&addr) || !family_matches(&addr, socket.ipv6) => {
                return Err(Code::INVALID_ARGUMENT);
            }
            (Some(addr), Some(peer)) if addr != peer => return Err(Code::INVALID_ARGUMENT),
            (Some(_), Some(_)) | (None, Some(_)) => None,
            (Some(addr), None) => Some(addr),
            (None, None) => return Err(Code::INVALID_ARGUMENT),
        };
        check_implicit_bind(&socket)?;
        Ok(to)
    })();
    let to = match to {
        Ok(to) => to,
        Err(code) => return returned(store_unit(call, P3, ret, Err(code))),
    };
    match try_send(call, &socket, (data, len), to)? {
        Some(result) => {
            if result.is_ok() && !socket.bound {
                socket.bound = true;
                objects::set(index, Object::Udp(socket));
            }
            returned(store_unit(call, P3, ret, result))
        }
        None => pend(call, Op::Send { data, len, to }, index, ret),
    }
}

/// Finishes the `send` waiting on socket object `index` if the socket takes the
/// datagram now: whether it did.
pub(super) fn finish_send(
    call: &Call,
    index: u32,
    data: (u32, u32),
    to: Option<SocketAddr>,
    ret: u32,
) -> HostResult<bool> {
    let Some(Object::Udp(mut socket)) = objects::get(index) else {
        return Err(TrapKind::Unreachable);
    };
    let Some(result) = try_send(call, &socket, data, to)? else {
        return Ok(false);
    };
    if result.is_ok() && !socket.bound {
        socket.bound = true;
        objects::set(index, Object::Udp(socket));
    }
    store_unit(call, P3, ret as i32, result)?;
    Ok(true)
}

/// Receives a datagram on `socket` into the result at `ret` (`result<tuple<list<u8>,
/// ip-socket-address>, error-code>`, the list allocated with the caller's `realloc`):
/// whether one came (or the receive failed).
fn try_receive(call: &Call, socket: &UdpSocket, ret: u32) -> HostResult<bool> {
    let received = loop {
        let received = BUFFER.with(|buffer| {
            let iov = [IoVec {
                base: buffer.as_mut_ptr(),
                len: MAX_DATAGRAM,
            }];
            // SAFETY: the buffer is writable for its length.
            unsafe { socket.desc.recv_from(&iov) }
        });
        match received {
            Err(Errno::INTR) => continue,
            Err(Errno::AGAIN) => return Ok(false),
            other => break other,
        }
    };
    match received {
        Ok((len, from)) => {
            // The copy into the guest's memory calls its `realloc`, which calls no host
            // function: the buffer is not re-entered.
            let (ptr, len) =
                BUFFER.with(|buffer| call.lower_bytes(buffer.get(..len).unwrap_or_default()))?;
            call.store_u8(ret, 0)?;
            call.store_u32(ret + 4, ptr)?;
            call.store_u32(ret + 8, len)?;
            store_address(call, ret + 12, &from)?;
        }
        // The error's case lies where the tuple would: at 4, as in `result<_, _>`.
        Err(err) => store_unit(call, P3, ret as i32, Err(Code::from(err)))?,
    }
    Ok(true)
}

/// `receive`, lowered `async`: a datagram waiting now, or a subtask that finishes
/// when one comes. A socket not bound yet receives nothing: `invalid-state`.
fn receive(call: &Call, handle: i32, ret: i32) -> HostResult<u32> {
    let (index, socket) = socket(call, P3, handle)?;
    if !socket.bound {
        return returned(store_unit(call, P3, ret, Err(Code::INVALID_STATE)));
    }
    if try_receive(call, &socket, ret as u32)? {
        return Ok(super::RETURNED);
    }
    pend(call, Op::Receive, index, ret)
}

/// Finishes the `receive` waiting on socket object `index` if a datagram came: whether
/// one did.
pub(super) fn finish_receive(call: &Call, index: u32, ret: u32) -> HostResult<bool> {
    let Some(Object::Udp(socket)) = objects::get(index) else {
        return Err(TrapKind::Unreachable);
    };
    try_receive(call, &socket, ret)
}

host_fns! {
    /// `[static]udp-socket.create`.
    wafer_p3_sockets_udp_create(family: i32, ret: i32) => |call, family, ret| create(call, P3, family, ret);
    /// `[method]udp-socket.bind`.
    wafer_p3_sockets_udp_bind(handle: i32, a0: i32, a1: i32, a2: i32, a3: i32, a4: i32, a5: i32, a6: i32, a7: i32, a8: i32, a9: i32, a10: i32, a11: i32, ret: i32) => |call, handle, a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, ret| {
        bind(call, handle, [a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11], ret)
    };
    /// `[method]udp-socket.connect`.
    wafer_p3_sockets_udp_connect(handle: i32, a0: i32, a1: i32, a2: i32, a3: i32, a4: i32, a5: i32, a6: i32, a7: i32, a8: i32, a9: i32, a10: i32, a11: i32, ret: i32) => |call, handle, a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, ret| {
        connect(call, handle, [a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11], ret)
    };
    /// `[method]udp-socket.disconnect`.
    wafer_p3_sockets_udp_disconnect(handle: i32, ret: i32) => disconnect;
    /// `[method]udp-socket.send`, lowered `async`.
    wafer_p3_sockets_udp_send(params: i32, ret: i32) -> u32 => send;
    /// `[method]udp-socket.receive`, lowered `async`.
    wafer_p3_sockets_udp_receive(handle: i32, ret: i32) -> u32 => receive;
    /// `[method]udp-socket.get-local-address`.
    wafer_p3_sockets_udp_local_address(handle: i32, ret: i32) => |call, handle, ret| address(call, P3, handle, false, ret);
    /// `[method]udp-socket.get-remote-address`.
    wafer_p3_sockets_udp_remote_address(handle: i32, ret: i32) => |call, handle, ret| address(call, P3, handle, true, ret);
    /// `[method]udp-socket.get-address-family`.
    wafer_p3_sockets_udp_address_family(handle: i32) -> u32 => |call, handle| {
        Ok(u32::from(socket(call, P3, handle)?.1.ipv6))
    };
    /// `[method]udp-socket.get-unicast-hop-limit`.
    wafer_p3_sockets_udp_unicast_hop_limit(handle: i32, ret: i32) => |call, handle, ret| get_option(call, P3, handle, HopLimit, 1, ret);
    /// `[method]udp-socket.set-unicast-hop-limit`.
    wafer_p3_sockets_udp_set_unicast_hop_limit(handle: i32, value: i32, ret: i32) => |call, handle, value: i32, ret| {
        set_option(call, P3, handle, HopLimit, i64::from(value as u8), ret)
    };
    /// `[method]udp-socket.get-receive-buffer-size`.
    wafer_p3_sockets_udp_receive_buffer_size(handle: i32, ret: i32) => |call, handle, ret| get_option(call, P3, handle, ReceiveBuffer, 8, ret);
    /// `[method]udp-socket.set-receive-buffer-size`.
    wafer_p3_sockets_udp_set_receive_buffer_size(handle: i32, value: i64, ret: i32) => |call, handle, value, ret| set_option(call, P3, handle, ReceiveBuffer, value, ret);
    /// `[method]udp-socket.get-send-buffer-size`.
    wafer_p3_sockets_udp_send_buffer_size(handle: i32, ret: i32) => |call, handle, ret| get_option(call, P3, handle, SendBuffer, 8, ret);
    /// `[method]udp-socket.set-send-buffer-size`.
    wafer_p3_sockets_udp_set_send_buffer_size(handle: i32, value: i64, ret: i32) => |call, handle, value, ret| set_option(call, P3, handle, SendBuffer, value, ret);
}
