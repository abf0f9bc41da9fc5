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
pub(crate) mod p3;
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

/// The WASI version a socket function speaks: the layouts it stores, its resource
/// types and its `error-code` numbering. The checks and the sockets are the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Version {
    /// `wasi:sockets@0.2`.
    P2,
    /// `wasi:sockets@0.3`.
    P3,
}

impl Version {
    /// The `tcp-socket` resource type.
    fn tcp_socket(self) -> u32 {
        match self {
            Version::P2 => resource::TCP_SOCKET,
            Version::P3 => resource::TCP_SOCKET_P3,
        }
    }

    /// The `udp-socket` resource type.
    fn udp_socket(self) -> u32 {
        match self {
            Version::P2 => resource::UDP_SOCKET,
            Version::P3 => resource::UDP_SOCKET_P3,
        }
    }

    /// The `error-code` case of `code` in this version's numbering.
    pub(crate) fn case(self, code: Code) -> u8 {
        match self {
            Version::P2 => code.0,
            Version::P3 => p3::case(code),
        }
    }

    /// Where the payload of a `result<T, error-code>` lies, for `T` aligned to
    /// `ok_align`: 0.2's `error-code` is an enum (one byte), 0.3's a variant aligned
    /// to 4 (`other(option<string>)`).
    fn payload_at(self, ok_align: u32) -> u32 {
        match self {
            Version::P2 => ok_align.max(1),
            Version::P3 => ok_align.max(4),
        }
    }
}

/// Stores `result<T, error-code>` at `ret` for `version`: `T` is aligned to
/// `ok_align`, and `ok` stores it where its payload goes.
fn store(
    call: &Call,
    version: Version,
    ret: i32,
    ok_align: u32,
    result: SocketResult<impl FnOnce(u32) -> HostResult<()>>,
) -> HostResult<()> {
    let ret = ret as u32;
    let payload = ret + version.payload_at(ok_align);
    match result {
        Ok(ok) => {
            call.store_u8(ret, 0)?;
            ok(payload)
        }
        Err(code) => {
            call.store_u8(ret, 1)?;
            store_code(call, version, payload, code)
        }
    }
}

/// Stores `error-code` `code` at `at` (0.3's `other` with no message).
fn store_code(call: &Call, version: Version, at: u32, code: Code) -> HostResult<()> {
    let case = version.case(code);
    call.store_u8(at, case)?;
    if version == Version::P3 && case == p3::OTHER {
        call.store_u8(at + 4, 0)?;
    }
    Ok(())
}

/// Stores `result<_, error-code>`.
fn store_unit(call: &Call, version: Version, ret: i32, result: SocketResult) -> HostResult<()> {
    store(call, version, ret, 1, result.map(|()| |_| Ok(())))
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

/// An `ip-socket-address` read from the caller's memory at `at`.
fn load_address(call: &Call, at: u32) -> HostResult<SocketAddr> {
    let memory = call.memory();
    let fault = |_| TrapKind::MemoryOutOfBounds;
    let [tag] = memory.read::<1>(at).map_err(fault)?;
    let payload = at + 4;
    let half = |offset: u32| -> HostResult<i32> {
        Ok(i32::from(u16::from_le_bytes(
            memory.read::<2>(payload + offset).map_err(fault)?,
        )))
    };
    let mut flat = [0i32; 12];
    flat[0] = i32::from(tag);
    flat[1] = half(0)?;
    match tag {
        0 => {
            let bytes = memory.read::<4>(payload + 2).map_err(fault)?;
            for (value, byte) in flat[2..6].iter_mut().zip(bytes) {
                *value = i32::from(byte);
            }
        }
        1 => {
            flat[2] = memory.read_u32(payload + 4).map_err(fault)? as i32;
            for (i, value) in flat[3..11].iter_mut().enumerate() {
                *value = half(8 + 2 * i as u32)?;
            }
            flat[11] = memory.read_u32(payload + 24).map_err(fault)? as i32;
        }
        _ => return Err(TrapKind::InvalidDiscriminant),
    }
    lift_address(flat)
}

/// Stores `result<ip-socket-address, error-code>`.
fn store_address_result(
    call: &Call,
    version: Version,
    ret: i32,
    addr: SocketResult<SocketAddr>,
) -> HostResult<()> {
    store(
        call,
        version,
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
