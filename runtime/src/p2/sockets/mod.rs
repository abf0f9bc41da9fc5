//! `wasi:sockets`: TCP, UDP and name lookup, deny by default.
//!
//! Sockets are host objects holding a `host::Descriptor`; every bind, connect and send
//! goes through the host core's network checks (`host::net`: the `--listen`,
//! `--connect` and `--inherit-network` grants), and a refusal is `access-denied`. This
//! module adds the WASI 0.2 ABI: the two-phase operations (`start-*`/`finish-*`) as
//! state machines shaped like wasmtime's, socket addresses lifted from flat arguments and
//! lowered into the caller's memory, and errnos mapped to `error-code`. Sockets are
//! non-blocking at the platform; a blocking stream read or write waits for readiness.
//! On a board (no network, no grant) every socket is refused as a denied grant is.

mod lookup;
mod tcp;
mod udp;

pub use lookup::Addresses;
pub use tcp::TcpSocket;
pub use udp::{Datagrams, UdpSocket};

use wafer_abi::trap::TrapKind;
use wafer_abi::wasi::errno as e;
use wafer_abi::wasi_p2::resource;

use super::{Call, HostResult, host_fns};
use crate::errno::Errno;
use crate::sys::SocketAddr;

/// A `wasi:sockets/network.error-code` case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code(pub u8);

#[allow(missing_docs, reason = "the WIT names")]
impl Code {
    pub const UNKNOWN: Code = Code(0);
    pub const ACCESS_DENIED: Code = Code(1);
    pub const NOT_SUPPORTED: Code = Code(2);
    pub const INVALID_ARGUMENT: Code = Code(3);
    pub const OUT_OF_MEMORY: Code = Code(4);
    pub const TIMEOUT: Code = Code(5);
    pub const CONCURRENCY_CONFLICT: Code = Code(6);
    pub const NOT_IN_PROGRESS: Code = Code(7);
    pub const WOULD_BLOCK: Code = Code(8);
    pub const INVALID_STATE: Code = Code(9);
    pub const NEW_SOCKET_LIMIT: Code = Code(10);
    pub const ADDRESS_NOT_BINDABLE: Code = Code(11);
    pub const ADDRESS_IN_USE: Code = Code(12);
    pub const REMOTE_UNREACHABLE: Code = Code(13);
    pub const CONNECTION_REFUSED: Code = Code(14);
    pub const CONNECTION_RESET: Code = Code(15);
    pub const CONNECTION_ABORTED: Code = Code(16);
    pub const DATAGRAM_TOO_LARGE: Code = Code(17);
    pub const NAME_UNRESOLVABLE: Code = Code(18);
    pub const TEMPORARY_RESOLVER_FAILURE: Code = Code(19);
    pub const PERMANENT_RESOLVER_FAILURE: Code = Code(20);
}

impl From<Errno> for Code {
    /// As wasmtime maps the host's errnos.
    fn from(err: Errno) -> Code {
        match err.0 {
            e::ACCES | e::PERM => Code::ACCESS_DENIED,
            e::ADDRINUSE => Code::ADDRESS_IN_USE,
            e::ADDRNOTAVAIL => Code::ADDRESS_NOT_BINDABLE,
            e::TIMEDOUT => Code::TIMEOUT,
            e::CONNREFUSED => Code::CONNECTION_REFUSED,
            e::CONNRESET | e::PIPE => Code::CONNECTION_RESET,
            e::CONNABORTED => Code::CONNECTION_ABORTED,
            e::INVAL => Code::INVALID_ARGUMENT,
            e::HOSTUNREACH | e::NETDOWN | e::NETUNREACH => Code::REMOTE_UNREACHABLE,
            e::ISCONN | e::NOTCONN | e::DESTADDRREQ => Code::INVALID_STATE,
            e::MSGSIZE => Code::DATAGRAM_TOO_LARGE,
            e::NOMEM | e::NOBUFS => Code::OUT_OF_MEMORY,
            e::NOTSUP
            | e::NOPROTOOPT
            | e::PROTONOSUPPORT
            | e::PROTOTYPE
            | e::AFNOSUPPORT
            | e::NOSYS => Code::NOT_SUPPORTED,
            e::AGAIN => Code::WOULD_BLOCK,
            e::MFILE | e::NFILE => Code::NEW_SOCKET_LIMIT,
            _ => Code::UNKNOWN,
        }
    }
}

/// The result of a socket operation.
pub type SocketResult<T = ()> = core::result::Result<T, Code>;

/// Stores `result<T, error-code>` at `ret`: `payload_at` is where `T` (or the error)
/// goes, and `ok` stores `T` there.
fn store(
    call: &Call,
    ret: i32,
    payload_at: u32,
    result: SocketResult<impl FnOnce(u32) -> HostResult<()>>,
) -> HostResult<()> {
    let ret = ret as u32;
    match result {
        Ok(ok) => {
            call.store_u8(ret, 0)?;
            ok(ret + payload_at)
        }
        Err(code) => {
            call.store_u8(ret, 1)?;
            call.store_u8(ret + payload_at, code.0)
        }
    }
}

/// Stores `result<_, error-code>`.
fn store_unit(call: &Call, ret: i32, result: SocketResult) -> HostResult<()> {
    store(call, ret, 1, result.map(|()| |_| Ok(())))
}

/// An `ip-socket-address` from its twelve flat values (the discriminant first).
fn lift_address(flat: [i32; 12]) -> HostResult<SocketAddr> {
    let mut addr = SocketAddr {
        port: flat[1] as u16,
        ..SocketAddr::default()
    };
    match flat[0] {
        0 => {
            for (byte, value) in addr.ip.iter_mut().zip(&flat[2..6]) {
                *byte = *value as u8;
            }
        }
        1 => {
            addr.ipv6 = true;
            addr.flow_info = flat[2] as u32;
            for (pair, value) in addr.ip.chunks_exact_mut(2).zip(&flat[3..11]) {
                pair.copy_from_slice(&(*value as u16).to_be_bytes());
            }
            addr.scope_id = flat[11] as u32;
        }
        _ => return Err(TrapKind::InvalidDiscriminant),
    }
    Ok(addr)
}

/// Stores an `ip-socket-address` at `at` (32 bytes, aligned to 4).
fn store_address(call: &Call, at: u32, addr: &SocketAddr) -> HostResult<()> {
    call.store_u8(at, u8::from(addr.ipv6))?;
    let payload = at + 4;
    call.store(payload, 2, &addr.port.to_le_bytes())?;
    if addr.ipv6 {
        call.store_u32(payload + 4, addr.flow_info)?;
        for (i, pair) in addr.ip.chunks_exact(2).enumerate() {
            let word = u16::from_be_bytes([pair[0], pair[1]]);
            call.store(payload + 8 + 2 * i as u32, 2, &word.to_le_bytes())?;
        }
        call.store_u32(payload + 24, addr.scope_id)
    } else {
        call.store(payload + 2, 1, &addr.ip[..4])
    }
}

/// Stores `result<ip-socket-address, error-code>`.
fn store_address_result(call: &Call, ret: i32, addr: SocketResult<SocketAddr>) -> HostResult<()> {
    store(
        call,
        ret,
        4,
        addr.map(|addr| move |at| store_address(call, at, &addr)),
    )
}

/// Whether `addr` is of the socket's family: an IPv6 socket takes no IPv4-mapped or
/// deprecated IPv4-compatible address (its IPv4 traffic is off), as in wasmtime.
fn family_matches(addr: &SocketAddr, ipv6: bool) -> bool {
    if addr.ipv6 != ipv6 {
        return false;
    }
    if !ipv6 {
        return true;
    }
    let words: [u16; 8] =
        core::array::from_fn(|i| u16::from_be_bytes([addr.ip[2 * i], addr.ip[2 * i + 1]]));
    let mapped = words[..5] == [0; 5] && words[5] == 0xffff;
    let compatible = words[..6] == [0; 6] && !(words[6] == 0 && words[7] <= 1);
    !mapped && !compatible
}

/// Whether `addr` is a unicast address (no multicast, no IPv4 broadcast).
fn is_unicast(addr: &SocketAddr) -> bool {
    if addr.ipv6 {
        addr.ip[0] != 0xff
    } else {
        addr.ip[0] & 0xf0 != 0xe0 && addr.ip[..4] != [255; 4]
    }
}

/// Whether `addr` can be connected or sent to (a port, and a specified address).
fn is_remote(addr: &SocketAddr) -> bool {
    addr.port != 0 && !crate::host::net::is_unspecified(addr)
}

/// The network behind `handle` (only its type matters: the one network).
fn network(call: &Call, handle: i32) -> HostResult<()> {
    call.borrow(handle as u32, resource::NETWORK).map(drop)
}

/// `ip-address-family`: 0 IPv4, 1 IPv6 (anything else traps).
fn family(value: i32) -> HostResult<bool> {
    match value {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(TrapKind::InvalidDiscriminant),
    }
}

host_fns! {
    /// `wasi:sockets/instance-network.instance-network`.
    wafer_p2_sockets_instance_network() -> u32 => |call: &Call| call.new_own(resource::NETWORK, 0);
    /// `wasi:sockets/network.network-error-code`.
    wafer_p2_sockets_network_error_code(error: i32, ret: i32) => |call: &Call, error: i32, ret: i32| {
        let errno = call.borrow(error as u32, resource::ERROR)?;
        call.store_u8(ret as u32, 1)?;
        call.store_u8(ret as u32 + 1, Code::from(Errno(errno as u16)).0)
    };
}
