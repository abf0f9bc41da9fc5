//! Error contexts (`error-context`): `error-context.new`, `.debug-message` and `.drop`,
//! and error contexts passed between component instances.
//!
//! As `definitions.py` has it, an error context is an object with a debug message, and
//! every component instance that holds it has a handle of its own in its one handle
//! table (`Entry::Opaque` of kind `ErrorContext`, whose value is the object's id here).
//! Lifting an error context leaves the handle where it is, and lowering one adds a new
//! handle, so passing it to another instance (a fused adapter's `error-context-transfer`,
//! or a stream or future element) shares the object. The spec's objects live as long as
//! something refers to them; here each object counts its handles (and the references
//! the host holds), and `error-context.drop` of its last handle frees it.
//!
//! The debug message is the one `error-context.new` lifted (the spec lets the host
//! replace it, or give the empty string; wafer keeps it, as wasmtime does): it is
//! stored in the reader's encoding with the spec's transcoding from its origin.

use alloc::vec::Vec;

use wafer_abi::component::{BuiltinResult, error_context_op};
use wafer_canon::{
    Cx, Memory as _, NoHandles, OpaqueKind, Options, PtrType, Str, StringEncoding, Trap, TypeId,
    Types,
};

use super::memory::{OptionsContext, OptionsMemory};
use super::{Component, Descriptor, host_trap};
use crate::global::Global;
use crate::p2::CanonContext;

/// An error context: its debug message and how many handles (and host references)
/// refer to it.
struct ErrorContext {
    message: Str,
    refs: u32,
}

/// Every live error context of the image, by id (an index here).
struct ErrorContexts {
    objects: Vec<Option<ErrorContext>>,
    free: Vec<u32>,
}

static ERROR_CONTEXTS: Global<ErrorContexts> = Global::new(ErrorContexts {
    objects: Vec::new(),
    free: Vec::new(),
});

impl ErrorContexts {
    /// A new error context with one reference; its id.
    fn add(&mut self, message: Str) -> u32 {
        let object = Some(ErrorContext { message, refs: 1 });
        match self.free.pop() {
            Some(id) => {
                self.objects[id as usize] = object;
                id
            }
            None => {
                self.objects.push(object);
                (self.objects.len() - 1) as u32
            }
        }
    }

    fn get(&mut self, id: u32) -> Result<&mut ErrorContext, Trap> {
        self.objects
            .get_mut(id as usize)
            .and_then(Option::as_mut)
            .ok_or(Trap::Host)
    }

    /// One reference more to `id`.
    fn retain(&mut self, id: u32) -> Result<(), Trap> {
        let object = self.get(id)?;
        object.refs = object.refs.checked_add(1).ok_or(Trap::Host)?;
        Ok(())
    }

    /// One reference less to `id`: the last one frees it.
    fn release(&mut self, id: u32) {
        let Ok(object) = self.get(id) else {
            return;
        };
        object.refs -= 1;
        if object.refs == 0 {
            self.objects[id as usize] = None;
            self.free.push(id);
        }
    }
}

/// Adds a handle for error context `id` to instance `instance`'s table.
pub(super) fn lower(component: Component, instance: u32, id: u32) -> Result<u32, Trap> {
    ERROR_CONTEXTS.with(|contexts| contexts.retain(id))?;
    add_handle(component, instance, id)
}

/// Adds a handle for error context `id`, whose count already includes it, to
/// `instance`'s table; if the table refuses, the count goes back down.
fn add_handle(component: Component, instance: u32, id: u32) -> Result<u32, Trap> {
    let added = component
        .with_table(instance, |table| {
            table.lower_opaque(OpaqueKind::ErrorContext, TypeId::ERROR_CONTEXT, id)
        })
        .and_then(|r| r);
    if added.is_err() {
        ERROR_CONTEXTS.with(|contexts| contexts.release(id));
    }
    added
}

/// The error context handle `index` of instance `instance` stands for (it stays).
pub(super) fn lift(component: Component, instance: u32, index: u32) -> Result<u32, Trap> {
    component
        .with_table(instance, |table| {
            table.lift_opaque(OpaqueKind::ErrorContext, TypeId::ERROR_CONTEXT, index)
        })
        .and_then(|r| r)
}

/// The host takes a reference to the error context of handle `index` (a harness
/// call's result); its id, which the host never gives back.
pub(super) fn lift_to_host(component: Component, instance: u32, index: u32) -> Result<u32, Trap> {
    let id = lift(component, instance, index)?;
    ERROR_CONTEXTS.with(|contexts| contexts.retain(id))?;
    Ok(id)
}

/// A handle in instance `instance` for the error context the host holds as `id`.
pub(super) fn lower_from_host(component: Component, instance: u32, id: u32) -> Result<u32, Trap> {
    lower(component, instance, id)
}

/// A fused adapter's `error-context-transfer`: the error context of handle `index` in
/// `from`, as a new handle in `to`.
fn transfer(component: Component, from: u32, to: u32, index: u32) -> Result<u32, Trap> {
    let id = lift(component, from, index)?;
    lower(component, to, id)
}

/// The lifting and lowering context of a set of canonical options, for a string.
fn string_cx<'a>(
    types: &'a Types,
    memory: &'a mut OptionsMemory,
    handles: &'a mut NoHandles,
) -> Cx<'a> {
    let string_encoding = match memory.encoding() {
        wafer_abi::wasi_p2::STRING_UTF16 => StringEncoding::Utf16,
        wafer_abi::wasi_p2::STRING_LATIN1_UTF16 => StringEncoding::Latin1Utf16,
        _ => StringEncoding::Utf8,
    };
    Cx {
        types,
        options: Options {
            string_encoding,
            ptr_type: PtrType::I32,
            is_async: false,
            callback: false,
        },
        memory,
        handles,
    }
}

/// `error-context.new`: lifts the message at `ptr` (`units` code units, tagged for
/// `latin1+utf16`) from the options' memory; a new handle in `instance`'s table.
fn new(
    component: Component,
    memory: &mut OptionsMemory,
    instance: u32,
    ptr: u32,
    units: u32,
) -> Result<u32, Trap> {
    let types = Types::new();
    let mut handles = NoHandles;
    let mut cx = string_cx(&types, memory, &mut handles);
    let message =
        wafer_canon::string::load_string_from_range(&mut cx, u64::from(ptr), u64::from(units))?;
    let id = ERROR_CONTEXTS.with(|contexts| contexts.add(message));
    add_handle(component, instance, id)
}

/// `error-context.debug-message`: stores the message of handle `index` at `ptr` (a
/// pointer and a length), in memory the options' `realloc` gives.
fn debug_message(
    component: Component,
    memory: &mut OptionsMemory,
    instance: u32,
    index: u32,
    ptr: u32,
) -> Result<u32, Trap> {
    let id = lift(component, instance, index)?;
    // A copy: `realloc` is guest code, which may reach the error contexts meanwhile.
    let message =
        ERROR_CONTEXTS.with(|contexts| contexts.get(id).map(|object| object.message.clone()))?;
    let types = Types::new();
    let mut handles = NoHandles;
    let mut cx = string_cx(&types, memory, &mut handles);
    // The spec's `store_string`: the string through `realloc`, then its pointer and
    // length at `ptr`, which is not checked for alignment (wasmtime neither).
    let (begin, units) = wafer_canon::string::store_string_into_range(&mut cx, &message)?;
    let mut pair = [0u8; 8];
    pair[..4].copy_from_slice(&(begin as u32).to_le_bytes());
    pair[4..].copy_from_slice(&(units as u32).to_le_bytes());
    memory.write(u64::from(ptr), &pair)?;
    Ok(0)
}

/// `error-context.drop`: removes handle `index`, which must be an error context.
fn drop_handle(component: Component, instance: u32, index: u32) -> Result<u32, Trap> {
    let id = component
        .with_table(instance, |table| {
            table.remove_opaque(OpaqueKind::ErrorContext, TypeId::ERROR_CONTEXT, index)
        })
        .and_then(|r| r)?;
    ERROR_CONTEXTS.with(|contexts| contexts.release(id));
    Ok(0)
}

/// The error-context built-ins: see `wafer_abi::symbols::ERROR_CONTEXT_BUILTIN`.
///
/// # Safety
/// `descriptor` must be the image's component descriptor, and `context` null or a
/// canonical-options context the compiler emitted (not null for `new` and
/// `debug-message`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wafer_rt_error_context(
    descriptor: *const Descriptor,
    context: *const CanonContext,
    op: u32,
    instance: u32,
    a: u32,
    b: u32,
    _c: u32,
) -> u64 {
    // SAFETY: forwarded from the caller.
    let component = unsafe { Component::new(descriptor) };
    // SAFETY: a canonical-options context is one layout (`wafer_abi::wasi_p2::
    // CanonContext`), which both types are checked against; the compiler passes one to
    // the operations that use it.
    let memory = || unsafe { OptionsMemory::new(context.cast::<OptionsContext>()) };
    let result = match op {
        error_context_op::NEW if !context.is_null() => {
            new(component, &mut memory(), instance, a, b)
        }
        error_context_op::DEBUG_MESSAGE if !context.is_null() => {
            debug_message(component, &mut memory(), instance, a, b)
        }
        error_context_op::DROP => drop_handle(component, instance, a),
        error_context_op::TRANSFER => transfer(component, instance, b, a),
        _ => Err(Trap::Host),
    };
    match result {
        Ok(value) => BuiltinResult::value(value).encode(),
        Err(trap) => BuiltinResult::trap(host_trap(trap)).encode(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wafer_canon::StrOrigin;

    fn message(text: &str) -> Str {
        Str::with_origin(text.into(), StrOrigin::Utf8(text.len() as u64)).unwrap()
    }

    #[test]
    fn an_error_context_lives_until_its_last_reference_is_released() {
        let mut contexts = ErrorContexts {
            objects: Vec::new(),
            free: Vec::new(),
        };
        let a = contexts.add(message("a"));
        let b = contexts.add(message("b"));
        // A second handle (another instance's, say) for `a`.
        contexts.retain(a).unwrap();
        contexts.release(a);
        assert_eq!(
            contexts.get(a).map(|o| o.message.as_str().to_string()),
            Ok("a".into())
        );
        contexts.release(a);
        assert!(contexts.get(a).is_err());
        assert_eq!(contexts.retain(a), Err(Trap::Host));
        // Its id is reused, and `b` is untouched.
        let c = contexts.add(message("c"));
        assert_eq!(c, a);
        assert_eq!(contexts.get(b).map(|o| o.refs), Ok(1));
    }
}
