//! Streams and futures (`stream<T>`, `future<T>`): the shared objects behind their two
//! ends, the copies between guest buffers, and the host as the other party of the WASI
//! 0.3 stdio streams (`wasi:cli/stdin`, `stdout`, `stderr`) and of `wasi:filesystem`'s
//! file and directory streams.
//!
//! Shaped as `definitions.py`'s `SharedStreamImpl`, `SharedFutureImpl` and `CopyEnd`: a
//! copy that finds no copy waiting at the other end leaves its buffer pending there;
//! the other end's copy then moves elements between the two buffers, completes at once,
//! and leaves the pending end an event (delivered by `waitable-set.wait`/`.poll`, or
//! awaited by a synchronous copy). A pending end keeps its buffer until its event is
//! delivered, so copies meanwhile keep filling or draining it, and the event reports
//! all of them. Elements of number types (and of no type) are copied as bytes, which is
//! what lifting and lowering them does; other element types are lifted from the
//! writer's memory and lowered into the reader's (`stream_values`). Fused adapters move readable ends between component
//! instances' tables (`stream-transfer`, `future-transfer`).
//!
//! The host end of a stdio stream copies straight between the descriptor and the guest
//! buffer (`read(2)` into guest memory, `write(2)` from it): nothing is allocated. A read
//! of stdin that would block stays pending; `waitable-set.wait` then sleeps in the
//! reactor (`crate::host::poll::wait`) on stdin, and the read happens when it is ready.
//! A file stream's host end is a `crate::p2` host object (`Host::Object`), which is
//! always ready: its copies complete at once, between the file and the guest buffer.
//! A `wasi:sockets@0.3` stream's host end (`Host::Socket`) copies between the socket
//! and the guest buffer when the socket is ready, and otherwise stays pending, as a
//! stdin read does: the reactor wakes it.

use alloc::vec::Vec;

use wafer_abi::component::{
    BuiltinResult, DIRECTORY_ENTRY_STREAM, FILESYSTEM_RESULT_FUTURE, NEW_TRAP_SHIFT,
    STDIO_RESULT_FUTURE, STREAM_U8, copy_op, elem_layout, type_identity,
};
use wafer_abi::trap::TrapKind;
use wafer_canon::{AsyncKind, Trap};

use super::{Component, Descriptor, StateWord, host_trap};
use crate::errno::Errno;
use crate::global::Global;
use crate::guest::GuestMemory;
use crate::host::Descriptor as HostDescriptor;
use crate::p2::CanonContext;
use crate::sys::{Current, Interest, IoVec, Platform as _, PollFd, RawHandle};

/// What a copy or cancel returns when it cannot finish at once.
pub const BLOCKED: u32 = 0xffff_ffff;

/// The copy results, in the low 4 bits of a stream's event payload.
mod copy_result {
    pub const COMPLETED: u32 = 0;
    pub const DROPPED: u32 = 1;
    pub const CANCELLED: u32 = 2;
}

/// The event codes of copies.
pub mod event {
    /// A stream read finished.
    pub const STREAM_READ: u32 = 2;
    /// A stream write finished.
    pub const STREAM_WRITE: u32 = 3;
    /// A future read finished.
    pub const FUTURE_READ: u32 = 4;
    /// A future write finished.
    pub const FUTURE_WRITE: u32 = 5;
}

/// The longest buffer a copy may name (`Buffer.MAX_LENGTH`).
const MAX_LENGTH: u32 = (1 << 28) - 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CopyState {
    Idle,
    Copying,
    Cancelling,
    Done,
}

/// A guest buffer a copy reads from or writes to.
#[derive(Debug, Clone, Copy)]
struct Buffer {
    /// The canonical options' context: the buffer's memory.
    context: *const CanonContext,
    /// The next element's address.
    ptr: u32,
    /// The size of an element.
    size: u32,
    length: u32,
    progress: u32,
    /// The flags global (`may_leave`) of the instance whose buffer it is: the host
    /// clears it while it lowers into the buffer with the instance's `realloc`.
    flags: *mut u32,
}

impl Buffer {
    fn remain(&self) -> u32 {
        self.length - self.progress
    }

    fn memory(&self) -> GuestMemory {
        // SAFETY: the compiler passes the context of the copy's canonical options,
        // static data that lives as long as the image.
        unsafe { crate::p2::context_memory(self.context) }
    }
}

/// What an end learns when its copy progresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PendingEvent {
    /// The other end copied into or out of this end's pending buffer
    /// (`pending_on_copy`): delivering it gives the buffer back (COMPLETED).
    Copied,
    /// The copy ended with this result.
    Done(u32),
}

/// One end of a stream or future, held in a component instance's table.
#[derive(Debug)]
struct End {
    shared: u32,
    kind: AsyncKind,
    state: CopyState,
    buffer: Option<Buffer>,
    event: Option<PendingEvent>,
    /// The waitable set it is joined to.
    set: Option<u32>,
    /// Its index in its instance's table.
    handle: u32,
    /// A synchronous copy or cancel waits on it: it may not join a waitable set.
    sync_waiter: bool,
}

/// The host as one party of a stream or future.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Host {
    /// The writer of a stream: stdin.
    Stdin,
    /// The reader of a stream: stdout or stderr.
    Output(RawHandle),
    /// The writer of a `future<result<_, error-code>>` that reports how stream
    /// `stream` ended (a future standing alone names itself). The error's case is
    /// stored `payload_at` bytes in (after the discriminant, aligned as the error type).
    Outcome { stream: u32, payload_at: u8 },
    /// A party of an HTTP body or trailers (`crate::http`).
    Http(HttpEnd),
    /// A `wasi:filesystem@0.3` stream: the host object of `crate::p2` it reads or
    /// writes (a file at an offset or at its end, or a directory's listing), which the
    /// stream holds until it ends.
    Object(u32),
    /// A `wasi:sockets@0.3` stream: a TCP connection's bytes, or a listener's
    /// connections (the socket's object, held until the stream ends).
    Socket(crate::p2::SocketEnd),
}

/// What the host is in an HTTP stream or future.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpEnd {
    /// The writer of a received request's body: it reads connection `conn`.
    RequestBody {
        /// The server's connection.
        conn: u32,
    },
    /// The reader of the body of a message the host sends (a response the service
    /// returned, a request the client sends): it sends on the message's connection.
    OutgoingBody {
        /// The request or response object.
        message: u32,
    },
    /// The reader of the trailers future of a message the host sends.
    OutgoingTrailers {
        /// The request or response object.
        message: u32,
    },
}

/// The type identity of a host future the guest's import type fixes (a `wasi:http`
/// future of a `result` with `error-code`): the guest's first use names it.
const IMPORTED_TYPE: u32 = 0;

/// Where the error case of `wasi:http`'s `result<_, error-code>` (and of
/// `result<option<trailers>, error-code>`) lies: `error-code` has 8-byte payloads.
const HTTP_PAYLOAD_AT: u8 = 8;

/// A stream or future: what its two ends share.
#[derive(Debug)]
struct Shared {
    /// The type's identity (`wafer_abi::component::type_identity`).
    ty: u32,
    layout: u32,
    future: bool,
    dropped: bool,
    /// The end whose copy waits for the other end, and the instance that started it.
    pending: Option<(u32, u32)>,
    host: Option<Host>,
    /// For a host stream: how it ended, once it has (`Err` an `error-code` case).
    outcome: Option<Result<(), u8>>,
    /// For a host stream: the future that reports its outcome.
    outcome_future: Option<u32>,
    /// Tells this stream or future from others that had its slot before.
    generation: u32,
}

impl Shared {
    fn new(ty: u32, layout: u32, future: bool, host: Option<Host>) -> Shared {
        Shared {
            ty,
            layout,
            future,
            dropped: false,
            pending: None,
            host,
            outcome: None,
            outcome_future: None,
            generation: next_generation(),
        }
    }
}

/// Every stream and future of the image. Unlike tasks, they outlive a harness command:
/// a script's calls pass them on to later calls through the instances' tables.
#[derive(Default)]
struct State {
    shared: Vec<Option<Shared>>,
    ends: Vec<Option<End>>,
}

static STATE: Global<State> = Global::new(State {
    shared: Vec::new(),
    ends: Vec::new(),
});

/// The `error-code` cases of `wasi:cli/types@0.3`.
mod error_code {
    pub const IO: u8 = 0;
    pub const PIPE: u8 = 2;
}

use crate::slots::insert as push;

mod sockets;
pub(crate) use sockets::{
    progress_sockets, socket_failed_source, socket_sink, socket_source, socket_targets,
    waits_on_sockets,
};

/// The host's hold on a stream or future it keeps (an HTTP body): its shared id and
/// generation, so that a hold on one freed since (its slot reused) names nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostRef {
    sid: u32,
    generation: u32,
}

/// The generation the next stream or future gets.
static GENERATION: Global<u32> = Global::new(0);

fn next_generation() -> u32 {
    GENERATION.with(|g| {
        *g = g.wrapping_add(1);
        *g
    })
}

impl State {
    fn end(&mut self, id: u32) -> Result<&mut End, TrapKind> {
        match self.ends.get_mut(id as usize) {
            Some(Some(end)) => Ok(end),
            _ => Err(TrapKind::Unreachable),
        }
    }

    fn shared(&mut self, id: u32) -> Result<&mut Shared, TrapKind> {
        match self.shared.get_mut(id as usize) {
            Some(Some(shared)) => Ok(shared),
            _ => Err(TrapKind::Unreachable),
        }
    }

    fn new_end(&mut self, shared: u32, kind: AsyncKind) -> u32 {
        push(
            &mut self.ends,
            End {
                shared,
                kind,
                state: CopyState::Idle,
                buffer: None,
                event: None,
                set: None,
                handle: 0,
                sync_waiter: false,
            },
        )
    }

    /// `reset_and_notify_pending(result)`.
    fn notify_pending(&mut self, shared: u32, result: u32) -> Result<(), TrapKind> {
        if let Some((pending, _)) = self.shared(shared)?.pending.take() {
            self.end(pending)?.event = Some(PendingEvent::Done(result));
        }
        Ok(())
    }

    /// The shared object's `read` or `write` for end `id`, whose buffer is set: copies
    /// with the pending end, or becomes the pending end.
    fn copy(&mut self, id: u32, instance: u32) -> Result<(), TrapKind> {
        let sid = self.end(id)?.shared;
        let writing = matches!(
            self.end(id)?.kind,
            AsyncKind::StreamWritable | AsyncKind::FutureWritable
        );
        let shared = self.shared(sid)?;
        let (future, layout, ty) = (shared.future, shared.layout, shared.ty);
        if shared.dropped {
            self.end(id)?.event = Some(PendingEvent::Done(copy_result::DROPPED));
            return Ok(());
        }
        if shared.host.is_some() {
            return self.host_copy(id, sid);
        }
        let Some((other, other_instance)) = shared.pending else {
            shared.pending = Some((id, instance));
            return Ok(());
        };
        if other_instance == instance && layout & (elem_layout::NONE | elem_layout::NUMBER) == 0 {
            return Err(TrapKind::IntraComponentCopy);
        }
        let mine = self.end(id)?.buffer.ok_or(TrapKind::Unreachable)?;
        let theirs = self.end(other)?.buffer.ok_or(TrapKind::Unreachable)?;
        // (writer, reader) instances, for elements lifted from one and lowered into the
        // other.
        let parties = match writing {
            true => (instance, other_instance),
            false => (other_instance, instance),
        };
        if future {
            let (src, dst) = if writing {
                (mine, theirs)
            } else {
                (theirs, mine)
            };
            move_elements(layout, src, dst, 1, (ty, parties))?;
            self.advance(id, 1)?;
            self.advance(other, 1)?;
            self.notify_pending(sid, copy_result::COMPLETED)?;
            self.end(id)?.event = Some(PendingEvent::Done(copy_result::COMPLETED));
            return Ok(());
        }
        if theirs.remain() > 0 {
            if mine.remain() > 0 {
                let n = mine.remain().min(theirs.remain());
                let (src, dst) = if writing {
                    (mine, theirs)
                } else {
                    (theirs, mine)
                };
                move_elements(layout, src, dst, n, (ty, parties))?;
                self.advance(id, n)?;
                self.advance(other, n)?;
                self.end(other)?.event = Some(PendingEvent::Copied);
            }
            self.end(id)?.event = Some(PendingEvent::Done(copy_result::COMPLETED));
        } else if writing && mine.length == 0 && theirs.length == 0 {
            self.end(id)?.event = Some(PendingEvent::Done(copy_result::COMPLETED));
        } else {
            self.notify_pending(sid, copy_result::COMPLETED)?;
            self.shared(sid)?.pending = Some((id, instance));
        }
        Ok(())
    }

    fn advance(&mut self, id: u32, n: u32) -> Result<(), TrapKind> {
        let end = self.end(id)?;
        let buffer = end.buffer.as_mut().ok_or(TrapKind::Unreachable)?;
        buffer.progress += n;
        buffer.ptr = buffer.ptr.wrapping_add(n.wrapping_mul(buffer.size));
        Ok(())
    }

    /// A copy of end `id` with the host at the other end of `sid`.
    fn host_copy(&mut self, id: u32, sid: u32) -> Result<(), TrapKind> {
        let shared = self.shared(sid)?;
        let host = shared.host.ok_or(TrapKind::Unreachable)?;
        match host {
            Host::Output(_) => {
                self.shared(sid)?.pending = Some((id, u32::MAX));
                self.try_output(sid)?;
            }
            Host::Stdin => {
                self.shared(sid)?.pending = Some((id, u32::MAX));
                self.try_stdin(sid)?;
            }
            Host::Outcome { .. } => {
                self.shared(sid)?.pending = Some((id, u32::MAX));
                if let Some(outcome) = self.shared(sid)?.outcome {
                    self.write_outcome(sid, outcome)?;
                }
            }
            Host::Http(HttpEnd::RequestBody { conn }) => {
                self.shared(sid)?.pending = Some((id, u32::MAX));
                self.try_request_body(sid, conn)?;
            }
            Host::Http(HttpEnd::OutgoingBody { message: response }) => {
                self.shared(sid)?.pending = Some((id, u32::MAX));
                self.try_response_body(sid, response)?;
            }
            Host::Http(HttpEnd::OutgoingTrailers { message: response }) => {
                self.take_trailers(id, sid, response)?;
            }
            Host::Socket(_) => {
                self.shared(sid)?.pending = Some((id, u32::MAX));
                self.try_socket(sid)?;
            }
            Host::Object(object) => {
                // Files are always ready: the copy completes now, in guest memory.
                let end = self.end(id)?;
                let reading = end.kind == AsyncKind::StreamReadable;
                let buffer = end.buffer.ok_or(TrapKind::Unreachable)?;
                let copied = crate::p2::object_copy(
                    object,
                    reading,
                    (buffer.context, buffer.flags),
                    buffer.ptr,
                    buffer.remain(),
                )?;
                self.finish_host_copy(id, sid, copied)?;
            }
        }
        Ok(())
    }

    /// Reads the request body of connection `conn` into the pending read of stream
    /// `sid`, as far as the connection has it: whether the read finished.
    fn try_request_body(&mut self, sid: u32, conn: u32) -> Result<bool, TrapKind> {
        use crate::http::server::{BodyRead, read_body};
        let Some((id, _)) = self.shared(sid)?.pending else {
            return Ok(false);
        };
        let buffer = self.end(id)?.buffer.ok_or(TrapKind::Unreachable)?;
        let destination = buffer
            .memory()
            .range(buffer.ptr, buffer.remain())
            .map_err(|_| TrapKind::PointerOutOfBounds)?;
        // SAFETY: `range` checked the destination lies in guest memory, and no Rust
        // reference into guest memory lives across this call.
        let destination =
            unsafe { core::slice::from_raw_parts_mut(destination, buffer.remain() as usize) };
        let outcome = match read_body(conn, destination) {
            BodyRead::Pending => return Ok(false),
            BodyRead::Data(n) => {
                self.shared(sid)?.pending = None;
                self.advance_bytes(id, n as u32)?;
                self.end(id)?.event = Some(PendingEvent::Done(copy_result::COMPLETED));
                return Ok(true);
            }
            BodyRead::End => Ok(()),
            BodyRead::Failed => Err(crate::http::error_code::CONNECTION_TERMINATED),
        };
        let shared = self.shared(sid)?;
        shared.pending = None;
        shared.dropped = true;
        self.set_outcome(sid, outcome)?;
        self.end(id)?.event = Some(PendingEvent::Done(copy_result::DROPPED));
        Ok(true)
    }

    /// Sends the pending write of stream `sid` as the body of `response`, as far as
    /// the connection takes it now: whether the write finished.
    fn try_response_body(&mut self, sid: u32, response: u32) -> Result<bool, TrapKind> {
        use crate::http::server::{BodyWrite, write_body};
        let Some((id, _)) = self.shared(sid)?.pending else {
            return Ok(false);
        };
        let buffer = self.end(id)?.buffer.ok_or(TrapKind::Unreachable)?;
        let source = buffer
            .memory()
            .range(buffer.ptr, buffer.remain())
            .map_err(|_| TrapKind::PointerOutOfBounds)?;
        // SAFETY: as in `try_request_body`; the slice is only read.
        let source = unsafe { core::slice::from_raw_parts(source, buffer.remain() as usize) };
        match write_body(response, source) {
            BodyWrite::Pending => return Ok(false),
            BodyWrite::Sent(n) => {
                self.advance_bytes(id, n as u32)?;
                self.end(id)?.event = Some(PendingEvent::Done(copy_result::COMPLETED));
            }
            BodyWrite::Failed => {
                self.shared(sid)?.dropped = true;
                self.end(id)?.event = Some(PendingEvent::Done(copy_result::DROPPED));
            }
        }
        self.shared(sid)?.pending = None;
        Ok(true)
    }

    /// Takes the value the guest wrote to response `response`'s trailers future (end
    /// `id` of `sid`): `result<option<trailers>, error-code>`, its `trailers` an own
    /// handle in the writer's table.
    fn take_trailers(&mut self, id: u32, sid: u32, response: u32) -> Result<(), TrapKind> {
        let buffer = self.end(id)?.buffer.ok_or(TrapKind::Unreachable)?;
        let memory = buffer.memory();
        let byte = |at: u32| {
            memory
                .read::<1>(buffer.ptr.wrapping_add(at))
                .map(|[b]| b)
                .map_err(|_| TrapKind::PointerOutOfBounds)
        };
        let trailers = match (byte(0)?, byte(u32::from(HTTP_PAYLOAD_AT))?) {
            (0, 0) => Ok(None),
            (0, 1) => {
                let handle = memory
                    .read_u32(buffer.ptr.wrapping_add(u32::from(HTTP_PAYLOAD_AT) + 4))
                    .map_err(|_| TrapKind::PointerOutOfBounds)?;
                // SAFETY: the buffer's context is the writer's canonical options.
                let instance = unsafe { crate::p2::context_instance(buffer.context) };
                let ty = super::host_resource(wafer_abi::wasi_p2::resource::HTTP_FIELDS);
                // SAFETY: the state word is the writer's instance's.
                let rep = unsafe {
                    super::with_instance_state(instance, |state| state.table().lift_own(ty, handle))
                }
                .map_err(host_trap)?;
                Ok(Some(rep))
            }
            (0, _) | (2.., _) => return Err(TrapKind::InvalidDiscriminant),
            (1, _) => Err(()),
        };
        crate::http::with_outgoing(response, |out| out.trailers = Some(trailers))?;
        self.advance(id, 1)?;
        // The host read the value: the future is done at both ends.
        self.shared(sid)?.dropped = true;
        self.end(id)?.event = Some(PendingEvent::Done(copy_result::COMPLETED));
        Ok(())
    }

    /// Ends the copy of end `id` of host stream `sid` that moved `copied`: it
    /// completes, or the stream ended with it (its outcome recorded).
    fn finish_host_copy(
        &mut self,
        id: u32,
        sid: u32,
        copied: crate::p2::Copied,
    ) -> Result<(), TrapKind> {
        self.advance(id, copied.count)?;
        let result = match copied.end {
            None => copy_result::COMPLETED,
            Some(outcome) => {
                self.end_object_stream(sid, outcome)?;
                copy_result::DROPPED
            }
        };
        self.end(id)?.event = Some(PendingEvent::Done(result));
        Ok(())
    }

    /// Ends host object stream `sid` with `outcome` (the host's side): the stream lets
    /// its object go, and its outcome future resolves.
    fn end_object_stream(&mut self, sid: u32, outcome: Result<(), u8>) -> Result<(), TrapKind> {
        let shared = self.shared(sid)?;
        if shared.dropped {
            return Ok(());
        }
        shared.dropped = true;
        match shared.host {
            Some(Host::Object(object)) => crate::p2::object_release(object),
            Some(Host::Socket(end)) => crate::p2::socket_release(end),
            _ => {}
        }
        self.set_outcome(sid, outcome)
    }

    fn advance_bytes(&mut self, id: u32, bytes: u32) -> Result<(), TrapKind> {
        // The host's streams are `stream<u8>`: one byte an element.
        self.advance(id, bytes)
    }

    /// Reads stdin into the pending read of stream `sid`, if stdin is ready.
    fn try_stdin(&mut self, sid: u32) -> Result<(), TrapKind> {
        let Some((id, _)) = self.shared(sid)?.pending else {
            return Ok(());
        };
        let buffer = self.end(id)?.buffer.ok_or(TrapKind::Unreachable)?;
        if buffer.remain() == 0 {
            self.shared(sid)?.pending = None;
            self.end(id)?.event = Some(PendingEvent::Done(copy_result::COMPLETED));
            return Ok(());
        }
        if !ready(0, Interest::Read) {
            return Ok(());
        }
        let destination = buffer
            .memory()
            .range(buffer.ptr, buffer.remain())
            .map_err(|_| TrapKind::PointerOutOfBounds)?;
        let iov = [IoVec {
            base: destination,
            len: buffer.remain() as usize,
        }];
        let read = loop {
            // SAFETY: `range` checked that the destination lies in guest memory, which
            // the read only writes; no Rust reference into it exists.
            match unsafe { HostDescriptor::stdio(0).read(&iov) } {
                Err(Errno::INTR) => continue,
                // Ready but empty after all (another reader took it): wait again.
                Err(Errno::AGAIN) => return Ok(()),
                other => break other,
            }
        };
        self.shared(sid)?.pending = None;
        match read {
            Ok(0) => {
                self.shared(sid)?.dropped = true;
                self.set_outcome(sid, Ok(()))?;
                self.end(id)?.event = Some(PendingEvent::Done(copy_result::DROPPED));
            }
            Ok(n) => {
                self.advance_bytes(id, n as u32)?;
                self.end(id)?.event = Some(PendingEvent::Done(copy_result::COMPLETED));
            }
            Err(_) => {
                self.shared(sid)?.dropped = true;
                self.set_outcome(sid, Err(error_code::IO))?;
                self.end(id)?.event = Some(PendingEvent::Done(copy_result::DROPPED));
            }
        }
        Ok(())
    }

    /// Goes on with the pending write of host output stream `sid` (stdout or stderr):
    /// writes what the descriptor takes without blocking, and completes the copy with
    /// that much (a full pipe leaves it pending: the reactor waits until the descriptor
    /// is writable, and other tasks run meanwhile).
    fn try_output(&mut self, sid: u32) -> Result<(), TrapKind> {
        let Some((id, _)) = self.shared(sid)?.pending else {
            return Ok(());
        };
        let Some(Host::Output(fd)) = self.shared(sid)?.host else {
            return Err(TrapKind::Unreachable);
        };
        let buffer = self.end(id)?.buffer.ok_or(TrapKind::Unreachable)?;
        let (written, failure) = write_out(fd, buffer);
        if written == 0 && failure.is_none() && buffer.remain() > 0 {
            return Ok(());
        }
        self.shared(sid)?.pending = None;
        self.advance_bytes(id, written)?;
        match failure {
            None => self.end(id)?.event = Some(PendingEvent::Done(copy_result::COMPLETED)),
            Some(code) => {
                self.shared(sid)?.dropped = true;
                self.set_outcome(sid, Err(code))?;
                self.end(id)?.event = Some(PendingEvent::Done(copy_result::DROPPED));
            }
        }
        Ok(())
    }

    /// Records how host stream `sid` ended, and completes a read of its outcome future.
    fn set_outcome(&mut self, sid: u32, outcome: Result<(), u8>) -> Result<(), TrapKind> {
        let shared = self.shared(sid)?;
        if shared.outcome.is_some() {
            return Ok(());
        }
        shared.outcome = Some(outcome);
        if let Some(future) = shared.outcome_future {
            // The future keeps its own copy: it may outlive the stream.
            if let Ok(shared) = self.shared(future)
                && shared.outcome.is_none()
            {
                shared.outcome = Some(outcome);
            }
            self.write_outcome(future, outcome)?;
        }
        Ok(())
    }

    /// The host's write of `outcome` to future `fid`, if a read of it is pending.
    fn write_outcome(&mut self, fid: u32, outcome: Result<(), u8>) -> Result<(), TrapKind> {
        let Some(Some(future)) = self.shared.get_mut(fid as usize) else {
            return Ok(());
        };
        if future.dropped {
            return Ok(());
        }
        let payload_at = match future.host {
            Some(Host::Outcome { payload_at, .. }) => u32::from(payload_at),
            _ => 1,
        };
        let size = future.layout & elem_layout::SIZE_MASK;
        let Some((reader, _)) = future.pending.take() else {
            return Ok(());
        };
        let buffer = self.end(reader)?.buffer.ok_or(TrapKind::Unreachable)?;
        // `result<_, error>`: the discriminant, then the error's case where its payload
        // lies. (For `result<option<trailers>, _>`, `ok` has `none` there: also 0.)
        let (discriminant, case) = match outcome {
            Ok(()) => (0, 0),
            Err(code) => (1, code),
        };
        let memory = buffer.memory();
        // The rest of the error's payload is zero: a case with an optional payload
        // (`other(option<string>)`) has none.
        let zeros = [0u8; 16];
        let rest = size.saturating_sub(payload_at + 1).min(zeros.len() as u32) as usize;
        memory
            .write(buffer.ptr, &[discriminant])
            .and_then(|()| {
                if discriminant == 1 || payload_at > 1 {
                    memory.write(buffer.ptr.wrapping_add(payload_at), &[case])?;
                }
                if discriminant == 1 {
                    memory.write(buffer.ptr.wrapping_add(payload_at + 1), &zeros[..rest])?;
                }
                Ok(())
            })
            .map_err(|_| TrapKind::PointerOutOfBounds)?;
        self.advance(reader, 1)?;
        // The host wrote its value: the future is done at both ends.
        self.shared(fid)?.dropped = true;
        self.end(reader)?.event = Some(PendingEvent::Done(copy_result::COMPLETED));
        Ok(())
    }

    /// Makes progress on the host's pending copies: reads stdin where it is ready.
    fn progress(&mut self) -> Result<(), TrapKind> {
        self.progress_http()?;
        self.progress_sockets()?;
        for sid in 0..self.shared.len() as u32 {
            match self.shared.get(sid as usize) {
                Some(Some(Shared {
                    host: Some(Host::Stdin),
                    pending: Some(_),
                    ..
                })) => self.try_stdin(sid)?,
                Some(Some(Shared {
                    host: Some(Host::Output(_)),
                    pending: Some(_),
                    ..
                })) => self.try_output(sid)?,
                _ => {}
            }
        }
        Ok(())
    }

    /// Frees `sid` when no end of it is left: the host's holds on it ([`HostRef`])
    /// then name nothing, and a stream's outcome future keeps its own outcome.
    fn free_if_unused(&mut self, sid: u32) {
        if self.ends.iter().flatten().any(|end| end.shared == sid) {
            return;
        }
        let Some(Some(shared)) = self.shared.get(sid as usize) else {
            return;
        };
        if let Some(Host::Outcome { stream, .. }) = shared.host
            && stream != sid
            && let Ok(stream) = self.shared(stream)
            && stream.outcome_future == Some(sid)
        {
            stream.outcome_future = None;
        }
        if let Some(Some(shared)) = self.shared.get(sid as usize)
            && let Some(future) = shared.outcome_future
            && let Ok(future) = self.shared(future)
        {
            // The future no longer reports this stream (whose slot may be reused).
            future.host = Some(Host::Outcome {
                stream: future_self_marker(),
                payload_at: match future.host {
                    Some(Host::Outcome { payload_at, .. }) => payload_at,
                    _ => 1,
                },
            });
        }
        self.shared[sid as usize] = None;
    }

    /// Retries the pending copies of HTTP bodies: whether one finished.
    fn progress_http(&mut self) -> Result<bool, TrapKind> {
        let mut finished = false;
        for sid in 0..self.shared.len() as u32 {
            let Some(Some(Shared {
                host: Some(Host::Http(end)),
                pending: Some(_),
                ..
            })) = self.shared.get(sid as usize)
            else {
                continue;
            };
            finished |= match *end {
                HttpEnd::RequestBody { conn } => self.try_request_body(sid, conn)?,
                HttpEnd::OutgoingBody { message: response } => {
                    self.try_response_body(sid, response)?
                }
                HttpEnd::OutgoingTrailers { .. } => false,
            };
        }
        Ok(finished)
    }

    /// Whether end `id`'s copy waits for stdin.
    fn waits_on_stdin(&self, id: u32) -> bool {
        let Some(Some(end)) = self.ends.get(id as usize) else {
            return false;
        };
        matches!(
            self.shared.get(end.shared as usize),
            Some(Some(Shared { host: Some(Host::Stdin), pending: Some((p, _)), .. })) if *p == id
        )
    }

    /// Delivers end `id`'s pending event: (event code, handle, payload).
    fn deliver(&mut self, id: u32) -> Result<[u32; 3], TrapKind> {
        let sid = self.end(id)?.shared;
        let future = self.shared(sid)?.future;
        let end = self.end(id)?;
        let event = end.event.take().ok_or(TrapKind::Unreachable)?;
        let progress = end.buffer.take().map_or(0, |buffer| buffer.progress);
        let (handle, kind) = (end.handle, end.kind);
        let result = match event {
            PendingEvent::Copied => {
                let shared = self.shared(sid)?;
                if shared.pending.is_some_and(|(p, _)| p == id) {
                    shared.pending = None;
                }
                copy_result::COMPLETED
            }
            PendingEvent::Done(result) => result,
        };
        let end = self.end(id)?;
        end.state = match result {
            copy_result::DROPPED => CopyState::Done,
            copy_result::COMPLETED if future => CopyState::Done,
            _ => CopyState::Idle,
        };
        let code = match kind {
            AsyncKind::StreamReadable => event::STREAM_READ,
            AsyncKind::StreamWritable => event::STREAM_WRITE,
            AsyncKind::FutureReadable => event::FUTURE_READ,
            _ => event::FUTURE_WRITE,
        };
        let payload = if future {
            result
        } else {
            result | progress << 4
        };
        Ok([code, handle, payload])
    }

    /// `shared.drop()` for the end of kind `kind` of `sid`.
    fn drop_shared(&mut self, sid: u32, kind: AsyncKind) -> Result<(), TrapKind> {
        let shared = self.shared(sid)?;
        if shared.dropped {
            return Ok(());
        }
        shared.dropped = true;
        let host = shared.host;
        if shared.pending.is_some() {
            self.notify_pending(sid, copy_result::DROPPED)?;
        }
        // A guest dropping its end of a host stream ends it well.
        match (host, kind) {
            (Some(Host::Output(_)), AsyncKind::StreamWritable)
            | (Some(Host::Stdin), AsyncKind::StreamReadable) => self.set_outcome(sid, Ok(())),
            (
                Some(Host::Http(HttpEnd::OutgoingBody { message: response })),
                AsyncKind::StreamWritable,
            ) => {
                crate::http::server::body_finished(response);
                Ok(())
            }
            (Some(Host::Http(HttpEnd::RequestBody { conn })), AsyncKind::StreamReadable) => {
                crate::http::server::request_dropped(conn);
                Ok(())
            }
            (Some(Host::Object(object)), AsyncKind::StreamWritable | AsyncKind::StreamReadable) => {
                crate::p2::object_release(object);
                self.set_outcome(sid, Ok(()))
            }
            (Some(Host::Socket(end)), AsyncKind::StreamWritable | AsyncKind::StreamReadable) => {
                crate::p2::socket_release(end);
                self.set_outcome(sid, Ok(()))
            }
            _ => Ok(()),
        }
    }
}

/// The `stream` an outcome future names once its stream is gone (it reads its own
/// outcome: nothing looks the stream up).
const fn future_self_marker() -> u32 {
    u32::MAX
}

/// Copies `n` elements from `src` to `dst` (number types and `()`: their bytes) of
/// stream or future type `ty` between the (writer, reader) instances `parties`. Other
/// element types are lifted and lowered after the copy's bookkeeping, outside this
/// state (lowering calls the reader's `realloc`): `stream_values`.
fn move_elements(
    layout: u32,
    src: Buffer,
    dst: Buffer,
    n: u32,
    (ty, parties): (u32, (u32, u32)),
) -> Result<(), TrapKind> {
    if layout & elem_layout::NONE != 0 {
        return Ok(());
    }
    if layout & elem_layout::NUMBER == 0 {
        super::stream_values::defer(super::stream_values::Move {
            ty,
            writer: parties.0,
            reader: parties.1,
            src: (src.context, src.ptr),
            dst: (dst.context, dst.ptr),
            size: layout & elem_layout::SIZE_MASK,
            count: n,
        });
        return Ok(());
    }
    let bytes = n * (layout & elem_layout::SIZE_MASK);
    let from = src
        .memory()
        .range(src.ptr, bytes)
        .map_err(|_| TrapKind::PointerOutOfBounds)?;
    let to = dst
        .memory()
        .range(dst.ptr, bytes)
        .map_err(|_| TrapKind::PointerOutOfBounds)?;
    // SAFETY: both ranges were checked to lie in their guest memories; they may be the
    // same memory, so the copy allows overlap.
    unsafe { core::ptr::copy(from, to, bytes as usize) };
    Ok(())
}

/// Whether `fd` is ready for `interest` now.
fn ready(fd: RawHandle, interest: Interest) -> bool {
    let mut fds = [PollFd {
        handle: fd,
        interest,
        ..PollFd::default()
    }];
    loop {
        match Current::poll(&mut fds, Some(0)) {
            Ok(n) => return n > 0,
            Err(Errno::INTR) => continue,
            // A descriptor that cannot be polled is ready: the read reports why.
            Err(_) => return true,
        }
    }
}

/// The most one write to an output descriptor that polled writable takes: a pipe then
/// has a free page, which holds this much (`PIPE_BUF`), so the write does not block.
const OUTPUT_CHUNK: usize = 4096;

/// Writes what `fd` takes now of `buffer`'s remaining bytes, from guest memory, in
/// chunks that each find it writable first (the descriptor the program inherited may
/// be a blocking pipe, which a larger write would block on): the bytes written, and
/// the `error-code` case of a failure.
fn write_out(fd: RawHandle, buffer: Buffer) -> (u32, Option<u8>) {
    let Ok(source) = buffer.memory().range(buffer.ptr, buffer.remain()) else {
        return (0, Some(error_code::IO));
    };
    let total = buffer.remain() as usize;
    let mut done = 0usize;
    while done < total && ready(fd, Interest::Write) {
        let iov = [IoVec {
            base: source.wrapping_add(done),
            len: (total - done).min(OUTPUT_CHUNK),
        }];
        // SAFETY: the range was checked to lie in guest memory; a write only reads it.
        match unsafe { HostDescriptor::stdio(fd).write(&iov) } {
            Ok(n) => done += n,
            Err(Errno::INTR) => {}
            Err(Errno::AGAIN) => break,
            Err(err) if err == Errno(wafer_abi::wasi::errno::PIPE) => {
                return (done as u32, Some(error_code::PIPE));
            }
            Err(_) => return (done as u32, Some(error_code::IO)),
        }
    }
    (done as u32, None)
}

/// The output descriptors a pending write waits to find writable (the reactor polls
/// them).
pub fn waiting_outputs() -> Vec<RawHandle> {
    STATE.with(|state| {
        state
            .shared
            .iter()
            .flatten()
            .filter_map(|shared| match (shared.host, shared.pending) {
                (Some(Host::Output(fd)), Some(_)) => Some(fd),
                _ => None,
            })
            .collect()
    })
}

/// A pending event of an end joined to waitable set `set`, delivered.
pub(super) fn take_event(set: u32) -> Result<Option<[u32; 3]>, TrapKind> {
    STATE.with(|state| {
        state.progress()?;
        let ready = state.ends.iter().position(|end| {
            end.as_ref()
                .is_some_and(|end| end.set == Some(set) && end.event.is_some())
        });
        match ready {
            Some(id) => state.deliver(id as u32).map(Some),
            None => Ok(None),
        }
    })
}

/// Whether an end joined to waitable set `set` has an event (none is delivered).
pub(super) fn set_has_event(set: u32) -> bool {
    STATE.with(|state| {
        state
            .ends
            .iter()
            .flatten()
            .any(|end| end.set == Some(set) && end.event.is_some())
    })
}

/// Whether an end joined to `set` waits for stdin (the reactor should wake on it).
pub(super) fn set_waits_on_stdin(set: u32) -> bool {
    STATE.with(|state| {
        (0..state.ends.len() as u32).any(|id| {
            state.ends[id as usize]
                .as_ref()
                .is_some_and(|end| end.set == Some(set))
                && state.waits_on_stdin(id)
        })
    })
}

/// `waitable.join` of end `id` (of `kind`) to `set`.
pub(super) fn join(id: u32, set: Option<u32>) -> Result<(), TrapKind> {
    STATE.with(|state| {
        let end = state.end(id)?;
        if set.is_some() && end.sync_waiter {
            return Err(TrapKind::SyncWaitableInSet);
        }
        end.set = set;
        Ok(())
    })
}

/// Marks end `id` as waited on by a synchronous copy or cancel, or no longer.
fn set_sync_waiter(id: u32, waiting: bool) {
    STATE.with(|state| {
        if let Ok(end) = state.end(id) {
            end.sync_waiter = waiting;
        }
    });
}

/// The checks of the spec's `lift_async_value` on readable end `id`: idle, and not
/// joined to a waitable set.
fn check_liftable(id: u32, future: bool) -> Result<(), TrapKind> {
    STATE.with(|state| -> Result<(), TrapKind> {
        let end = state.end(id)?;
        match (end.state, future) {
            (CopyState::Idle, _) => {}
            (CopyState::Done, false) => return Err(TrapKind::LiftDoneEnd),
            (CopyState::Done, true) => return Err(TrapKind::FutureLiftDone),
            _ => return Err(TrapKind::RemoveBusyEnd),
        }
        match (end.set, future) {
            (None, _) => Ok(()),
            (Some(_), false) => Err(TrapKind::StreamLiftInSet),
            (Some(_), true) => Err(TrapKind::FutureLiftInSet),
        }
    })
}

/// A readable end lifted from `instance`'s table at `index` by the host (a harness
/// call's results): the spec's `lift_async_value`. The host keeps it and never reads:
/// the end's id.
pub(super) fn lift_to_host(
    component: Component,
    instance: u32,
    future: bool,
    index: u32,
) -> Result<u32, TrapKind> {
    let kind = match future {
        true => AsyncKind::FutureReadable,
        false => AsyncKind::StreamReadable,
    };
    let id = component
        .with_table(instance, |table| table.async_id(kind, index))
        .and_then(|id| id)
        .map_err(host_trap)?;
    check_liftable(id, future)?;
    component
        .with_table(instance, |table| table.remove_async(kind, index))
        .and_then(|id| id)
        .map_err(host_trap)?;
    Ok(id)
}

/// The type identity of the stream or future of end `id`.
pub(super) fn end_type(id: u32) -> Result<u32, TrapKind> {
    STATE.with(|state| {
        let sid = state.end(id)?.shared;
        Ok(state.shared(sid)?.ty)
    })
}

/// Adds readable end `id` (lifted from another instance) to `instance`'s table: the
/// spec's `lower_stream`/`lower_future`; its index there.
pub(super) fn lower_end(
    component: Component,
    instance: u32,
    future: bool,
    id: u32,
) -> Result<u32, TrapKind> {
    let kind = match future {
        true => AsyncKind::FutureReadable,
        false => AsyncKind::StreamReadable,
    };
    let index = component
        .with_table(instance, |table| table.add_async(kind, id))
        .and_then(|index| index)
        .map_err(host_trap)?;
    STATE.with(|state| -> Result<(), TrapKind> {
        state.end(id)?.handle = index;
        Ok(())
    })?;
    Ok(index)
}

/// Forgets joins to waitable set `set`, which was just created: an end still naming it
/// was joined to an earlier set of that id, forgotten when a harness command reset the
/// sets (ends outlive commands).
pub(super) fn forget_set(set: u32) {
    STATE.with(|state| {
        for end in state.ends.iter_mut().flatten() {
            if end.set == Some(set) {
                end.set = None;
            }
        }
    });
}

/// Whether `kind` is an end of a stream or future.
pub(super) fn is_end(kind: AsyncKind) -> bool {
    matches!(
        kind,
        AsyncKind::StreamReadable
            | AsyncKind::StreamWritable
            | AsyncKind::FutureReadable
            | AsyncKind::FutureWritable
    )
}

impl Call {
    /// Waits, for a synchronous copy or cancel, until end `id` has an event: only an
    /// `async` task may block. Other tasks run meanwhile (a task on a stack of its own
    /// suspends until then).
    fn wait_for_event(&self, id: u32) -> Result<(), TrapKind> {
        if !self.may_wait() {
            return Err(TrapKind::CannotBlockSyncTask);
        }
        set_sync_waiter(id, true);
        let waited = super::threads::scoped(self.instance, self.may_block, || {
            super::tasks::wait_until(self.component, super::tasks::Turn::AwaitEnd(id))
        });
        set_sync_waiter(id, false);
        waited.map(|_| ())
    }

    /// Whether the running task may wait here: it is `async`, or another thread
    /// could run meanwhile.
    fn may_wait(&self) -> bool {
        super::threads::may_wait(self.component, self.may_block)
    }
}

/// Whether end `id` has an event (copies make what progress they can first).
pub(super) fn end_has_event(id: u32) -> Result<bool, TrapKind> {
    STATE.with(|state| {
        state.progress()?;
        Ok(state.end(id)?.event.is_some())
    })
}

/// Whether end `id`'s copy waits for stdin.
pub(super) fn end_waits_on_stdin(id: u32) -> bool {
    STATE.with(|state| state.waits_on_stdin(id))
}

/// The arguments of a copy built-in.
struct Call {
    component: Component,
    context: *const CanonContext,
    instance: u32,
    ty: u32,
    layout: u32,
    is_async: bool,
    /// The running task may block (its type is `async`).
    may_block: bool,
}

impl Call {
    fn table<T>(
        &self,
        f: impl FnOnce(&mut wafer_canon::HandleTable) -> Result<T, Trap>,
    ) -> Result<T, TrapKind> {
        self.component
            .with_table(self.instance, f)
            .and_then(|result| result)
            .map_err(host_trap)
    }

    /// The end of `kind` at `handle`, checked against the call's type.
    fn end(&self, kind: AsyncKind, handle: u32) -> Result<u32, TrapKind> {
        let id = self.table(|table| table.async_id(kind, handle))?;
        let ty = STATE.with(|state| -> Result<u32, TrapKind> {
            let sid = state.end(id)?.shared;
            Ok(state.shared(sid)?.ty)
        })?;
        if ty != self.ty && ty != IMPORTED_TYPE {
            return Err(host_trap(Trap::HandleWrongType(handle)));
        }
        Ok(id)
    }

    fn create(&self, future: bool) -> Result<u64, TrapKind> {
        let (readable, writable) = if future {
            (AsyncKind::FutureReadable, AsyncKind::FutureWritable)
        } else {
            (AsyncKind::StreamReadable, AsyncKind::StreamWritable)
        };
        let (r, w) = STATE.with(|state| {
            let sid = push(
                &mut state.shared,
                Shared::new(self.ty, self.layout, future, None),
            );
            (state.new_end(sid, readable), state.new_end(sid, writable))
        });
        let ri = self.table(|table| table.add_async(readable, r))?;
        let wi = self.table(|table| table.add_async(writable, w))?;
        STATE.with(|state| -> Result<(), TrapKind> {
            state.end(r)?.handle = ri;
            state.end(w)?.handle = wi;
            Ok(())
        })?;
        Ok(u64::from(ri) | u64::from(wi) << 28)
    }

    fn copy(&self, kind: AsyncKind, handle: u32, ptr: u32, n: u32) -> Result<u32, TrapKind> {
        let id = self.end(kind, handle)?;
        let future = matches!(kind, AsyncKind::FutureReadable | AsyncKind::FutureWritable);
        let reading = matches!(kind, AsyncKind::StreamReadable | AsyncKind::FutureReadable);
        let flags = self.component.flags(self.instance).map_err(host_trap)?;
        let copied = STATE.with(|state| -> Result<(), TrapKind> {
            let end = state.end(id)?;
            match (end.state, future, reading) {
                (CopyState::Idle, ..) => {}
                (CopyState::Done, false, true) => return Err(TrapKind::StreamReadAfterDrop),
                (CopyState::Done, false, false) => return Err(TrapKind::StreamWriteAfterDrop),
                (CopyState::Done, true, true) => return Err(TrapKind::FutureReadAfterDone),
                (CopyState::Done, true, false) => return Err(TrapKind::FutureWriteAfterDone),
                _ => return Err(TrapKind::CopyInProgress),
            }
            if end.set.is_some() && !self.is_async {
                return Err(TrapKind::SyncWaitableInSet);
            }
            // `BufferGuestImpl`'s checks.
            if n > MAX_LENGTH {
                return Err(TrapKind::PointerOutOfBounds);
            }
            let size = self.layout & elem_layout::SIZE_MASK;
            if self.layout & elem_layout::NONE == 0 && n > 0 {
                let align = 1u32 << ((self.layout >> elem_layout::ALIGN_SHIFT) & 3);
                if !ptr.is_multiple_of(align) {
                    return Err(TrapKind::UnalignedPointer);
                }
                let bytes = u64::from(n) * u64::from(size);
                let bytes = u32::try_from(bytes).map_err(|_| TrapKind::PointerOutOfBounds)?;
                // SAFETY: the compiler passes the copy's canonical options' context.
                let memory = unsafe { crate::p2::context_memory(self.context) };
                memory
                    .range(ptr, bytes)
                    .map_err(|_| TrapKind::PointerOutOfBounds)?;
            }
            end.state = CopyState::Copying;
            end.buffer = Some(Buffer {
                context: self.context,
                ptr,
                size,
                length: n,
                progress: 0,
                flags,
            });
            state.copy(id, self.instance)
        });
        // Elements that are not numbers move now, with the state released (or not at
        // all, if the copy failed).
        super::stream_values::run_deferred(self.component, copied.is_ok())?;
        copied?;
        if !STATE.with(|state| state.end(id).map(|end| end.event.is_some()))? {
            if self.is_async {
                return Ok(BLOCKED);
            }
            self.wait_for_event(id)?;
        }
        STATE.with(|state| state.deliver(id)).map(|event| event[2])
    }

    fn cancel(&self, kind: AsyncKind, handle: u32) -> Result<u32, TrapKind> {
        let id = self.end(kind, handle)?;
        STATE.with(|state| -> Result<(), TrapKind> {
            let end = state.end(id)?;
            if end.state != CopyState::Copying {
                return Err(TrapKind::NoCopyToCancel);
            }
            if end.set.is_some() && !self.is_async {
                return Err(TrapKind::SyncWaitableInSet);
            }
            end.state = CopyState::Cancelling;
            let sid = end.shared;
            match end.event {
                None => state.notify_pending(sid, copy_result::CANCELLED)?,
                // Partly copied, not yet told: the cancel ends the copy as CANCELLED
                // with what was copied. `definitions.py` would deliver the pending
                // COMPLETED; the component-model test suite (`cancel-stream.wast`:
                // `CANCELLED | 4 << 4` after a 4-byte read) and wasmtime say CANCELLED.
                Some(PendingEvent::Copied) => {
                    end.event = Some(PendingEvent::Done(copy_result::CANCELLED));
                    let shared = state.shared(sid)?;
                    if shared.pending.is_some_and(|(p, _)| p == id) {
                        shared.pending = None;
                    }
                }
                Some(PendingEvent::Done(_)) => {}
            }
            Ok(())
        })?;
        if !STATE.with(|state| state.end(id).map(|end| end.event.is_some()))? {
            if self.is_async {
                return Ok(BLOCKED);
            }
            self.wait_for_event(id)?;
        }
        STATE.with(|state| state.deliver(id)).map(|event| event[2])
    }

    /// A fused adapter's transfer of a readable end to `destination` (the spec's
    /// `lift_async_value`, then `lower_stream`/`lower_future` there).
    fn transfer(&self, kind: AsyncKind, handle: u32, destination: u32) -> Result<u32, TrapKind> {
        let id = self.end(kind, handle)?;
        check_liftable(id, kind == AsyncKind::FutureReadable)?;
        self.table(|table| table.remove_async(kind, handle))?;
        let moved = self
            .component
            .with_table(destination, |table| table.add_async(kind, id))
            .and_then(|index| index)
            .map_err(host_trap)?;
        STATE.with(|state| -> Result<(), TrapKind> {
            state.end(id)?.handle = moved;
            Ok(())
        })?;
        Ok(moved)
    }

    fn drop_end(&self, kind: AsyncKind, handle: u32) -> Result<u32, TrapKind> {
        let id = self.end(kind, handle)?;
        STATE.with(|state| -> Result<(), TrapKind> {
            let end = state.end(id)?;
            if kind == AsyncKind::FutureWritable && end.state != CopyState::Done {
                return Err(TrapKind::FutureWriterDroppedEarly);
            }
            if matches!(end.state, CopyState::Copying | CopyState::Cancelling) {
                // wasmtime's words differ by end; the suite checks both.
                return Err(match kind {
                    AsyncKind::StreamReadable | AsyncKind::FutureReadable => {
                        TrapKind::RemoveBusyEnd
                    }
                    _ => TrapKind::DropBusyEnd,
                });
            }
            let sid = end.shared;
            state.drop_shared(sid, kind)?;
            state.ends[id as usize] = None;
            state.free_if_unused(sid);
            Ok(())
        })?;
        self.table(|table| table.remove_async(kind, handle))?;
        Ok(0)
    }
}

/// The stream and future built-ins: see `wafer_abi::symbols::COPY_BUILTIN`.
///
/// # Safety
/// `descriptor` must be the image's component descriptor, and `context` null or a
/// canonical-options context the compiler emitted (not null for reads and writes).
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn wafer_rt_copy_builtin(
    descriptor: *const Descriptor,
    context: *const CanonContext,
    op: u32,
    instance: u32,
    ty: u32,
    layout: u32,
    a: u32,
    b: u32,
    c: u32,
) -> u64 {
    let call = Call {
        // SAFETY: forwarded from the caller.
        component: unsafe { Component::new(descriptor) },
        context,
        instance,
        ty,
        layout,
        is_async: op & copy_op::ASYNC != 0,
        may_block: op & copy_op::MAY_BLOCK != 0,
    };
    use AsyncKind::{FutureReadable, FutureWritable, StreamReadable, StreamWritable};
    // A synchronous copy or cancel may block: a synchronous task may make one only
    // while another thread could run meanwhile (checked before its operands).
    let may_block = matches!(
        op & copy_op::MASK,
        copy_op::STREAM_READ
            | copy_op::STREAM_WRITE
            | copy_op::FUTURE_READ
            | copy_op::FUTURE_WRITE
            | copy_op::STREAM_CANCEL_READ
            | copy_op::STREAM_CANCEL_WRITE
            | copy_op::FUTURE_CANCEL_READ
            | copy_op::FUTURE_CANCEL_WRITE
    );
    if may_block && !call.is_async && !call.may_wait() {
        return BuiltinResult::trap(TrapKind::CannotBlockSyncTask).encode();
    }
    let result = match op & copy_op::MASK {
        copy_op::STREAM_NEW | copy_op::FUTURE_NEW => {
            return match call.create(op & copy_op::MASK == copy_op::FUTURE_NEW) {
                Ok(ends) => ends,
                Err(kind) => (kind as u64) << NEW_TRAP_SHIFT,
            };
        }
        copy_op::STREAM_READ => call.copy(StreamReadable, a, b, c),
        copy_op::STREAM_WRITE => call.copy(StreamWritable, a, b, c),
        copy_op::FUTURE_READ => call.copy(FutureReadable, a, b, 1),
        copy_op::FUTURE_WRITE => call.copy(FutureWritable, a, b, 1),
        copy_op::STREAM_CANCEL_READ => call.cancel(StreamReadable, a),
        copy_op::STREAM_CANCEL_WRITE => call.cancel(StreamWritable, a),
        copy_op::FUTURE_CANCEL_READ => call.cancel(FutureReadable, a),
        copy_op::FUTURE_CANCEL_WRITE => call.cancel(FutureWritable, a),
        copy_op::STREAM_DROP_READABLE => call.drop_end(StreamReadable, a),
        copy_op::STREAM_DROP_WRITABLE => call.drop_end(StreamWritable, a),
        copy_op::FUTURE_DROP_READABLE => call.drop_end(FutureReadable, a),
        copy_op::FUTURE_DROP_WRITABLE => call.drop_end(FutureWritable, a),
        copy_op::STREAM_TRANSFER => call.transfer(StreamReadable, a, b),
        copy_op::FUTURE_TRANSFER => call.transfer(FutureReadable, a, b),
        _ => Err(TrapKind::Unreachable),
    };
    match result {
        Ok(value) => BuiltinResult::value(value).encode(),
        Err(kind) => BuiltinResult::trap(kind).encode(),
    }
}

/// Adds a new host stream or future end of `kind` to the table of `instance`.
fn add_host_end(instance: StateWord, sid: u32, kind: AsyncKind) -> Result<u32, TrapKind> {
    let id = STATE.with(|state| state.new_end(sid, kind));
    // SAFETY: the context the host function got holds its instance's state word.
    let handle =
        unsafe { super::with_instance_state(instance, |state| state.table().add_async(kind, id)) }
            .map_err(host_trap)?;
    STATE.with(|state| -> Result<(), TrapKind> {
        state.end(id)?.handle = handle;
        Ok(())
    })?;
    Ok(handle)
}

/// A host stream with its outcome future, for the guest: (stream end, future end)
/// handles. `host` is the host's part in the stream; the guest gets the readable end of
/// the future and, for stdin, of the stream.
fn host_stream(instance: StateWord, host: Host) -> Result<(u32, u32), TrapKind> {
    let (sid, fid) = STATE.with(|state| state.new_host_stream(STDIO_TYPES, Some(host)));
    let stream = match host {
        Host::Stdin => add_host_end(instance, sid, AsyncKind::StreamReadable)?,
        _ => 0,
    };
    let future = add_host_end(instance, fid, AsyncKind::FutureReadable)?;
    Ok((stream, future))
}

/// The types of a host stream and of the future of its outcome: (stream identity,
/// element layout, future identity, its element layout).
type HostTypes = (u32, u32, u32, u32);

/// `stream<u8>` with the stdio functions' `future<result<_, error-code>>`.
const STDIO_TYPES: HostTypes = (
    type_identity(STREAM_U8),
    elem_layout::new(1, 1, true),
    type_identity(STDIO_RESULT_FUTURE),
    elem_layout::new(2, 1, false),
);

/// `stream<u8>` with `wasi:filesystem@0.3`'s `future<result<_, error-code>>` (an
/// `error-code` is 16 bytes aligned to 4).
const FILE_TYPES: HostTypes = (
    type_identity(STREAM_U8),
    elem_layout::new(1, 1, true),
    type_identity(FILESYSTEM_RESULT_FUTURE),
    elem_layout::new(20, 4, false),
);

/// `stream<directory-entry>` (a `descriptor-type` and a `string`: 24 bytes aligned to
/// 4) with `wasi:filesystem@0.3`'s outcome future.
const ENTRY_TYPES: HostTypes = (
    type_identity(DIRECTORY_ENTRY_STREAM),
    elem_layout::new(24, 4, false),
    type_identity(FILESYSTEM_RESULT_FUTURE),
    elem_layout::new(20, 4, false),
);

impl State {
    /// A new host stream of `types` (`host` its host party) and the future of its
    /// outcome: their shared ids.
    fn new_host_stream(&mut self, types: HostTypes, host: Option<Host>) -> (u32, u32) {
        let (stream_ty, stream_layout, ..) = types;
        let sid = push(
            &mut self.shared,
            Shared::new(stream_ty, stream_layout, false, host),
        );
        (sid, self.new_outcome_future(sid, types))
    }

    /// A new future (of the future type of `types`) that the host writes how stream
    /// `sid` ended to: its shared id.
    fn new_outcome_future(&mut self, sid: u32, types: HostTypes) -> u32 {
        let (_, _, future_ty, future_layout) = types;
        let fid = push(
            &mut self.shared,
            Shared::new(
                future_ty,
                future_layout,
                true,
                Some(Host::Outcome {
                    stream: sid,
                    // The error's case at the error type's alignment, the result's.
                    payload_at: 1 << ((future_layout >> elem_layout::ALIGN_SHIFT) & 3),
                }),
            ),
        );
        if let Some(Some(shared)) = self.shared.get_mut(sid as usize) {
            shared.outcome_future = Some(fid);
        }
        fid
    }

    /// Makes the host the reader of stream `sid` (taken from the guest) as `host`, or,
    /// for `Err(code)`, ends the stream at once with that `error-code`: the id of the
    /// future of its outcome (of the future type of `types`).
    fn host_reads(
        &mut self,
        sid: u32,
        types: HostTypes,
        host: Result<Host, u8>,
    ) -> Result<u32, TrapKind> {
        let fid = self.new_outcome_future(sid, types);
        let shared = self.shared(sid)?;
        match host {
            Ok(host) => {
                shared.host = Some(host);
                if shared.dropped {
                    // The writer is gone already: the stream has ended.
                    match host {
                        Host::Object(object) => crate::p2::object_release(object),
                        Host::Socket(end) => crate::p2::socket_release(end),
                        _ => {}
                    }
                    self.set_outcome(sid, Ok(()))?;
                } else if let Some((writer, _)) = shared.pending.take() {
                    // A write waiting for a reader: the host reads it now.
                    self.host_copy(writer, sid)?;
                }
            }
            Err(code) => {
                shared.dropped = true;
                // A write waiting for a reader learns that there is none.
                self.notify_pending(sid, copy_result::DROPPED)?;
                self.set_outcome(sid, Err(code))?;
            }
        }
        Ok(fid)
    }
}

/// A `wasi:filesystem@0.3` stream the guest reads (`read-via-stream`, or with
/// `entries`, `read-directory`): the host writes what it reads from host object
/// `source` (which the stream takes over), or, for `Err(code)`, the stream has already
/// ended with that `error-code`. The guest's (stream, future) handles.
pub(crate) fn filesystem_source(
    instance: StateWord,
    entries: bool,
    source: Result<u32, u8>,
) -> Result<(u32, u32), TrapKind> {
    let types = if entries { ENTRY_TYPES } else { FILE_TYPES };
    host_source(instance, types, source.map(Host::Object))
}

/// A stream of `types` the guest reads, which the host writes from `source`, or, for
/// `Err(code)`, which has already ended with that `error-code`: the guest's (stream,
/// future) handles.
fn host_source(
    instance: StateWord,
    types: HostTypes,
    source: Result<Host, u8>,
) -> Result<(u32, u32), TrapKind> {
    let (sid, fid) = STATE.with(|state| -> Result<(u32, u32), TrapKind> {
        let (sid, fid) = state.new_host_stream(types, source.ok());
        if let Err(code) = source {
            state.shared(sid)?.dropped = true;
            state.set_outcome(sid, Err(code))?;
        }
        Ok((sid, fid))
    })?;
    let stream = add_host_end(instance, sid, AsyncKind::StreamReadable)?;
    let future = add_host_end(instance, fid, AsyncKind::FutureReadable)?;
    Ok((stream, future))
}

/// A `wasi:filesystem@0.3` stream the guest writes (`write-via-stream`,
/// `append-via-stream`): takes the guest's readable end `data` and writes what the
/// guest writes to host object `sink` (which the stream takes over), or, for
/// `Err(code)`, ends the stream at once with that `error-code`. The guest's handle of
/// the outcome future.
pub(crate) fn filesystem_sink(
    instance: StateWord,
    data: u32,
    sink: Result<u32, u8>,
) -> Result<u32, TrapKind> {
    let sid = take_readable_bytes(instance, data)?;
    let fid = STATE.with(|state| state.host_reads(sid, FILE_TYPES, sink.map(Host::Object)))?;
    add_host_end(instance, fid, AsyncKind::FutureReadable)
}

/// Takes the readable end `data` of a `stream<u8>` from the guest (the spec's
/// `lift_async_value`): the shared stream's id.
fn take_readable_bytes(instance: StateWord, data: u32) -> Result<u32, TrapKind> {
    // SAFETY: the context the host function got holds its instance's state word.
    let id = unsafe {
        super::with_instance_state(instance, |state| {
            state.table().remove_async(AsyncKind::StreamReadable, data)
        })
    }
    .map_err(host_trap)?;
    STATE.with(|state| -> Result<u32, TrapKind> {
        let end = state.end(id)?;
        let sid = end.shared;
        match end.state {
            CopyState::Idle => {}
            CopyState::Done => return Err(TrapKind::LiftDoneEnd),
            _ => return Err(TrapKind::CopyInProgress),
        }
        if state.shared(sid)?.ty != type_identity(STREAM_U8) {
            return Err(host_trap(Trap::HandleWrongType(data)));
        }
        state.ends[id as usize] = None;
        Ok(sid)
    })
}

/// `wasi:cli/stdin@0.3.x#read-via-stream`: `() -> tuple<stream<u8>, future<result<_,
/// error-code>>>`, through the return pointer.
///
/// # Safety
/// `context` must be the canonical-options context the compiler passes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wafer_p3_stdin_read_via_stream(context: *mut CanonContext, ret: u32) {
    // SAFETY: forwarded from the caller.
    let instance = unsafe { crate::p2::context_instance(context) };
    let done = host_stream(instance, Host::Stdin).and_then(|(stream, future)| {
        // SAFETY: as above.
        let memory = unsafe { crate::p2::context_memory(context) };
        memory
            .write_u32(ret, stream)
            .and_then(|()| memory.write_u32(ret.wrapping_add(4), future))
            .map_err(|_| TrapKind::PointerOutOfBounds)
    });
    if let Err(kind) = done {
        // SAFETY: as above; the trap field is the host's to set.
        unsafe { crate::p2::set_context_trap(context, kind) };
    }
}

/// `wasi:cli/stdout@0.3.x#write-via-stream`: `(data: stream<u8>) -> future<result<_,
/// error-code>>`.
///
/// # Safety
/// As [`wafer_p3_stdin_read_via_stream`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wafer_p3_stdout_write_via_stream(
    context: *mut CanonContext,
    data: u32,
) -> u32 {
    // SAFETY: forwarded from the caller.
    unsafe { write_via_stream(context, data, 1) }
}

/// `wasi:cli/stderr@0.3.x#write-via-stream`: as stdout's.
///
/// # Safety
/// As [`wafer_p3_stdin_read_via_stream`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wafer_p3_stderr_write_via_stream(
    context: *mut CanonContext,
    data: u32,
) -> u32 {
    // SAFETY: forwarded from the caller.
    unsafe { write_via_stream(context, data, 2) }
}

/// Takes the readable end `data` from the guest (the spec's `lift_async_value`) and
/// makes the host its reader, writing what the guest writes to `fd`.
///
/// # Safety
/// As [`wafer_p3_stdin_read_via_stream`].
unsafe fn write_via_stream(context: *mut CanonContext, data: u32, fd: RawHandle) -> u32 {
    // SAFETY: forwarded from the caller.
    let instance = unsafe { crate::p2::context_instance(context) };
    let result = (|| -> Result<u32, TrapKind> {
        let sid = take_readable_bytes(instance, data)?;
        let fid = STATE.with(|state| state.host_reads(sid, STDIO_TYPES, Ok(Host::Output(fd))))?;
        add_host_end(instance, fid, AsyncKind::FutureReadable)
    })();
    match result {
        Ok(future) => future,
        Err(kind) => {
            // SAFETY: as above; the trap field is the host's to set.
            unsafe { crate::p2::set_context_trap(context, kind) };
            0
        }
    }
}

// --- The HTTP host's streams and futures (`crate::http`) ---

impl State {
    /// The host's hold on `sid`.
    fn hold(&mut self, sid: u32) -> Result<HostRef, TrapKind> {
        let generation = self.shared(sid)?.generation;
        Ok(HostRef { sid, generation })
    }

    /// The stream or future `held` names, if it is still there.
    fn held(&mut self, held: HostRef) -> Option<u32> {
        match self.shared.get(held.sid as usize) {
            Some(Some(shared)) if shared.generation == held.generation => Some(held.sid),
            _ => None,
        }
    }
}

/// Takes readable end `handle` (a stream, or a future if `future`) from the table of
/// `instance`, as a host function taking a `stream` or `future` argument lifts it (the
/// spec's `lift_async_value`): the host now reads it.
pub(crate) fn take_readable(
    instance: StateWord,
    handle: u32,
    future: bool,
) -> Result<HostRef, TrapKind> {
    let kind = match future {
        true => AsyncKind::FutureReadable,
        false => AsyncKind::StreamReadable,
    };
    // SAFETY: the state word is the calling instance's.
    let id = unsafe {
        super::with_instance_state(instance, |state| state.table().async_id(kind, handle))
    }
    .map_err(host_trap)?;
    check_liftable(id, future)?;
    // SAFETY: as above.
    unsafe {
        super::with_instance_state(instance, |state| state.table().remove_async(kind, handle))
    }
    .map_err(host_trap)?;
    STATE.with(|state| -> Result<HostRef, TrapKind> {
        let sid = state.end(id)?.shared;
        state.ends[id as usize] = None;
        state.hold(sid)
    })
}

/// Gives the guest of `instance` a readable end of `held`, which the host read until
/// now (a body handed back by `consume-body`): the stream is between guests again.
pub(crate) fn give_readable(instance: StateWord, held: HostRef) -> Result<u32, TrapKind> {
    let (sid, kind) = STATE.with(|state| -> Result<_, TrapKind> {
        let sid = state.held(held).ok_or(TrapKind::Unreachable)?;
        let shared = state.shared(sid)?;
        shared.host = None;
        Ok((
            sid,
            match shared.future {
                true => AsyncKind::FutureReadable,
                false => AsyncKind::StreamReadable,
            },
        ))
    })?;
    add_host_end(instance, sid, kind)
}

/// A `stream<u8>` for the guest of `instance` with nothing in it: its writer is gone.
pub(crate) fn new_empty_stream(instance: StateWord) -> Result<u32, TrapKind> {
    let sid = STATE.with(|state| {
        let mut shared = Shared::new(
            type_identity(STREAM_U8),
            elem_layout::new(1, 1, true),
            false,
            None,
        );
        shared.dropped = true;
        push(&mut state.shared, shared)
    });
    add_host_end(instance, sid, AsyncKind::StreamReadable)
}

/// A future standing alone that the host writes with [`resolve_future`]: an outcome
/// future of its own.
fn new_outcome_future(state: &mut State, payload_at: u8) -> u32 {
    let fid = push(
        &mut state.shared,
        Shared::new(IMPORTED_TYPE, elem_layout::new(0, 1, false), true, None),
    );
    if let Ok(shared) = state.shared(fid) {
        shared.host = Some(Host::Outcome {
            stream: fid,
            payload_at,
        });
    }
    fid
}

/// A `future<result<_, error-code>>` of `wasi:http` the host writes (with
/// [`resolve_future`]) and the guest of `instance` reads: the host's hold, and the
/// guest's handle.
pub(crate) fn new_host_future(instance: StateWord) -> Result<(HostRef, u32), TrapKind> {
    let (fid, held) = STATE.with(|state| {
        let fid = new_outcome_future(state, HTTP_PAYLOAD_AT);
        (fid, state.hold(fid))
    });
    Ok((
        held?,
        add_host_end(instance, fid, AsyncKind::FutureReadable)?,
    ))
}

/// Resolves host future `held` (of [`new_host_future`]) with `outcome`.
pub(crate) fn resolve_future(held: HostRef, outcome: Result<(), u8>) -> Result<(), TrapKind> {
    STATE.with(|state| {
        let Some(fid) = state.held(held) else {
            // The guest dropped it: nobody to tell.
            return Ok(());
        };
        if state.shared(fid)?.outcome.is_none() {
            state.set_outcome(fid, outcome)?;
            state.write_outcome(fid, outcome)?;
        }
        Ok(())
    })
}

/// The body of the request received on connection `conn`, for the guest of
/// `instance`: its stream (the host writes what the connection brings) and trailers
/// future (resolved when the body ends). Returns the host's hold on the stream, and
/// the guest's handles of the stream and the future.
pub(crate) fn new_http_body(
    instance: StateWord,
    conn: u32,
) -> Result<(HostRef, u32, u32), TrapKind> {
    let (sid, fid, held) = STATE.with(|state| {
        let sid = push(
            &mut state.shared,
            Shared::new(
                type_identity(STREAM_U8),
                elem_layout::new(1, 1, true),
                false,
                Some(Host::Http(HttpEnd::RequestBody { conn })),
            ),
        );
        let fid = new_outcome_future(state, HTTP_PAYLOAD_AT);
        if let Ok(shared) = state.shared(fid) {
            shared.host = Some(Host::Outcome {
                stream: sid,
                payload_at: HTTP_PAYLOAD_AT,
            });
        }
        if let Ok(shared) = state.shared(sid) {
            shared.outcome_future = Some(fid);
        }
        (sid, fid, state.hold(sid))
    });
    let stream = add_host_end(instance, sid, AsyncKind::StreamReadable)?;
    let future = add_host_end(instance, fid, AsyncKind::FutureReadable)?;
    Ok((held?, stream, future))
}

/// Makes the host the reader of `held` (which [`take_readable`] took) as `end`; a
/// write already waiting is taken at once.
pub(crate) fn attach_http(held: HostRef, end: HttpEnd) -> Result<(), TrapKind> {
    STATE.with(|state| {
        let sid = state.held(held).ok_or(TrapKind::Unreachable)?;
        let shared = state.shared(sid)?;
        shared.host = Some(Host::Http(end));
        if shared.dropped {
            if let HttpEnd::OutgoingBody { message: response } = end {
                crate::http::server::body_finished(response);
            }
        } else if let Some((writer, _)) = shared.pending.take() {
            state.host_copy(writer, sid)?;
        }
        Ok(())
    })
}

/// The host is done with its end of `held`: the guest's end learns it was dropped, and
/// with no end left it is freed.
pub(crate) fn host_drop(held: HostRef) {
    STATE.with(|state| {
        let Some(sid) = state.held(held) else {
            return;
        };
        if let Ok(shared) = state.shared(sid)
            && !shared.dropped
        {
            shared.dropped = true;
            let _ = state.notify_pending(sid, copy_result::DROPPED);
        }
        state.free_if_unused(sid);
    });
}

/// Retries the HTTP bodies' pending copies (the connections may have moved): whether
/// one finished.
pub(crate) fn progress_http() -> Result<bool, TrapKind> {
    STATE.with(State::progress_http)
}
