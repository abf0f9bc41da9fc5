//! `wasi:http/client@0.3`: `send`, lowered `async`. A request goes out on a connection
//! of its own to the address its authority names, as the grants allow (`--connect
//! ADDR`, or the whole network; deny by default), in plain HTTP/1.1: its head, then its
//! body as the guest writes it. The call's subtask resolves with the response once its
//! head came; its body is a stream the guest reads as the connection brings it.
//! `https` is refused (`TLS-protocol-error`): no TLS here.

use alloc::vec::Vec;

use wafer_abi::trap::TrapKind;
use wafer_abi::wasi_p2::resource;

use super::server;
use super::wire::{self, Framing};
use super::{Body, Method, Scheme, with_request};
use crate::component::streams::{self, HttpEnd};
use crate::component::tasks;
use crate::errno::Errno;
use crate::global::Global;
use crate::host::Descriptor;
use crate::p2::{Call, CanonContext, HostResult};
use crate::sys::SocketAddr;

/// `error-code` cases the client reports.
mod error_code {
    pub const DESTINATION_NOT_FOUND: u8 = 2;
    pub const DESTINATION_UNAVAILABLE: u8 = 3;
    pub const DESTINATION_IP_PROHIBITED: u8 = 4;
    pub const CONNECTION_REFUSED: u8 = 6;
    pub const TLS_PROTOCOL_ERROR: u8 = 12;
    pub const HTTP_REQUEST_URI_INVALID: u8 = 19;
}

/// A request on its way: the request object, the caller's subtask, and where its
/// result goes (through the caller's canonical options, at `ret`).
struct Exchange {
    request: u32,
    subtask: u32,
    context: *mut CanonContext,
    ret: u32,
    head_request: bool,
}

static EXCHANGES: Global<Vec<Option<Exchange>>> = Global::new(Vec::new());

/// The request object of `exchange`.
pub fn request_of(exchange: u32) -> u32 {
    EXCHANGES.with(|exchanges| {
        exchanges
            .get(exchange as usize)
            .and_then(Option::as_ref)
            .map_or(u32::MAX, |e| e.request)
    })
}

/// The caller's subtask of `exchange`, while it is on its way.
pub fn subtask_of(exchange: u32) -> Option<u32> {
    EXCHANGES.with(|exchanges| {
        exchanges
            .get(exchange as usize)
            .and_then(Option::as_ref)
            .map(|e| e.subtask)
    })
}

/// Forgets `exchange` without an answer (its caller cancelled it).
pub fn forget(exchange: u32) {
    EXCHANGES.with(|exchanges| {
        if let Some(slot) = exchanges.get_mut(exchange as usize) {
            *slot = None;
        }
    });
}

/// Whether `exchange`'s request is `HEAD`.
pub fn is_head(exchange: u32) -> bool {
    EXCHANGES.with(|exchanges| {
        exchanges
            .get(exchange as usize)
            .and_then(Option::as_ref)
            .is_some_and(|e| e.head_request)
    })
}

/// The `error-code` case of a failed connection.
pub fn connect_error(err: Errno) -> u8 {
    match err {
        Errno::CONNREFUSED => error_code::CONNECTION_REFUSED,
        Errno::ACCES | Errno::PERM => error_code::DESTINATION_IP_PROHIBITED,
        _ => error_code::DESTINATION_UNAVAILABLE,
    }
}

/// Stores `result<response, error-code>` at `ret` for the caller of `call`: the
/// response object `Ok(index)` (an own handle made for the caller), or the error's
/// case. (`error-code` has 8-byte payloads, so the payload is 8 bytes in.)
fn store_result(call: &Call, ret: u32, result: Result<u32, u8>) -> HostResult<()> {
    match result {
        Ok(index) => {
            let handle = call
                .new_own(resource::HTTP_RESPONSE, u64::from(index))
                .inspect_err(|_| super::release(index))?;
            call.store_u8(ret, 0)?;
            call.store_u32(ret + 8, handle)
        }
        Err(case) => {
            call.store_u8(ret, 1)?;
            call.store_u8(ret + 8, case)
        }
    }
}

/// Ends `exchange` with `result`: stores it for the caller and resolves its subtask.
pub fn complete(exchange: u32, result: Result<u32, u8>) -> Result<(), TrapKind> {
    let Some(exchange) = EXCHANGES.with(|exchanges| exchanges.get_mut(exchange as usize)?.take())
    else {
        return Ok(());
    };
    // SAFETY: the context is the one the compiled caller passed to `send`: static data
    // the compiler emitted, alive for the image's life.
    let call = unsafe { Call::new(exchange.context) };
    store_result(&call, exchange.ret, result)?;
    tasks::resolve_subtask(exchange.subtask);
    Ok(())
}

/// Where a request goes: an address, or a name whose DNS lookup is under way (with
/// the port).
enum Destination {
    Address(SocketAddr),
    Lookup(alloc::boxed::Box<crate::host::dns::Lookup>, u16),
}

/// A request waiting for its destination's DNS lookup: its subtask is the caller's.
struct Resolving {
    lookup: alloc::boxed::Box<crate::host::dns::Lookup>,
    port: u16,
    request: u32,
    subtask: u32,
    context: *mut CanonContext,
    ret: u32,
}

static RESOLVING: Global<Vec<Option<Resolving>>> = Global::new(Vec::new());

/// The address a lookup's first answer names, at `port`.
fn address_of(found: &crate::host::dns::Addresses, port: u16) -> Result<SocketAddr, u8> {
    let ip = *found
        .as_slice()
        .first()
        .ok_or(error_code::DESTINATION_NOT_FOUND)?;
    Ok(SocketAddr {
        ipv6: ip.ipv6,
        ip: ip.bytes,
        port,
        flow_info: 0,
        scope_id: 0,
    })
}

/// The destination `authority` names (`HOST[:PORT]`, port 80 by default): an IP
/// literal, or a name looked up as the grants allow (`/etc/hosts` answers at once; a
/// DNS query goes on while other tasks run).
fn destination(authority: &[u8]) -> Result<Destination, u8> {
    let (host, port) = match authority.iter().rposition(|&b| b == b':') {
        Some(colon) if !authority[colon..].contains(&b']') => {
            let port = core::str::from_utf8(&authority[colon + 1..])
                .ok()
                .and_then(|p| p.parse::<u16>().ok())
                .ok_or(error_code::HTTP_REQUEST_URI_INVALID)?;
            (&authority[..colon], port)
        }
        _ => (authority, 80),
    };
    let host = host
        .strip_prefix(b"[")
        .and_then(|h| h.strip_suffix(b"]"))
        .unwrap_or(host);
    let ip = match crate::host::dns::parse_ip(host) {
        Some(ip) => ip,
        None if host == b"localhost" || crate::host::net::whole_network() => {
            return match crate::host::dns::start(host) {
                crate::host::dns::Start::Done(found) => found
                    .map_err(|_| error_code::DESTINATION_NOT_FOUND)
                    .and_then(|found| address_of(&found, port))
                    .map(Destination::Address),
                crate::host::dns::Start::Pending(lookup) => Ok(Destination::Lookup(lookup, port)),
            };
        }
        // Name lookup needs the whole network granted.
        None => return Err(error_code::DESTINATION_NOT_FOUND),
    };
    Ok(Destination::Address(SocketAddr {
        ipv6: ip.ipv6,
        ip: ip.bytes,
        port,
        flow_info: 0,
        scope_id: 0,
    }))
}

/// Takes the DNS answers that came for requests waiting on their destination: each
/// whose lookup ended connects and goes out, or fails with `destination-not-found`.
/// Whether any moved.
pub fn advance_lookups() -> Result<bool, TrapKind> {
    let mut moved = false;
    let count = RESOLVING.with(|all| all.len());
    for id in 0..count {
        let Some(mut waiting) = RESOLVING.with(|all| all.get_mut(id).and_then(Option::take)) else {
            continue;
        };
        let Some(found) = waiting.lookup.advance() else {
            RESOLVING.with(|all| all[id] = Some(waiting));
            continue;
        };
        moved = true;
        let opened = found
            .map_err(|_| error_code::DESTINATION_NOT_FOUND)
            .and_then(|found| address_of(&found, waiting.port))
            .and_then(|addr| connect(&addr));
        match opened {
            Ok(socket) => {
                go_out(
                    waiting.request,
                    socket,
                    waiting.subtask,
                    waiting.context,
                    waiting.ret,
                )?;
            }
            Err(case) => {
                super::release(waiting.request);
                // SAFETY: the context of the import's canonical options, static data
                // the compiler emitted, alive for the image's life.
                let call = unsafe { Call::new(waiting.context) };
                store_result(&call, waiting.ret, Err(case))?;
                tasks::resolve_subtask(waiting.subtask);
            }
        }
    }
    Ok(moved)
}

/// Drops the lookup of the request whose caller's subtask is `subtask` (its caller
/// cancelled it): whether there was one.
pub fn cancel_lookup(subtask: u32) -> bool {
    let waiting = RESOLVING.with(|all| {
        all.iter_mut()
            .find(|w| w.as_ref().is_some_and(|w| w.subtask == subtask))
            .and_then(Option::take)
    });
    match waiting {
        Some(waiting) => {
            super::release(waiting.request);
            true
        }
        None => false,
    }
}

/// A socket connecting to `addr` without blocking, as the grants allow.
fn connect(addr: &SocketAddr) -> Result<Descriptor, u8> {
    let socket = Descriptor::socket(addr.ipv6, false).map_err(connect_error)?;
    match socket.connect(Some(addr)) {
        Ok(()) | Err(Errno::INPROGRESS) => Ok(socket),
        Err(err) => {
            socket.close();
            Err(connect_error(err))
        }
    }
}

fn send(call: &Call, context: *mut CanonContext, handle: u32, ret: u32) -> HostResult<u32> {
    let index = call.take_own(handle, resource::HTTP_REQUEST)?;
    let (scheme, authority) = with_request(index, |request| {
        (request.scheme.clone(), request.authority.clone())
    })?;
    let destination = match &scheme {
        None | Some(Scheme::Known(0)) => destination(authority.as_deref().unwrap_or_default()),
        Some(Scheme::Known(_)) => Err(error_code::TLS_PROTOCOL_ERROR),
        Some(Scheme::Other(_)) => Err(error_code::HTTP_REQUEST_URI_INVALID),
    };
    // A connection under way, or the lookup of where to connect.
    let opened = destination.and_then(|destination| match destination {
        Destination::Address(addr) => connect(&addr).map(Ok),
        Destination::Lookup(lookup, port) => Ok(Err((lookup, port))),
    });
    let opened = match opened {
        Ok(opened) => opened,
        Err(case) => {
            super::release(index);
            store_result(call, ret, Err(case))?;
            return Ok(tasks::subtask_state::RETURNED);
        }
    };
    let (packed, subtask) = tasks::start_pending_subtask(call.instance())?;
    match opened {
        Ok(socket) => go_out(index, socket, subtask, context, ret)?,
        Err((lookup, port)) => {
            // The HTTP service loop's reactor wakes on its answers too.
            server::watch(lookup.handle());
            RESOLVING.with(|all| {
                crate::slots::insert(
                    all,
                    Resolving {
                        lookup,
                        port,
                        request: index,
                        subtask,
                        context,
                        ret,
                    },
                )
            });
        }
    }
    Ok(packed)
}

/// Sends request `index` on `socket`, a connection under way to its destination: the
/// caller's subtask `subtask` resolves when the response's head came.
fn go_out(
    index: u32,
    socket: Descriptor,
    subtask: u32,
    context: *mut CanonContext,
    ret: u32,
) -> Result<(), TrapKind> {
    let request = with_request(index, |request| request.clone())?;
    let method = match &request.method {
        Method::Known(case) => super::METHODS[usize::from(*case)],
        Method::Other(text) => text,
    };
    let (contents, trailers) = match request.body {
        Body::Guest { contents, trailers } => (contents, Some(trailers)),
        _ => (None, None),
    };
    let length = request
        .headers
        .values(b"content-length")
        .next()
        .and_then(|v| core::str::from_utf8(v).ok()?.trim().parse::<u64>().ok());
    let framing = match (contents.is_some(), length) {
        (true, Some(n)) => Some(Framing::Length(n)),
        (true, None) => Some(Framing::Chunked),
        // A request that usually carries a body says it has none.
        (false, _) if matches!(request.method, Method::Known(2 | 3 | 8)) => {
            Some(Framing::Length(0))
        }
        (false, _) => None,
    };
    let mut head = Vec::new();
    wire::write_request_head(
        &mut head,
        method,
        request.path.as_deref().unwrap_or(b"/"),
        request.authority.as_deref().unwrap_or_default(),
        request.headers.entries.iter().map(|(n, v)| (&**n, &**v)),
        framing,
    );
    let conn = server::open_client(socket, head, framing, request.method.is_head());
    super::with_outgoing(index, |out| out.conn = Some(conn))?;
    if let Some(contents) = contents {
        streams::attach_http(contents, HttpEnd::OutgoingBody { message: index })?;
    }
    if let Some(trailers) = trailers {
        streams::attach_http(trailers, HttpEnd::OutgoingTrailers { message: index })?;
    }
    let exchange = Exchange {
        request: index,
        subtask,
        context,
        ret,
        head_request: request.method.is_head(),
    };
    let id = EXCHANGES.with(|exchanges| crate::slots::insert(exchanges, exchange));
    server::start_exchange(conn, id);
    Ok(())
}

/// `wasi:http/client@0.3.x#send`, lowered `async`: `(request, ret) -> status`.
///
/// # Safety
/// `context` must be the import's canonical-ABI context, passed by its trampoline.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wafer_p3_http_client_send(
    context: *mut CanonContext,
    request: u32,
    ret: u32,
) -> u32 {
    // SAFETY: the trampoline passes the import's context.
    let call = unsafe { Call::new(context) };
    call.run(|call| send(call, context, request, ret))
}
