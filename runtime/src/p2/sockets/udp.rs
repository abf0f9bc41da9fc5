//! `wasi:sockets/udp` and `udp-create-socket`.
//!
//! A socket is bound first (`start-bind`, as the grants allow), then `stream` gives its
//! datagram streams, optionally connected to one remote address (which must be granted).
//! Every datagram sent to an address goes through the host core's check of that address.
//!
//! The socket, its checks and its options are shared with `wasi:sockets@0.3`
//! (`super::p3::udp`), which calls the functions here with its [`Version`].

use wafer_abi::trap::TrapKind;
use wafer_abi::wasi_p2::resource;

use super::{
    Code, SocketResult, Version, family, family_matches, is_remote, is_unicast, lift_address,
    load_address, network, store, store_address, store_address_result, store_unit,
};
use crate::errno::Errno;
use crate::global::Global;
use crate::host::Descriptor;
use crate::p2::io::{Target, descriptor_of};
use crate::p2::objects::{self, Object};
use crate::p2::{Call, HostResult, host_fns};
use crate::sys::{Interest, IoVec, SocketAddr, SocketOption};

/// A `udp-socket`.
#[derive(Debug, Clone, Copy)]
pub struct UdpSocket {
    pub(super) desc: Descriptor,
    pub(super) ipv6: bool,
    /// Bound (by `start-bind`, or implicitly by a 0.3 `connect` or `send`).
    pub(super) bound: bool,
    /// `start-bind` done, `finish-bind` not yet.
    binding: bool,
    /// The remote address of the streams, when connected.
    pub(super) remote: Option<SocketAddr>,
}

impl UdpSocket {
    /// The socket's descriptor.
    pub fn descriptor(&self) -> Option<Descriptor> {
        Some(self.desc)
    }
}

/// An `incoming-datagram-stream` or `outgoing-datagram-stream`.
#[derive(Debug, Clone, Copy)]
pub struct Datagrams {
    /// The socket's object, which the stream holds.
    pub socket: u32,
    /// Sending (else receiving).
    outgoing: bool,
    /// The address the streams are connected to, if any.
    remote: Option<SocketAddr>,
}

impl Datagrams {
    /// What a pollable on it waits for.
    pub fn target(&self) -> Target {
        match descriptor_of(self.socket) {
            Some(desc) if self.outgoing => Target::Handle(desc.handle, Interest::Write),
            Some(desc) => Target::Handle(desc.handle, Interest::Read),
            None => Target::Ready,
        }
    }
}

/// The most datagrams one `receive` or `check-send` allows.
const BATCH: usize = 16;

/// A datagram's largest payload (IPv4's, which IPv6 matches without jumbograms).
pub(super) const MAX_DATAGRAM: usize = 65_536;

/// Where `receive` reads a datagram before the guest's memory has room for it: larger
/// than the stack a host call may use.
pub(super) static BUFFER: Global<[u8; MAX_DATAGRAM]> = Global::new([0; MAX_DATAGRAM]);

/// The socket behind `handle` (a `udp-socket` of `version`), with its object.
pub(super) fn socket(call: &Call, version: Version, handle: i32) -> HostResult<(u32, UdpSocket)> {
    match call.object(handle as u32, version.udp_socket())? {
        (index, Object::Udp(socket)) => Ok((index, socket)),
        _ => Err(TrapKind::InvalidHandle),
    }
}

/// The datagram stream behind `handle` (of type `ty`), with its socket.
fn datagrams(call: &Call, handle: i32, ty: u32) -> HostResult<(Datagrams, Descriptor)> {
    match call.object(handle as u32, ty)? {
        (_, Object::Datagrams(streams)) => match descriptor_of(streams.socket) {
            Some(desc) => Ok((streams, desc)),
            None => Err(TrapKind::InvalidHandle),
        },
        _ => Err(TrapKind::InvalidHandle),
    }
}

/// `create-udp-socket` (0.3's `[static]udp-socket.create`).
pub(super) fn create(call: &Call, version: Version, family_value: i32, ret: i32) -> HostResult<()> {
    let ipv6 = family(family_value)?;
    let created = match Descriptor::socket(ipv6, true) {
        Ok(desc) => {
            let socket = UdpSocket {
                desc,
                ipv6,
                bound: false,
                binding: false,
                remote: None,
            };
            crate::http::server::watch(desc.handle);
            Ok(call
                .new_object(version.udp_socket(), Object::Udp(socket))
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

/// Binds `socket` (unbound) to `addr`, as the grants allow.
pub(super) fn bind(socket: &mut UdpSocket, addr: &SocketAddr) -> SocketResult {
    if socket.bound {
        return Err(Code::INVALID_STATE);
    }
    if !is_unicast(addr) || !family_matches(addr, socket.ipv6) {
        return Err(Code::INVALID_ARGUMENT);
    }
    socket.desc.bind(addr).map_err(Code::from)?;
    socket.bound = true;
    Ok(())
}

/// `start-bind`.
fn start_bind(call: &Call, handle: i32, net: i32, flat: [i32; 12], ret: i32) -> HostResult<()> {
    network(call, net)?;
    let addr = lift_address(flat)?;
    let (index, mut socket) = socket(call, Version::P2, handle)?;
    let result = (|| {
        if socket.binding {
            return Err(Code::CONCURRENCY_CONFLICT);
        }
        bind(&mut socket, &addr)?;
        socket.binding = true;
        objects::set(index, Object::Udp(socket));
        Ok(())
    })();
    store_unit(call, Version::P2, ret, result)
}

/// `finish-bind`.
fn finish_bind(call: &Call, handle: i32, ret: i32) -> HostResult<()> {
    let (index, mut socket) = socket(call, Version::P2, handle)?;
    let result = if socket.binding {
        socket.binding = false;
        objects::set(index, Object::Udp(socket));
        Ok(())
    } else {
        Err(Code::NOT_IN_PROGRESS)
    };
    store_unit(call, Version::P2, ret, result)
}

/// `stream`: the datagram streams, connected to `remote` if given.
fn stream(call: &Call, handle: i32, has_remote: i32, flat: [i32; 12], ret: i32) -> HostResult<()> {
    let remote = match has_remote {
        0 => None,
        1 => Some(lift_address(flat)?),
        _ => return Err(TrapKind::InvalidDiscriminant),
    };
    let (index, mut socket) = socket(call, Version::P2, handle)?;
    let connected = (|| {
        if !socket.bound {
            return Err(Code::INVALID_STATE);
        }
        match &remote {
            Some(addr) => {
                if !is_unicast(addr) || !is_remote(addr) || !family_matches(addr, socket.ipv6) {
                    return Err(Code::INVALID_ARGUMENT);
                }
                socket.desc.connect(Some(addr)).map_err(Code::from)?;
            }
            None if socket.remote.is_some() => {
                socket.desc.connect(None).map_err(Code::from)?;
            }
            None => {}
        }
        socket.remote = remote;
        objects::set(index, Object::Udp(socket));
        Ok(())
    })();
    let created = match connected {
        Ok(()) => {
            let mut made = [0u32; 2];
            for (slot, outgoing) in made.iter_mut().zip([false, true]) {
                let ty = if outgoing {
                    resource::OUTGOING_DATAGRAM_STREAM
                } else {
                    resource::INCOMING_DATAGRAM_STREAM
                };
                objects::retain(index);
                let streams = Datagrams {
                    socket: index,
                    outgoing,
                    remote,
                };
                *slot = call
                    .new_object(ty, Object::Datagrams(streams))
                    .inspect_err(|_| objects::release(index))?;
            }
            Ok(made)
        }
        Err(code) => Err(code),
    };
    store(
        call,
        Version::P2,
        ret,
        4,
        created.map(|[incoming, outgoing]| {
            move |at: u32| {
                call.store_u32(at, incoming)?;
                call.store_u32(at + 4, outgoing)
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
    let result = match (peer, socket.remote) {
        (true, Some(remote)) => Ok(remote),
        (true, None) => Err(Code::INVALID_STATE),
        (false, _) if !socket.bound => Err(Code::INVALID_STATE),
        (false, _) => socket.desc.socket_address(false).map_err(Code::from),
    };
    store_address_result(call, version, ret, result)
}

/// `[method]incoming-datagram-stream.receive`: up to `max` datagrams waiting now.
fn receive(call: &Call, handle: i32, max: i64, ret: i32) -> HostResult<()> {
    let (_, desc) = datagrams(call, handle, resource::INCOMING_DATAGRAM_STREAM)?;
    let want = (max as u64).min(BATCH as u64) as usize;
    let mut got: [(u32, u32, SocketAddr); BATCH] = [(0, 0, SocketAddr::default()); BATCH];
    let mut count = 0;
    let mut failed = None;
    while count < want {
        let received = BUFFER.with(|buffer| {
            let iov = [IoVec {
                base: buffer.as_mut_ptr(),
                len: buffer.len(),
            }];
            // SAFETY: the buffer is writable for its length.
            unsafe { desc.recv_from(&iov) }
        });
        let (len, from) = match received {
            Ok(datagram) => datagram,
            Err(Errno::AGAIN) => break,
            Err(Errno::INTR) => continue,
            Err(err) => {
                failed = Some(Code::from(err));
                break;
            }
        };
        // The copy into the guest's memory calls its `realloc`, which calls no host
        // function: the buffer is not re-entered.
        let lowered =
            BUFFER.with(|buffer| call.lower_bytes(buffer.get(..len).unwrap_or_default()))?;
        if let Some(slot) = got.get_mut(count) {
            *slot = (lowered.0, lowered.1, from);
        }
        count += 1;
    }
    let result = match failed {
        Some(code) if count == 0 => Err(code),
        _ => Ok(()),
    };
    let lowered = match result {
        Ok(()) => {
            let array = call.allocate(4, 40 * count as u32)?;
            for (i, (ptr, len, from)) in got.iter().take(count).enumerate() {
                let at = array + 40 * i as u32;
                call.store_u32(at, *ptr)?;
                call.store_u32(at + 4, *len)?;
                store_address(call, at + 8, from)?;
            }
            Ok((array, count as u32))
        }
        Err(code) => Err(code),
    };
    store(
        call,
        Version::P2,
        ret,
        4,
        lowered.map(|(array, count)| {
            move |at: u32| {
                call.store_u32(at, array)?;
                call.store_u32(at + 4, count)
            }
        }),
    )
}

/// `[method]outgoing-datagram-stream.send`: sends each datagram; returns how many went.
fn send(call: &Call, handle: i32, list: i32, len: i32, ret: i32) -> HostResult<()> {
    let (streams, desc) = datagrams(call, handle, resource::OUTGOING_DATAGRAM_STREAM)?;
    let (list, len) = (list as u32, len as u32);
    if !list.is_multiple_of(4) {
        return Err(TrapKind::UnalignedPointer);
    }
    call.memory()
        .range(list, len.checked_mul(44).ok_or(TrapKind::ListOutOfBounds)?)
        .map_err(|_| TrapKind::ListOutOfBounds)?;
    let ipv6 = match objects::get(streams.socket) {
        Some(Object::Udp(socket)) => socket.ipv6,
        _ => return Err(TrapKind::InvalidHandle),
    };
    let mut sent = 0u64;
    let mut failed = None;
    for i in 0..len {
        let at = list + 44 * i;
        let memory = call.memory();
        let fault = |_| TrapKind::MemoryOutOfBounds;
        let (data, data_len) = (
            memory.read_u32(at).map_err(fault)?,
            memory.read_u32(at + 4).map_err(fault)?,
        );
        let [has_remote] = memory.read::<1>(at + 8).map_err(fault)?;
        let remote = match has_remote {
            0 => None,
            1 => Some(load_address(call, at + 12)?),
            _ => return Err(TrapKind::InvalidDiscriminant),
        };
        let base = memory
            .range(data, data_len)
            .map_err(|_| TrapKind::ListOutOfBounds)?;
        let to = match (streams.remote, remote) {
            (Some(connected), Some(addr)) if connected != addr => Err(Code::INVALID_ARGUMENT),
            (Some(_), _) => Ok(None),
            (None, None) => Err(Code::INVALID_ARGUMENT),
            (None, Some(addr)) => {
                if is_unicast(&addr) && is_remote(&addr) && family_matches(&addr, ipv6) {
                    Ok(Some(addr))
                } else {
                    Err(Code::INVALID_ARGUMENT)
                }
            }
        };
        let iov = [IoVec {
            base,
            len: data_len as usize,
        }];
        // SAFETY: `range` checked the guest buffer, which a send only reads.
        let result =
            to.and_then(|to| unsafe { desc.send_to(&iov, to.as_ref()) }.map_err(Code::from));
        match result {
            Ok(_) => sent += 1,
            Err(code) => {
                failed = Some(code);
                break;
            }
        }
    }
    // Once a datagram went, the call succeeds with the count.
    let result = match failed {
        Some(code) if sent == 0 => Err(code),
        _ => Ok(sent),
    };
    store(
        call,
        Version::P2,
        ret,
        8,
        result.map(|sent| move |at| call.store_u64(at, sent)),
    )
}

/// Reads an option of the socket behind `handle`, as `result<T, error-code>` `width`
/// bytes wide (buffer sizes halved back, as wasmtime reports them on Linux).
pub(super) fn get_option(
    call: &Call,
    version: Version,
    handle: i32,
    option: SocketOption,
    width: u32,
    ret: i32,
) -> HostResult<()> {
    let (_, socket) = socket(call, version, handle)?;
    let value = socket
        .desc
        .socket_option(option, socket.ipv6)
        .map_err(Code::from);
    store(
        call,
        version,
        ret,
        width,
        value.map(|raw| {
            move |at: u32| {
                let value = u64::from(raw.max(0) as u32);
                if width == 1 {
                    call.store_u8(at, value as u8)
                } else {
                    call.store_u64(at, value / 2)
                }
            }
        }),
    )
}

/// Sets an option of the socket behind `handle` (0 is `invalid-argument`).
pub(super) fn set_option(
    call: &Call,
    version: Version,
    handle: i32,
    option: SocketOption,
    value: i64,
    ret: i32,
) -> HostResult<()> {
    let (_, socket) = socket(call, version, handle)?;
    let result = if value == 0 {
        Err(Code::INVALID_ARGUMENT)
    } else {
        let value = value.clamp(1, i64::from(i32::MAX)) as i32;
        match socket.desc.set_socket_option(option, socket.ipv6, value) {
            Err(err) if err.0 == wafer_abi::wasi::errno::NOBUFS => Ok(()),
            other => other.map_err(Code::from),
        }
    };
    store_unit(call, version, ret, result)
}

host_fns! {
    /// `wasi:sockets/udp-create-socket.create-udp-socket`.
    wafer_p2_sockets_create_udp_socket(family: i32, ret: i32) => |call, family, ret| create(call, Version::P2, family, ret);
    /// `[method]udp-socket.start-bind`.
    wafer_p2_sockets_udp_start_bind(handle: i32, net: i32, a0: i32, a1: i32, a2: i32, a3: i32, a4: i32, a5: i32, a6: i32, a7: i32, a8: i32, a9: i32, a10: i32, a11: i32, ret: i32) => |call, handle, net, a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, ret| {
        start_bind(call, handle, net, [a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11], ret)
    };
    /// `[method]udp-socket.finish-bind`.
    wafer_p2_sockets_udp_finish_bind(handle: i32, ret: i32) => finish_bind;
    /// `[method]udp-socket.stream`.
    wafer_p2_sockets_udp_stream(handle: i32, has_remote: i32, a0: i32, a1: i32, a2: i32, a3: i32, a4: i32, a5: i32, a6: i32, a7: i32, a8: i32, a9: i32, a10: i32, a11: i32, ret: i32) => |call, handle, has_remote, a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, ret| {
        stream(call, handle, has_remote, [a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11], ret)
    };
    /// `[method]udp-socket.local-address`.
    wafer_p2_sockets_udp_local_address(handle: i32, ret: i32) => |call, handle, ret| address(call, Version::P2, handle, false, ret);
    /// `[method]udp-socket.remote-address`.
    wafer_p2_sockets_udp_remote_address(handle: i32, ret: i32) => |call, handle, ret| address(call, Version::P2, handle, true, ret);
    /// `[method]udp-socket.address-family`.
    wafer_p2_sockets_udp_address_family(handle: i32) -> u32 => |call, handle| {
        Ok(u32::from(socket(call, Version::P2, handle)?.1.ipv6))
    };
    /// `[method]udp-socket.unicast-hop-limit`.
    wafer_p2_sockets_udp_unicast_hop_limit(handle: i32, ret: i32) => |call, handle, ret| {
        get_option(call, Version::P2, handle, SocketOption::HopLimit, 1, ret)
    };
    /// `[method]udp-socket.set-unicast-hop-limit`.
    wafer_p2_sockets_udp_set_unicast_hop_limit(handle: i32, value: i32, ret: i32) => |call, handle, value: i32, ret| {
        set_option(call, Version::P2, handle, SocketOption::HopLimit, i64::from(value as u8), ret)
    };
    /// `[method]udp-socket.receive-buffer-size`.
    wafer_p2_sockets_udp_receive_buffer_size(handle: i32, ret: i32) => |call, handle, ret| {
        get_option(call, Version::P2, handle, SocketOption::ReceiveBuffer, 8, ret)
    };
    /// `[method]udp-socket.set-receive-buffer-size`.
    wafer_p2_sockets_udp_set_receive_buffer_size(handle: i32, value: i64, ret: i32) => |call, handle, value, ret| {
        set_option(call, Version::P2, handle, SocketOption::ReceiveBuffer, value, ret)
    };
    /// `[method]udp-socket.send-buffer-size`.
    wafer_p2_sockets_udp_send_buffer_size(handle: i32, ret: i32) => |call, handle, ret| {
        get_option(call, Version::P2, handle, SocketOption::SendBuffer, 8, ret)
    };
    /// `[method]udp-socket.set-send-buffer-size`.
    wafer_p2_sockets_udp_set_send_buffer_size(handle: i32, value: i64, ret: i32) => |call, handle, value, ret| {
        set_option(call, Version::P2, handle, SocketOption::SendBuffer, value, ret)
    };
    /// `[method]udp-socket.subscribe`: always ready (its streams wait).
    wafer_p2_sockets_udp_subscribe(handle: i32) -> u32 => |call, handle| {
        crate::p2::io::subscribe(call, handle, resource::UDP_SOCKET, Interest::Read)
    };
    /// `[method]incoming-datagram-stream.receive`.
    wafer_p2_sockets_udp_receive(handle: i32, max: i64, ret: i32) => receive;
    /// `[method]incoming-datagram-stream.subscribe`.
    wafer_p2_sockets_udp_incoming_subscribe(handle: i32) -> u32 => |call, handle| {
        crate::p2::io::subscribe(call, handle, resource::INCOMING_DATAGRAM_STREAM, Interest::Read)
    };
    /// `[method]outgoing-datagram-stream.check-send`.
    wafer_p2_sockets_udp_check_send(handle: i32, ret: i32) => |call: &Call, handle, ret| {
        datagrams(call, handle, resource::OUTGOING_DATAGRAM_STREAM)?;
        store(call, Version::P2, ret, 8, Ok(|at| call.store_u64(at, BATCH as u64)))
    };
    /// `[method]outgoing-datagram-stream.send`.
    wafer_p2_sockets_udp_send(handle: i32, list: i32, len: i32, ret: i32) => send;
    /// `[method]outgoing-datagram-stream.subscribe`.
    wafer_p2_sockets_udp_outgoing_subscribe(handle: i32) -> u32 => |call, handle| {
        crate::p2::io::subscribe(call, handle, resource::OUTGOING_DATAGRAM_STREAM, Interest::Write)
    };
}
