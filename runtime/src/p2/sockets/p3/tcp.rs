//! `wasi:sockets/types@0.3.tcp-socket` over 0.2's socket (`super::super::tcp`): the
//! same state machine, without its two phases. `connect` is `async` and waits for the
//! connection as a host subtask; `listen` binds an unbound socket itself (as wasmtime
//! does) and gives the `stream<tcp-socket>` of what it accepts; `send` and `receive`
//! give a connection's two byte streams, each once.

use wafer_abi::trap::TrapKind;
use wafer_abi::wasi_p2::resource;

use super::super::tcp::{
    self as shared_tcp, Started, State, accept_connection, address, connect_outcome, connected,
    create, set_backlog, shared::*, socket, start_connecting,
};
use super::super::{Code, SocketResult, Version, lift_address, load_address, store, store_unit};
use super::{Op, SocketEnd, pend, returned};
use crate::component::streams::{socket_sink, socket_source};
use crate::host::net::{Bound, check_bind};
use crate::p2::objects::{self, Object};
use crate::p2::{Call, Copied, HostResult, Params, host_fns};
use crate::sys::SocketAddr;
use crate::sys::SocketOption::{KeepIdle, KeepInterval, ReceiveBuffer, SendBuffer};

use Version::P3;

/// `receive` gave its stream.
const RECEIVE_TAKEN: u8 = 1;
/// `send` took one.
const SEND_TAKEN: u8 = 2;

/// `bind`.
fn bind(call: &Call, handle: i32, flat: [i32; 12], ret: i32) -> HostResult<()> {
    let addr = lift_address(flat)?;
    let (index, mut socket) = socket(call, P3, handle)?;
    let result = shared_tcp::bind(&mut socket, &addr);
    if result.is_ok() {
        objects::set(index, Object::Tcp(socket));
    }
    store_unit(call, P3, ret, result)
}

/// `connect`, lowered `async`: `(self, ip-socket-address)` at `params`. Checks fail at
/// once and leave the socket as it was; a refused or failed connection leaves it
/// closed with that error; a connection under way is a subtask that finishes when the
/// socket is writable.
fn connect(call: &Call, params: i32, ret: i32) -> HostResult<u32> {
    let p = Params::new(call, params, 36, 4)?;
    let addr = load_address(call, params as u32 + 4)?;
    let (index, mut socket) = socket(call, P3, p.i32(0)?)?;
    let outcome = match start_connecting(&mut socket, &addr) {
        Err(code) => return returned(store_unit(call, P3, ret, Err(code))),
        Ok(Started::Failed(code)) => Some(Err(code)),
        Ok(Started::Connecting) => connect_outcome(&socket),
    };
    if let Some(outcome) = outcome {
        connected(&mut socket, outcome);
    }
    objects::set(index, Object::Tcp(socket));
    match outcome {
        Some(outcome) => returned(store_unit(call, P3, ret, outcome)),
        None => pend(call, Op::Connect, index, ret),
    }
}

/// Finishes the `connect` waiting on socket object `index` if its connection has an
/// outcome: whether it had.
pub(super) fn finish_connect(call: &Call, index: u32, ret: u32) -> HostResult<bool> {
    let Some(Object::Tcp(mut socket)) = objects::get(index) else {
        return Err(TrapKind::Unreachable);
    };
    let Some(outcome) = connect_outcome(&socket) else {
        return Ok(false);
    };
    connected(&mut socket, outcome);
    objects::set(index, Object::Tcp(socket));
    store_unit(call, P3, ret as i32, outcome)?;
    Ok(true)
}

/// `listen`: `result<stream<tcp-socket>, error-code>` through `ret`. An unbound socket
/// is bound to the unspecified address first, which needs a grant to listen there.
fn listen(call: &Call, handle: i32, ret: i32) -> HostResult<()> {
    let (index, mut socket) = socket(call, P3, handle)?;
    let result = (|| -> SocketResult {
        if socket.state != State::Default {
            return Err(Code::INVALID_STATE);
        }
        if socket.bound.is_none() {
            let unspecified = SocketAddr {
                ipv6: socket.ipv6,
                ..SocketAddr::default()
            };
            // Checked before anything is bound: a client's bind may not listen.
            if check_bind(&unspecified).map_err(Code::from)? != Bound::Server {
                return Err(Code::ACCESS_DENIED);
            }
            socket.bound = Some(socket.desc.bind(&unspecified).map_err(Code::from)?);
        }
        shared_tcp::listen(&mut socket)
    })();
    objects::set(index, Object::Tcp(socket));
    let stream = match result {
        Ok(()) => {
            objects::retain(index);
            let (stream, _) =
                socket_source(call.instance(), SocketEnd::Accept { socket: index }, false)
                    .inspect_err(|_| objects::release(index))?;
            Ok(stream)
        }
        Err(code) => Err(code),
    };
    store(
        call,
        P3,
        ret,
        4,
        stream.map(|stream| move |at| call.store_u32(at, stream)),
    )
}

/// Takes stream `bit` of socket `index` (connected): the socket, held once more for
/// the stream, or why there is none.
fn take_stream(index: u32, mut socket: shared_tcp::TcpSocket, bit: u8) -> Result<u32, u8> {
    match socket.state {
        State::Connected if socket.taken & bit == 0 => {
            socket.taken |= bit;
            objects::set(index, Object::Tcp(socket));
            objects::retain(index);
            Ok(index)
        }
        State::Closed(code) => Err(P3.case(code)),
        _ => Err(P3.case(Code::INVALID_STATE)),
    }
}

/// `send`: the host sends what the guest writes to stream `data`; the future of the
/// outcome. A socket that cannot send gives a future of its error, and `data` is
/// dropped.
fn send(call: &Call, handle: i32, data: i32) -> HostResult<u32> {
    let (index, socket) = socket(call, P3, handle)?;
    let sink = take_stream(index, socket, SEND_TAKEN).map(|socket| SocketEnd::Send { socket });
    socket_sink(call.instance(), data as u32, sink)
}

/// `receive`: the stream of what the socket receives and the future of its outcome,
/// through `ret`. A socket that cannot receive gives a stream that has ended and a
/// future of its error.
fn receive(call: &Call, handle: i32, ret: i32) -> HostResult<()> {
    let (index, socket) = socket(call, P3, handle)?;
    let source = take_stream(index, socket, RECEIVE_TAKEN);
    let (stream, future) = match source {
        Ok(socket) => socket_source(call.instance(), SocketEnd::Receive { socket }, true)
            .inspect_err(|_| objects::release(socket))?,
        Err(code) => crate::component::streams::socket_failed_source(call.instance(), code)?,
    };
    call.store_u32(ret as u32, stream)?;
    call.store_u32(ret as u32 + 4, future.unwrap_or_default())
}

/// Accepts up to `count` connections on listener object `listener` into the guest
/// buffer at `ptr` (a `stream<tcp-socket>` read by the instance of `call`), each a new
/// own handle: `None` when none is waiting.
pub(super) fn accept_into(
    call: &Call,
    listener: u32,
    ptr: u32,
    count: u32,
) -> Result<Option<Copied>, TrapKind> {
    let Some(Object::Tcp(socket)) = objects::get(listener) else {
        return Err(TrapKind::Unreachable);
    };
    let mut accepted = 0;
    while accepted < count {
        // A failed accept (nothing waiting, or a connection reset before it was
        // taken) gives nothing: the stream waits for the next.
        let Ok(connection) = accept_connection(&socket) else {
            break;
        };
        let desc = connection.desc;
        let handle = call
            .new_object(resource::TCP_SOCKET_P3, Object::Tcp(connection))
            .inspect_err(|_| desc.close())?;
        call.store_u32(ptr + 4 * accepted, handle)?;
        accepted += 1;
    }
    Ok((accepted > 0).then_some(Copied {
        count: accepted,
        end: None,
    }))
}

host_fns! {
    /// `[static]tcp-socket.create`.
    wafer_p3_sockets_tcp_create(family: i32, ret: i32) => |call, family, ret| create(call, P3, family, ret);
    /// `[method]tcp-socket.bind`.
    wafer_p3_sockets_tcp_bind(handle: i32, a0: i32, a1: i32, a2: i32, a3: i32, a4: i32, a5: i32, a6: i32, a7: i32, a8: i32, a9: i32, a10: i32, a11: i32, ret: i32) => |call, handle, a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, ret| {
        bind(call, handle, [a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11], ret)
    };
    /// `[method]tcp-socket.connect`, lowered `async`.
    wafer_p3_sockets_tcp_connect(params: i32, ret: i32) -> u32 => connect;
    /// `[method]tcp-socket.listen`.
    wafer_p3_sockets_tcp_listen(handle: i32, ret: i32) => listen;
    /// `[method]tcp-socket.send`.
    wafer_p3_sockets_tcp_send(handle: i32, data: i32) -> u32 => send;
    /// `[method]tcp-socket.receive`.
    wafer_p3_sockets_tcp_receive(handle: i32, ret: i32) => receive;
    /// `[method]tcp-socket.get-local-address`.
    wafer_p3_sockets_tcp_local_address(handle: i32, ret: i32) => |call, handle, ret| address(call, P3, handle, false, ret);
    /// `[method]tcp-socket.get-remote-address`.
    wafer_p3_sockets_tcp_remote_address(handle: i32, ret: i32) => |call, handle, ret| address(call, P3, handle, true, ret);
    /// `[method]tcp-socket.get-is-listening`.
    wafer_p3_sockets_tcp_is_listening(handle: i32) -> u32 => |call, handle| is_listening(call, P3, handle);
    /// `[method]tcp-socket.get-address-family`.
    wafer_p3_sockets_tcp_address_family(handle: i32) -> u32 => |call, handle| address_family(call, P3, handle);
    /// `[method]tcp-socket.set-listen-backlog-size`.
    wafer_p3_sockets_tcp_set_listen_backlog_size(handle: i32, value: i64, ret: i32) => |call, handle, value, ret| set_backlog(call, P3, handle, value, ret);
    /// `[method]tcp-socket.get-keep-alive-enabled`.
    wafer_p3_sockets_tcp_keep_alive_enabled(handle: i32, ret: i32) => |call, handle, ret| keep_alive_enabled(call, P3, handle, ret);
    /// `[method]tcp-socket.set-keep-alive-enabled`.
    wafer_p3_sockets_tcp_set_keep_alive_enabled(handle: i32, value: i32, ret: i32) => |call, handle, value, ret| set_keep_alive_enabled(call, P3, handle, value, ret);
    /// `[method]tcp-socket.get-keep-alive-idle-time`.
    wafer_p3_sockets_tcp_keep_alive_idle_time(handle: i32, ret: i32) => |call, handle, ret| keep_alive_time(call, P3, handle, KeepIdle, ret);
    /// `[method]tcp-socket.set-keep-alive-idle-time`.
    wafer_p3_sockets_tcp_set_keep_alive_idle_time(handle: i32, value: i64, ret: i32) => |call, handle, value, ret| set_keep_alive_time(call, P3, handle, KeepIdle, value, ret);
    /// `[method]tcp-socket.get-keep-alive-interval`.
    wafer_p3_sockets_tcp_keep_alive_interval(handle: i32, ret: i32) => |call, handle, ret| keep_alive_time(call, P3, handle, KeepInterval, ret);
    /// `[method]tcp-socket.set-keep-alive-interval`.
    wafer_p3_sockets_tcp_set_keep_alive_interval(handle: i32, value: i64, ret: i32) => |call, handle, value, ret| set_keep_alive_time(call, P3, handle, KeepInterval, value, ret);
    /// `[method]tcp-socket.get-keep-alive-count`.
    wafer_p3_sockets_tcp_keep_alive_count(handle: i32, ret: i32) => |call, handle, ret| keep_alive_count(call, P3, handle, ret);
    /// `[method]tcp-socket.set-keep-alive-count`.
    wafer_p3_sockets_tcp_set_keep_alive_count(handle: i32, value: i32, ret: i32) => |call, handle, value, ret| set_keep_alive_count(call, P3, handle, value, ret);
    /// `[method]tcp-socket.get-hop-limit`.
    wafer_p3_sockets_tcp_hop_limit(handle: i32, ret: i32) => |call, handle, ret| hop_limit(call, P3, handle, ret);
    /// `[method]tcp-socket.set-hop-limit`.
    wafer_p3_sockets_tcp_set_hop_limit(handle: i32, value: i32, ret: i32) => |call, handle, value, ret| set_hop_limit(call, P3, handle, value, ret);
    /// `[method]tcp-socket.get-receive-buffer-size`.
    wafer_p3_sockets_tcp_receive_buffer_size(handle: i32, ret: i32) => |call, handle, ret| buffer_size(call, P3, handle, ReceiveBuffer, ret);
    /// `[method]tcp-socket.set-receive-buffer-size`.
    wafer_p3_sockets_tcp_set_receive_buffer_size(handle: i32, value: i64, ret: i32) => |call, handle, value, ret| set_buffer_size(call, P3, handle, ReceiveBuffer, value, ret);
    /// `[method]tcp-socket.get-send-buffer-size`.
    wafer_p3_sockets_tcp_send_buffer_size(handle: i32, ret: i32) => |call, handle, ret| buffer_size(call, P3, handle, SendBuffer, ret);
    /// `[method]tcp-socket.set-send-buffer-size`.
    wafer_p3_sockets_tcp_set_send_buffer_size(handle: i32, value: i64, ret: i32) => |call, handle, value, ret| set_buffer_size(call, P3, handle, SendBuffer, value, ret);
}
