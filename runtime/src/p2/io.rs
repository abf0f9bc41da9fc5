//! `wasi:io`: streams, pollables and errors.
//!
//! A stream is a host object ([`Stream`]): a standard stream, a file read or written
//! from its own position, a file appended to, or one direction of a TCP connection. A
//! pollable is a [`Wait`]: a monotonic-clock deadline, or an object to become ready (a
//! stream, a socket). An error is the WASI errno of the operation that failed (its
//! handle's representation). Every byte goes through the host core's `Descriptor`, so
//! the checks and errnos are preview1's, and through the platform, so all of it runs on
//! boards too. Writes are done before they return, so flushing has nothing to do.

use wafer_abi::trap::TrapKind;
use wafer_abi::wasi_p2::resource;

use super::objects::{self, Object};
use super::{Call, HostResult, host_fns};
use crate::errno::Errno;
use crate::host::Descriptor;
use crate::sys::{Current, Interest, IoVec, Platform, PollFd, RawHandle};

/// The most bytes one `read` returns (the canonical ABI copies them once more).
const READ_CHUNK: usize = 16 << 10;

/// What `check-write` allows at once.
const WRITE_BUDGET: u64 = 1 << 20;

/// The most pollables one `poll` waits on.
const MAX_POLL: usize = 256;

/// What a stream reads from or writes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard stream 0, 1 or 2.
    Stdio(RawHandle),
    /// A file, from `offset` on: the descriptor's object, which the stream holds.
    File {
        /// The descriptor's object.
        desc: u32,
        /// Where the next read or write goes.
        offset: u64,
    },
    /// A file, every write at its end.
    Append {
        /// The descriptor's object.
        desc: u32,
    },
    /// A TCP connection: the socket's object.
    Socket {
        /// The socket's object.
        socket: u32,
    },
}

impl Stream {
    /// The object the stream holds a reference to.
    pub(super) fn holds(&self) -> Option<u32> {
        match *self {
            Stream::Stdio(_) => None,
            Stream::File { desc, .. } | Stream::Append { desc } => Some(desc),
            Stream::Socket { socket } => Some(socket),
        }
    }
}

/// What a pollable waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// The monotonic clock to reach a time, in nanoseconds.
    Deadline(u64),
    /// An object (which the pollable holds) to be ready for `interest`.
    On {
        /// The object.
        object: u32,
        /// Reading (or accepting) or writing (or a connection to complete).
        interest: Interest,
    },
}

impl Wait {
    /// The object the pollable holds a reference to.
    pub(super) fn holds(&self) -> Option<u32> {
        match *self {
            Wait::Deadline(_) => None,
            Wait::On { object, .. } => Some(object),
        }
    }
}

/// What a wait comes down to when it is polled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Target {
    /// Ready now (a file, a finished operation).
    Ready,
    /// At a monotonic time.
    At(u64),
    /// When a platform handle is ready.
    Handle(RawHandle, Interest),
}

impl Wait {
    /// What to wait on now: an object's state decides (a socket that is connecting
    /// waits to be writable, one that is listening to be readable).
    pub(super) fn target(self) -> Target {
        match self {
            Wait::Deadline(deadline) => Target::At(deadline),
            Wait::On { object, interest } => match objects::get(object) {
                Some(Object::Stream(Stream::Stdio(fd))) => Target::Handle(fd, interest),
                Some(Object::Stream(Stream::Socket { socket })) => match descriptor_of(socket) {
                    Some(desc) => Target::Handle(desc.handle, interest),
                    None => Target::Ready,
                },
                Some(Object::Tcp(socket)) => socket.target(),
                Some(Object::Datagrams(streams)) => streams.target(),
                _ => Target::Ready,
            },
        }
    }
}

/// How an operation on a stream failed: `stream-error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum StreamError {
    /// `last-operation-failed(error)`, with the errno.
    Failed(Errno),
    /// `closed`.
    Closed,
}

impl From<Errno> for StreamError {
    fn from(err: Errno) -> Self {
        // The reader is gone: WASI calls that a closed stream.
        if err == Errno(wafer_abi::wasi::errno::PIPE) {
            StreamError::Closed
        } else {
            StreamError::Failed(err)
        }
    }
}

/// The host descriptor object `index` stands for: a filesystem descriptor, or a
/// socket's.
pub(super) fn descriptor_of(index: u32) -> Option<Descriptor> {
    match objects::get(index)? {
        Object::Descriptor(desc) => Some(desc),
        Object::Tcp(socket) => socket.descriptor(),
        Object::Udp(socket) => socket.descriptor(),
        _ => None,
    }
}

/// Stores `result<T, stream-error>` at `ret`: `payload_at` is where the payload starts
/// (the largest alignment of `T` and the error's 4), and `ok` stores `T` there.
pub(super) fn store_result(
    call: &Call,
    ret: i32,
    payload_at: u32,
    result: Result<impl FnOnce(u32) -> HostResult<()>, StreamError>,
) -> HostResult<()> {
    let ret = ret as u32;
    let payload = ret.wrapping_add(payload_at);
    match result {
        Ok(store) => {
            call.store_u8(ret, 0)?;
            store(payload)
        }
        Err(StreamError::Closed) => {
            call.store_u8(ret, 1)?;
            call.store_u8(payload, 1)
        }
        Err(StreamError::Failed(errno)) => {
            let error = call.new_own(resource::ERROR, errno.0 as u64)?;
            call.store_u8(ret, 1)?;
            call.store_u8(payload, 0)?;
            call.store_u32(payload + 4, error)
        }
    }
}

/// The stream behind `handle` (of resource type `ty`) and its object.
fn stream(call: &Call, handle: i32, ty: u32) -> HostResult<(u32, Stream)> {
    match call.object(handle as u32, ty)? {
        (index, Object::Stream(stream)) => Ok((index, stream)),
        _ => Err(TrapKind::InvalidHandle),
    }
}

/// Whether `handle` is ready for `interest`, waiting up to `timeout` nanoseconds
/// (`None`: until it is).
fn ready(handle: RawHandle, interest: Interest, timeout: Option<u64>) -> bool {
    let mut fds = [PollFd {
        handle,
        interest,
        ..PollFd::default()
    }];
    loop {
        match Current::poll(&mut fds, timeout) {
            Ok(n) => return n > 0,
            Err(Errno::INTR) => continue,
            // A descriptor that cannot be polled is ready: the operation reports why.
            Err(_) => return true,
        }
    }
}

/// Reads up to `buf.len()` bytes from the stream at object `index`; `blocking` waits for
/// at least one, else nothing available reads 0. End of input is `closed`.
pub(super) fn read_stream(
    index: u32,
    stream: Stream,
    buf: &mut [u8],
    blocking: bool,
) -> Result<usize, StreamError> {
    let iov = [IoVec {
        base: buf.as_mut_ptr(),
        len: buf.len(),
    }];
    if buf.is_empty() {
        return Ok(0);
    }
    loop {
        let read = match stream {
            Stream::Stdio(fd) => {
                if !blocking && !ready(fd, Interest::Read, Some(0)) {
                    return Ok(0);
                }
                // SAFETY: `buf` is writable for its length.
                unsafe { Descriptor::stdio(fd).read(&iov) }
            }
            Stream::File { desc, offset } => {
                let file = descriptor_of(desc).ok_or(StreamError::Failed(Errno::BADF))?;
                // SAFETY: as above.
                let read = unsafe { file.pread(&iov, offset) };
                if let Ok(n) = read {
                    let offset = offset.saturating_add(n as u64);
                    objects::set(index, Object::Stream(Stream::File { desc, offset }));
                }
                read
            }
            Stream::Append { .. } => Err(Errno::BADF),
            Stream::Socket { socket } => {
                let desc = descriptor_of(socket).ok_or(StreamError::Failed(Errno::BADF))?;
                // SAFETY: as above.
                match unsafe { desc.recv(&iov, false, false) } {
                    Ok((n, _)) => Ok(n),
                    Err(Errno::AGAIN) if blocking => {
                        ready(desc.handle, Interest::Read, None);
                        continue;
                    }
                    Err(Errno::AGAIN) => return Ok(0),
                    Err(err) => Err(err),
                }
            }
        };
        return match read {
            Ok(0) => Err(StreamError::Closed),
            Ok(n) => Ok(n),
            Err(Errno::INTR) => continue,
            Err(err) => Err(err.into()),
        };
    }
}

/// Writes all of `bufs` to the stream at object `index`.
///
/// # Safety
/// Every buffer must be readable for its length.
pub(super) unsafe fn write_stream(
    index: u32,
    stream: Stream,
    bufs: &[u8],
) -> Result<(), StreamError> {
    let mut done = 0usize;
    while done < bufs.len() {
        let rest = bufs.get(done..).unwrap_or_default();
        let iov = [IoVec {
            base: rest.as_ptr() as *mut u8,
            len: rest.len(),
        }];
        let written = match stream {
            // SAFETY: `rest` is readable for its length, and a write only reads it.
            Stream::Stdio(fd) => unsafe { Descriptor::stdio(fd).write(&iov) },
            Stream::File { desc, offset } => {
                let desc = descriptor_of(desc).ok_or(StreamError::Failed(Errno::BADF))?;
                let offset = offset.saturating_add(done as u64);
                // SAFETY: as above.
                unsafe { desc.pwrite(&iov, offset) }
            }
            Stream::Append { desc } => {
                let desc = descriptor_of(desc).ok_or(StreamError::Failed(Errno::BADF))?;
                // SAFETY: as above.
                unsafe { desc.append(&iov) }
            }
            Stream::Socket { socket } => {
                let desc = descriptor_of(socket).ok_or(StreamError::Failed(Errno::BADF))?;
                // SAFETY: as above.
                match unsafe { desc.send(&iov) } {
                    Err(Errno::AGAIN) => {
                        ready(desc.handle, Interest::Write, None);
                        continue;
                    }
                    other => other,
                }
            }
        };
        match written {
            Ok(0) => return Err(StreamError::Failed(Errno::IO)),
            Ok(n) => done += n,
            Err(Errno::INTR) => {}
            Err(err) => {
                advance(index, stream, done);
                return Err(err.into());
            }
        }
    }
    advance(index, stream, done);
    Ok(())
}

/// Moves a file stream's position past `written` bytes.
fn advance(index: u32, stream: Stream, written: usize) {
    if let Stream::File { desc, offset } = stream {
        let offset = offset.saturating_add(written as u64);
        objects::set(index, Object::Stream(Stream::File { desc, offset }));
    }
}

/// Writes `len` bytes of the caller's memory at `ptr` to the stream.
fn write_guest(
    call: &Call,
    index: u32,
    stream: Stream,
    ptr: i32,
    len: i32,
) -> HostResult<Result<(), StreamError>> {
    let (ptr, len) = (ptr as u32, len as u32);
    let base = call
        .memory()
        .range(ptr, len)
        .map_err(|_| TrapKind::ListOutOfBounds)?;
    // SAFETY: `range` checked the guest buffer, which stays valid while the host call
    // runs (nothing here grows or frees guest memory); it is only read.
    let bytes = unsafe { core::slice::from_raw_parts(base, len as usize) };
    // SAFETY: `bytes` is readable for its length.
    Ok(unsafe { write_stream(index, stream, bytes) })
}

/// `[method]output-stream.write` and `blocking-write-and-flush`.
fn write(call: &Call, handle: i32, ptr: i32, len: i32, ret: i32) -> HostResult<()> {
    let (index, stream) = stream(call, handle, resource::OUTPUT_STREAM)?;
    let written = write_guest(call, index, stream, ptr, len)?;
    store_result(call, ret, 4, written.map(|()| |_| Ok(())))
}

/// `[method]output-stream.flush` and `blocking-flush`: writes are never buffered.
fn flush(call: &Call, handle: i32, ret: i32) -> HostResult<()> {
    stream(call, handle, resource::OUTPUT_STREAM)?;
    store_result(call, ret, 4, Ok(|_| Ok(())))
}

/// `[method]output-stream.check-write`.
fn check_write(call: &Call, handle: i32, ret: i32) -> HostResult<()> {
    stream(call, handle, resource::OUTPUT_STREAM)?;
    store_result(call, ret, 8, Ok(|at| call.store_u64(at, WRITE_BUDGET)))
}

/// `[method]output-stream.write-zeroes` and `blocking-write-zeroes-and-flush`.
fn write_zeroes(call: &Call, handle: i32, len: i64, ret: i32) -> HostResult<()> {
    let (index, mut stream) = stream(call, handle, resource::OUTPUT_STREAM)?;
    let zeroes = [0u8; 512];
    let mut left = len as u64;
    let mut result = Ok(());
    while left > 0 && result.is_ok() {
        let n = left.min(zeroes.len() as u64) as usize;
        // SAFETY: `zeroes` is readable.
        result = unsafe { write_stream(index, stream, zeroes.get(..n).unwrap_or_default()) };
        left -= n as u64;
        if let Some(Object::Stream(now)) = objects::get(index) {
            stream = now;
        }
    }
    store_result(call, ret, 4, result.map(|()| |_| Ok(())))
}

/// `[method]output-stream.splice` and `blocking-splice`: up to `len` bytes from an
/// input stream, one read's worth.
fn splice(
    call: &Call,
    handle: i32,
    src: i32,
    len: i64,
    ret: i32,
    blocking: bool,
) -> HostResult<()> {
    let (index, out) = stream(call, handle, resource::OUTPUT_STREAM)?;
    let (src_index, input) = stream(call, src, resource::INPUT_STREAM)?;
    let mut buf = [0u8; READ_CHUNK];
    let want = (len as u64).min(READ_CHUNK as u64) as usize;
    let result = read_stream(
        src_index,
        input,
        buf.get_mut(..want).unwrap_or_default(),
        blocking,
    )
    .and_then(|n| {
        // SAFETY: `buf` is readable for `n <= want` bytes.
        unsafe { write_stream(index, out, buf.get(..n).unwrap_or_default()) }.map(|()| n)
    });
    store_result(
        call,
        ret,
        8,
        result.map(|n| move |at: u32| call.store_u64(at, n as u64)),
    )
}

/// `[method]input-stream.read` (`blocking`: `blocking-read`).
fn read(call: &Call, handle: i32, len: i64, ret: i32, blocking: bool) -> HostResult<()> {
    let (index, stream) = stream(call, handle, resource::INPUT_STREAM)?;
    let mut buf = [0u8; READ_CHUNK];
    let want = (len as u64).min(READ_CHUNK as u64) as usize;
    let result = read_stream(
        index,
        stream,
        buf.get_mut(..want).unwrap_or_default(),
        blocking,
    );
    let lowered = match result {
        Ok(n) => Ok(call.lower_bytes(buf.get(..n).unwrap_or_default())?),
        Err(e) => Err(e),
    };
    store_result(
        call,
        ret,
        4,
        lowered.map(|(ptr, len)| {
            move |at: u32| {
                call.store_u32(at, ptr)?;
                call.store_u32(at + 4, len)
            }
        }),
    )
}

/// `[method]input-stream.skip` (`blocking`: `blocking-skip`).
fn skip(call: &Call, handle: i32, len: i64, ret: i32, blocking: bool) -> HostResult<()> {
    let (index, stream) = stream(call, handle, resource::INPUT_STREAM)?;
    let mut buf = [0u8; READ_CHUNK];
    let want = (len as u64).min(READ_CHUNK as u64) as usize;
    let result = read_stream(
        index,
        stream,
        buf.get_mut(..want).unwrap_or_default(),
        blocking,
    );
    store_result(
        call,
        ret,
        8,
        result.map(|n| move |at: u32| call.store_u64(at, n as u64)),
    )
}

/// A new pollable waiting on the object behind `handle` (of type `ty`) for `interest`.
pub(super) fn subscribe(call: &Call, handle: i32, ty: u32, interest: Interest) -> HostResult<u32> {
    let (object, _) = call.object(handle as u32, ty)?;
    objects::retain(object);
    call.new_object(
        resource::POLLABLE,
        Object::Pollable(Wait::On { object, interest }),
    )
    .inspect_err(|_| objects::release(object))
}

/// What the pollable behind `handle` waits for.
fn pollable(call: &Call, handle: u32) -> HostResult<Wait> {
    match call.object(handle, resource::POLLABLE)? {
        (_, Object::Pollable(wait)) => Ok(wait),
        _ => Err(TrapKind::InvalidHandle),
    }
}

/// Whether a target is ready (`wait`: once it is).
fn target_ready(target: Target, wait: bool) -> bool {
    match target {
        Target::Ready => true,
        Target::Handle(handle, interest) => ready(handle, interest, (!wait).then_some(0)),
        Target::At(deadline) => {
            if wait {
                let _ = Current::sleep_until(deadline);
            }
            super::clocks::monotonic_now() >= deadline
        }
    }
}

/// `poll: func(in: list<borrow<pollable>>) -> list<u32>`: waits until at least one is
/// ready; returns the indices of those that are.
fn poll(call: &Call, list: i32, len: i32, ret: i32) -> HostResult<()> {
    let (list, len) = (list as u32, len as u32);
    if len == 0 || len as usize > MAX_POLL {
        // The interface traps on an empty list; more than wafer waits on at once is a
        // list it cannot take.
        return Err(TrapKind::ListOutOfBounds);
    }
    if !list.is_multiple_of(4) {
        return Err(TrapKind::UnalignedPointer);
    }
    let mut targets = [Target::Ready; MAX_POLL];
    let memory = call.memory();
    for i in 0..len as usize {
        let handle = memory
            .read_u32(list + i as u32 * 4)
            .map_err(|_| TrapKind::ListOutOfBounds)?;
        let target = pollable(call, handle)?.target();
        if let Some(slot) = targets.get_mut(i) {
            *slot = target;
        }
    }
    let targets = targets.get(..len as usize).unwrap_or_default();
    // The handles to wait on, each with the index of its pollable.
    let mut fds = [PollFd::default(); MAX_POLL];
    let mut owners = [0usize; MAX_POLL];
    let mut fd_count = 0;
    for (i, target) in targets.iter().enumerate() {
        if let Target::Handle(handle, interest) = *target
            && let (Some(slot), Some(owner)) = (fds.get_mut(fd_count), owners.get_mut(fd_count))
        {
            *slot = PollFd {
                handle,
                interest,
                ..PollFd::default()
            };
            *owner = i;
            fd_count += 1;
        }
    }
    let fds = fds.get_mut(..fd_count).unwrap_or_default();
    let is_ready = |i: usize, fds: &[PollFd], now: u64| match targets.get(i) {
        Some(Target::Handle(..)) => owners
            .iter()
            .zip(fds.iter())
            .any(|(owner, fd)| *owner == i && fd.ready.any()),
        Some(Target::At(deadline)) => now >= *deadline,
        Some(Target::Ready) => true,
        None => false,
    };
    let any_ready_now = targets.contains(&Target::Ready);
    let ready = loop {
        let now = super::clocks::monotonic_now();
        let timeout = if any_ready_now {
            Some(0)
        } else {
            targets
                .iter()
                .filter_map(|t| match t {
                    Target::At(deadline) => Some(deadline.saturating_sub(now)),
                    _ => None,
                })
                .min()
        };
        let waited = if fds.is_empty() {
            // Only deadlines (or targets ready now): sleep until the first.
            let first = timeout.map_or(now, |timeout| now.saturating_add(timeout));
            Current::sleep_until(first)
        } else {
            Current::poll(fds, timeout).map(drop)
        };
        match waited {
            Err(Errno::INTR) => continue,
            Err(_) => break len,
            Ok(()) => {}
        }
        let now = super::clocks::monotonic_now();
        let ready = (0..targets.len())
            .filter(|&i| is_ready(i, fds, now))
            .count() as u32;
        if ready > 0 {
            break ready;
        }
    };
    let now = super::clocks::monotonic_now();
    let array = call.allocate(4, ready * 4)?;
    let mut at = array;
    for i in 0..targets.len() {
        // On a failed wait every pollable is reported: the operations say why.
        if ready == len || is_ready(i, fds, now) {
            if at >= array + ready * 4 {
                break;
            }
            call.store_u32(at, i as u32)?;
            at += 4;
        }
    }
    call.store_u32(ret as u32, array)?;
    call.store_u32(ret as u32 + 4, (at - array) / 4)
}

/// `[method]error.to-debug-string`.
fn error_to_debug_string(call: &Call, error: i32, ret: i32) -> HostResult<()> {
    let errno = call.borrow(error as u32, resource::ERROR)?;
    let mut line = crate::out::Line::new();
    crate::host::describe(&mut line, Errno(errno as u16));
    let (ptr, len) = call.lower_string(line.as_bytes())?;
    call.store_u32(ret as u32, ptr)?;
    call.store_u32(ret as u32 + 4, len)
}

host_fns! {
    /// `wasi:io/streams.[method]output-stream.check-write`.
    wafer_p2_io_output_stream_check_write(stream: i32, ret: i32) => check_write;
    /// `wasi:io/streams.[method]output-stream.write`.
    wafer_p2_io_output_stream_write(stream: i32, ptr: i32, len: i32, ret: i32) => write;
    /// `wasi:io/streams.[method]output-stream.blocking-write-and-flush`.
    wafer_p2_io_output_stream_blocking_write_and_flush(stream: i32, ptr: i32, len: i32, ret: i32) => write;
    /// `wasi:io/streams.[method]output-stream.flush`.
    wafer_p2_io_output_stream_flush(stream: i32, ret: i32) => flush;
    /// `wasi:io/streams.[method]output-stream.blocking-flush`.
    wafer_p2_io_output_stream_blocking_flush(stream: i32, ret: i32) => flush;
    /// `wasi:io/streams.[method]output-stream.write-zeroes`.
    wafer_p2_io_output_stream_write_zeroes(stream: i32, len: i64, ret: i32) => write_zeroes;
    /// `wasi:io/streams.[method]output-stream.blocking-write-zeroes-and-flush`.
    wafer_p2_io_output_stream_blocking_write_zeroes_and_flush(stream: i32, len: i64, ret: i32) => write_zeroes;
    /// `wasi:io/streams.[method]output-stream.splice`.
    wafer_p2_io_output_stream_splice(stream: i32, src: i32, len: i64, ret: i32) => |call, stream, src, len, ret| splice(call, stream, src, len, ret, false);
    /// `wasi:io/streams.[method]output-stream.blocking-splice`.
    wafer_p2_io_output_stream_blocking_splice(stream: i32, src: i32, len: i64, ret: i32) => |call, stream, src, len, ret| splice(call, stream, src, len, ret, true);
    /// `wasi:io/streams.[method]output-stream.subscribe`.
    wafer_p2_io_output_stream_subscribe(stream: i32) -> u32 => |call, stream| subscribe(call, stream, resource::OUTPUT_STREAM, Interest::Write);
    /// `wasi:io/streams.[method]input-stream.read`.
    wafer_p2_io_input_stream_read(stream: i32, len: i64, ret: i32) => |call, stream, len, ret| read(call, stream, len, ret, false);
    /// `wasi:io/streams.[method]input-stream.blocking-read`.
    wafer_p2_io_input_stream_blocking_read(stream: i32, len: i64, ret: i32) => |call, stream, len, ret| read(call, stream, len, ret, true);
    /// `wasi:io/streams.[method]input-stream.skip`.
    wafer_p2_io_input_stream_skip(stream: i32, len: i64, ret: i32) => |call, stream, len, ret| skip(call, stream, len, ret, false);
    /// `wasi:io/streams.[method]input-stream.blocking-skip`.
    wafer_p2_io_input_stream_blocking_skip(stream: i32, len: i64, ret: i32) => |call, stream, len, ret| skip(call, stream, len, ret, true);
    /// `wasi:io/streams.[method]input-stream.subscribe`.
    wafer_p2_io_input_stream_subscribe(stream: i32) -> u32 => |call, stream| subscribe(call, stream, resource::INPUT_STREAM, Interest::Read);
    /// `wasi:io/poll.[method]pollable.ready`.
    wafer_p2_io_pollable_ready(handle: i32) -> u32 => |call: &Call, handle: i32| {
        Ok(u32::from(target_ready(pollable(call, handle as u32)?.target(), false)))
    };
    /// `wasi:io/poll.[method]pollable.block`.
    wafer_p2_io_pollable_block(handle: i32) => |call: &Call, handle: i32| {
        let wait = pollable(call, handle as u32)?;
        while !target_ready(wait.target(), true) {}
        Ok(())
    };
    /// `wasi:io/poll.poll`.
    wafer_p2_io_poll(list: i32, len: i32, ret: i32) => poll;
    /// `wasi:io/error.[method]error.to-debug-string`.
    wafer_p2_io_error_to_debug_string(error: i32, ret: i32) => error_to_debug_string;
}
