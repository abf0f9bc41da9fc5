//! The host's part in `wasi:sockets@0.3`'s streams (`crate::p2::sockets::p3`): a TCP
//! connection's bytes both ways and a listener's connections. A copy moves what the
//! socket has or takes now; otherwise it stays pending, retried whenever the executor
//! looks for progress, and the reactor waits on the socket meanwhile.

use alloc::vec::Vec;

use wafer_abi::component::{SOCKETS_RESULT_FUTURE, STREAM_U8, elem_layout, type_identity};
use wafer_abi::trap::TrapKind;
use wafer_canon::AsyncKind;

use super::{
    Host, HostTypes, IMPORTED_TYPE, STATE, Shared, State, StateWord, add_host_end, push,
    take_readable_bytes,
};

impl State {
    /// Copies between the socket and the pending copy of socket stream `sid`, if the
    /// socket is ready: whether the copy finished.
    pub(super) fn try_socket(&mut self, sid: u32) -> Result<bool, TrapKind> {
        let shared = self.shared(sid)?;
        let (Some((id, _)), Some(Host::Socket(end))) = (shared.pending, shared.host) else {
            return Ok(false);
        };
        let buffer = self.end(id)?.buffer.ok_or(TrapKind::Unreachable)?;
        let Some(copied) =
            crate::p2::socket_copy(end, buffer.context, buffer.ptr, buffer.remain())?
        else {
            return Ok(false);
        };
        self.shared(sid)?.pending = None;
        self.finish_host_copy(id, sid, copied)?;
        Ok(true)
    }

    /// Retries the socket streams' pending copies: whether one finished.
    pub(super) fn progress_sockets(&mut self) -> Result<bool, TrapKind> {
        let mut finished = false;
        for sid in 0..self.shared.len() as u32 {
            if self.socket_waiting(sid).is_some() {
                finished |= self.try_socket(sid)?;
            }
        }
        Ok(finished)
    }

    /// The host end of socket stream `sid` if a copy on it waits for the socket.
    pub(super) fn socket_waiting(&self, sid: u32) -> Option<crate::p2::SocketEnd> {
        match self.shared.get(sid as usize) {
            Some(Some(Shared {
                host: Some(Host::Socket(end)),
                pending: Some(_),
                dropped: false,
                ..
            })) => Some(*end),
            _ => None,
        }
    }
}

/// `stream<u8>` with `wasi:sockets@0.3`'s `future<result<_, error-code>>` (an
/// `error-code` is 16 bytes aligned to 4).
const SOCKET_TYPES: HostTypes = (
    type_identity(STREAM_U8),
    elem_layout::new(1, 1, true),
    type_identity(SOCKETS_RESULT_FUTURE),
    elem_layout::new(20, 4, false),
);

/// A socket stream the guest of `instance` reads, written by the host as `end` says
/// (which the stream takes over): the guest's stream handle, and with `outcome` the
/// handle of the future of how it ends. A listener's `stream<tcp-socket>` has no
/// outcome; its type is the guest's (its element a handle of the guest's resource
/// type, which the host cannot name).
pub(crate) fn socket_source(
    instance: StateWord,
    end: crate::p2::SocketEnd,
    outcome: bool,
) -> Result<(u32, Option<u32>), TrapKind> {
    let (sid, fid) = STATE.with(|state| {
        if outcome {
            let (sid, fid) = state.new_host_stream(SOCKET_TYPES, Some(Host::Socket(end)));
            (sid, Some(fid))
        } else {
            let shared = Shared::new(
                IMPORTED_TYPE,
                elem_layout::new(4, 4, false),
                false,
                Some(Host::Socket(end)),
            );
            (push(&mut state.shared, shared), None)
        }
    });
    let stream = add_host_end(instance, sid, AsyncKind::StreamReadable)?;
    let future = match fid {
        Some(fid) => Some(add_host_end(instance, fid, AsyncKind::FutureReadable)?),
        None => None,
    };
    Ok((stream, future))
}

/// A `stream<u8>` that has ended and the future of its error `code`, for a socket
/// that cannot receive: the guest's handles.
pub(crate) fn socket_failed_source(
    instance: StateWord,
    code: u8,
) -> Result<(u32, Option<u32>), TrapKind> {
    let (stream, future) = super::host_source(instance, SOCKET_TYPES, Err(code))?;
    Ok((stream, Some(future)))
}

/// A socket stream the guest writes (`send`): takes the guest's readable end `data`
/// and makes the host its reader as `sink` says, or, for `Err(code)`, ends it at once
/// with that `error-code`. The guest's handle of the outcome future.
pub(crate) fn socket_sink(
    instance: StateWord,
    data: u32,
    sink: Result<crate::p2::SocketEnd, u8>,
) -> Result<u32, TrapKind> {
    let sid = take_readable_bytes(instance, data)?;
    let fid = STATE.with(|state| state.host_reads(sid, SOCKET_TYPES, sink.map(Host::Socket)))?;
    add_host_end(instance, fid, AsyncKind::FutureReadable)
}

/// Retries the socket streams' pending copies: whether one finished.
pub(crate) fn progress_sockets() -> Result<bool, TrapKind> {
    STATE.with(State::progress_sockets)
}

/// Whether a copy on a socket stream waits for its socket.
pub(crate) fn waits_on_sockets() -> bool {
    STATE
        .with(|state| (0..state.shared.len() as u32).any(|sid| state.socket_waiting(sid).is_some()))
}

/// Adds the reactor's targets of the socket streams' pending copies to `targets`.
pub(crate) fn socket_targets(targets: &mut Vec<crate::host::poll::Target>) {
    let ends: Vec<crate::p2::SocketEnd> = STATE.with(|state| {
        (0..state.shared.len() as u32)
            .filter_map(|sid| state.socket_waiting(sid))
            .collect()
    });
    targets.extend(ends.into_iter().filter_map(crate::p2::SocketEnd::target));
}
