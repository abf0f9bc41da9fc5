//! `wasi:sockets/ip-name-lookup`: the host core's resolver (`host::dns`), granted by
//! `--inherit-network` only (without it, `permanent-resolver-failure`, as wasmtime
//! answers when lookup is not allowed). The lookup completes within
//! `resolve-addresses`; the stream hands out what it found.

use wafer_abi::trap::TrapKind;
use wafer_abi::wasi_p2::resource;

use super::{Code, Version, network, store};
use crate::host::dns::{self, LookupError};
use crate::p2::objects::Object;
use crate::p2::{Call, HostResult, host_fns};
use crate::sys::Interest;

/// A `resolve-address-stream`: the addresses found and the next to hand out.
#[derive(Debug, Clone, Copy)]
pub struct Addresses {
    found: dns::Addresses,
    next: u8,
}

/// The longest name looked up (DNS's limit, with a trailing dot).
pub(super) const NAME_MAX: usize = 254;

/// `resolve-addresses`.
fn resolve_addresses(call: &Call, net: i32, ptr: i32, len: i32, ret: i32) -> HostResult<()> {
    network(call, net)?;
    let mut buf = [0u8; NAME_MAX];
    let name = call.lift_string(ptr, len, &mut buf)?;
    let found = if !crate::host::net::whole_network() {
        Err(Code::PERMANENT_RESOLVER_FAILURE)
    } else {
        match name {
            Err(_) => Err(Code::INVALID_ARGUMENT),
            Ok(name) => dns::resolve(name).map_err(|err| match err {
                LookupError::InvalidName => Code::INVALID_ARGUMENT,
                LookupError::Unresolvable => Code::NAME_UNRESOLVABLE,
                LookupError::Temporary => Code::TEMPORARY_RESOLVER_FAILURE,
            }),
        }
    };
    let created = match found {
        Ok(found) => Ok(call.new_object(
            resource::RESOLVE_ADDRESS_STREAM,
            Object::Addresses(Addresses { found, next: 0 }),
        )?),
        Err(code) => Err(code),
    };
    store(
        call,
        Version::P2,
        ret,
        4,
        created.map(|handle| move |at| call.store_u32(at, handle)),
    )
}

/// `[method]resolve-address-stream.resolve-next-address`:
/// `result<option<ip-address>, error-code>`.
fn resolve_next_address(call: &Call, handle: i32, ret: i32) -> HostResult<()> {
    let (index, mut stream) = match call.object(handle as u32, resource::RESOLVE_ADDRESS_STREAM)? {
        (index, Object::Addresses(stream)) => (index, stream),
        _ => return Err(TrapKind::InvalidHandle),
    };
    let next = stream.found.as_slice().get(stream.next as usize).copied();
    if next.is_some() {
        stream.next += 1;
        crate::p2::objects::set(index, Object::Addresses(stream));
    }
    store(
        call,
        Version::P2,
        ret,
        2,
        Ok(move |at: u32| match next {
            None => call.store_u8(at, 0),
            Some(addr) => {
                // `option` at `at`, the `ip-address` variant at `at + 2`, its payload at
                // `at + 4`.
                call.store_u8(at, 1)?;
                call.store_u8(at + 2, u8::from(addr.ipv6))?;
                if addr.ipv6 {
                    for (i, pair) in addr.bytes.chunks_exact(2).enumerate() {
                        let word = u16::from_be_bytes([pair[0], pair[1]]);
                        call.store(at + 4 + 2 * i as u32, 2, &word.to_le_bytes())?;
                    }
                    Ok(())
                } else {
                    call.store(at + 4, 1, &addr.bytes[..4])
                }
            }
        }),
    )
}

host_fns! {
    /// `wasi:sockets/ip-name-lookup.resolve-addresses`.
    wafer_p2_sockets_resolve_addresses(net: i32, ptr: i32, len: i32, ret: i32) => resolve_addresses;
    /// `[method]resolve-address-stream.resolve-next-address`.
    wafer_p2_sockets_resolve_next_address(handle: i32, ret: i32) => resolve_next_address;
    /// `[method]resolve-address-stream.subscribe`: ready, the lookup is done.
    wafer_p2_sockets_resolve_subscribe(handle: i32) -> u32 => |call, handle| {
        crate::p2::io::subscribe(call, handle, resource::RESOLVE_ADDRESS_STREAM, Interest::Read)
    };
}
