//! WASI 0.2 host functions for components: `wasi:cli` and `wasi:io`, as far as programs
//! that print, read stdin, arguments and environment, and exit need them, and
//! `wasi:clocks` and `wasi:random`.
//!
//! Every function is exported under the version-free symbol `wafer_abi::wasi_p2` names
//! (prefix `wafer_abi::symbols::WASI_P2_PREFIX`)
//! and is called by a compiled trampoline with the import's canonical-ABI context
//! ([`CanonContext`]) first, then the flat core arguments. The canonical ABI's lowering
//! (lists and strings allocated with the caller's `realloc`, results stored through a
//! return pointer) is written out by hand per function here. A function that must trap
//! records the trap kind in the context and returns; the trampoline raises it.
//!
//! Resources the host hands out are own handles in the calling component instance's one
//! handle table (`crate::component`: the same table, and the same indices, as the
//! resources components define), under the ids [`crate::component::host_resource`]
//! gives the host's resource types. An error's representation is its errno and a
//! terminal's its descriptor number; every other host resource is a host object
//! (`objects`: a descriptor, a stream, a pollable, a socket), shared by the image's
//! component instances and released when its last handle or dependant goes.

mod cli;
mod clocks;
mod filesystem;
mod io;
mod objects;
mod sockets;
mod transcode;

use wafer_abi::trap::TrapKind;
use wafer_abi::wasi_p2;
use wafer_canon::HandleTable;

pub(crate) use filesystem::{Copied, object_copy, object_release};
pub(crate) use sockets::p3 as sockets_p3;
pub(crate) use sockets::p3::{SocketEnd, socket_copy, socket_release};

use crate::component::{StateWord, host_resource, host_trap, with_instance_state};
use crate::guest::GuestMemory;
use crate::memory::VMMemoryDefinition;

/// The memory of the canonical options whose context is `context`, as it is now.
///
/// # Safety
/// `context` must be a context the compiler emitted.
pub unsafe fn context_memory(context: *const CanonContext) -> GuestMemory {
    // SAFETY: the context's memory pointer is null or a live definition.
    unsafe { GuestMemory::from_definition((*context).memory) }
}

/// The state word of the component instance whose context is `context`.
///
/// # Safety
/// As [`context_memory`].
pub unsafe fn context_instance(context: *const CanonContext) -> StateWord {
    // SAFETY: the compiler fills the field with the instance's state word.
    unsafe { (*context).instance }
}

/// Records `kind` as the trap the compiled caller of a host function raises.
///
/// # Safety
/// As [`context_memory`].
pub unsafe fn set_context_trap(context: *mut CanonContext, kind: TrapKind) {
    // SAFETY: the trap field is the host's to set before it returns.
    unsafe { (*context).trap = kind as u32 };
}

/// `wafer_abi::wasi_p2::CanonContext`, as the compiler lays it out.
#[repr(C)]
#[derive(Debug)]
pub struct CanonContext {
    memory: *const VMMemoryDefinition,
    realloc: Option<unsafe extern "C" fn(u32, u32, u32, u32) -> u32>,
    instance: StateWord,
    trap: u32,
    encoding: u32,
}

const _: () = {
    let layout = wasi_p2::CanonContext::new(core::mem::size_of::<usize>() as u8);
    assert!(core::mem::offset_of!(CanonContext, memory) == layout.memory() as usize);
    assert!(core::mem::offset_of!(CanonContext, realloc) == layout.realloc() as usize);
    assert!(core::mem::offset_of!(CanonContext, instance) == layout.instance() as usize);
    assert!(core::mem::offset_of!(CanonContext, trap) == layout.trap() as usize);
    assert!(core::mem::offset_of!(CanonContext, encoding) == layout.encoding() as usize);
    assert!(core::mem::size_of::<CanonContext>() == layout.size() as usize);
};

/// A host call's view of its context.
pub struct Call {
    context: *mut CanonContext,
}

/// What a host function returns when it does not finish: the trap to raise.
pub type HostResult<T> = Result<T, TrapKind>;

impl Call {
    /// # Safety
    /// `context` must be a context the compiler emitted, passed by its trampoline.
    pub(crate) unsafe fn new(context: *mut CanonContext) -> Call {
        Call { context }
    }

    /// Runs `body`; a trap is recorded for the trampoline, which raises it, and the
    /// function returns `T::default()` meanwhile.
    pub(crate) fn run<T: Default>(self, body: impl FnOnce(&Call) -> HostResult<T>) -> T {
        match body(&self) {
            Ok(value) => value,
            Err(kind) => {
                // SAFETY: the context is valid (see `new`) and only the runtime writes
                // its trap field.
                unsafe { (*self.context).trap = kind as u32 };
                T::default()
            }
        }
    }

    /// The canonical-ABI context of the call.
    pub(crate) fn context(&self) -> *mut CanonContext {
        self.context
    }

    /// The calling component instance's state word.
    pub(crate) fn instance(&self) -> StateWord {
        // SAFETY: the context is valid (see `new`).
        unsafe { (*self.context).instance }
    }

    /// The caller's memory as it is now (a `realloc` may grow it: ask again after one).
    pub(crate) fn memory(&self) -> GuestMemory {
        // SAFETY: the context's memory pointer is null or a live definition.
        unsafe { GuestMemory::from_definition((*self.context).memory) }
    }

    /// Runs `f` on the calling component instance's handle table; a canonical-ABI trap
    /// becomes the host call's.
    pub(crate) fn with_handles<T>(
        &self,
        f: impl FnOnce(&mut HandleTable) -> Result<T, wafer_canon::Trap>,
    ) -> HostResult<T> {
        // SAFETY: the context's state word is its component instance's; `f` calls no
        // guest code.
        unsafe { with_instance_state((*self.context).instance, |state| f(state.table())) }
            .map_err(host_trap)
    }

    /// A new own handle of host resource type `ty`.
    pub(crate) fn new_own(&self, ty: u32, rep: u64) -> HostResult<u32> {
        // Every representation the host hands out fits 32 bits (an object index, an
        // errno, a descriptor number).
        self.with_handles(|table| table.lower_own(host_resource(ty), rep as u32))
    }

    /// The representation of `handle` (own or borrow), which must hold a resource of
    /// type `ty` (the call borrows it).
    pub(crate) fn borrow(&self, handle: u32, ty: u32) -> HostResult<u64> {
        self.with_handles(|table| table.resource_rep(host_resource(ty), handle))
            .map(u64::from)
    }

    /// A new own handle of host resource type `ty` for a new host object.
    fn new_object(&self, ty: u32, object: objects::Object) -> HostResult<u32> {
        let index = objects::insert(object)?;
        self.new_own(ty, u64::from(index))
            .inspect_err(|_| objects::release(index))
    }

    /// The host object behind `handle` (of type `ty`), with its index.
    fn object(&self, handle: u32, ty: u32) -> HostResult<(u32, objects::Object)> {
        let index = self.borrow(handle, ty)? as u32;
        match objects::get(index) {
            Some(objects::Object::Free { .. }) | None => Err(TrapKind::InvalidHandle),
            Some(object) => Ok((index, object)),
        }
    }

    /// Allocates `size` bytes aligned to `align` in the caller's memory with its
    /// `realloc`, checking what it returns.
    pub(crate) fn allocate(&self, align: u32, size: u32) -> HostResult<u32> {
        // SAFETY: the context is valid.
        let Some(realloc) = (unsafe { (*self.context).realloc }) else {
            // Validation requires a realloc wherever a lowering allocates.
            return Err(TrapKind::MemoryOutOfBounds);
        };
        // SAFETY: the compiler generated `realloc` as a C-convention wrapper of the
        // instance's `cabi_realloc`; calling guest code from a host call is what the
        // canonical ABI does when it lowers a list.
        let ptr = unsafe { realloc(0, 0, align, size) };
        if !ptr.is_multiple_of(align) {
            return Err(TrapKind::UnalignedPointer);
        }
        self.memory()
            .range(ptr, size)
            .map_err(|_| TrapKind::MemoryOutOfBounds)?;
        Ok(ptr)
    }

    /// Writes `bytes` at `at`, which must be aligned to `align` (a return area).
    pub(crate) fn store(&self, at: u32, align: u32, bytes: &[u8]) -> HostResult<()> {
        if !at.is_multiple_of(align) {
            return Err(TrapKind::UnalignedPointer);
        }
        self.memory()
            .write(at, bytes)
            .map_err(|_| TrapKind::MemoryOutOfBounds)
    }

    /// Stores a `u8` discriminant at `at`.
    pub(crate) fn store_u8(&self, at: u32, value: u8) -> HostResult<()> {
        self.store(at, 1, &[value])
    }

    /// Stores a `u32` at `at`.
    pub(crate) fn store_u32(&self, at: u32, value: u32) -> HostResult<()> {
        self.store(at, 4, &value.to_le_bytes())
    }

    /// Stores a `u64` at `at`.
    pub(crate) fn store_u64(&self, at: u32, value: u64) -> HostResult<()> {
        self.store(at, 8, &value.to_le_bytes())
    }

    /// Lowers host text `bytes` as a `string` in the options' encoding (invalid UTF-8
    /// becomes U+FFFD): allocates, copies, and returns (pointer, length), the length in
    /// code units (latin1+utf16 tags UTF-16 with the top bit).
    pub(crate) fn lower_string(&self, bytes: &[u8]) -> HostResult<(u32, u32)> {
        // SAFETY: the context is valid.
        let encoding = unsafe { (*self.context).encoding };
        let too_long = |_| TrapKind::StringOutOfBounds;
        if encoding == wasi_p2::STRING_UTF8 {
            let len: usize = lossy_chars(bytes).map(char::len_utf8).sum();
            let len = u32::try_from(len).map_err(too_long)?;
            let ptr = self.allocate(1, len)?;
            let memory = self.memory();
            let mut at = ptr;
            for c in lossy_chars(bytes) {
                let mut buf = [0u8; 4];
                let encoded = c.encode_utf8(&mut buf).as_bytes();
                memory
                    .write(at, encoded)
                    .map_err(|_| TrapKind::StringOutOfBounds)?;
                at += encoded.len() as u32;
            }
            return Ok((ptr, len));
        }
        let latin1 = encoding == wasi_p2::STRING_LATIN1_UTF16
            && lossy_chars(bytes).all(|c| u32::from(c) <= 0xff);
        let (units, width): (usize, u32) = if latin1 {
            (lossy_chars(bytes).count(), 1)
        } else {
            (lossy_chars(bytes).map(char::len_utf16).sum(), 2)
        };
        let units = u32::try_from(units)
            .ok()
            .filter(|units| *units < 1 << 30)
            .ok_or(TrapKind::StringOutOfBounds)?;
        let ptr = self.allocate(2, units * width)?;
        let memory = self.memory();
        let mut at = ptr;
        let fault = |_| TrapKind::StringOutOfBounds;
        for c in lossy_chars(bytes) {
            if latin1 {
                memory.write(at, &[u32::from(c) as u8]).map_err(fault)?;
                at += 1;
            } else {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf).iter() {
                    memory.write(at, &unit.to_le_bytes()).map_err(fault)?;
                    at += 2;
                }
            }
        }
        let tag = if encoding == wasi_p2::STRING_LATIN1_UTF16 && !latin1 {
            1 << 31
        } else {
            0
        };
        Ok((ptr, units | tag))
    }

    /// Lifts a `string` argument at (`ptr`, `len` code units) in the options' encoding
    /// into `buf` as UTF-8. Out-of-bounds or badly encoded strings trap, as the canonical
    /// ABI's lifting does; a string longer than `buf` is `ENAMETOOLONG` (the host's paths
    /// have a limit, so does every argument string it takes).
    pub(crate) fn lift_string<'b>(
        &self,
        ptr: i32,
        len: i32,
        buf: &'b mut [u8],
    ) -> HostResult<crate::errno::Result<&'b [u8]>> {
        // SAFETY: the context is valid.
        let encoding = unsafe { (*self.context).encoding };
        let (ptr, len) = (ptr as u32, len as u32);
        let memory = self.memory();
        let (utf16, units) = match encoding {
            wasi_p2::STRING_UTF16 => (true, len),
            wasi_p2::STRING_LATIN1_UTF16 => (len & 1 << 31 != 0, len & !(1 << 31)),
            _ => {
                let base = memory
                    .range(ptr, len)
                    .map_err(|_| TrapKind::StringOutOfBounds)?;
                // SAFETY: `range` checked the bytes, which stay valid during the call.
                let bytes = unsafe { core::slice::from_raw_parts(base, len as usize) };
                if core::str::from_utf8(bytes).is_err() {
                    return Err(TrapKind::InvalidUtf8);
                }
                let Some(out) = buf.get_mut(..bytes.len()) else {
                    return Ok(Err(crate::errno::Errno::NAMETOOLONG));
                };
                out.copy_from_slice(bytes);
                return Ok(Ok(out));
            }
        };
        let width = if utf16 { 2 } else { 1 };
        if utf16 && !ptr.is_multiple_of(2) {
            return Err(TrapKind::UnalignedPointer);
        }
        let bytes = units
            .checked_mul(width)
            .ok_or(TrapKind::StringOutOfBounds)?;
        let base = memory
            .range(ptr, bytes)
            .map_err(|_| TrapKind::StringOutOfBounds)?;
        // SAFETY: as above.
        let source = unsafe { core::slice::from_raw_parts(base, bytes as usize) };
        let mut written = 0usize;
        let mut too_long = false;
        let mut push = |c: char| {
            let mut utf8 = [0u8; 4];
            let encoded = c.encode_utf8(&mut utf8).as_bytes();
            match buf.get_mut(written..written + encoded.len()) {
                Some(out) => {
                    out.copy_from_slice(encoded);
                    written += encoded.len();
                }
                None => too_long = true,
            }
        };
        if utf16 {
            let units = source
                .chunks_exact(2)
                .map(|pair| u16::from_le_bytes([pair[0], pair[1]]));
            for c in char::decode_utf16(units) {
                push(c.map_err(|_| TrapKind::InvalidUtf16)?);
            }
        } else {
            source.iter().for_each(|&b| push(char::from(b)));
        }
        if too_long {
            return Ok(Err(crate::errno::Errno::NAMETOOLONG));
        }
        Ok(Ok(buf.get(..written).unwrap_or_default()))
    }

    /// Lowers `bytes` as a `list<u8>`, unchanged.
    pub(crate) fn lower_bytes(&self, bytes: &[u8]) -> HostResult<(u32, u32)> {
        let len = u32::try_from(bytes.len()).map_err(|_| TrapKind::ListOutOfBounds)?;
        let ptr = self.allocate(1, len)?;
        self.memory()
            .write(ptr, bytes)
            .map_err(|_| TrapKind::ListOutOfBounds)?;
        Ok((ptr, len))
    }
}

/// The parameters an `async` lower passes through a pointer (more than 4 flat values):
/// a tuple of `size` bytes aligned to `align`, checked as lifting it checks.
pub(crate) struct Params<'c> {
    call: &'c Call,
    at: u32,
}

impl<'c> Params<'c> {
    pub(crate) fn new(call: &'c Call, at: i32, size: u32, align: u32) -> HostResult<Params<'c>> {
        let at = at as u32;
        if !at.is_multiple_of(align) {
            return Err(TrapKind::UnalignedPointer);
        }
        call.memory()
            .range(at, size)
            .map_err(|_| TrapKind::MemoryOutOfBounds)?;
        Ok(Params { call, at })
    }

    pub(crate) fn bytes<const N: usize>(&self, offset: u32) -> HostResult<[u8; N]> {
        self.call
            .memory()
            .read::<N>(self.at + offset)
            .map_err(|_| TrapKind::MemoryOutOfBounds)
    }

    /// A `u8`-sized value (flags), as its flat `i32`.
    pub(crate) fn u8(&self, offset: u32) -> HostResult<i32> {
        Ok(i32::from(self.bytes::<1>(offset)?[0]))
    }

    /// An `i32`-sized value (a handle, a pointer, a length).
    pub(crate) fn i32(&self, offset: u32) -> HostResult<i32> {
        Ok(i32::from_le_bytes(self.bytes(offset)?))
    }

    /// A string's (pointer, length).
    pub(crate) fn string(&self, offset: u32) -> HostResult<(i32, i32)> {
        Ok((self.i32(offset)?, self.i32(offset + 4)?))
    }

    /// A `new-timestamp` (24 bytes: the case, then an `instant` at 8) as its flat
    /// parts.
    pub(crate) fn timestamp(&self, offset: u32) -> HostResult<(i32, i64, i32)> {
        Ok((
            self.u8(offset)?,
            i64::from_le_bytes(self.bytes(offset + 8)?),
            self.i32(offset + 16)?,
        ))
    }
}

/// The characters of host text `bytes`, each invalid UTF-8 sequence one U+FFFD.
fn lossy_chars(bytes: &[u8]) -> impl Iterator<Item = char> + '_ {
    bytes.utf8_chunks().flat_map(|chunk| {
        let replacement = (!chunk.invalid().is_empty()).then_some(char::REPLACEMENT_CHARACTER);
        chunk.valid().chars().chain(replacement)
    })
}

/// `resource.drop`: see `wafer_abi::symbols::RESOURCE_DROP`.
///
/// # Safety
/// `context` must be the component instance's context, passed by its trampoline.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wafer_p2_resource_drop(
    context: *mut CanonContext,
    ty: u32,
    handle: u32,
) -> u64 {
    // SAFETY: the trampoline passes its instance's context.
    let call = unsafe { Call::new(context) };
    call.run(|call| {
        let dropped = call.with_handles(|table| table.resource_drop(host_resource(ty), handle))?;
        if let wafer_canon::Dropped::Own { rep } = dropped {
            if wasi_p2::is_http_resource(ty) {
                crate::http::release(rep);
            } else if is_object(ty) {
                objects::release(rep);
            }
        }
        Ok(0)
    })
}

/// Whether host resource type `ty` is a host object (else its representation is all
/// its state: an errno, a terminal's descriptor, the one network).
fn is_object(ty: u32) -> bool {
    use wafer_abi::wasi_p2::resource;
    !matches!(
        ty,
        resource::ERROR | resource::TERMINAL_INPUT | resource::TERMINAL_OUTPUT | resource::NETWORK
    )
}

/// `resource.new`: see `wafer_abi::symbols::RESOURCE_NEW`.
///
/// # Safety
/// As [`wafer_p2_resource_drop`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wafer_p2_resource_new(
    context: *mut CanonContext,
    ty: u32,
    rep: u32,
) -> u32 {
    // SAFETY: the trampoline passes its instance's context.
    let call = unsafe { Call::new(context) };
    call.run(|call| call.new_own(ty, u64::from(rep)))
}

/// `resource.rep`: see `wafer_abi::symbols::RESOURCE_REP`.
///
/// # Safety
/// As [`wafer_p2_resource_drop`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wafer_p2_resource_rep(
    context: *mut CanonContext,
    ty: u32,
    handle: u32,
) -> u32 {
    // SAFETY: the trampoline passes its instance's context.
    let call = unsafe { Call::new(context) };
    call.run(|call| Ok(call.borrow(handle, ty)? as u32))
}

/// Defines `extern "C"` host functions that run their body on a [`Call`]:
/// `name(args) -> result => body;`.
macro_rules! host_fns {
    ($( $(#[$doc:meta])* $name:ident ( $($arg:ident : $ty:ty),* ) $(-> $ret:ty)? => $body:expr; )*) => {
        $(
            $(#[$doc])*
            ///
            /// # Safety
            /// `context` must be the import's canonical-ABI context, passed by its
            /// trampoline.
            #[unsafe(no_mangle)]
            pub unsafe extern "C" fn $name(context: *mut $crate::p2::CanonContext, $($arg: $ty),*) $(-> $ret)? {
                // SAFETY: the trampoline passes the import's context.
                let call = unsafe { $crate::p2::Call::new(context) };
                call.run(|call| $body(call, $($arg),*))
            }
        )*
    };
}
pub(crate) use host_fns;
