//! The component harness: instantiating a harness image's components and calling their
//! exports with component values (commands `n` and `x` of `wafer_abi::harness`).
//!
//! A call does what `canon lift` does on the host's behalf: decode the arguments (the
//! value encoding of `wafer_canon::encode`, of the export's parameter types, which the
//! image carries), lower them into the callee (its `realloc` may not call out meanwhile),
//! call the lifted core function through its trampoline, lift the results, call
//! `post-return` (during which the callee may not leave), and send the results back
//! encoded. Traps, in compiled code or in lifting and lowering, end the call and leave
//! the component's instances poisoned: a later call into them traps with "cannot enter
//! component instance".

use alloc::vec::Vec;

use wafer_abi::harness::VALUE_SLOT_SIZE;
use wafer_abi::harness::component::{COMPONENT_FIELDS, EXPORT_FIELDS, NO_FUNC_TYPE};
use wafer_abi::trap::TrapKind;
use wafer_canon::layout::{CoreType, FuncContext};
use wafer_canon::{
    Cx, FlatReader, FlatVal, FuncType, MAX_FLAT_PARAMS, MAX_FLAT_RESULTS, Options, PtrType,
    StringEncoding, Trap, Types, Val, flatten_functype, lift_flat_values, lower_flat_values,
};

use super::memory::{OptionsContext, OptionsMemory};
use super::{Component, Descriptor};
use crate::out::Line;
use crate::sys::{Current, Platform};

#[cfg(feature = "image")]
unsafe extern "C" {
    static wafer_component_harness: [usize; 2];
}

/// A record of the component harness table: `N` pointer-sized fields.
#[derive(Clone, Copy)]
struct Record<const N: usize>(*const [usize; N]);

impl<const N: usize> Record<N> {
    fn field(&self, index: usize) -> usize {
        // SAFETY: records point into the compiler-generated table, which is static and
        // has N fields per record.
        unsafe { (*self.0).get(index).copied().unwrap_or(0) }
    }
}

/// The table: (component count, first component record).
fn table() -> (usize, *const [usize; COMPONENT_FIELDS]) {
    #[cfg(feature = "image")]
    {
        // SAFETY: the compiler defines `wafer_component_harness` in every harness image.
        let header = unsafe { &*core::ptr::addr_of!(wafer_component_harness) };
        (header[0], header[1] as *const [usize; COMPONENT_FIELDS])
    }
    #[cfg(not(feature = "image"))]
    {
        (0, core::ptr::null())
    }
}

fn component(index: usize) -> Option<Record<COMPONENT_FIELDS>> {
    let (count, first) = table();
    // SAFETY: `index < count` records follow the first one.
    (index < count).then(|| Record(unsafe { first.add(index) }))
}

fn export(component: Record<COMPONENT_FIELDS>, index: usize) -> Option<Record<EXPORT_FIELDS>> {
    let count = component.field(1);
    let first = component.field(2) as *const [usize; EXPORT_FIELDS];
    // SAFETY: `index < count` export records follow the first one.
    (index < count).then(|| Record(unsafe { first.add(index) }))
}

/// The component's view of the descriptor, and its component instances.
fn instances(record: Record<COMPONENT_FIELDS>) -> (Component, core::ops::Range<u32>) {
    // SAFETY: field 5 is the image's component descriptor.
    let component = unsafe { Component::new(record.field(5) as *const Descriptor) };
    let first = record.field(6) as u32;
    (
        component,
        first..first.saturating_add(record.field(7) as u32),
    )
}

fn reply_error(message: &[u8]) {
    Line::new()
        .str(b"error ")
        .str(message)
        .str(b"\n")
        .write_to(1);
}

/// Replies with a trap and the handle index it names, if any.
fn reply_trap(kind: TrapKind) {
    let mut line = Line::new();
    line.str(b"trap ").dec(kind as u64);
    match super::trap_detail().filter(|_| kind.handle_message().is_some()) {
        Some(index) => line.str(b" ").dec(u64::from(index)),
        None => line.str(b" -"),
    };
    line.str(b"\n").write_to(1);
}

/// `n K`: instantiates component `index`.
pub fn instantiate(index: usize) {
    super::reset();
    let Some(record) = component(index) else {
        return reply_error(b"no such component");
    };
    // SAFETY: field 0 of a component record is its instantiation function.
    let init: extern "C" fn() = unsafe { core::mem::transmute(record.field(0)) };
    match Current::catch_traps(|| init()) {
        Ok(()) => Line::new().str(b"ok\n").write_to(1),
        Err(kind) => {
            let (component, instances) = instances(record);
            instances.for_each(|i| component.poison(i));
            reply_trap(kind);
        }
    }
}

/// Decodes hex digits into bytes.
fn from_hex(text: &[u8]) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    text.chunks(2)
        .map(|pair| {
            let digit = |c: u8| (c as char).to_digit(16);
            Some((digit(pair[0])? << 4 | digit(pair[1])?) as u8)
        })
        .collect()
}

/// Writes `ok` and the bytes in hex, in pieces.
fn reply_bytes(bytes: &[u8]) {
    let mut line = Line::new();
    line.str(b"ok ");
    for &byte in bytes {
        if line.as_bytes().len() > 400 {
            line.write_to(1);
            line = Line::new();
        }
        let hex = b"0123456789abcdef";
        line.str(&[hex[usize::from(byte >> 4)], hex[usize::from(byte & 0xf)]]);
    }
    line.str(b"\n").write_to(1);
}

/// An export being called, as its record describes it.
struct Callee {
    call: extern "C" fn(*mut [u8; 16]),
    post_return: Option<extern "C" fn(*mut [u8; 16])>,
    memory: OptionsMemory,
    instance: u32,
    flags: *mut u32,
    /// Lifted `async` (a function of an `async` type may be lifted synchronously).
    lifted_async: bool,
    /// The callback of an export lifted `async`.
    callback: Option<extern "C" fn(*mut [u8; 16])>,
}

/// Why a call failed: the trap, and the handle index it names, if any.
type Failure = (TrapKind, Option<u32>);

fn failure(trap: Trap) -> Failure {
    (super::trap_kind(trap), trap.detail())
}

/// `x K E A`: calls export `export` of component `index` with the arguments `args`
/// (hex).
pub fn call(index: usize, export_index: usize, args: &[u8]) {
    super::reset_call();
    let Some(record) = component(index) else {
        return reply_error(b"no such component");
    };
    let Some(record_export) = export(record, export_index) else {
        return reply_error(b"no such export");
    };
    if record_export.field(2) as u64 == NO_FUNC_TYPE {
        return reply_error(b"the export's type is not supported");
    }
    let record_flags = record_export.field(5) as u64;
    if record_flags & wafer_abi::harness::component::MEMORY64 != 0 {
        return reply_error(b"exports lifted from 64-bit memories are not supported");
    }
    let types_bytes = match (record.field(3), record.field(4)) {
        (_, 0) => &[][..],
        // SAFETY: fields 3 and 4 give the static bytes of the component's types.
        (ptr, len) => unsafe { core::slice::from_raw_parts(ptr as *const u8, len) },
    };
    let Ok((types, funcs)) = wafer_canon::encode::decode_types(types_bytes) else {
        return reply_error(b"the image's types do not decode");
    };
    let Some(func) = funcs.get(record_export.field(2)) else {
        return reply_error(b"no such function type");
    };
    let callback = record_export.field(6);
    let Some(args) = from_hex(args)
        .and_then(|bytes| wafer_canon::encode::decode_vals(&types, &func.params, &bytes).ok())
    else {
        return reply_error(b"the arguments do not decode as the export's parameters");
    };
    let (component, instances) = instances(record);
    if instances.clone().any(|i| !component.may_enter(i)) {
        return reply_trap(TrapKind::CannotEnterComponent);
    }
    let instance = record_export.field(4) as u32;
    let Ok(flags) = component.flags(instance) else {
        return reply_error(b"no such component instance");
    };
    let post_return = record_export.field(1);
    let mut callee = Callee {
        // SAFETY: field 0 of an export record is its call trampoline, field 1 its
        // post-return trampoline or 0 (see `wafer_abi::harness::component`).
        call: unsafe {
            core::mem::transmute::<usize, extern "C" fn(*mut [u8; 16])>(record_export.field(0))
        },
        post_return: (post_return != 0).then(|| {
            // SAFETY: as above.
            unsafe { core::mem::transmute::<usize, extern "C" fn(*mut [u8; 16])>(post_return) }
        }),
        // SAFETY: field 3 is the export's canonical options context.
        memory: unsafe { OptionsMemory::new(record_export.field(3) as *const OptionsContext) },
        instance,
        flags,
        lifted_async: record_flags & wafer_abi::harness::component::LIFTED_ASYNC != 0,
        callback: (callback != 0).then(|| {
            // SAFETY: field 6 is the callback trampoline, when there is one.
            unsafe { core::mem::transmute::<usize, extern "C" fn(*mut [u8; 16])>(callback) }
        }),
    };
    if let Err(kind) = component.enter(None, instance) {
        return reply_trap(kind);
    }
    let mut outcome = None;
    let caught = Current::catch_traps(|| {
        outcome = Some(run(&mut callee, component, &types, func, &args));
    });
    if caught.is_ok() {
        component.leave(None, instance);
    }
    let results = match caught {
        Err(kind) => Err((kind, None)),
        Ok(()) => match outcome {
            Some(Ok(results)) => Ok(results),
            Some(Err(failure)) => Err(failure),
            None => Err((TrapKind::Unreachable, None)),
        },
    };
    match results {
        Ok(results) => match wafer_canon::encode::encode_vals(&types, &func.results, &results) {
            Ok(bytes) => reply_bytes(&bytes),
            Err(_) => reply_error(b"the results do not encode"),
        },
        Err((kind, detail)) => {
            instances.for_each(|i| component.poison(i));
            if detail.is_some() {
                super::TRAP_DETAIL.with(|slot| *slot = detail);
            }
            reply_trap(kind);
        }
    }
}

/// Sets the `may_leave` flag at `flags`.
fn set_may_leave(flags: *mut u32, may_leave: bool) {
    // SAFETY: the flags pointer is the address of an instance's flags global, an `i32`
    // compiled code reads and writes only while it runs (not now).
    unsafe { flags.write(u32::from(may_leave)) };
}

/// Lowers `args`, calls the export, lifts its results and calls `post-return`.
fn run(
    callee: &mut Callee,
    component: Component,
    types: &Types,
    func: &FuncType,
    args: &[Val],
) -> Result<Vec<Val>, Failure> {
    let options = Options {
        string_encoding: match callee.memory.encoding() {
            wafer_abi::wasi_p2::STRING_UTF16 => StringEncoding::Utf16,
            wafer_abi::wasi_p2::STRING_LATIN1_UTF16 => StringEncoding::Latin1Utf16,
            _ => StringEncoding::Utf8,
        },
        ptr_type: PtrType::I32,
        is_async: callee.lifted_async,
        callback: callee.callback.is_some(),
    };
    let core = flatten_functype(types, func, &options, FuncContext::Lift);
    let (flags, call, post_return, callback) = (
        callee.flags,
        callee.call,
        callee.post_return,
        callee.callback,
    );
    let mut handles = component.host_call_handles(callee.instance);
    let mut cx = Cx {
        types,
        options,
        memory: &mut callee.memory,
        handles: &mut handles,
    };
    set_may_leave(flags, false);
    let flat_args = lower_flat_values(&mut cx, MAX_FLAT_PARAMS, args, &func.params, None);
    set_may_leave(flags, true);
    let flat_args = flat_args.map_err(failure)?;
    if flat_args.len() != core.params.len() || flat_args.len() > wafer_abi::harness::MAX_VALUES {
        return Err(failure(Trap::TypeMismatch));
    }
    let mut slots = [[0u8; VALUE_SLOT_SIZE as usize]; wafer_abi::harness::MAX_VALUES];
    for (slot, value) in slots.iter_mut().zip(&flat_args) {
        *slot = u128::from(value.bits()).to_le_bytes();
    }
    if callee.lifted_async {
        super::tasks::start_host_task(callee.instance);
        call(slots.as_mut_ptr());
        // Lifted with a callback: the callback loop runs the task to its end. Without
        // one (stackful), the task ran to its end in the call: with one task on one
        // thread, its waits blocked where it made them.
        // Once it returned, the call ends when the loop would yield or wait next; the
        // task goes on in later turns (a task may go on after it returns).
        let parked = match callback {
            Some(callback) => {
                let packed = flat_value(CoreType::I32, &slots[0]).bits() as u32;
                super::tasks::drive_until(
                    component,
                    callee.instance,
                    false,
                    packed,
                    |event| {
                        for (slot, word) in slots.iter_mut().zip(event) {
                            *slot = u128::from(word).to_le_bytes();
                        }
                        callback(slots.as_mut_ptr());
                        flat_value(CoreType::I32, &slots[0]).bits() as u32
                    },
                    super::tasks::host_task_returned,
                )
                .map_err(|kind| (kind, None))?
                .map(|packed| (callback, packed))
            }
            None => None,
        };
        let returned = match parked {
            Some((callback, packed)) => super::tasks::park_host_task(component, callback, packed),
            None => super::tasks::finish_host_task(),
        }
        .map_err(|kind| (kind, None))?;
        // `task.return` passes the results as a call passes parameters.
        let flat_types = match types.flat_count_of(&func.results) > MAX_FLAT_PARAMS as u64 {
            true => alloc::vec![CoreType::I32],
            false => types.flatten_types(&func.results, options.ptr_type),
        };
        if flat_types.len() != returned.len() {
            return Err((TrapKind::InvalidTaskReturn, None));
        }
        let flat_results: Vec<FlatVal> = flat_types
            .iter()
            .zip(&returned)
            .map(|(ty, slot)| flat_value(*ty, slot))
            .collect();
        return lift_flat_values(
            &mut cx,
            MAX_FLAT_PARAMS,
            &mut FlatReader::new(&flat_results),
            &func.results,
        )
        .map_err(failure);
    }
    call(slots.as_mut_ptr());
    let flat_results: Vec<FlatVal> = core
        .results
        .iter()
        .zip(&slots)
        .map(|(ty, slot)| flat_value(*ty, slot))
        .collect();
    let results = lift_flat_values(
        &mut cx,
        MAX_FLAT_RESULTS,
        &mut FlatReader::new(&flat_results),
        &func.results,
    )
    .map_err(failure)?;
    if let Some(post_return) = post_return {
        // `post-return` gets the flat results back, and may not call out.
        for (slot, value) in slots.iter_mut().zip(&flat_results) {
            *slot = u128::from(value.bits()).to_le_bytes();
        }
        set_may_leave(flags, false);
        post_return(slots.as_mut_ptr());
        set_may_leave(flags, true);
    }
    Ok(results)
}

/// The flat value of type `ty` in a value slot.
fn flat_value(ty: CoreType, slot: &[u8; 16]) -> FlatVal {
    let bits = u64::from_le_bytes([
        slot[0], slot[1], slot[2], slot[3], slot[4], slot[5], slot[6], slot[7],
    ]);
    match ty {
        CoreType::I32 => FlatVal::I32(bits as u32),
        CoreType::I64 => FlatVal::I64(bits),
        CoreType::F32 => FlatVal::F32(f32::from_bits(bits as u32)),
        CoreType::F64 => FlatVal::F64(f64::from_bits(bits)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_decodes_pairs_only() {
        assert_eq!(from_hex(b"00ff7A"), Some(alloc::vec![0, 0xff, 0x7a]));
        assert_eq!(from_hex(b""), Some(alloc::vec![]));
        assert_eq!(from_hex(b"abc"), None);
        assert_eq!(from_hex(b"zz"), None);
    }

    #[test]
    fn flat_values_come_from_the_low_bytes_of_slots() {
        let mut slot = [0u8; 16];
        slot[..8].copy_from_slice(&0x4000_0000_0000_0001u64.to_le_bytes());
        assert_eq!(flat_value(CoreType::I32, &slot), FlatVal::I32(1));
        assert_eq!(
            flat_value(CoreType::I64, &slot),
            FlatVal::I64(0x4000_0000_0000_0001)
        );
        slot[..4].copy_from_slice(&1.5f32.to_bits().to_le_bytes());
        assert_eq!(flat_value(CoreType::F32, &slot), FlatVal::F32(1.5));
    }
}
