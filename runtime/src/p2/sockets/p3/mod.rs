//! `wasi:sockets@0.3`: TCP and UDP over 0.2's sockets (the same host objects, grant
//! checks and address conversions, [`super::Version::P3`]'s layouts), and name lookup.
//!
//! What waits is never waited for on the spot. A TCP connection's bytes are streams
//! whose host end ([`SocketEnd`], in `crate::component::streams`) copies between the
//! socket and the guest's buffer when the socket is ready and otherwise stays
//! pending; `connect`, and a UDP `send` or `receive` that would block, are host
//! subtasks ([`Pending`]) that finish when the socket is ready. Both are retried by
//! [`advance`] whenever the executor looks for progress, and a task that waits sleeps
//! in the reactor on their sockets ([`reactor_targets`]; under an HTTP service loop,
//! its epoll set, to which every socket is added as it is made).

pub(super) mod tcp;
pub(super) mod udp;

use alloc::vec::Vec;

use wafer_abi::trap::TrapKind;

use super::Code;
use crate::component::tasks::{self, subtask_state::RETURNED};
use crate::errno::Errno;
use crate::global::Global;
use crate::host::poll::Target;
use crate::p2::objects;
use crate::p2::{Call, CanonContext, Copied, HostResult};
use crate::sys::{Interest, IoVec, SocketAddr};

/// `error-code`'s cases (wasmtime 49's numbering).
mod case {
    pub const ACCESS_DENIED: u8 = 0;
    pub const NOT_SUPPORTED: u8 = 1;
    pub const INVALID_ARGUMENT: u8 = 2;
    pub const OUT_OF_MEMORY: u8 = 3;
    pub const TIMEOUT: u8 = 4;
    pub const INVALID_STATE: u8 = 5;
    pub const ADDRESS_NOT_BINDABLE: u8 = 6;
    pub const ADDRESS_IN_USE: u8 = 7;
    pub const REMOTE_UNREACHABLE: u8 = 8;
    pub const CONNECTION_REFUSED: u8 = 9;
    pub const CONNECTION_BROKEN: u8 = 10;
    pub const CONNECTION_RESET: u8 = 11;
    pub const CONNECTION_ABORTED: u8 = 12;
    pub const DATAGRAM_TOO_LARGE: u8 = 13;
}

/// `error-code`'s `other(option<string>)` case.
pub(super) const OTHER: u8 = 14;

/// The 0.3 `error-code` case of 0.2's `code`: 0.3 dropped the two-phase operations'
/// codes (a socket in the wrong state for them is `invalid-state`), `would-block` and
/// `new-socket-limit` (what the host cannot name is `other`, as in wasmtime).
pub(super) fn case(code: Code) -> u8 {
    match code {
        Code::ACCESS_DENIED => case::ACCESS_DENIED,
        Code::NOT_SUPPORTED => case::NOT_SUPPORTED,
        Code::INVALID_ARGUMENT => case::INVALID_ARGUMENT,
        Code::OUT_OF_MEMORY => case::OUT_OF_MEMORY,
        Code::TIMEOUT => case::TIMEOUT,
        Code::CONCURRENCY_CONFLICT | Code::NOT_IN_PROGRESS | Code::INVALID_STATE => {
            case::INVALID_STATE
        }
        Code::ADDRESS_NOT_BINDABLE => case::ADDRESS_NOT_BINDABLE,
        Code::ADDRESS_IN_USE => case::ADDRESS_IN_USE,
        Code::REMOTE_UNREACHABLE => case::REMOTE_UNREACHABLE,
        Code::CONNECTION_REFUSED => case::CONNECTION_REFUSED,
        Code::CONNECTION_RESET => case::CONNECTION_RESET,
        Code::CONNECTION_ABORTED => case::CONNECTION_ABORTED,
        Code::DATAGRAM_TOO_LARGE => case::DATAGRAM_TOO_LARGE,
        _ => OTHER,
    }
}

/// The 0.3 `error-code` case of an errno from sending on a connection: a peer gone is
/// `connection-broken` (0.2 calls it `connection-reset`), as wasmtime reports it.
fn send_case(err: Errno) -> u8 {
    if err == Errno(wafer_abi::wasi::errno::PIPE) {
        case::CONNECTION_BROKEN
    } else {
        case(Code::from(err))
    }
}

/// The host's part in a `wasi:sockets@0.3` stream: `socket` is the object of the
/// socket, which the stream holds until it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketEnd {
    /// The writer of a connection's `receive` stream: what the socket receives.
    Receive {
        /// The socket's object.
        socket: u32,
    },
    /// The reader of the stream given to a connection's `send`: it sends it.
    Send {
        /// The socket's object.
        socket: u32,
    },
    /// The writer of a listener's `stream<tcp-socket>`: the connections it accepts.
    Accept {
        /// The listener's object.
        socket: u32,
    },
}

impl SocketEnd {
    fn socket(self) -> u32 {
        match self {
            SocketEnd::Receive { socket }
            | SocketEnd::Send { socket }
            | SocketEnd::Accept { socket } => socket,
        }
    }

    /// What the socket must be ready for before a copy can move anything.
    fn interest(self) -> Interest {
        match self {
            SocketEnd::Send { .. } => Interest::Write,
            SocketEnd::Receive { .. } | SocketEnd::Accept { .. } => Interest::Read,
        }
    }

    /// The reactor's target for a copy that waits.
    pub(crate) fn target(self) -> Option<Target> {
        let desc = crate::p2::io::descriptor_of(self.socket())?;
        desc.poll_target(self.interest()).ok()
    }
}

/// A copy between a socket stream's host end `end` and a guest buffer of `count`
/// elements at `ptr` in the memory of `context`:
/// `None` while the socket is not ready (the copy stays pending), else what moved. A
/// stream ends (`Copied::end`) only with a copy that moved nothing: bytes received
/// before an error or the end are delivered first. The caller checked the buffer.
pub(crate) fn socket_copy(
    end: SocketEnd,
    context: *const CanonContext,
    ptr: u32,
    count: u32,
) -> Result<Option<Copied>, TrapKind> {
    if count == 0 {
        return Ok(Some(Copied { count, end: None }));
    }
    // SAFETY: the copy's canonical options' context, static data the compiler emitted;
    // nothing here sets its trap field.
    let call = unsafe { Call::new(context.cast_mut()) };
    let Some(desc) = crate::p2::io::descriptor_of(end.socket()) else {
        return Err(TrapKind::Unreachable);
    };
    match end {
        SocketEnd::Receive { .. } | SocketEnd::Send { .. } => {
            let base = call
                .memory()
                .range(ptr, count)
                .map_err(|_| TrapKind::PointerOutOfBounds)?;
            let iov = [IoVec {
                base,
                len: count as usize,
            }];
            let receiving = matches!(end, SocketEnd::Receive { .. });
            let moved = loop {
                // SAFETY: `range` checked the guest buffer, which stays valid while
                // the copy runs; a receive only writes it, a send only reads it.
                let result = unsafe {
                    if receiving {
                        desc.recv(&iov, false, false).map(|(n, _)| n)
                    } else {
                        desc.send(&iov)
                    }
                };
                match result {
                    Err(Errno::INTR) => continue,
                    other => break other,
                }
            };
            Ok(match moved {
                Err(Errno::AGAIN) => None,
                Ok(0) if receiving => Some(Copied {
                    count: 0,
                    end: Some(Ok(())),
                }),
                Ok(n) => Some(Copied {
                    count: n as u32,
                    end: None,
                }),
                Err(err) if receiving => Some(Copied {
                    count: 0,
                    end: Some(Err(case(Code::from(err)))),
                }),
                Err(err) => Some(Copied {
                    count: 0,
                    end: Some(Err(send_case(err))),
                }),
            })
        }
        SocketEnd::Accept { socket } => tcp::accept_into(&call, socket, ptr, count),
    }
}

/// A socket stream has ended or its guest end is gone (`dropped`): the direction it
/// carried is shut down, as wasmtime does when it drops its end (a `send` stream's end
/// is the peer's end of input), and the stream lets the socket go.
pub(crate) fn socket_release(end: SocketEnd) {
    let how = match end {
        SocketEnd::Receive { .. } => Some(crate::sys::Shutdown::Read),
        SocketEnd::Send { .. } => Some(crate::sys::Shutdown::Write),
        SocketEnd::Accept { .. } => None,
    };
    if let (Some(how), Some(desc)) = (how, crate::p2::io::descriptor_of(end.socket())) {
        let _ = desc.shutdown(Some(how));
    }
    objects::release(end.socket());
}

/// An operation of an `async` function that waits for its socket: a host subtask.
#[derive(Debug, Clone, Copy)]
enum Op {
    /// `tcp-socket.connect`: the connection under way.
    Connect,
    /// `udp-socket.receive`.
    Receive,
    /// `udp-socket.send` of `len` bytes at `data` to `to` (`None`: the connected peer).
    Send {
        data: u32,
        len: u32,
        to: Option<SocketAddr>,
    },
}

/// A subtask waiting for socket `socket` (an object it holds) to be ready for `op`; its
/// result goes through `ret` in the memory of `context`, the calling import's options.
#[derive(Debug, Clone, Copy)]
struct Pending {
    op: Op,
    socket: u32,
    subtask: u32,
    context: *mut CanonContext,
    ret: u32,
}

static PENDING: Global<Vec<Option<Pending>>> = Global::new(Vec::new());

/// An `async` call finished before it returned: its result is stored.
fn returned(stored: HostResult<()>) -> HostResult<u32> {
    stored.map(|()| RETURNED)
}

/// Leaves `op` on socket object `socket` to finish when the socket is ready: a new
/// subtask of the caller, whose packed `STARTED` status the call returns.
fn pend(call: &Call, op: Op, socket: u32, ret: i32) -> HostResult<u32> {
    let (packed, subtask) = tasks::start_pending_subtask(call.instance())?;
    objects::retain(socket);
    PENDING.with(|pending| {
        crate::slots::insert(
            pending,
            Pending {
                op,
                socket,
                subtask,
                context: call.context(),
                ret: ret as u32,
            },
        )
    });
    Ok(packed)
}

/// Tries each waiting operation and each pending socket stream copy once, finishing
/// those whose socket is ready: whether any did.
pub(crate) fn advance() -> Result<bool, TrapKind> {
    let mut finished = crate::component::streams::progress_sockets()?;
    finished |= lookup::advance()?;
    let count = PENDING.with(|pending| pending.len());
    for id in 0..count {
        // Taken out while it runs: finishing may call the guest's `realloc`.
        let Some(op) = PENDING.with(|pending| pending.get(id).copied().flatten()) else {
            continue;
        };
        // SAFETY: the context of the import's canonical options, static data the
        // compiler emitted, which outlives the call.
        let call = unsafe { Call::new(op.context) };
        let done = match op.op {
            Op::Connect => tcp::finish_connect(&call, op.socket, op.ret)?,
            Op::Receive => udp::finish_receive(&call, op.socket, op.ret)?,
            Op::Send { data, len, to } => {
                udp::finish_send(&call, op.socket, (data, len), to, op.ret)?
            }
        };
        if done {
            PENDING.with(|pending| pending[id] = None);
            objects::release(op.socket);
            tasks::resolve_subtask(op.subtask);
            finished = true;
        }
    }
    Ok(finished)
}

/// Forgets the operation of host subtask `subtask` (its caller cancelled it), which
/// has not finished: whether there was one.
pub(crate) fn cancel(subtask: u32) -> bool {
    if lookup::cancel(subtask) {
        return true;
    }
    let cancelled = PENDING.with(|pending| {
        let slot = pending
            .iter_mut()
            .find(|op| op.is_some_and(|op| op.subtask == subtask))?;
        slot.take()
    });
    match cancelled {
        Some(op) => {
            objects::release(op.socket);
            true
        }
        None => false,
    }
}

/// Whether anything waits for a socket (a task waiting on it is not deadlocked).
pub(crate) fn waiting() -> bool {
    PENDING.with(|pending| pending.iter().any(Option::is_some))
        || crate::component::streams::waits_on_sockets()
}

/// Adds the reactor's targets of what waits for a socket to `targets`.
pub(crate) fn reactor_targets(targets: &mut Vec<Target>) {
    let ops: Vec<(u32, Interest)> = PENDING.with(|pending| {
        pending
            .iter()
            .flatten()
            .map(|op| {
                let interest = match op.op {
                    Op::Connect | Op::Send { .. } => Interest::Write,
                    Op::Receive => Interest::Read,
                };
                (op.socket, interest)
            })
            .collect()
    });
    for (socket, interest) in ops {
        if let Some(target) =
            crate::p2::io::descriptor_of(socket).and_then(|desc| desc.poll_target(interest).ok())
        {
            targets.push(target);
        }
    }
    crate::component::streams::socket_targets(targets);
}

mod lookup {
    //! `wasi:sockets/ip-name-lookup@0.3`: the host core's resolver, as 0.2's lookup
    //! (granted by `--inherit-network` only; without it `permanent-resolver-failure`,
    //! as wasmtime answers when lookup is not allowed). An IP literal or `/etc/hosts`
    //! answers before the call returns; a DNS query makes the call a host subtask that
    //! the reactor resolves when the nameserver answers or the query times out
    //! (`crate::host::dns::Lookup`), so other tasks run meanwhile.

    use alloc::boxed::Box;
    use alloc::vec::Vec;

    use wafer_abi::trap::TrapKind;

    use super::returned;
    use crate::component::tasks;
    use crate::global::Global;
    use crate::host::dns::{self, Addresses, LookupError};
    use crate::p2::{Call, CanonContext, HostResult, host_fns};

    /// `ip-name-lookup`'s own `error-code` cases.
    mod case {
        pub const INVALID_ARGUMENT: u8 = 1;
        pub const NAME_UNRESOLVABLE: u8 = 2;
        pub const TEMPORARY_RESOLVER_FAILURE: u8 = 3;
        pub const PERMANENT_RESOLVER_FAILURE: u8 = 4;
    }

    /// The size of an `ip-address` (a case, then 16 bytes aligned to 2).
    const IP_ADDRESS_SIZE: u32 = 18;

    /// A lookup waiting for the nameserver: its subtask's result goes through `ret` in
    /// the memory of `context`, the calling import's options.
    struct Waiting {
        lookup: Box<dns::Lookup>,
        subtask: u32,
        context: *mut CanonContext,
        ret: u32,
    }

    static WAITING: Global<Vec<Option<Waiting>>> = Global::new(Vec::new());

    fn case_of(err: LookupError) -> u8 {
        match err {
            LookupError::InvalidName => case::INVALID_ARGUMENT,
            LookupError::Unresolvable => case::NAME_UNRESOLVABLE,
            LookupError::Temporary => case::TEMPORARY_RESOLVER_FAILURE,
        }
    }

    /// `resolve-addresses`: answers at once where it can (`RETURNED`, the result
    /// through `ret`), else starts a subtask (`STARTED`).
    fn resolve_addresses(call: &Call, ptr: i32, len: i32, ret: i32) -> HostResult<u32> {
        let mut buf = [0u8; super::super::lookup::NAME_MAX];
        let name = call.lift_string(ptr, len, &mut buf)?;
        let outcome = if !crate::host::net::whole_network() {
            Err(case::PERMANENT_RESOLVER_FAILURE)
        } else {
            match name {
                Err(_) => Err(case::INVALID_ARGUMENT),
                Ok(name) => match dns::start(name) {
                    dns::Start::Done(outcome) => outcome.map_err(case_of),
                    dns::Start::Pending(lookup) => {
                        let (packed, subtask) = tasks::start_pending_subtask(call.instance())?;
                        // The HTTP service loop's reactor wakes on its answers too.
                        crate::http::server::watch(lookup.handle());
                        WAITING.with(|waiting| {
                            crate::slots::insert(
                                waiting,
                                Waiting {
                                    lookup,
                                    subtask,
                                    context: call.context(),
                                    ret: ret as u32,
                                },
                            )
                        });
                        return Ok(packed);
                    }
                },
            }
        };
        returned(store(call, outcome, ret as u32))
    }

    /// Stores `result<list<ip-address>, error-code>` at `ret`.
    fn store(call: &Call, outcome: Result<Addresses, u8>, ret: u32) -> HostResult<()> {
        match outcome {
            Ok(found) => {
                let addresses = found.as_slice();
                let count = addresses.len() as u32;
                let list = call.allocate(2, IP_ADDRESS_SIZE * count)?;
                for (i, addr) in addresses.iter().enumerate() {
                    let at = list + IP_ADDRESS_SIZE * i as u32;
                    call.store_u8(at, u8::from(addr.ipv6))?;
                    if addr.ipv6 {
                        for (j, pair) in addr.bytes.chunks_exact(2).enumerate() {
                            let word = u16::from_be_bytes([pair[0], pair[1]]);
                            call.store(at + 2 + 2 * j as u32, 2, &word.to_le_bytes())?;
                        }
                    } else {
                        call.store(at + 2, 1, &addr.bytes[..4])?;
                    }
                }
                call.store_u8(ret, 0)?;
                call.store_u32(ret + 4, list)?;
                call.store_u32(ret + 8, count)
            }
            Err(code) => {
                call.store_u8(ret, 1)?;
                call.store_u8(ret + 4, code)
            }
        }
    }

    /// Takes the nameserver's answers that came: each lookup that has its outcome
    /// stores it and resolves its subtask. Whether any did.
    pub(super) fn advance() -> Result<bool, TrapKind> {
        let mut finished = false;
        let count = WAITING.with(|waiting| waiting.len());
        for id in 0..count {
            // Taken out while it runs: storing the result may call the guest's `realloc`.
            let Some(mut waiting) = WAITING.with(|all| all.get_mut(id).and_then(Option::take))
            else {
                continue;
            };
            match waiting.lookup.advance() {
                None => WAITING.with(|all| all[id] = Some(waiting)),
                Some(outcome) => {
                    // SAFETY: the context of the import's canonical options, static
                    // data the compiler emitted, which outlives the call.
                    let call = unsafe { Call::new(waiting.context) };
                    store(&call, outcome.map_err(case_of), waiting.ret)?;
                    tasks::resolve_subtask(waiting.subtask);
                    finished = true;
                }
            }
        }
        Ok(finished)
    }

    /// Drops the lookup of host subtask `subtask` (its caller cancelled it): whether
    /// there was one.
    pub(super) fn cancel(subtask: u32) -> bool {
        WAITING.with(|waiting| {
            let slot = waiting
                .iter_mut()
                .find(|w| w.as_ref().is_some_and(|w| w.subtask == subtask));
            slot.and_then(Option::take).is_some()
        })
    }

    host_fns! {
        /// `wasi:sockets/ip-name-lookup@0.3.resolve-addresses`, lowered `async`.
        wafer_p3_sockets_resolve_addresses(ptr: i32, len: i32, ret: i32) -> u32 => |call, ptr, len, ret| {
            resolve_addresses(call, ptr, len, ret)
        };
    }
}
