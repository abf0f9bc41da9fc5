//! `wasi:io`: streams over the stdio descriptors, pollables and errors.
//!
//! Representations: a stream is its standard descriptor; a pollable is a [`Pollable`]
//! (a descriptor to wait on, or a monotonic-clock deadline); an error is the WASI errno
//! of the operation that failed. Everything goes through the host core and the
//! platform, so it runs on Linux and on boards. Writes are done before they return, so
//! flushing has nothing to do.

use wafer_abi::trap::TrapKind;
use wafer_abi::wasi_p2::resource;

use super::{Call, HostResult, host_fns};
use crate::errno::Errno;
use crate::host::Descriptor;
use crate::sys::{Current, Interest, IoVec, Platform, PollFd};

/// The most bytes one `read` returns (the canonical ABI copies them once more).
const READ_CHUNK: usize = 16 << 10;

/// What `check-write` allows at once.
const WRITE_BUDGET: u64 = 1 << 20;

/// The most pollables one `poll` waits on.
const MAX_POLL: usize = 256;

/// How an operation on a stream failed: `stream-error`.
enum StreamError {
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

/// Stores `result<T, stream-error>` at `ret`: `payload_at` is where the payload starts
/// (the largest alignment of `T` and the error's 4), and `ok` stores `T` there.
fn store_result(
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

/// Writes all of `len` bytes of the caller's memory at `ptr` to `fd`.
fn write_all(call: &Call, fd: i32, ptr: i32, len: i32) -> HostResult<Result<(), StreamError>> {
    let (ptr, len) = (ptr as u32, len as u32);
    let base = call
        .memory()
        .range(ptr, len)
        .map_err(|_| TrapKind::ListOutOfBounds)?;
    let mut done = 0usize;
    while done < len as usize {
        let buf = IoVec {
            base: base.wrapping_add(done),
            len: len as usize - done,
        };
        // SAFETY: `range` checked the guest buffer; the platform only reads it.
        match unsafe { Descriptor::stdio(fd).write(&[buf]) } {
            Ok(written) => done += written,
            Err(Errno::INTR) => continue,
            Err(err) => return Ok(Err(err.into())),
        }
    }
    Ok(Ok(()))
}

/// `[method]output-stream.write` and `blocking-write-and-flush`.
fn write(call: &Call, stream: i32, ptr: i32, len: i32, ret: i32) -> HostResult<()> {
    let fd = call.borrow(stream as u32, resource::OUTPUT_STREAM)? as i32;
    let written = write_all(call, fd, ptr, len)?;
    store_result(call, ret, 4, written.map(|()| |_| Ok(())))
}

/// `[method]output-stream.flush` and `blocking-flush`: writes are never buffered.
fn flush(call: &Call, stream: i32, ret: i32) -> HostResult<()> {
    call.borrow(stream as u32, resource::OUTPUT_STREAM)?;
    store_result(call, ret, 4, Ok(|_| Ok(())))
}

/// `[method]output-stream.check-write`.
fn check_write(call: &Call, stream: i32, ret: i32) -> HostResult<()> {
    call.borrow(stream as u32, resource::OUTPUT_STREAM)?;
    store_result(call, ret, 8, Ok(|at| call.store_u64(at, WRITE_BUDGET)))
}

/// `[method]output-stream.write-zeroes` and `blocking-write-zeroes-and-flush`.
fn write_zeroes(call: &Call, stream: i32, len: i64, ret: i32) -> HostResult<()> {
    let fd = call.borrow(stream as u32, resource::OUTPUT_STREAM)? as i32;
    let zeroes = [0u8; 512];
    let mut left = len as u64;
    let mut result = Ok(());
    while left > 0 && result.is_ok() {
        let n = left.min(zeroes.len() as u64) as usize;
        let buf = IoVec {
            base: zeroes.as_ptr() as *mut u8,
            len: n,
        };
        // SAFETY: `zeroes` is readable for `n` bytes, and a write only reads it.
        match unsafe { Descriptor::stdio(fd).write(&[buf]) } {
            Ok(written) => left -= written as u64,
            Err(Errno::INTR) => {}
            Err(err) => result = Err(err.into()),
        }
    }
    store_result(call, ret, 4, result.map(|()| |_| Ok(())))
}

/// What a pollable waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Pollable {
    /// A descriptor to become readable or writable.
    Descriptor {
        /// The descriptor.
        fd: i32,
        /// What to wait for.
        interest: Interest,
    },
    /// The monotonic clock to reach a time, in nanoseconds.
    Deadline(u64),
}

/// The top bit of a deadline pollable's representation.
const DEADLINE: u64 = 1 << 63;

impl Pollable {
    /// The handle table representation.
    pub(super) fn rep(self) -> u64 {
        match self {
            Pollable::Descriptor { fd, interest } => {
                (fd as u32 as u64) << 1 | u64::from(interest == Interest::Write)
            }
            Pollable::Deadline(ns) => DEADLINE | ns.min(DEADLINE - 1),
        }
    }

    fn from_rep(rep: u64) -> Pollable {
        if rep & DEADLINE != 0 {
            Pollable::Deadline(rep & !DEADLINE)
        } else {
            Pollable::Descriptor {
                fd: (rep >> 1) as i32,
                interest: if rep & 1 == 1 {
                    Interest::Write
                } else {
                    Interest::Read
                },
            }
        }
    }

    /// Whether it is ready now (`wait`: once it is).
    fn ready(self, wait: bool) -> bool {
        match self {
            Pollable::Descriptor { fd, interest } => ready(fd, interest, (!wait).then_some(0)),
            Pollable::Deadline(deadline) => {
                if wait {
                    let _ = Current::sleep_until(deadline);
                }
                super::clocks::monotonic_now() >= deadline
            }
        }
    }
}

/// Whether `fd` is ready for `interest`, waiting up to `timeout` nanoseconds (`None`:
/// until it is).
fn ready(fd: i32, interest: Interest, timeout: Option<u64>) -> bool {
    let mut fds = [PollFd {
        handle: fd,
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

/// Reads up to `len` bytes from `fd`; end of file is `closed`.
fn read_some(fd: i32, len: u64, buf: &mut [u8; READ_CHUNK]) -> Result<usize, StreamError> {
    let want = len.min(READ_CHUNK as u64) as usize;
    let iov = IoVec {
        base: buf.as_mut_ptr(),
        len: want,
    };
    loop {
        // SAFETY: `buf` is writable for `want <= READ_CHUNK` bytes.
        match unsafe { Descriptor::stdio(fd).read(&[iov]) } {
            Ok(0) => return Err(StreamError::Closed),
            Ok(n) => return Ok(n),
            Err(Errno::INTR) => continue,
            Err(err) => return Err(err.into()),
        }
    }
}

/// `[method]input-stream.read` (`blocking`: `blocking-read`).
fn read(call: &Call, stream: i32, len: i64, ret: i32, blocking: bool) -> HostResult<()> {
    let fd = call.borrow(stream as u32, resource::INPUT_STREAM)? as i32;
    let len = len as u64;
    let mut buf = [0u8; READ_CHUNK];
    let result = if len == 0 || (!blocking && !ready(fd, Interest::Read, Some(0))) {
        Ok(0)
    } else {
        read_some(fd, len, &mut buf)
    };
    let bytes = match result {
        Ok(n) => Ok(buf.get(..n).unwrap_or_default()),
        Err(e) => Err(e),
    };
    let lowered = match bytes {
        Ok(bytes) => Ok(call.lower_bytes(bytes)?),
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
fn skip(call: &Call, stream: i32, len: i64, ret: i32, blocking: bool) -> HostResult<()> {
    let fd = call.borrow(stream as u32, resource::INPUT_STREAM)? as i32;
    let len = len as u64;
    let mut buf = [0u8; READ_CHUNK];
    let result = if len == 0 || (!blocking && !ready(fd, Interest::Read, Some(0))) {
        Ok(0)
    } else {
        read_some(fd, len, &mut buf)
    };
    store_result(
        call,
        ret,
        8,
        result.map(|n| move |at: u32| call.store_u64(at, n as u64)),
    )
}

/// What the pollable behind `handle` waits for.
fn pollable(call: &Call, handle: u32) -> HostResult<Pollable> {
    Ok(Pollable::from_rep(call.borrow(handle, resource::POLLABLE)?))
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
    let mut pollables = [Pollable::Deadline(0); MAX_POLL];
    let memory = call.memory();
    for i in 0..len as usize {
        let handle = memory
            .read_u32(list + i as u32 * 4)
            .map_err(|_| TrapKind::ListOutOfBounds)?;
        let pollable = pollable(call, handle)?;
        if let Some(slot) = pollables.get_mut(i) {
            *slot = pollable;
        }
    }
    let pollables = pollables.get(..len as usize).unwrap_or_default();
    // The descriptors to wait on, each with the index of its pollable.
    let mut fds = [PollFd::default(); MAX_POLL];
    let mut owners = [0usize; MAX_POLL];
    let mut fd_count = 0;
    for (i, pollable) in pollables.iter().enumerate() {
        if let Pollable::Descriptor { fd, interest } = *pollable
            && let (Some(slot), Some(owner)) = (fds.get_mut(fd_count), owners.get_mut(fd_count))
        {
            *slot = PollFd {
                handle: fd,
                interest,
                ..PollFd::default()
            };
            *owner = i;
            fd_count += 1;
        }
    }
    let fds = fds.get_mut(..fd_count).unwrap_or_default();
    let is_ready = |i: usize, fds: &[PollFd], now: u64| match pollables.get(i) {
        Some(Pollable::Descriptor { .. }) => owners
            .iter()
            .zip(fds.iter())
            .any(|(owner, fd)| *owner == i && fd.ready.any()),
        Some(Pollable::Deadline(deadline)) => now >= *deadline,
        None => false,
    };
    let ready = loop {
        let now = super::clocks::monotonic_now();
        let timeout = pollables
            .iter()
            .filter_map(|p| match p {
                Pollable::Deadline(deadline) => Some(deadline.saturating_sub(now)),
                Pollable::Descriptor { .. } => None,
            })
            .min();
        let waited = if fds.is_empty() {
            // Only deadlines: sleep until the first.
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
        let ready = (0..pollables.len())
            .filter(|&i| is_ready(i, fds, now))
            .count() as u32;
        if ready > 0 {
            break ready;
        }
    };
    let now = super::clocks::monotonic_now();
    let array = call.allocate(4, ready * 4)?;
    let mut at = array;
    for i in 0..pollables.len() {
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
    /// `wasi:io/streams.[method]output-stream.subscribe`.
    wafer_p2_io_output_stream_subscribe(stream: i32) -> u32 => |call: &Call, stream: i32| {
        let fd = call.borrow(stream as u32, resource::OUTPUT_STREAM)? as i32;
        call.new_own(resource::POLLABLE, Pollable::Descriptor { fd, interest: Interest::Write }.rep())
    };
    /// `wasi:io/streams.[method]input-stream.read`.
    wafer_p2_io_input_stream_read(stream: i32, len: i64, ret: i32) => |call, stream, len, ret| read(call, stream, len, ret, false);
    /// `wasi:io/streams.[method]input-stream.blocking-read`.
    wafer_p2_io_input_stream_blocking_read(stream: i32, len: i64, ret: i32) => |call, stream, len, ret| read(call, stream, len, ret, true);
    /// `wasi:io/streams.[method]input-stream.skip`.
    wafer_p2_io_input_stream_skip(stream: i32, len: i64, ret: i32) => |call, stream, len, ret| skip(call, stream, len, ret, false);
    /// `wasi:io/streams.[method]input-stream.blocking-skip`.
    wafer_p2_io_input_stream_blocking_skip(stream: i32, len: i64, ret: i32) => |call, stream, len, ret| skip(call, stream, len, ret, true);
    /// `wasi:io/streams.[method]input-stream.subscribe`.
    wafer_p2_io_input_stream_subscribe(stream: i32) -> u32 => |call: &Call, stream: i32| {
        let fd = call.borrow(stream as u32, resource::INPUT_STREAM)? as i32;
        call.new_own(resource::POLLABLE, Pollable::Descriptor { fd, interest: Interest::Read }.rep())
    };
    /// `wasi:io/poll.[method]pollable.ready`.
    wafer_p2_io_pollable_ready(handle: i32) -> u32 => |call: &Call, handle: i32| {
        Ok(u32::from(pollable(call, handle as u32)?.ready(false)))
    };
    /// `wasi:io/poll.[method]pollable.block`.
    wafer_p2_io_pollable_block(handle: i32) => |call: &Call, handle: i32| {
        let pollable = pollable(call, handle as u32)?;
        while !pollable.ready(true) {}
        Ok(())
    };
    /// `wasi:io/poll.poll`.
    wafer_p2_io_poll(list: i32, len: i32, ret: i32) => poll;
    /// `wasi:io/error.[method]error.to-debug-string`.
    wafer_p2_io_error_to_debug_string(error: i32, ret: i32) => error_to_debug_string;
}
