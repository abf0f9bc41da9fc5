//! `wasi:filesystem`: descriptors, directory listings and preopens, over the host core.
//!
//! A descriptor is a host object holding a `host::Descriptor`, so every operation runs
//! the host core's checks in the host core's order (kind, access, grant, rights) and
//! resolves paths beneath its directory exactly as preview1 does; what this module adds
//! is the 0.2 ABI: decoding flags and strings, and the mapping of the host's errnos to
//! `error-code`. Descriptor flags become the host's access mode (and so its rights):
//! `read` and `write` the access, the sync flags the descriptor's sync modes. Whether
//! a directory may be changed is its grant's (a read-only grant refuses with
//! `not-permitted`, preview1's `EPERM`), as in wasmtime, which also ignores
//! `mutate-directory` when opening.
//!
//! The granted directories are opened at start-up (`wafer_p2_open_granted_dirs`) as the
//! first objects, which the host keeps; `get-directories` hands out new handles to them.
//!
//! `wasi:filesystem@0.3` (`p3`) is the same host objects and the same operations under
//! another ABI: its `descriptor` is a resource type of its own, `error-code` and
//! `descriptor-type` are variants (16 bytes, aligned to 4), and its streams are the
//! canonical ABI's. The functions here take the [`Version`] whose layouts they store.

mod p3;

pub(crate) use p3::{Copied, object_copy, object_release};

use wafer_abi::trap::TrapKind;
use wafer_abi::wasi::errno as e;
use wafer_abi::wasi_p2::resource;

use super::io::{Stream, descriptor_of};
use super::objects::{self, Object};
use super::{Call, HostResult, host_fns};
use crate::errno::{Errno, Result};
use crate::global::Global;
use crate::host::{Descriptor, Kind, grants};
use crate::sys::{
    Advice, Current, FileKind, FileStat, IoVec, OpenOptions, PATH_MAX, Platform, SetTime,
    StatusFlags,
};

/// How many directory grants were opened (objects `0..count`).
static PREOPENED: Global<u32> = Global::new(0);

/// Opens the granted directories as the first host objects, which the host holds for
/// the whole run. Compiled code calls it from `wafer_image_init` in a component image
/// that grants directories.
#[unsafe(no_mangle)]
pub extern "C" fn wafer_p2_open_granted_dirs() {
    grants::open_granted_dirs(
        |index, desc| match objects::insert(Object::Descriptor(desc)) {
            Ok(object) if object as usize == index => PREOPENED.with(|count| *count += 1),
            _ => crate::fatal(b"the granted directories must be the first host objects"),
        },
    );
}

/// The WASI version whose ABI a function serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    /// `wasi:filesystem@0.2`.
    P2,
    /// `wasi:filesystem@0.3`.
    P3,
}

use Version::P2;

impl Version {
    /// The host resource type of its `descriptor`.
    fn descriptor(self) -> u32 {
        match self {
            Version::P2 => resource::DESCRIPTOR,
            Version::P3 => resource::DESCRIPTOR_P3,
        }
    }

    /// Its `error-code` case for a host errno.
    fn error_code(self, err: Errno) -> u8 {
        match self {
            Version::P2 => error_code(err),
            Version::P3 => p3::error_code(err),
        }
    }

    /// Where the payload of a `result<T, error-code>` goes, for `payload_at`, where it
    /// goes with 0.2's one-byte `error-code` (0.3's is aligned to 4).
    fn payload_at(self, payload_at: u32) -> u32 {
        match self {
            Version::P2 => payload_at,
            Version::P3 => payload_at.max(4),
        }
    }
}

/// `error-code` for a host errno. The errnos `error-code` has map one to one (as
/// wasmtime's preview1 maps them back); the others to their nearest case.
pub(super) fn error_code(err: Errno) -> u8 {
    match err.0 {
        e::ACCES => 0,
        e::AGAIN => 1,
        e::ALREADY => 2,
        e::BADF => 3,
        e::BUSY => 4,
        e::DEADLK => 5,
        e::DQUOT => 6,
        e::EXIST => 7,
        e::FBIG => 8,
        e::ILSEQ => 9,
        e::INPROGRESS => 10,
        e::INTR => 11,
        e::INVAL => 12,
        e::IO => 13,
        e::ISDIR => 14,
        e::LOOP => 15,
        e::MLINK => 16,
        e::MSGSIZE => 17,
        e::NAMETOOLONG => 18,
        e::NODEV => 19,
        e::NOENT => 20,
        e::NOLCK => 21,
        e::NOMEM | e::MFILE | e::NFILE | e::NOBUFS => 22,
        e::NOSPC => 23,
        e::NOTDIR => 24,
        e::NOTEMPTY => 25,
        e::NOTRECOVERABLE => 26,
        e::NOTSUP | e::NOSYS => 27,
        e::NOTTY => 28,
        e::NXIO => 29,
        e::OVERFLOW => 30,
        // Missing rights are the guest's descriptor refusing, as a grant refuses.
        e::PERM | e::NOTCAPABLE => 31,
        e::PIPE => 32,
        e::ROFS => 33,
        e::SPIPE => 34,
        e::TXTBSY => 35,
        e::XDEV => 36,
        _ => 13,
    }
}

/// Stores `result<T, error-code>` of `v` at `ret`: `payload_at` is where `T` (or the
/// error) goes in 0.2, and `ok` stores `T` where it goes.
fn store(
    call: &Call,
    v: Version,
    ret: i32,
    payload_at: u32,
    result: core::result::Result<impl FnOnce(u32) -> HostResult<()>, Errno>,
) -> HostResult<()> {
    let ret = ret as u32;
    let payload_at = v.payload_at(payload_at);
    match result {
        Ok(ok) => {
            call.store_u8(ret, 0)?;
            ok(ret + payload_at)
        }
        Err(err) => {
            call.store_u8(ret, 1)?;
            call.store_u8(ret + payload_at, v.error_code(err))
        }
    }
}

/// Stores `result<_, error-code>`.
fn store_unit(call: &Call, v: Version, ret: i32, result: Result) -> HostResult<()> {
    store(call, v, ret, 1, result.map(|()| |_| Ok(())))
}

/// The descriptor behind `handle` (a `descriptor` of `v`), with its object.
fn descriptor(call: &Call, v: Version, handle: i32) -> HostResult<(u32, Descriptor)> {
    match call.object(handle as u32, v.descriptor())? {
        (index, Object::Descriptor(desc)) => Ok((index, desc)),
        _ => Err(TrapKind::InvalidHandle),
    }
}

/// The directory behind `handle`: a path operation on anything else is `not-directory`.
fn dir(call: &Call, v: Version, handle: i32) -> HostResult<Result<Descriptor>> {
    let (_, desc) = descriptor(call, v, handle)?;
    Ok(if desc.is_dir() {
        Ok(desc)
    } else {
        Err(Errno::NOTDIR)
    })
}

/// The file behind `handle`: a file operation on a directory is `bad-descriptor`.
fn file(call: &Call, v: Version, handle: i32) -> HostResult<Result<(u32, Descriptor)>> {
    let (index, desc) = descriptor(call, v, handle)?;
    Ok(if desc.is_dir() {
        Err(Errno::BADF)
    } else {
        Ok((index, desc))
    })
}

/// `path-flags`: whether to follow a final symlink.
fn follows(path_flags: i32) -> bool {
    path_flags & 1 != 0
}

/// Runs `op` on the directory behind `handle` and the path at (`ptr`, `len`).
fn with_path<T>(
    call: &Call,
    v: Version,
    handle: i32,
    ptr: i32,
    len: i32,
    op: impl FnOnce(Descriptor, &[u8]) -> Result<T>,
) -> HostResult<Result<T>> {
    let mut buf = [0u8; PATH_MAX];
    let path = call.lift_string(ptr, len, &mut buf)?;
    let dir = dir(call, v, handle)?;
    Ok(dir.and_then(|dir| op(dir, path?)))
}

/// `descriptor-type` of a host file kind.
fn descriptor_type(kind: FileKind) -> u8 {
    match kind {
        FileKind::Unknown => 0,
        FileKind::BlockDevice => 1,
        FileKind::CharacterDevice => 2,
        FileKind::Directory => 3,
        FileKind::Fifo => 4,
        FileKind::SymbolicLink => 5,
        FileKind::RegularFile => 6,
        FileKind::SocketDgram | FileKind::SocketStream => 7,
    }
}

/// Stores the `descriptor-type` of `v` for `kind` at `at`.
fn store_type(call: &Call, v: Version, at: u32, kind: FileKind) -> HostResult<()> {
    match v {
        Version::P2 => call.store_u8(at, descriptor_type(kind)),
        Version::P3 => p3::store_type(call, at, kind),
    }
}

/// Stores a `descriptor-stat` of `v` at `at` (aligned to 8; 96 bytes in 0.2, 104 in
/// 0.3, whose `descriptor-type` takes 16 bytes).
fn store_stat(call: &Call, v: Version, at: u32, stat: &FileStat) -> HostResult<()> {
    store_type(call, v, at, stat.kind)?;
    let at = match v {
        Version::P2 => at,
        Version::P3 => at + 8,
    };
    call.store_u64(at + 8, stat.nlink)?;
    call.store_u64(at + 16, stat.size)?;
    for (i, ns) in [stat.atime, stat.mtime, stat.ctime].into_iter().enumerate() {
        // `option<datetime>` (0.3: `option<instant>`, the same layout): always `some`.
        let field = at + 24 + 24 * i as u32;
        call.store_u8(field, 1)?;
        call.store_u64(field + 8, ns / 1_000_000_000)?;
        call.store_u32(field + 16, (ns % 1_000_000_000) as u32)?;
    }
    Ok(())
}

/// A `new-timestamp` from its flat parts.
fn new_timestamp(kind: i32, seconds: i64, nanoseconds: i32) -> HostResult<Result<SetTime>> {
    Ok(match kind {
        0 => Ok(SetTime::Omit),
        1 => Ok(SetTime::Now),
        2 => (seconds as u64)
            .checked_mul(1_000_000_000)
            .and_then(|ns| ns.checked_add(u64::from(nanoseconds as u32)))
            .map(SetTime::At)
            .ok_or(Errno(e::OVERFLOW)),
        _ => return Err(TrapKind::InvalidDiscriminant),
    })
}

/// A `metadata-hash-value` for a file's identity: a fixed-key mix of its device and
/// inode numbers, the same for the same file and, with 128 bits, all but never equal
/// for two files (wasmtime too hashes the two with a fixed-key hasher).
fn identity_hash(stat: &FileStat) -> (u64, u64) {
    fn mix(mut x: u64) -> u64 {
        // SplitMix64's finaliser: a bijection with good avalanche.
        x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        x ^ (x >> 31)
    }
    let lower = mix(stat.ino ^ mix(stat.dev ^ 0x243f_6a88_85a3_08d3));
    let upper = mix(stat.dev ^ mix(stat.ino ^ 0x1319_8a2e_0370_7344));
    (lower, upper)
}

/// Stores `result<metadata-hash-value, error-code>`.
fn store_hash(call: &Call, v: Version, ret: i32, stat: Result<FileStat>) -> HostResult<()> {
    store(
        call,
        v,
        ret,
        8,
        stat.map(|stat| {
            move |at: u32| {
                let (lower, upper) = identity_hash(&stat);
                call.store_u64(at, lower)?;
                call.store_u64(at + 8, upper)
            }
        }),
    )
}

/// A new stream of the file `desc` (object `index`, which the stream holds) for
/// `read-via-stream` or (`output`) `write-via-stream`/`append-via-stream`, added by
/// `insert`: its index, or why the descriptor refuses.
fn new_stream(
    index: u32,
    desc: Descriptor,
    output: bool,
    insert: impl FnOnce() -> HostResult<u32>,
) -> HostResult<Result<u32>> {
    let checked = if desc.is_dir() {
        // Reading a directory as bytes is POSIX's `EISDIR`; writing one is no file.
        Err(if output { Errno::BADF } else { Errno::ISDIR })
    } else if output {
        // A read-only grant refuses at once, as wasmtime does (writes would fail later).
        desc.check_changeable().map(drop)
    } else {
        Ok(())
    };
    Ok(match checked {
        Ok(()) => {
            objects::retain(index);
            Ok(insert().inspect_err(|_| objects::release(index))?)
        }
        Err(err) => Err(err),
    })
}

/// `[method]descriptor.read-via-stream` / `write-via-stream` / `append-via-stream`.
fn via_stream(
    call: &Call,
    handle: i32,
    stream: impl FnOnce(u32) -> Stream,
    output: bool,
    ret: i32,
) -> HostResult<()> {
    let (index, desc) = descriptor(call, Version::P2, handle)?;
    let ty = if output {
        resource::OUTPUT_STREAM
    } else {
        resource::INPUT_STREAM
    };
    let created = new_stream(index, desc, output, || {
        call.new_object(ty, Object::Stream(stream(index)))
    })?;
    store(
        call,
        Version::P2,
        ret,
        4,
        created.map(|stream| move |at| call.store_u32(at, stream)),
    )
}

/// `[method]descriptor.get-flags`.
fn get_flags(call: &Call, v: Version, handle: i32, ret: i32) -> HostResult<()> {
    let (_, desc) = descriptor(call, v, handle)?;
    let flags = desc.status_flags().map(|status| {
        let mut flags = 0u8;
        if desc.access.read {
            flags |= 1;
        }
        match desc.kind {
            // As wasmtime: a granted directory reports whether it may be changed.
            Kind::Directory { preopen: Some(_) } if !desc.read_only => flags |= 1 << 5,
            Kind::Directory { .. } => {}
            _ if desc.access.write => flags |= 1 << 1,
            _ => {}
        }
        if status.sync {
            flags |= 1 << 2;
        }
        if status.dsync {
            flags |= 1 << 3;
        }
        if status.rsync {
            flags |= 1 << 4;
        }
        flags
    });
    store(
        call,
        v,
        ret,
        1,
        flags.map(|flags| move |at| call.store_u8(at, flags)),
    )
}

/// `[method]descriptor.get-type`.
fn get_type(call: &Call, v: Version, handle: i32, ret: i32) -> HostResult<()> {
    let (_, desc) = descriptor(call, v, handle)?;
    let kind = if desc.is_dir() {
        Ok(FileKind::Directory)
    } else {
        desc.file_kind()
    };
    store(
        call,
        v,
        ret,
        1,
        kind.map(|kind| move |at| store_type(call, v, at, kind)),
    )
}

/// `[method]descriptor.read`: up to `len` bytes at `offset`, and whether that is the
/// end of the file.
fn read(call: &Call, handle: i32, len: i64, offset: i64, ret: i32) -> HostResult<()> {
    let mut buf = [0u8; 16 << 10];
    let want = (len as u64).min(buf.len() as u64) as usize;
    let iov = [IoVec {
        base: buf.as_mut_ptr(),
        len: want,
    }];
    // SAFETY: `buf` is writable for `want` bytes.
    let read = file(call, Version::P2, handle)?
        .and_then(|(_, desc)| unsafe { desc.pread(&iov, offset as u64) });
    let lowered = match read {
        Ok(n) => Ok((
            call.lower_bytes(buf.get(..n).unwrap_or_default())?,
            n == 0 && want > 0,
        )),
        Err(err) => Err(err),
    };
    store(
        call,
        Version::P2,
        ret,
        4,
        lowered.map(|((ptr, len), end)| {
            move |at: u32| {
                call.store_u32(at, ptr)?;
                call.store_u32(at + 4, len)?;
                call.store_u8(at + 8, u8::from(end))
            }
        }),
    )
}

/// `[method]descriptor.write`: `buffer` at `offset`, in one write; returns the bytes
/// written.
fn write(call: &Call, handle: i32, ptr: i32, len: i32, offset: i64, ret: i32) -> HostResult<()> {
    let base = call
        .memory()
        .range(ptr as u32, len as u32)
        .map_err(|_| TrapKind::ListOutOfBounds)?;
    let iov = [IoVec {
        base,
        len: len as u32 as usize,
    }];
    let written = file(call, Version::P2, handle)?.and_then(|(_, desc)| {
        desc.check_changeable()?;
        // SAFETY: `range` checked the guest buffer; a write only reads it.
        unsafe { desc.pwrite(&iov, offset as u64) }
    });
    store(
        call,
        Version::P2,
        ret,
        8,
        written.map(|n| move |at| call.store_u64(at, n as u64)),
    )
}

/// A new listing of the directory `desc` (object `index`, which the listing holds),
/// added by `insert`: its index, or why the descriptor cannot be listed.
fn new_listing(
    index: u32,
    desc: Descriptor,
    insert: impl FnOnce(Object) -> HostResult<u32>,
) -> HostResult<Result<u32>> {
    match desc.check_read_dir() {
        Ok(_) => {
            objects::retain(index);
            let entries = Object::Entries {
                dir: index,
                cookie: 0,
            };
            Ok(Ok(insert(entries).inspect_err(|_| objects::release(index))?))
        }
        Err(err) => Ok(Err(if desc.is_dir() { err } else { Errno::NOTDIR })),
    }
}

/// `[method]descriptor.read-directory`.
fn read_directory(call: &Call, handle: i32, ret: i32) -> HostResult<()> {
    let (index, desc) = descriptor(call, Version::P2, handle)?;
    let listing = new_listing(index, desc, |entries| {
        call.new_object(resource::DIRECTORY_ENTRY_STREAM, entries)
    })?;
    store(
        call,
        Version::P2,
        ret,
        4,
        listing.map(|stream| move |at| call.store_u32(at, stream)),
    )
}

/// The longest file name a listing reports (Linux's `NAME_MAX` is 255 bytes).
const NAME_MAX: usize = 1024;

/// The next entry of listing object `index` but `.` and `..`, its name copied into
/// `name`: the name's length and the entry's kind, or none at the end.
fn next_entry(index: u32, name: &mut [u8; NAME_MAX]) -> Result<Option<(usize, FileKind)>> {
    let Some(Object::Entries { dir, cookie }) = objects::get(index) else {
        return Err(Errno::BADF);
    };
    let desc = descriptor_of(dir).ok_or(Errno::BADF)?;
    let mut found: Option<(usize, FileKind, u64)> = None;
    let mut next_cookie = cookie;
    desc.read_dir(cookie, &mut |entry| {
        next_cookie = entry.next;
        if entry.name == b"." || entry.name == b".." {
            return true;
        }
        let Some(out) = name.get_mut(..entry.name.len()) else {
            found = Some((usize::MAX, entry.kind, entry.next));
            return false;
        };
        out.copy_from_slice(entry.name);
        found = Some((entry.name.len(), entry.kind, entry.next));
        false
    })?;
    let Some((len, kind, next)) = found else {
        let cookie = next_cookie;
        objects::set(index, Object::Entries { dir, cookie });
        return Ok(None);
    };
    objects::set(index, Object::Entries { dir, cookie: next });
    let name = name.get(..len).ok_or(Errno::NAMETOOLONG)?;
    if core::str::from_utf8(name).is_err() {
        return Err(Errno::ILSEQ);
    }
    // Filesystems that do not say what an entry is: ask (without following).
    let kind = if kind == FileKind::Unknown {
        desc.stat_at(name, false)
            .map_or(FileKind::Unknown, |stat| stat.kind)
    } else {
        kind
    };
    Ok(Some((len, kind)))
}

/// `[method]directory-entry-stream.read-directory-entry`: the next entry but `.` and
/// `..`, or none at the end.
fn read_directory_entry(call: &Call, handle: i32, ret: i32) -> HostResult<()> {
    let index = match call.object(handle as u32, resource::DIRECTORY_ENTRY_STREAM)? {
        (index, Object::Entries { .. }) => index,
        _ => return Err(TrapKind::InvalidHandle),
    };
    let mut name = [0u8; NAME_MAX];
    let lowered = match next_entry(index, &mut name) {
        Ok(Some((len, kind))) => {
            let name = name.get(..len).unwrap_or_default();
            Ok(Some((call.lower_string(name)?, kind)))
        }
        Ok(None) => Ok(None),
        Err(err) => Err(err),
    };
    store(
        call,
        Version::P2,
        ret,
        4,
        lowered.map(|entry| {
            move |at: u32| match entry {
                None => call.store_u8(at, 0),
                Some(((ptr, len), kind)) => {
                    call.store_u8(at, 1)?;
                    call.store_u8(at + 4, descriptor_type(kind))?;
                    call.store_u32(at + 8, ptr)?;
                    call.store_u32(at + 12, len)
                }
            }
        }),
    )
}

/// `[method]descriptor.open-at`.
#[allow(clippy::too_many_arguments, reason = "the flat signature")]
fn open_at(
    call: &Call,
    v: Version,
    handle: i32,
    path_flags: i32,
    ptr: i32,
    len: i32,
    open_flags: i32,
    flags: i32,
    ret: i32,
) -> HostResult<()> {
    let has = |bits: i32, bit: u32| bits & (1 << bit) != 0;
    let (create, directory, exclusive, truncate) = (
        has(open_flags, 0),
        has(open_flags, 1),
        has(open_flags, 2),
        has(open_flags, 3),
    );
    // As wasmtime: creating or truncating opens for writing, and a descriptor not
    // opened for writing is opened for reading.
    let write = has(flags, 1) || create || truncate;
    let options = OpenOptions {
        read: has(flags, 0) || !has(flags, 1),
        write,
        create,
        exclusive,
        truncate,
        directory,
        follow: follows(path_flags),
        status: StatusFlags {
            sync: has(flags, 2),
            dsync: has(flags, 3),
            rsync: has(flags, 4),
            ..StatusFlags::default()
        },
    };
    let all = crate::host::rights::FILE_RIGHTS | crate::host::rights::DIRECTORY_RIGHTS;
    let opened = with_path(call, v, handle, ptr, len, |dir, path| {
        dir.open_at(path, &options, all, all)
    })?;
    let created = match opened {
        Ok(desc) => Ok(call
            .new_object(v.descriptor(), Object::Descriptor(desc))
            .inspect_err(|_| desc.close())?),
        Err(err) => Err(err),
    };
    store(
        call,
        v,
        ret,
        4,
        created.map(|handle| move |at| call.store_u32(at, handle)),
    )
}

/// `[method]descriptor.readlink-at`.
fn readlink_at(
    call: &Call,
    v: Version,
    handle: i32,
    ptr: i32,
    len: i32,
    ret: i32,
) -> HostResult<()> {
    let mut target = [0u8; PATH_MAX];
    let read = with_path(call, v, handle, ptr, len, |dir, path| {
        dir.readlink_at(path, &mut target)
    })?;
    let checked = read.and_then(|n| {
        let target = target.get(..n).ok_or(Errno::NAMETOOLONG)?;
        core::str::from_utf8(target).map_err(|_| Errno::ILSEQ)?;
        Ok(target)
    });
    let lowered = match checked {
        Ok(target) => Ok(call.lower_string(target)?),
        Err(err) => Err(err),
    };
    store(
        call,
        v,
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

/// A path in a directory: (the directory's handle, the path's pointer and length).
type PathAt = (i32, i32, i32);

/// Runs `op` on two directories and two paths (`link-at`, `rename-at`) and stores its
/// `result<_, error-code>`.
fn two_paths(
    call: &Call,
    v: Version,
    (handle, old_ptr, old_len): PathAt,
    (new_handle, new_ptr, new_len): PathAt,
    ret: i32,
    op: impl FnOnce(Descriptor, &[u8], Descriptor, &[u8]) -> Result,
) -> HostResult<()> {
    let mut old_buf = [0u8; PATH_MAX];
    let mut new_buf = [0u8; PATH_MAX];
    let old_path = call.lift_string(old_ptr, old_len, &mut old_buf)?;
    let new_path = call.lift_string(new_ptr, new_len, &mut new_buf)?;
    let old_dir = dir(call, v, handle)?;
    let new_dir = dir(call, v, new_handle)?;
    let result = (|| op(old_dir?, old_path?, new_dir?, new_path?))();
    store_unit(call, v, ret, result)
}

/// `link-at`'s operation: `path_flags` must not ask to follow a final symlink (a hard
/// link to what a symlink points at is not something every platform can make beneath
/// a directory: refused, as wasmtime does).
fn link(path_flags: i32) -> impl FnOnce(Descriptor, &[u8], Descriptor, &[u8]) -> Result {
    move |old, old_path, new, new_path| {
        if follows(path_flags) {
            return Err(Errno::INVAL);
        }
        old.link_at(old_path, new, new_path)
    }
}

/// `rename-at`'s operation.
fn rename(old: Descriptor, old_path: &[u8], new: Descriptor, new_path: &[u8]) -> Result {
    old.rename_at(old_path, new, new_path)
}

/// `[method]descriptor.is-same-object`.
fn is_same_object(call: &Call, v: Version, handle: i32, other: i32) -> HostResult<u32> {
    let (_, a) = descriptor(call, v, handle)?;
    let (_, b) = descriptor(call, v, other)?;
    let same = match (Current::stat(a.handle), Current::stat(b.handle)) {
        (Ok(a), Ok(b)) => a.dev == b.dev && a.ino == b.ino,
        _ => false,
    };
    Ok(u32::from(same))
}

/// `preopens.get-directories`: `list<tuple<descriptor, string>>`.
fn get_directories(call: &Call, v: Version, ret: i32) -> HostResult<()> {
    let count = PREOPENED.with(|count| *count);
    let array = call.allocate(4, count.saturating_mul(12))?;
    for (i, (_, guest, _)) in grants::preopens().take(count as usize).enumerate() {
        let object = i as u32;
        objects::retain(object);
        let handle = call
            .new_own(v.descriptor(), u64::from(object))
            .inspect_err(|_| objects::release(object))?;
        let (ptr, len) = call.lower_string(guest)?;
        let at = array + 12 * i as u32;
        call.store_u32(at, handle)?;
        call.store_u32(at + 4, ptr)?;
        call.store_u32(at + 8, len)?;
    }
    call.store_u32(ret as u32, array)?;
    call.store_u32(ret as u32 + 4, count)
}

/// `filesystem-error-code: func(err: borrow<error>) -> option<error-code>`.
fn filesystem_error_code(call: &Call, error: i32, ret: i32) -> HostResult<()> {
    let errno = call.borrow(error as u32, resource::ERROR)?;
    call.store_u8(ret as u32, 1)?;
    call.store_u8(ret as u32 + 1, error_code(Errno(errno as u16)))
}

/// The host `Advice` of an `advice` case.
fn advice(advice: i32) -> HostResult<Advice> {
    Ok(match advice {
        0 => Advice::Normal,
        1 => Advice::Sequential,
        2 => Advice::Random,
        3 => Advice::WillNeed,
        4 => Advice::DontNeed,
        5 => Advice::NoReuse,
        _ => return Err(TrapKind::InvalidDiscriminant),
    })
}

/// `[method]descriptor.advise`.
fn advise(
    call: &Call,
    v: Version,
    fd: i32,
    offset: i64,
    len: i64,
    how: i32,
    ret: i32,
) -> HostResult<()> {
    let how = advice(how)?;
    let result =
        file(call, v, fd)?.and_then(|(_, desc)| desc.advise(offset as u64, len as u64, how));
    store_unit(call, v, ret, result)
}

/// `[method]descriptor.sync-data` (`data`) or `sync`.
fn sync(call: &Call, v: Version, fd: i32, data: bool, ret: i32) -> HostResult<()> {
    let (_, desc) = descriptor(call, v, fd)?;
    let result = if data { desc.datasync() } else { desc.sync() };
    store_unit(call, v, ret, result)
}

/// `[method]descriptor.set-size`.
fn set_size(call: &Call, v: Version, fd: i32, size: i64, ret: i32) -> HostResult<()> {
    let result = file(call, v, fd)?.and_then(|(_, desc)| desc.set_size(size as u64));
    store_unit(call, v, ret, result)
}

/// The flat parts of two `new-timestamp`s: (kind, seconds, nanoseconds) each.
type Timestamps = [(i32, i64, i32); 2];

/// `[method]descriptor.set-times`.
fn set_times(call: &Call, v: Version, fd: i32, times: Timestamps, ret: i32) -> HostResult<()> {
    let (_, desc) = descriptor(call, v, fd)?;
    let [(a_kind, a_s, a_ns), (m_kind, m_s, m_ns)] = times;
    let atime = new_timestamp(a_kind, a_s, a_ns)?;
    let mtime = new_timestamp(m_kind, m_s, m_ns)?;
    store_unit(call, v, ret, (|| desc.set_times(atime?, mtime?))())
}

/// A path operation with no result (`create-directory-at`, `remove-directory-at`,
/// `unlink-file-at`).
fn path_op(
    call: &Call,
    v: Version,
    (fd, ptr, len): (i32, i32, i32),
    ret: i32,
    op: impl FnOnce(Descriptor, &[u8]) -> Result,
) -> HostResult<()> {
    let result = with_path(call, v, fd, ptr, len, op)?;
    store_unit(call, v, ret, result)
}

/// Stores `stat` as `result<descriptor-stat, error-code>`, or (`hash`) as
/// `result<metadata-hash-value, error-code>`.
fn store_stat_or_hash(
    call: &Call,
    v: Version,
    ret: i32,
    stat: Result<FileStat>,
    hash: bool,
) -> HostResult<()> {
    if hash {
        return store_hash(call, v, ret, stat);
    }
    store(
        call,
        v,
        ret,
        8,
        stat.map(|stat| move |at| store_stat(call, v, at, &stat)),
    )
}

/// `[method]descriptor.stat`, or (`hash`) `metadata-hash`.
fn stat(call: &Call, v: Version, fd: i32, hash: bool, ret: i32) -> HostResult<()> {
    let (_, desc) = descriptor(call, v, fd)?;
    store_stat_or_hash(call, v, ret, desc.stat(), hash)
}

/// `[method]descriptor.stat-at`, or (`hash`) `metadata-hash-at`: (the directory's
/// handle, `path-flags`, the path's pointer and length).
fn stat_at(
    call: &Call,
    v: Version,
    (fd, path_flags, ptr, len): (i32, i32, i32, i32),
    hash: bool,
    ret: i32,
) -> HostResult<()> {
    let stat = with_path(call, v, fd, ptr, len, |dir, path| {
        dir.stat_at(path, follows(path_flags))
    })?;
    store_stat_or_hash(call, v, ret, stat, hash)
}

/// `[method]descriptor.set-times-at`.
fn set_times_at(
    call: &Call,
    v: Version,
    fd: i32,
    path_flags: i32,
    (ptr, len): (i32, i32),
    times: Timestamps,
    ret: i32,
) -> HostResult<()> {
    let [(a_kind, a_s, a_ns), (m_kind, m_s, m_ns)] = times;
    let atime = new_timestamp(a_kind, a_s, a_ns)?;
    let mtime = new_timestamp(m_kind, m_s, m_ns)?;
    let result = with_path(call, v, fd, ptr, len, |dir, path| {
        dir.set_times_at(path, follows(path_flags), atime?, mtime?)
    })?;
    store_unit(call, v, ret, result)
}

/// `[method]descriptor.symlink-at`.
fn symlink_at(
    call: &Call,
    v: Version,
    fd: i32,
    (old_ptr, old_len): (i32, i32),
    (new_ptr, new_len): (i32, i32),
    ret: i32,
) -> HostResult<()> {
    let mut target = [0u8; PATH_MAX];
    let target = call.lift_string(old_ptr, old_len, &mut target)?;
    let result = with_path(call, v, fd, new_ptr, new_len, |dir, path| {
        dir.symlink_at(target?, path)
    })?;
    store_unit(call, v, ret, result)
}

host_fns! {
    /// `wasi:filesystem/preopens.get-directories`.
    wafer_p2_filesystem_get_directories(ret: i32) => |call, ret| get_directories(call, P2, ret);
    /// `wasi:filesystem/types.filesystem-error-code`.
    wafer_p2_filesystem_error_code(error: i32, ret: i32) => filesystem_error_code;
    /// `[method]descriptor.read-via-stream`.
    wafer_p2_filesystem_read_via_stream(fd: i32, offset: i64, ret: i32) => |call, fd, offset: i64, ret| {
        via_stream(call, fd, |desc| Stream::File { desc, offset: offset as u64 }, false, ret)
    };
    /// `[method]descriptor.write-via-stream`.
    wafer_p2_filesystem_write_via_stream(fd: i32, offset: i64, ret: i32) => |call, fd, offset: i64, ret| {
        via_stream(call, fd, |desc| Stream::File { desc, offset: offset as u64 }, true, ret)
    };
    /// `[method]descriptor.append-via-stream`.
    wafer_p2_filesystem_append_via_stream(fd: i32, ret: i32) => |call, fd, ret| {
        via_stream(call, fd, |desc| Stream::Append { desc }, true, ret)
    };
    /// `[method]descriptor.advise`.
    wafer_p2_filesystem_advise(fd: i32, offset: i64, len: i64, how: i32, ret: i32) => |call, fd, offset, len, how, ret| {
        advise(call, P2, fd, offset, len, how, ret)
    };
    /// `[method]descriptor.sync-data`.
    wafer_p2_filesystem_sync_data(fd: i32, ret: i32) => |call, fd, ret| sync(call, P2, fd, true, ret);
    /// `[method]descriptor.sync`.
    wafer_p2_filesystem_sync(fd: i32, ret: i32) => |call, fd, ret| sync(call, P2, fd, false, ret);
    /// `[method]descriptor.get-flags`.
    wafer_p2_filesystem_get_flags(fd: i32, ret: i32) => |call, fd, ret| get_flags(call, P2, fd, ret);
    /// `[method]descriptor.get-type`.
    wafer_p2_filesystem_get_type(fd: i32, ret: i32) => |call, fd, ret| get_type(call, P2, fd, ret);
    /// `[method]descriptor.set-size`.
    wafer_p2_filesystem_set_size(fd: i32, size: i64, ret: i32) => |call, fd, size, ret| set_size(call, P2, fd, size, ret);
    /// `[method]descriptor.set-times`.
    wafer_p2_filesystem_set_times(fd: i32, a_kind: i32, a_s: i64, a_ns: i32, m_kind: i32, m_s: i64, m_ns: i32, ret: i32) => |call, fd, a_kind, a_s, a_ns, m_kind, m_s, m_ns, ret| {
        set_times(call, P2, fd, [(a_kind, a_s, a_ns), (m_kind, m_s, m_ns)], ret)
    };
    /// `[method]descriptor.read`.
    wafer_p2_filesystem_read(fd: i32, len: i64, offset: i64, ret: i32) => read;
    /// `[method]descriptor.write`.
    wafer_p2_filesystem_write(fd: i32, ptr: i32, len: i32, offset: i64, ret: i32) => write;
    /// `[method]descriptor.read-directory`.
    wafer_p2_filesystem_read_directory(fd: i32, ret: i32) => read_directory;
    /// `[method]directory-entry-stream.read-directory-entry`.
    wafer_p2_filesystem_read_directory_entry(stream: i32, ret: i32) => read_directory_entry;
    /// `[method]descriptor.create-directory-at`.
    wafer_p2_filesystem_create_directory_at(fd: i32, ptr: i32, len: i32, ret: i32) => |call, fd, ptr, len, ret| {
        path_op(call, P2, (fd, ptr, len), ret, |dir, path| dir.create_dir_at(path))
    };
    /// `[method]descriptor.remove-directory-at`.
    wafer_p2_filesystem_remove_directory_at(fd: i32, ptr: i32, len: i32, ret: i32) => |call, fd, ptr, len, ret| {
        path_op(call, P2, (fd, ptr, len), ret, |dir, path| dir.remove_dir_at(path))
    };
    /// `[method]descriptor.unlink-file-at`.
    wafer_p2_filesystem_unlink_file_at(fd: i32, ptr: i32, len: i32, ret: i32) => |call, fd, ptr, len, ret| {
        path_op(call, P2, (fd, ptr, len), ret, |dir, path| dir.unlink_file_at(path))
    };
    /// `[method]descriptor.stat`.
    wafer_p2_filesystem_stat(fd: i32, ret: i32) => |call, fd, ret| stat(call, P2, fd, false, ret);
    /// `[method]descriptor.stat-at`.
    wafer_p2_filesystem_stat_at(fd: i32, path_flags: i32, ptr: i32, len: i32, ret: i32) => |call, fd, path_flags, ptr, len, ret| {
        stat_at(call, P2, (fd, path_flags, ptr, len), false, ret)
    };
    /// `[method]descriptor.set-times-at`.
    wafer_p2_filesystem_set_times_at(fd: i32, path_flags: i32, ptr: i32, len: i32, a_kind: i32, a_s: i64, a_ns: i32, m_kind: i32, m_s: i64, m_ns: i32, ret: i32) => |call, fd, path_flags, ptr, len, a_kind, a_s, a_ns, m_kind, m_s, m_ns, ret| {
        set_times_at(call, P2, fd, path_flags, (ptr, len), [(a_kind, a_s, a_ns), (m_kind, m_s, m_ns)], ret)
    };
    /// `[method]descriptor.link-at`.
    wafer_p2_filesystem_link_at(fd: i32, path_flags: i32, old_ptr: i32, old_len: i32, new_fd: i32, new_ptr: i32, new_len: i32, ret: i32) => |call, fd, path_flags, old_ptr, old_len, new_fd, new_ptr, new_len, ret| {
        two_paths(call, P2, (fd, old_ptr, old_len), (new_fd, new_ptr, new_len), ret, link(path_flags))
    };
    /// `[method]descriptor.open-at`.
    wafer_p2_filesystem_open_at(fd: i32, path_flags: i32, ptr: i32, len: i32, open_flags: i32, flags: i32, ret: i32) => |call, fd, path_flags, ptr, len, open_flags, flags, ret| {
        open_at(call, P2, fd, path_flags, ptr, len, open_flags, flags, ret)
    };
    /// `[method]descriptor.readlink-at`.
    wafer_p2_filesystem_readlink_at(fd: i32, ptr: i32, len: i32, ret: i32) => |call, fd, ptr, len, ret| {
        readlink_at(call, P2, fd, ptr, len, ret)
    };
    /// `[method]descriptor.rename-at`.
    wafer_p2_filesystem_rename_at(fd: i32, old_ptr: i32, old_len: i32, new_fd: i32, new_ptr: i32, new_len: i32, ret: i32) => |call, fd, old_ptr, old_len, new_fd, new_ptr, new_len, ret| {
        two_paths(call, P2, (fd, old_ptr, old_len), (new_fd, new_ptr, new_len), ret, rename)
    };
    /// `[method]descriptor.symlink-at`.
    wafer_p2_filesystem_symlink_at(fd: i32, old_ptr: i32, old_len: i32, new_ptr: i32, new_len: i32, ret: i32) => |call, fd, old_ptr, old_len, new_ptr, new_len, ret| {
        symlink_at(call, P2, fd, (old_ptr, old_len), (new_ptr, new_len), ret)
    };
    /// `[method]descriptor.is-same-object`.
    wafer_p2_filesystem_is_same_object(fd: i32, other: i32) -> u32 => |call, fd, other| is_same_object(call, P2, fd, other);
    /// `[method]descriptor.metadata-hash`.
    wafer_p2_filesystem_metadata_hash(fd: i32, ret: i32) => |call, fd, ret| stat(call, P2, fd, true, ret);
    /// `[method]descriptor.metadata-hash-at`.
    wafer_p2_filesystem_metadata_hash_at(fd: i32, path_flags: i32, ptr: i32, len: i32, ret: i32) => |call, fd, path_flags, ptr, len, ret| {
        stat_at(call, P2, (fd, path_flags, ptr, len), true, ret)
    };
}
