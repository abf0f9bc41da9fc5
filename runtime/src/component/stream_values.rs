//! Stream and future elements that are not numbers, copied between two component
//! instances: each element lifted from the writer's memory (strings and lists read,
//! `own` handles and readable ends moved out of the writer's table, error contexts
//! shared) and lowered into the reader's (through the reader's `realloc`, handles added
//! to the reader's table), as `definitions.py`'s `ReadableBufferGuestImpl.read` and
//! `WritableBufferGuestImpl.write` do with `load` and `store`.
//!
//! The element types come from compiled code: a read or write of such a type first
//! hands the runtime the element type as its instance sees it (`wafer_rt_stream_elem_
//! type`, decoded once per instance and type). `streams.rs` does a copy's bookkeeping
//! under its state and leaves the elements' move here ([`defer`]); the copy built-in
//! then runs it ([`run_deferred`]) with no runtime state borrowed, since lowering calls
//! the reader's `realloc` (with the reader's `may_leave` cleared, as the spec's
//! `reallocate` does, so it cannot call built-ins).

use alloc::rc::Rc;
use alloc::string::ToString as _;
use alloc::vec::Vec;

use wafer_abi::component::{NO_INSTANCE, type_identity};
use wafer_abi::trap::TrapKind;
use wafer_canon::{
    AsyncKind, Cx, Handles, OpaqueKind, Options, PtrType, ResourceId, StringEncoding, Trap, TypeId,
    Types,
};

use super::memory::{OptionsContext, OptionsMemory};
use super::{Component, HOST_TRAP, error_context, host_resource, host_trap, streams};
use crate::global::Global;
use crate::p2::CanonContext;

/// An element type as one instance sees it.
struct ElemType {
    instance: u32,
    /// The stream or future type's identity.
    ty: u32,
    /// The decoded arena and the element type in it.
    types: Rc<(Types, TypeId)>,
    /// Added to the arena's resource ids: the component's resource indices.
    resource_base: u32,
}

static ELEM_TYPES: Global<Vec<ElemType>> = Global::new(Vec::new());

/// A move of elements between two buffers that `streams.rs` left to run.
#[derive(Debug, Clone, Copy)]
pub(super) struct Move {
    /// The stream or future type's identity.
    pub ty: u32,
    pub writer: u32,
    pub reader: u32,
    /// The writer's buffer: its canonical options' context and address.
    pub src: (*const CanonContext, u32),
    /// The reader's buffer.
    pub dst: (*const CanonContext, u32),
    /// The size of an element.
    pub size: u32,
    pub count: u32,
}

static DEFERRED: Global<Option<Move>> = Global::new(None);

/// Leaves `elements` to move once the copy's bookkeeping is done.
pub(super) fn defer(elements: Move) {
    DEFERRED.with(|deferred| *deferred = Some(elements));
}

/// The element type of stream or future type `ty` as `instance` sees it.
fn elem_type(instance: u32, ty: u32) -> Option<(Rc<(Types, TypeId)>, u32)> {
    ELEM_TYPES.with(|types| {
        types
            .iter()
            .find(|e| e.instance == instance && e.ty == ty)
            .map(|e| (e.types.clone(), e.resource_base))
    })
}

/// Records the element type of a read or write: see
/// `wafer_abi::symbols::STREAM_ELEM_TYPE`.
///
/// # Safety
/// `data` must point at `len` bytes of static data (the compiler's).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wafer_rt_stream_elem_type(
    instance: u32,
    ty: u32,
    data: *const u8,
    len: u32,
    resource_base: u32,
) {
    if elem_type(instance, ty).is_some() {
        return;
    }
    // SAFETY: the compiler passes its static encoding and its length.
    let bytes = unsafe { core::slice::from_raw_parts(data, len as usize) };
    // A type that does not decode is not recorded: a move of it then traps.
    let Ok((types, funcs)) = wafer_canon::encode::decode_types(bytes) else {
        return;
    };
    let Some(&elem) = funcs.first().and_then(|func| func.params.first()) else {
        return;
    };
    ELEM_TYPES.with(|elem_types| {
        elem_types.push(ElemType {
            instance,
            ty,
            types: Rc::new((types, elem)),
            resource_base,
        })
    });
}

/// Runs the move a copy left, if any (forgets it if the copy failed).
pub(super) fn run_deferred(component: Component, copied: bool) -> Result<(), TrapKind> {
    let Some(elements) = DEFERRED.with(Option::take) else {
        return Ok(());
    };
    if !copied {
        return Ok(());
    }
    move_elements(component, elements).map_err(host_trap)
}

/// The options a buffer's context gives lifting and lowering.
fn options(memory: &OptionsMemory) -> Options {
    Options {
        string_encoding: match memory.encoding() {
            wafer_abi::wasi_p2::STRING_UTF16 => StringEncoding::Utf16,
            wafer_abi::wasi_p2::STRING_LATIN1_UTF16 => StringEncoding::Latin1Utf16,
            _ => StringEncoding::Utf8,
        },
        ptr_type: PtrType::I32,
        is_async: false,
        callback: false,
    }
}

/// Lifts `count` elements from the writer's buffer, then lowers them into the reader's.
fn move_elements(component: Component, elements: Move) -> Result<(), Trap> {
    let unknown = || {
        HOST_TRAP.with(|slot| *slot = Some(TrapKind::UnsupportedBuiltin));
        Trap::Host
    };
    let (writer_types, writer_base) =
        elem_type(elements.writer, elements.ty).ok_or_else(unknown)?;
    let (reader_types, reader_base) =
        elem_type(elements.reader, elements.ty).ok_or_else(unknown)?;
    let step = u64::from(elements.size);
    // SAFETY: a buffer's context is the canonical options' context the compiler passed
    // to the copy (one layout, `wafer_abi::wasi_p2::CanonContext`, which both types are
    // checked against); static data.
    let mut source = unsafe { OptionsMemory::new(elements.src.0.cast::<OptionsContext>()) };
    let (types, elem) = (&writer_types.0, writer_types.1);
    let mut handles = ElementHandles {
        component,
        instance: elements.writer,
        resource_base: writer_base,
        types,
    };
    let mut cx = Cx {
        types,
        options: options(&source),
        memory: &mut source,
        handles: &mut handles,
    };
    let values = (0..u64::from(elements.count))
        .map(|i| wafer_canon::load(&mut cx, u64::from(elements.src.1) + i * step, elem))
        .collect::<Result<Vec<_>, Trap>>()?;
    // SAFETY: as for the source.
    let mut destination = unsafe { OptionsMemory::new(elements.dst.0.cast::<OptionsContext>()) };
    let (types, elem) = (&reader_types.0, reader_types.1);
    let mut handles = ElementHandles {
        component,
        instance: elements.reader,
        resource_base: reader_base,
        types,
    };
    let mut cx = Cx {
        types,
        options: options(&destination),
        memory: &mut destination,
        handles: &mut handles,
    };
    let flags = component.flags(elements.reader)?;
    // SAFETY: the flags global of the reader's instance, which compiled code reads only
    // while it runs: here only its `realloc` runs, which must see `may_leave` clear.
    let saved = unsafe { flags.read() };
    // SAFETY: as above.
    unsafe { flags.write(saved & !1) };
    let stored = values.iter().enumerate().try_for_each(|(i, value)| {
        wafer_canon::store(
            &mut cx,
            value,
            elem,
            u64::from(elements.dst.1) + i as u64 * step,
        )
    });
    // SAFETY: as above.
    unsafe { flags.write(saved) };
    stored
}

/// The handles of one side of a move: the writer's table for lifting, the reader's for
/// lowering.
struct ElementHandles<'a> {
    component: Component,
    instance: u32,
    resource_base: u32,
    types: &'a Types,
}

impl ElementHandles<'_> {
    /// The id resource `resource` of the element type has in handle tables: a
    /// component's resource index, or the WASI host's id for an imported one (as fused
    /// adapters' transfers do).
    fn table_resource(&self, resource: ResourceId) -> Result<ResourceId, Trap> {
        let index = resource
            .0
            .checked_add(self.resource_base)
            .ok_or(Trap::Host)?;
        let (implementer, host_type) = self.component.resource(index)?;
        Ok(match implementer == NO_INSTANCE {
            true => host_resource(host_type),
            false => ResourceId(index),
        })
    }
}

/// A trap `wafer_canon` cannot name, for `trap_kind` to find.
fn stream_trap(kind: TrapKind) -> Trap {
    HOST_TRAP.with(|slot| *slot = Some(kind));
    Trap::Host
}

impl Handles for ElementHandles<'_> {
    fn lift_own(&mut self, resource: ResourceId, index: u32) -> Result<u32, Trap> {
        let resource = self.table_resource(resource)?;
        self.component
            .with_table(self.instance, |table| table.lift_own(resource, index))?
    }
    fn lift_borrow(&mut self, _: ResourceId, _: u32) -> Result<u32, Trap> {
        // Validation keeps borrows out of stream and future element types.
        Err(Trap::Host)
    }
    fn lower_own(&mut self, resource: ResourceId, rep: u32) -> Result<u32, Trap> {
        let resource = self.table_resource(resource)?;
        self.component
            .with_table(self.instance, |table| table.lower_own(resource, rep))?
    }
    fn lower_borrow(&mut self, _: ResourceId, _: u32) -> Result<u32, Trap> {
        Err(Trap::Host)
    }
    fn lift_opaque(&mut self, kind: OpaqueKind, ty: TypeId, index: u32) -> Result<u32, Trap> {
        let (future, end) = match kind {
            OpaqueKind::Stream => (false, AsyncKind::StreamReadable),
            OpaqueKind::Future => (true, AsyncKind::FutureReadable),
            OpaqueKind::ErrorContext => {
                return error_context::lift(self.component, self.instance, index);
            }
        };
        // The spec's `lift_stream`/`lift_future`: the end's type first, then the checks
        // of `lift_async_value` as the end moves out.
        let id = self
            .component
            .with_table(self.instance, |table| table.async_id(end, index))??;
        let identity = type_identity(&self.types.display(ty).to_string());
        if streams::end_type(id).map_err(stream_trap)? != identity {
            return Err(Trap::HandleWrongType(index));
        }
        streams::lift_to_host(self.component, self.instance, future, index).map_err(stream_trap)
    }
    fn lower_opaque(&mut self, kind: OpaqueKind, _: TypeId, value: u32) -> Result<u32, Trap> {
        match kind {
            OpaqueKind::Stream => streams::lower_end(self.component, self.instance, false, value),
            OpaqueKind::Future => streams::lower_end(self.component, self.instance, true, value),
            OpaqueKind::ErrorContext => {
                return error_context::lower(self.component, self.instance, value);
            }
        }
        .map_err(stream_trap)
    }
}
