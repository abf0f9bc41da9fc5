//! `wasi:filesystem@0.3`: the 0.2 descriptors' operations under the 0.3 ABI, and the
//! host's side of its streams.
//!
//! Every check, path resolution and errno is the 0.2 code's (the parent module), so a
//! grant refuses the same things under both. What differs is the ABI: the `async`
//! functions are lowered `async` and finish before they return (files are always
//! ready), so each returns the `RETURNED` status with its result stored through the
//! return pointer, and takes its parameters through a pointer when they are more than
//! 4 flat values; `error-code` and `descriptor-type` are 16-byte variants.
//!
//! The streams are the canonical ABI's (`crate::component::streams`): a byte stream is
//! a 0.2 stream object (a file at an offset, or at its end) and `read-directory`'s
//! `stream<directory-entry>` a 0.2 listing object, which the stream holds. A copy
//! calls [`object_copy`], which reads or writes straight between the file and the
//! guest's buffer (nothing is allocated), or lowers directory entries into it (their
//! names allocated with the reader's `realloc`).

use wafer_abi::trap::TrapKind;

use super::super::io::{StreamError, read_stream, write_stream};
use super::super::objects::{self, Object};
use super::super::{Call, CanonContext, HostResult, Params, host_fns};
use super::{
    NAME_MAX, Timestamps, Version, descriptor, descriptor_type, get_directories, new_listing,
    new_stream, next_entry,
};
use crate::component::streams::{filesystem_sink, filesystem_source};
use crate::component::tasks::subtask_state::RETURNED;
use crate::errno::Errno;
use crate::p2::io::Stream;
use crate::sys::FileKind;

use Version::P3;

/// `error-code`'s `io` case.
const IO: u8 = 12;

/// `descriptor-type`'s `other` case.
const OTHER: u8 = 7;

/// The size of a `directory-entry`: a `descriptor-type` (16 bytes) and a `string`.
const ENTRY_SIZE: u32 = 24;

/// The 0.3 `error-code` case for a host errno: 0.2's, less `would-block`, which 0.3
/// dropped (wasmtime reports `EAGAIN` from a file as `io`).
pub(super) fn error_code(err: Errno) -> u8 {
    match super::error_code(err) {
        0 => 0,
        1 => IO,
        code => code - 1,
    }
}

/// Stores the `descriptor-type` of `kind` at `at`: what the host cannot name is
/// `other(none)`, as in wasmtime.
pub(super) fn store_type(call: &Call, at: u32, kind: FileKind) -> HostResult<()> {
    match kind {
        FileKind::Unknown => {
            call.store_u8(at, OTHER)?;
            call.store_u8(at + 4, 0)
        }
        kind => call.store_u8(at, descriptor_type(kind) - 1),
    }
}

/// The status of an `async`-lowered call that finished before returning.
fn returned(result: HostResult<()>) -> HostResult<u32> {
    result.map(|()| RETURNED)
}

/// The state word of the calling component instance.
fn instance(call: &Call) -> crate::component::StateWord {
    // SAFETY: the call's context is the one its trampoline passed.
    unsafe { crate::p2::context_instance(call.context) }
}

/// `[method]descriptor.read-via-stream`: the stream and the future of its outcome
/// through `ret`. A directory gives a stream that has ended with `is-directory`.
fn read_via_stream(call: &Call, fd: i32, offset: i64, ret: i32) -> HostResult<()> {
    let (index, desc) = descriptor(call, P3, fd)?;
    let offset = offset as u64;
    let source = new_stream(index, desc, false, || {
        objects::insert(Object::Stream(Stream::File {
            desc: index,
            offset,
        }))
    })?;
    let (stream, future) = filesystem_source(instance(call), false, source.map_err(error_code))?;
    call.store_u32(ret as u32, stream)?;
    call.store_u32(ret as u32 + 4, future)
}

/// `[method]descriptor.write-via-stream` (at `offset`) and `append-via-stream`
/// (`None`): the host reads stream `data` into the file; the future of the outcome.
fn write_via_stream(call: &Call, fd: i32, data: i32, offset: Option<u64>) -> HostResult<u32> {
    let (index, desc) = descriptor(call, P3, fd)?;
    let sink = new_stream(index, desc, true, || {
        objects::insert(Object::Stream(match offset {
            Some(offset) => Stream::File {
                desc: index,
                offset,
            },
            None => Stream::Append { desc: index },
        }))
    })?;
    filesystem_sink(instance(call), data as u32, sink.map_err(error_code))
}

/// `[method]descriptor.read-directory`: the `stream<directory-entry>` and the future
/// of its outcome through `ret`. A file gives a stream that has ended with
/// `not-directory`.
fn read_directory(call: &Call, fd: i32, ret: i32) -> HostResult<()> {
    let (index, desc) = descriptor(call, P3, fd)?;
    let listing = new_listing(index, desc, objects::insert)?;
    let (stream, future) = filesystem_source(instance(call), true, listing.map_err(error_code))?;
    call.store_u32(ret as u32, stream)?;
    call.store_u32(ret as u32 + 4, future)
}

/// What a copy with a host object did: the elements it moved, and how the stream
/// ended if it did (`Err` an `error-code` case).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Copied {
    /// Elements read or written.
    pub(crate) count: u32,
    /// The outcome, once the stream has ended.
    pub(crate) end: Option<Result<(), u8>>,
}

/// A copy between host object `object` (a file stream or a directory listing) and a
/// guest buffer of `count` elements at `ptr` in the memory of `context` (the copy's
/// canonical options; `flags` is its instance's flags global): the guest `reading` from
/// the object, or writing to it. The caller checked the buffer lies in guest memory.
pub(crate) fn object_copy(
    object: u32,
    reading: bool,
    (context, flags): (*const CanonContext, *mut u32),
    ptr: u32,
    count: u32,
) -> Result<Copied, TrapKind> {
    if count == 0 {
        return Ok(Copied { count, end: None });
    }
    // SAFETY: the copy's canonical options' context, static data the compiler emitted;
    // nothing here sets its trap field.
    let call = unsafe { Call::new(context.cast_mut()) };
    match objects::get(object) {
        Some(Object::Stream(stream)) => Ok(bytes_copy(&call, object, stream, reading, ptr, count)?),
        Some(Object::Entries { .. }) if reading => entries_copy(&call, flags, object, ptr, count),
        _ => Err(TrapKind::Unreachable),
    }
}

/// Reads the file into, or writes it from, `count` bytes of guest memory at `ptr`.
fn bytes_copy(
    call: &Call,
    object: u32,
    stream: Stream,
    reading: bool,
    ptr: u32,
    count: u32,
) -> HostResult<Copied> {
    let base = call
        .memory()
        .range(ptr, count)
        .map_err(|_| TrapKind::PointerOutOfBounds)?;
    let len = count as usize;
    let result = if reading {
        // SAFETY: `range` checked the guest buffer, which stays valid while the copy
        // runs (nothing here grows or frees guest memory); only the read writes it.
        let buffer = unsafe { core::slice::from_raw_parts_mut(base, len) };
        read_stream(object, stream, buffer, true).map(|n| n as u32)
    } else {
        // SAFETY: as above; the write only reads it.
        let bytes = unsafe { core::slice::from_raw_parts(base, len) };
        // SAFETY: `bytes` is readable for its length.
        unsafe { write_stream(object, stream, bytes) }.map(|()| count)
    };
    Ok(match result {
        Ok(count) => Copied { count, end: None },
        // The end of the file.
        Err(StreamError::Closed) if reading => Copied {
            count: 0,
            end: Some(Ok(())),
        },
        Err(StreamError::Closed) => Copied {
            count: 0,
            end: Some(Err(error_code(Errno(wafer_abi::wasi::errno::PIPE)))),
        },
        Err(StreamError::Failed(err)) => Copied {
            count: 0,
            end: Some(Err(error_code(err))),
        },
    })
}

/// Lowers `name` as a `string` with the reader's `realloc`, its instance's `may_leave`
/// (in `flags`) clear meanwhile, as the canonical ABI lowers: a `realloc` that calls an
/// import or a built-in traps, and never re-enters the runtime in the middle of a copy.
fn lower_name(call: &Call, flags: *mut u32, name: &[u8]) -> HostResult<(u32, u32)> {
    // SAFETY: `flags` is the address of the reader's flags global, an `i32` that
    // compiled code reads and writes only while it runs, which it does not between
    // these accesses but in `realloc`, where it reads the cleared flag.
    let old = unsafe { flags.read() };
    // SAFETY: as above.
    unsafe { flags.write(old & !1) };
    let lowered = call.lower_string(name);
    // SAFETY: as above.
    unsafe { flags.write(old) };
    lowered
}

/// Lowers up to `count` entries of listing `object` into the guest buffer at `ptr`.
fn entries_copy(
    call: &Call,
    flags: *mut u32,
    object: u32,
    ptr: u32,
    count: u32,
) -> Result<Copied, TrapKind> {
    let mut name = [0u8; NAME_MAX];
    for done in 0..count {
        let (len, kind) = match next_entry(object, &mut name) {
            Ok(Some(entry)) => entry,
            Ok(None) => {
                return Ok(Copied {
                    count: done,
                    end: Some(Ok(())),
                });
            }
            Err(err) => {
                return Ok(Copied {
                    count: done,
                    end: Some(Err(error_code(err))),
                });
            }
        };
        let (name_ptr, name_len) = lower_name(call, flags, name.get(..len).unwrap_or_default())?;
        let at = ptr + done * ENTRY_SIZE;
        store_type(call, at, kind)?;
        call.store_u32(at + 16, name_ptr)?;
        call.store_u32(at + 20, name_len)?;
    }
    Ok(Copied { count, end: None })
}

/// A stream has ended: it lets its host object go.
pub(crate) fn object_release(object: u32) {
    objects::release(object);
}

host_fns! {
    /// `wasi:filesystem/preopens@0.3.get-directories`.
    wafer_p3_filesystem_get_directories(ret: i32) => |call, ret| get_directories(call, P3, ret);
    /// `[method]descriptor.read-via-stream`.
    wafer_p3_filesystem_read_via_stream(fd: i32, offset: i64, ret: i32) => read_via_stream;
    /// `[method]descriptor.write-via-stream`.
    wafer_p3_filesystem_write_via_stream(fd: i32, data: i32, offset: i64) -> u32 => |call, fd, data, offset: i64| {
        write_via_stream(call, fd, data, Some(offset as u64))
    };
    /// `[method]descriptor.append-via-stream`.
    wafer_p3_filesystem_append_via_stream(fd: i32, data: i32) -> u32 => |call, fd, data| {
        write_via_stream(call, fd, data, None)
    };
    /// `[method]descriptor.read-directory`.
    wafer_p3_filesystem_read_directory(fd: i32, ret: i32) => read_directory;
    /// `[method]descriptor.advise`.
    wafer_p3_filesystem_advise(fd: i32, offset: i64, len: i64, how: i32, ret: i32) -> u32 => |call, fd, offset, len, how, ret| {
        returned(super::advise(call, P3, fd, offset, len, how, ret))
    };
    /// `[method]descriptor.sync-data`.
    wafer_p3_filesystem_sync_data(fd: i32, ret: i32) -> u32 => |call, fd, ret| returned(super::sync(call, P3, fd, true, ret));
    /// `[method]descriptor.sync`.
    wafer_p3_filesystem_sync(fd: i32, ret: i32) -> u32 => |call, fd, ret| returned(super::sync(call, P3, fd, false, ret));
    /// `[method]descriptor.get-flags`.
    wafer_p3_filesystem_get_flags(fd: i32, ret: i32) -> u32 => |call, fd, ret| returned(super::get_flags(call, P3, fd, ret));
    /// `[method]descriptor.get-type`.
    wafer_p3_filesystem_get_type(fd: i32, ret: i32) -> u32 => |call, fd, ret| returned(super::get_type(call, P3, fd, ret));
    /// `[method]descriptor.set-size`.
    wafer_p3_filesystem_set_size(fd: i32, size: i64, ret: i32) -> u32 => |call, fd, size, ret| returned(super::set_size(call, P3, fd, size, ret));
    /// `[method]descriptor.set-times`: `(self, new-timestamp, new-timestamp)` at
    /// `params`.
    wafer_p3_filesystem_set_times(params: i32, ret: i32) -> u32 => |call, params, ret| {
        let p = Params::new(call, params, 56, 8)?;
        let times: Timestamps = [p.timestamp(8)?, p.timestamp(32)?];
        returned(super::set_times(call, P3, p.i32(0)?, times, ret))
    };
    /// `[method]descriptor.create-directory-at`.
    wafer_p3_filesystem_create_directory_at(fd: i32, ptr: i32, len: i32, ret: i32) -> u32 => |call, fd, ptr, len, ret| {
        returned(super::path_op(call, P3, (fd, ptr, len), ret, |dir, path| dir.create_dir_at(path)))
    };
    /// `[method]descriptor.remove-directory-at`.
    wafer_p3_filesystem_remove_directory_at(fd: i32, ptr: i32, len: i32, ret: i32) -> u32 => |call, fd, ptr, len, ret| {
        returned(super::path_op(call, P3, (fd, ptr, len), ret, |dir, path| dir.remove_dir_at(path)))
    };
    /// `[method]descriptor.unlink-file-at`.
    wafer_p3_filesystem_unlink_file_at(fd: i32, ptr: i32, len: i32, ret: i32) -> u32 => |call, fd, ptr, len, ret| {
        returned(super::path_op(call, P3, (fd, ptr, len), ret, |dir, path| dir.unlink_file_at(path)))
    };
    /// `[method]descriptor.stat`.
    wafer_p3_filesystem_stat(fd: i32, ret: i32) -> u32 => |call, fd, ret| returned(super::stat(call, P3, fd, false, ret));
    /// `[method]descriptor.stat-at`.
    wafer_p3_filesystem_stat_at(fd: i32, path_flags: i32, ptr: i32, len: i32, ret: i32) -> u32 => |call, fd, path_flags, ptr, len, ret| {
        returned(super::stat_at(call, P3, (fd, path_flags, ptr, len), false, ret))
    };
    /// `[method]descriptor.set-times-at`: `(self, path-flags, path, new-timestamp,
    /// new-timestamp)` at `params`.
    wafer_p3_filesystem_set_times_at(params: i32, ret: i32) -> u32 => |call, params, ret| {
        let p = Params::new(call, params, 64, 8)?;
        let times: Timestamps = [p.timestamp(16)?, p.timestamp(40)?];
        returned(super::set_times_at(call, P3, p.i32(0)?, p.u8(4)?, p.string(8)?, times, ret))
    };
    /// `[method]descriptor.link-at`: `(self, path-flags, old-path, new-descriptor,
    /// new-path)` at `params`.
    wafer_p3_filesystem_link_at(params: i32, ret: i32) -> u32 => |call, params, ret| {
        let p = Params::new(call, params, 28, 4)?;
        let ((ptr, len), (new_ptr, new_len)) = (p.string(8)?, p.string(20)?);
        let (old, new) = ((p.i32(0)?, ptr, len), (p.i32(16)?, new_ptr, new_len));
        returned(super::two_paths(call, P3, old, new, ret, super::link(p.u8(4)?)))
    };
    /// `[method]descriptor.open-at`: `(self, path-flags, path, open-flags, flags)` at
    /// `params`.
    wafer_p3_filesystem_open_at(params: i32, ret: i32) -> u32 => |call, params, ret| {
        let p = Params::new(call, params, 20, 4)?;
        let (ptr, len) = p.string(8)?;
        returned(super::open_at(call, P3, p.i32(0)?, p.u8(4)?, ptr, len, p.u8(16)?, p.u8(17)?, ret))
    };
    /// `[method]descriptor.readlink-at`.
    wafer_p3_filesystem_readlink_at(fd: i32, ptr: i32, len: i32, ret: i32) -> u32 => |call, fd, ptr, len, ret| {
        returned(super::readlink_at(call, P3, fd, ptr, len, ret))
    };
    /// `[method]descriptor.rename-at`: `(self, old-path, new-descriptor, new-path)` at
    /// `params`.
    wafer_p3_filesystem_rename_at(params: i32, ret: i32) -> u32 => |call, params, ret| {
        let p = Params::new(call, params, 24, 4)?;
        let ((ptr, len), (new_ptr, new_len)) = (p.string(4)?, p.string(16)?);
        let (old, new) = ((p.i32(0)?, ptr, len), (p.i32(12)?, new_ptr, new_len));
        returned(super::two_paths(call, P3, old, new, ret, super::rename))
    };
    /// `[method]descriptor.symlink-at`: `(self, old-path, new-path)` at `params`.
    wafer_p3_filesystem_symlink_at(params: i32, ret: i32) -> u32 => |call, params, ret| {
        let p = Params::new(call, params, 20, 4)?;
        returned(super::symlink_at(call, P3, p.i32(0)?, p.string(4)?, p.string(12)?, ret))
    };
    /// `[method]descriptor.is-same-object`: the `bool` through `ret`.
    wafer_p3_filesystem_is_same_object(fd: i32, other: i32, ret: i32) -> u32 => |call: &Call, fd, other, ret: i32| {
        let same = super::is_same_object(call, P3, fd, other)?;
        returned(call.store_u8(ret as u32, same as u8))
    };
    /// `[method]descriptor.metadata-hash`.
    wafer_p3_filesystem_metadata_hash(fd: i32, ret: i32) -> u32 => |call, fd, ret| returned(super::stat(call, P3, fd, true, ret));
    /// `[method]descriptor.metadata-hash-at`.
    wafer_p3_filesystem_metadata_hash_at(fd: i32, path_flags: i32, ptr: i32, len: i32, ret: i32) -> u32 => |call, fd, path_flags, ptr, len, ret| {
        returned(super::stat_at(call, P3, (fd, path_flags, ptr, len), true, ret))
    };
}
