//! `wasi:sockets/tcp` and `tcp-create-socket`.
//!
//! A socket starts unbound; `start-bind` binds at once (the grants decide), and
//! `finish-bind` completes it; `start-connect` begins a non-blocking connection, whose
//! outcome `finish-connect` reports (`would-block` until there is one); `start-listen`
//! needs a socket bound through a listen grant. Errors of the grants and of the
//! connection are reported by `finish-connect`, as in wasmtime. A connection's streams
//! are host streams on the socket, which they hold.
//!
//! The socket, its checks and its options are shared with `wasi:sockets@0.3`
//! (`super::p3::tcp`), which calls the functions here with its [`Version`]: the same
//! refusals under both, stored in each version's layouts.

use wafer_abi::trap::TrapKind;
use wafer_abi::wasi_p2::resource;

use super::{
    Code, SocketResult, Version, family, family_matches, is_remote, is_unicast, lift_address,
    network, store, store_address_result, store_unit,
};
use crate::host::Descriptor;
use crate::host::net::{Bound, check_bind};
use crate::p2::io::{Stream, Target};
use crate::p2::objects::{self, Object};
use crate::p2::{Call, HostResult, host_fns};
use crate::sys::{Current, Interest, Platform, PollFd, Shutdown, SocketAddr, SocketOption};

/// Where a socket is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum State {
    /// New, maybe bound.
    Default,
    /// A connection is under way.
    Connecting,
    /// Connected (or accepted); its streams handed out.
    Connected,
    /// Listening.
    Listening,
    /// A connection failed: every operation reports why.
    Closed(Code),
}

/// The two-phase operation started and not yet finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operation {
    None,
    Bind,
    Connect,
    Listen,
}

/// A `tcp-socket`.
#[derive(Debug, Clone, Copy)]
pub struct TcpSocket {
    pub(super) desc: Descriptor,
    pub(super) ipv6: bool,
    pub(super) state: State,
    operation: Operation,
    /// How it was bound, once it is.
    pub(super) bound: Option<Bound>,
    /// The queue length for `listen`.
    backlog: u32,
    /// A connection that failed before it began (a refused grant): reported by
    /// `finish-connect`.
    refused: Option<Code>,
    /// 0.3's `receive` (bit 0) and `send` (bit 1) gave their streams: each once.
    pub(super) taken: u8,
}

/// The listen queue when the guest sets none (Rust std's).
const DEFAULT_BACKLOG: u32 = 128;

impl TcpSocket {
    /// A socket in state `state` on `desc`.
    fn new(desc: Descriptor, ipv6: bool, state: State, bound: Option<Bound>) -> TcpSocket {
        TcpSocket {
            desc,
            ipv6,
            state,
            operation: Operation::None,
            bound,
            backlog: DEFAULT_BACKLOG,
            refused: None,
            taken: 0,
        }
    }

    /// The socket's descriptor.
    pub fn descriptor(&self) -> Option<Descriptor> {
        Some(self.desc)
    }

    /// What a pollable on it waits for: a connection to complete, or one to accept.
    pub fn target(&self) -> Target {
        match self.state {
            State::Connecting => Target::Handle(self.desc.handle, Interest::Write),
            State::Listening => Target::Handle(self.desc.handle, Interest::Read),
            _ => Target::Ready,
        }
    }

    /// The descriptor, for an option: not while connecting, nor after a failure.
    fn usable(&self) -> SocketResult<Descriptor> {
        match self.state {
            State::Connecting => Err(Code::INVALID_STATE),
            State::Closed(code) => Err(code),
            _ => Ok(self.desc),
        }
    }
}

/// The socket behind `handle` (a `tcp-socket` of `version`), with its object.
pub(super) fn socket(call: &Call, version: Version, handle: i32) -> HostResult<(u32, TcpSocket)> {
    match call.object(handle as u32, version.tcp_socket())? {
        (index, Object::Tcp(socket)) => Ok((index, socket)),
        _ => Err(TrapKind::InvalidHandle),
    }
}

/// Two stream objects on the socket at `index`: (input, output) handles.
fn streams(call: &Call, index: u32) -> HostResult<(u32, u32)> {
    objects::retain(index);
    let input = call
        .new_object(
            resource::INPUT_STREAM,
            Object::Stream(Stream::Socket { socket: index }),
        )
        .inspect_err(|_| objects::release(index))?;
    objects::retain(index);
    let output = call
        .new_object(
            resource::OUTPUT_STREAM,
            Object::Stream(Stream::Socket { socket: index }),
        )
        .inspect_err(|_| objects::release(index))?;
    Ok((input, output))
}

/// `create-tcp-socket` (0.3's `[static]tcp-socket.create`).
pub(super) fn create(call: &Call, version: Version, family_value: i32, ret: i32) -> HostResult<()> {
    let ipv6 = family(family_value)?;
    let created = match Descriptor::socket(ipv6, false) {
        Ok(desc) => {
            let socket = TcpSocket::new(desc, ipv6, State::Default, None);
            crate::http::server::watch(desc.handle);
            Ok(call
                .new_object(version.tcp_socket(), Object::Tcp(socket))
                .inspect_err(|_| desc.close())?)
        }
        Err(err) => Err(Code::from(err)),
    };
    store(
        call,
        version,
        ret,
        4,
        created.map(|handle| move |at| call.store_u32(at, handle)),
    )
}

/// Binds `socket` to `addr` (unbound and not yet connecting or listening), as the
/// grants allow.
pub(super) fn bind(socket: &mut TcpSocket, addr: &SocketAddr) -> SocketResult {
    if socket.state != State::Default || socket.bound.is_some() {
        return Err(Code::INVALID_STATE);
    }
    if !is_unicast(addr) || !family_matches(addr, socket.ipv6) {
        return Err(Code::INVALID_ARGUMENT);
    }
    socket.bound = Some(socket.desc.bind(addr).map_err(Code::from)?);
    Ok(())
}

/// `start-bind`.
fn start_bind(call: &Call, handle: i32, net: i32, flat: [i32; 12], ret: i32) -> HostResult<()> {
    network(call, net)?;
    let addr = lift_address(flat)?;
    let (index, mut socket) = socket(call, Version::P2, handle)?;
    let result = (|| {
        if socket.operation != Operation::None {
            return Err(Code::CONCURRENCY_CONFLICT);
        }
        bind(&mut socket, &addr)?;
        socket.operation = Operation::Bind;
        objects::set(index, Object::Tcp(socket));
        Ok(())
    })();
    store_unit(call, Version::P2, ret, result)
}

/// Finishes the operation `op`, if it is the one started.
fn finish(call: &Call, handle: i32, op: Operation, ret: i32) -> HostResult<()> {
    let (index, mut socket) = socket(call, Version::P2, handle)?;
    let result = if socket.operation == op {
        socket.operation = Operation::None;
        objects::set(index, Object::Tcp(socket));
        Ok(())
    } else {
        Err(Code::NOT_IN_PROGRESS)
    };
    store_unit(call, Version::P2, ret, result)
}

/// How a connection began.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Started {
    /// It is under way (or made already: its outcome is ready to read).
    Connecting,
    /// The grants refused it, or the platform failed it at once.
    Failed(Code),
}

/// Starts connecting `socket` (unbound or bound, not yet connecting or listening) to
/// `addr`: the socket's state and the address are checked first (an error leaves the
/// socket as it was); then the implicit bind of a client and the address must be
/// granted, and the platform connects without blocking. The socket is `Connecting`
/// either way: how it ends is the caller's to record.
pub(super) fn start_connecting(socket: &mut TcpSocket, addr: &SocketAddr) -> SocketResult<Started> {
    if socket.state != State::Default {
        return Err(Code::INVALID_STATE);
    }
    if !is_unicast(addr) || !is_remote(addr) || !family_matches(addr, socket.ipv6) {
        return Err(Code::INVALID_ARGUMENT);
    }
    socket.state = State::Connecting;
    let unspecified = SocketAddr {
        ipv6: socket.ipv6,
        ..SocketAddr::default()
    };
    let checked = if socket.bound.is_none() {
        check_bind(&unspecified).map(drop)
    } else {
        Ok(())
    };
    Ok(
        match checked.and_then(|()| socket.desc.connect(Some(addr))) {
            Ok(()) => Started::Connecting,
            Err(err) if err.0 == wafer_abi::wasi::errno::INPROGRESS => Started::Connecting,
            Err(err) => Started::Failed(Code::from(err)),
        },
    )
}

/// The outcome of `socket`'s connection under way, if it has one: `Ok` once
/// connected, or how it failed.
pub(super) fn connect_outcome(socket: &TcpSocket) -> Option<SocketResult> {
    let mut fds = [PollFd {
        handle: socket.desc.handle,
        interest: Interest::Write,
        ..PollFd::default()
    }];
    if Current::poll(&mut fds, Some(0)).unwrap_or(1) == 0 {
        return None;
    }
    Some(match socket.desc.socket_error() {
        Ok(None) => Ok(()),
        Ok(Some(err)) | Err(err) => Err(Code::from(err)),
    })
}

/// Records how `socket`'s connection ended.
pub(super) fn connected(socket: &mut TcpSocket, outcome: SocketResult) {
    socket.state = match outcome {
        Ok(()) => State::Connected,
        Err(code) => State::Closed(code),
    };
    if socket.bound.is_none() {
        socket.bound = Some(Bound::Client);
    }
}

/// `start-connect`.
fn start_connect(call: &Call, handle: i32, net: i32, flat: [i32; 12], ret: i32) -> HostResult<()> {
    network(call, net)?;
    let addr = lift_address(flat)?;
    let (index, mut socket) = socket(call, Version::P2, handle)?;
    let result = (|| {
        if socket.operation != Operation::None {
            return Err(Code::CONCURRENCY_CONFLICT);
        }
        if let State::Closed(code) = socket.state {
            return Err(code);
        }
        // A refusal shows at `finish-connect`, as in wasmtime.
        if let Started::Failed(code) = start_connecting(&mut socket, &addr)? {
            socket.refused = Some(code);
        }
        socket.operation = Operation::Connect;
        objects::set(index, Object::Tcp(socket));
        Ok(())
    })();
    store_unit(call, Version::P2, ret, result)
}

/// `finish-connect`: the connection's streams, once it is made.
fn finish_connect(call: &Call, handle: i32, ret: i32) -> HostResult<()> {
    let (index, mut socket) = socket(call, Version::P2, handle)?;
    let outcome = (|| {
        if socket.operation != Operation::Connect {
            return Err(Code::NOT_IN_PROGRESS);
        }
        let outcome = match socket.refused.take() {
            Some(code) => Err(code),
            None => connect_outcome(&socket).ok_or(Code::WOULD_BLOCK)?,
        };
        socket.operation = Operation::None;
        connected(&mut socket, outcome);
        objects::set(index, Object::Tcp(socket));
        outcome
    })();
    let created = match outcome {
        Ok(()) => Ok(streams(call, index)?),
        Err(code) => Err(code),
    };
    store(
        call,
        Version::P2,
        ret,
        4,
        created.map(|(input, output)| {
            move |at: u32| {
                call.store_u32(at, input)?;
                call.store_u32(at + 4, output)
            }
        }),
    )
}

/// Makes `socket` (bound, not yet connecting or listening) listen.
pub(super) fn listen(socket: &mut TcpSocket) -> SocketResult {
    let (State::Default, Some(bound)) = (socket.state, socket.bound) else {
        return Err(Code::INVALID_STATE);
    };
    socket.desc = socket
        .desc
        .listen(bound, socket.backlog)
        .map_err(Code::from)?;
    socket.state = State::Listening;
    Ok(())
}

/// `start-listen`.
fn start_listen(call: &Call, handle: i32, ret: i32) -> HostResult<()> {
    let (index, mut socket) = socket(call, Version::P2, handle)?;
    let result = (|| {
        if socket.operation != Operation::None {
            return Err(Code::CONCURRENCY_CONFLICT);
        }
        // In WASI 0.2 a socket is bound before it listens.
        listen(&mut socket)?;
        socket.operation = Operation::Listen;
        objects::set(index, Object::Tcp(socket));
        Ok(())
    })();
    store_unit(call, Version::P2, ret, result)
}

/// A connection accepted on `listener`, as a socket of its own.
pub(super) fn accept_connection(listener: &TcpSocket) -> SocketResult<TcpSocket> {
    if listener.state != State::Listening {
        return Err(Code::INVALID_STATE);
    }
    let desc = listener.desc.accept(true).map_err(Code::from)?;
    crate::http::server::watch(desc.handle);
    Ok(TcpSocket::new(
        desc,
        listener.ipv6,
        State::Connected,
        Some(Bound::Server),
    ))
}

/// `accept`: a connection and its streams, or `would-block`.
fn accept(call: &Call, handle: i32, ret: i32) -> HostResult<()> {
    let (_, listener) = socket(call, Version::P2, handle)?;
    let created = match accept_connection(&listener) {
        Ok(connection) => {
            let desc = connection.desc;
            let socket = call
                .new_object(resource::TCP_SOCKET, Object::Tcp(connection))
                .inspect_err(|_| desc.close())?;
            let (index, _) = call.object(socket, resource::TCP_SOCKET)?;
            let (input, output) = streams(call, index)?;
            Ok((socket, input, output))
        }
        Err(code) => Err(code),
    };
    store(
        call,
        Version::P2,
        ret,
        4,
        created.map(|(socket, input, output)| {
            move |at: u32| {
                call.store_u32(at, socket)?;
                call.store_u32(at + 4, input)?;
                call.store_u32(at + 8, output)
            }
        }),
    )
}

/// `local-address` and `remote-address`.
pub(super) fn address(
    call: &Call,
    version: Version,
    handle: i32,
    peer: bool,
    ret: i32,
) -> HostResult<()> {
    let (_, socket) = socket(call, version, handle)?;
    let result = match (socket.state, peer) {
        (State::Closed(code), _) => Err(code),
        (State::Connected, true) => socket.desc.socket_address(true).map_err(Code::from),
        (_, true) | (State::Connecting, false) => Err(Code::INVALID_STATE),
        (_, false) if socket.bound.is_none() => Err(Code::INVALID_STATE),
        (_, false) => socket.desc.socket_address(false).map_err(Code::from),
    };
    store_address_result(call, version, ret, result)
}

/// `set-listen-backlog-size`.
pub(super) fn set_backlog(
    call: &Call,
    version: Version,
    handle: i32,
    value: i64,
    ret: i32,
) -> HostResult<()> {
    let (index, mut socket) = socket(call, version, handle)?;
    let result = (|| {
        if value == 0 {
            return Err(Code::INVALID_ARGUMENT);
        }
        let value = (value as u64).min(i32::MAX as u64) as u32;
        match socket.state {
            State::Default => {}
            State::Listening => {
                // Linux changes the queue of a listening socket when asked again.
                Current::listen_on(socket.desc.handle, value).map_err(|_| Code::NOT_SUPPORTED)?;
            }
            State::Closed(code) => return Err(code),
            _ => return Err(Code::INVALID_STATE),
        }
        socket.backlog = value;
        objects::set(index, Object::Tcp(socket));
        Ok(())
    })();
    store_unit(call, version, ret, result)
}

/// Reads an option of the socket behind `handle`.
fn option(
    call: &Call,
    version: Version,
    handle: i32,
    option: SocketOption,
) -> HostResult<SocketResult<i32>> {
    let (_, socket) = socket(call, version, handle)?;
    Ok(socket
        .usable()
        .and_then(|desc| desc.socket_option(option, socket.ipv6).map_err(Code::from)))
}

/// Sets an option of the socket behind `handle`; 0 is `invalid-argument` where `nonzero`.
fn set_option(
    call: &Call,
    version: Version,
    handle: i32,
    option: SocketOption,
    value: i64,
    nonzero: bool,
    ret: i32,
) -> HostResult<()> {
    let (_, socket) = socket(call, version, handle)?;
    let result = (|| {
        if nonzero && value == 0 {
            return Err(Code::INVALID_ARGUMENT);
        }
        let value = value.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32;
        let desc = socket.usable()?;
        match desc.set_socket_option(option, socket.ipv6, value) {
            // A buffer size is a hint: the platform clamps it, as wasmtime lets it.
            Err(err) if err.0 == wafer_abi::wasi::errno::NOBUFS => Ok(()),
            other => other.map_err(Code::from),
        }
    })();
    store_unit(call, version, ret, result)
}

/// Keep-alive times are whole seconds at the platform (at least 1, at most 32767, as
/// Linux takes them): nanoseconds rounded up into that range.
fn keep_alive_seconds(ns: i64) -> i64 {
    ((ns as u64).div_ceil(1_000_000_000)).clamp(1, 32767) as i64
}

/// Stores an option read as `result<T, error-code>` with `T` `width` bytes wide.
fn store_option(
    call: &Call,
    version: Version,
    ret: i32,
    value: SocketResult<i32>,
    width: u32,
    scale: u64,
    halve: bool,
) -> HostResult<()> {
    store(
        call,
        version,
        ret,
        width.max(1),
        value.map(|raw| {
            move |at: u32| {
                let mut value = u64::from(raw.max(0) as u32) * scale;
                if halve {
                    // Linux reports twice the size asked for; wasmtime halves it back.
                    value /= 2;
                }
                match width {
                    1 => call.store_u8(at, value as u8),
                    4 => call.store_u32(at, value as u32),
                    _ => call.store_u64(at, value),
                }
            }
        }),
    )
}

/// `shutdown`.
fn shutdown(call: &Call, handle: i32, how: i32, ret: i32) -> HostResult<()> {
    let how = match how {
        0 => Shutdown::Read,
        1 => Shutdown::Write,
        2 => Shutdown::Both,
        _ => return Err(TrapKind::InvalidDiscriminant),
    };
    let (_, socket) = socket(call, Version::P2, handle)?;
    let result = match socket.state {
        State::Connected => socket.desc.shutdown(Some(how)).map_err(Code::from),
        State::Closed(code) => Err(code),
        _ => Err(Code::INVALID_STATE),
    };
    store_unit(call, Version::P2, ret, result)
}

/// The `tcp-socket` functions whose ABI is the same in 0.2 and 0.3 but for the
/// version's layouts (`get-`-prefixed in 0.3).
pub(super) mod shared {
    use super::*;

    /// `is-listening`.
    pub fn is_listening(call: &Call, version: Version, handle: i32) -> HostResult<u32> {
        Ok(u32::from(
            socket(call, version, handle)?.1.state == State::Listening,
        ))
    }

    /// `address-family`.
    pub fn address_family(call: &Call, version: Version, handle: i32) -> HostResult<u32> {
        Ok(u32::from(socket(call, version, handle)?.1.ipv6))
    }

    /// `keep-alive-enabled`.
    pub fn keep_alive_enabled(
        call: &Call,
        version: Version,
        handle: i32,
        ret: i32,
    ) -> HostResult<()> {
        let value =
            option(call, version, handle, SocketOption::KeepAlive)?.map(|v| i32::from(v != 0));
        store_option(call, version, ret, value, 1, 1, false)
    }

    /// `set-keep-alive-enabled`.
    pub fn set_keep_alive_enabled(
        call: &Call,
        version: Version,
        handle: i32,
        value: i32,
        ret: i32,
    ) -> HostResult<()> {
        set_option(
            call,
            version,
            handle,
            SocketOption::KeepAlive,
            i64::from(value != 0),
            false,
            ret,
        )
    }

    /// `keep-alive-idle-time` and `keep-alive-interval` (`option`), in nanoseconds.
    pub fn keep_alive_time(
        call: &Call,
        version: Version,
        handle: i32,
        option: SocketOption,
        ret: i32,
    ) -> HostResult<()> {
        let value = super::option(call, version, handle, option)?;
        store_option(call, version, ret, value, 8, 1_000_000_000, false)
    }

    /// `set-keep-alive-idle-time` and `set-keep-alive-interval` (`option`).
    pub fn set_keep_alive_time(
        call: &Call,
        version: Version,
        handle: i32,
        option: SocketOption,
        value: i64,
        ret: i32,
    ) -> HostResult<()> {
        let seconds = if value == 0 {
            0
        } else {
            keep_alive_seconds(value)
        };
        set_option(call, version, handle, option, seconds, true, ret)
    }

    /// `keep-alive-count`.
    pub fn keep_alive_count(
        call: &Call,
        version: Version,
        handle: i32,
        ret: i32,
    ) -> HostResult<()> {
        let value = option(call, version, handle, SocketOption::KeepCount)?;
        store_option(call, version, ret, value, 4, 1, false)
    }

    /// `set-keep-alive-count`.
    pub fn set_keep_alive_count(
        call: &Call,
        version: Version,
        handle: i32,
        value: i32,
        ret: i32,
    ) -> HostResult<()> {
        // Linux takes at most 127 probes.
        let count = i64::from(value as u32).min(127);
        set_option(
            call,
            version,
            handle,
            SocketOption::KeepCount,
            count,
            true,
            ret,
        )
    }

    /// `hop-limit`.
    pub fn hop_limit(call: &Call, version: Version, handle: i32, ret: i32) -> HostResult<()> {
        let value = option(call, version, handle, SocketOption::HopLimit)?;
        store_option(call, version, ret, value, 1, 1, false)
    }

    /// `set-hop-limit`.
    pub fn set_hop_limit(
        call: &Call,
        version: Version,
        handle: i32,
        value: i32,
        ret: i32,
    ) -> HostResult<()> {
        set_option(
            call,
            version,
            handle,
            SocketOption::HopLimit,
            i64::from(value as u8),
            true,
            ret,
        )
    }

    /// `receive-buffer-size` and `send-buffer-size` (`option`).
    pub fn buffer_size(
        call: &Call,
        version: Version,
        handle: i32,
        option: SocketOption,
        ret: i32,
    ) -> HostResult<()> {
        let value = super::option(call, version, handle, option)?;
        store_option(call, version, ret, value, 8, 1, true)
    }

    /// `set-receive-buffer-size` and `set-send-buffer-size` (`option`).
    pub fn set_buffer_size(
        call: &Call,
        version: Version,
        handle: i32,
        option: SocketOption,
        value: i64,
        ret: i32,
    ) -> HostResult<()> {
        set_option(call, version, handle, option, value, true, ret)
    }
}

use SocketOption::{KeepIdle, KeepInterval, ReceiveBuffer, SendBuffer};
use Version::P2;
use shared::*;

host_fns! {
    /// `wasi:sockets/tcp-create-socket.create-tcp-socket`.
    wafer_p2_sockets_create_tcp_socket(family: i32, ret: i32) => |call, family, ret| create(call, P2, family, ret);
    /// `[method]tcp-socket.start-bind`.
    wafer_p2_sockets_tcp_start_bind(handle: i32, net: i32, a0: i32, a1: i32, a2: i32, a3: i32, a4: i32, a5: i32, a6: i32, a7: i32, a8: i32, a9: i32, a10: i32, a11: i32, ret: i32) => |call, handle, net, a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, ret| {
        start_bind(call, handle, net, [a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11], ret)
    };
    /// `[method]tcp-socket.finish-bind`.
    wafer_p2_sockets_tcp_finish_bind(handle: i32, ret: i32) => |call, handle, ret| finish(call, handle, Operation::Bind, ret);
    /// `[method]tcp-socket.start-connect`.
    wafer_p2_sockets_tcp_start_connect(handle: i32, net: i32, a0: i32, a1: i32, a2: i32, a3: i32, a4: i32, a5: i32, a6: i32, a7: i32, a8: i32, a9: i32, a10: i32, a11: i32, ret: i32) => |call, handle, net, a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, ret| {
        start_connect(call, handle, net, [a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11], ret)
    };
    /// `[method]tcp-socket.finish-connect`.
    wafer_p2_sockets_tcp_finish_connect(handle: i32, ret: i32) => finish_connect;
    /// `[method]tcp-socket.start-listen`.
    wafer_p2_sockets_tcp_start_listen(handle: i32, ret: i32) => start_listen;
    /// `[method]tcp-socket.finish-listen`.
    wafer_p2_sockets_tcp_finish_listen(handle: i32, ret: i32) => |call, handle, ret| finish(call, handle, Operation::Listen, ret);
    /// `[method]tcp-socket.accept`.
    wafer_p2_sockets_tcp_accept(handle: i32, ret: i32) => accept;
    /// `[method]tcp-socket.local-address`.
    wafer_p2_sockets_tcp_local_address(handle: i32, ret: i32) => |call, handle, ret| address(call, P2, handle, false, ret);
    /// `[method]tcp-socket.remote-address`.
    wafer_p2_sockets_tcp_remote_address(handle: i32, ret: i32) => |call, handle, ret| address(call, P2, handle, true, ret);
    /// `[method]tcp-socket.is-listening`.
    wafer_p2_sockets_tcp_is_listening(handle: i32) -> u32 => |call, handle| is_listening(call, P2, handle);
    /// `[method]tcp-socket.address-family`.
    wafer_p2_sockets_tcp_address_family(handle: i32) -> u32 => |call, handle| address_family(call, P2, handle);
    /// `[method]tcp-socket.set-listen-backlog-size`.
    wafer_p2_sockets_tcp_set_listen_backlog_size(handle: i32, value: i64, ret: i32) => |call, handle, value, ret| set_backlog(call, P2, handle, value, ret);
    /// `[method]tcp-socket.keep-alive-enabled`.
    wafer_p2_sockets_tcp_keep_alive_enabled(handle: i32, ret: i32) => |call, handle, ret| keep_alive_enabled(call, P2, handle, ret);
    /// `[method]tcp-socket.set-keep-alive-enabled`.
    wafer_p2_sockets_tcp_set_keep_alive_enabled(handle: i32, value: i32, ret: i32) => |call, handle, value, ret| set_keep_alive_enabled(call, P2, handle, value, ret);
    /// `[method]tcp-socket.keep-alive-idle-time`.
    wafer_p2_sockets_tcp_keep_alive_idle_time(handle: i32, ret: i32) => |call, handle, ret| keep_alive_time(call, P2, handle, KeepIdle, ret);
    /// `[method]tcp-socket.set-keep-alive-idle-time`.
    wafer_p2_sockets_tcp_set_keep_alive_idle_time(handle: i32, value: i64, ret: i32) => |call, handle, value, ret| set_keep_alive_time(call, P2, handle, KeepIdle, value, ret);
    /// `[method]tcp-socket.keep-alive-interval`.
    wafer_p2_sockets_tcp_keep_alive_interval(handle: i32, ret: i32) => |call, handle, ret| keep_alive_time(call, P2, handle, KeepInterval, ret);
    /// `[method]tcp-socket.set-keep-alive-interval`.
    wafer_p2_sockets_tcp_set_keep_alive_interval(handle: i32, value: i64, ret: i32) => |call, handle, value, ret| set_keep_alive_time(call, P2, handle, KeepInterval, value, ret);
    /// `[method]tcp-socket.keep-alive-count`.
    wafer_p2_sockets_tcp_keep_alive_count(handle: i32, ret: i32) => |call, handle, ret| keep_alive_count(call, P2, handle, ret);
    /// `[method]tcp-socket.set-keep-alive-count`.
    wafer_p2_sockets_tcp_set_keep_alive_count(handle: i32, value: i32, ret: i32) => |call, handle, value, ret| set_keep_alive_count(call, P2, handle, value, ret);
    /// `[method]tcp-socket.hop-limit`.
    wafer_p2_sockets_tcp_hop_limit(handle: i32, ret: i32) => |call, handle, ret| hop_limit(call, P2, handle, ret);
    /// `[method]tcp-socket.set-hop-limit`.
    wafer_p2_sockets_tcp_set_hop_limit(handle: i32, value: i32, ret: i32) => |call, handle, value, ret| set_hop_limit(call, P2, handle, value, ret);
    /// `[method]tcp-socket.receive-buffer-size`.
    wafer_p2_sockets_tcp_receive_buffer_size(handle: i32, ret: i32) => |call, handle, ret| buffer_size(call, P2, handle, ReceiveBuffer, ret);
    /// `[method]tcp-socket.set-receive-buffer-size`.
    wafer_p2_sockets_tcp_set_receive_buffer_size(handle: i32, value: i64, ret: i32) => |call, handle, value, ret| set_buffer_size(call, P2, handle, ReceiveBuffer, value, ret);
    /// `[method]tcp-socket.send-buffer-size`.
    wafer_p2_sockets_tcp_send_buffer_size(handle: i32, ret: i32) => |call, handle, ret| buffer_size(call, P2, handle, SendBuffer, ret);
    /// `[method]tcp-socket.set-send-buffer-size`.
    wafer_p2_sockets_tcp_set_send_buffer_size(handle: i32, value: i64, ret: i32) => |call, handle, value, ret| set_buffer_size(call, P2, handle, SendBuffer, value, ret);
    /// `[method]tcp-socket.subscribe`.
    wafer_p2_sockets_tcp_subscribe(handle: i32) -> u32 => |call, handle| {
        crate::p2::io::subscribe(call, handle, resource::TCP_SOCKET, Interest::Read)
    };
    /// `[method]tcp-socket.shutdown`.
    wafer_p2_sockets_tcp_shutdown(handle: i32, how: i32, ret: i32) => shutdown;
}
