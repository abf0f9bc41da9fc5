//! Calls between component instances lowered or lifted `async`: what FACT's adapters
//! call in place of a direct call (`prepare-call`, then `start-call`).
//!
//! `prepare-call` keeps the call's arguments: the adapter's `start` function (which
//! lowers the caller's parameters into the callee), its `return` function (which lifts
//! the callee's results into the caller: what `task.return` passes, or a synchronous
//! callee's results), the two instances and the caller's lowered parameters.
//! `start-call` enters the callee as a call of its own (the reentrance rule, a task
//! with its own storage and borrow scope), calls `start` and then the callee, and
//! delivers the results through `return`: for a callee lifted `async` when it calls
//! `task.return`, else when it returns (then its `post-return` runs). A callee lifted
//! `async` with a callback is driven by its callback loop.
//!
//! Under an `async` lower, a callee lifted with a callback whose first call asks to
//! yield or wait is parked (`park`): its call leaves the stack of calls and its
//! instance, the caller gets `STARTED` with a new subtask (or `RETURNED`, when the
//! callee called `task.return` already) and runs on, and the executor (`tasks.rs`)
//! gives the callee its turns while some task waits or yields; its `task.return`
//! resolves the subtask, which the caller learns of as a `SUBTASK` event. Any other
//! callee that blocks before it returns (lifted without a callback or synchronously,
//! or blocking inside a callback's core function) suspends the fiber the call runs on
//! (`stackful.rs`); so does a call of an `async` function that must wait for
//! backpressure or for an instance another task has to itself before it starts (the
//! caller gets `STARTING`). `subtask.cancel` of a parked callee's subtask is
//! `tasks.rs`'s; its `task.cancel` ends the call with no results ([`task_cancel`]).

use alloc::vec;
use alloc::vec::Vec;

use wafer_abi::component::BuiltinResult;
use wafer_abi::trap::TrapKind;

use super::tasks::{Parked, ValueSlot, drive_until, subtask_state};
use super::{CALLS, Component, Descriptor, host_trap};
use crate::global::Global;

/// Calls a function reference with its arguments in value slots, writing its results
/// there; answers the result count, or `u32::MAX` when the image has no caller for the
/// function's type. Generated in each image that makes such calls.
pub type CallRef = extern "C" fn(*const u8, *mut ValueSlot) -> u32;

/// A generated C-convention caller of a fixed core function (a callback, a
/// post-return) with arguments and results in value slots.
pub type SlotFn = extern "C" fn(*mut ValueSlot);

/// `start-call` flags: the callee is lifted `async`.
const ASYNC_CALLEE: u32 = 1;
/// `start-call` flags: the caller lowered the import `async`.
const ASYNC_LOWER: u32 = 2;
/// `prepare-call`'s result count for an `async` lower of a function without results.
const PREPARE_ASYNC_NO_RESULT: u32 = u32::MAX;
/// `prepare-call`'s result count for an `async` lower of a function with results.
const PREPARE_ASYNC_WITH_RESULT: u32 = u32::MAX - 1;
/// The canonical ABI's most flat results; more go through a return pointer.
const MAX_FLAT_RESULTS: u32 = 1;
/// Value slots a call passes: 16 flat parameters or results, and a return pointer.
const SLOTS: usize = 24;
/// The fixed arguments of `prepare-call` before the lowered parameters.
const PREPARE_FIXED: usize = 8;

/// The callback code that ends a task.
const EXIT: u32 = 0;

/// A call `prepare-call` set up, until `start-call` starts it.
struct Prepared {
    start: *const u8,
    ret: *const u8,
    caller: u32,
    callee: u32,
    /// The callee's function type is `async`: its task may block.
    callee_type_async: bool,
    /// The caller's flat result count (sync lower) or one of the `PREPARE_ASYNC_*`.
    result_count: u32,
    params: Vec<ValueSlot>,
}

static PREPARED: Global<Option<Prepared>> = Global::new(None);

/// Where a callee lifted `async` sends what `task.return` passes.
#[derive(Debug, Clone, Copy)]
pub(super) struct AsyncReturn {
    call_ref: CallRef,
    ret: *const u8,
    /// The caller's return pointer, appended to the `return` function's arguments.
    retptr: Option<ValueSlot>,
    /// What the `return` function answered (a synchronous lower's flat result, at
    /// most [`MAX_FLAT_RESULTS`]), once `task.return` has been called.
    results: Option<(usize, ValueSlot)>,
    /// The caller's subtask (its id in `tasks`) once the callee blocked under an
    /// `async` lower: `task.return` resolves it.
    subtask: Option<u32>,
}

impl AsyncReturn {
    /// Whether the callee has called `task.return`.
    pub(super) fn returned(&self) -> bool {
        self.results.is_some()
    }

    /// The caller's subtask, once the call was parked with one.
    pub(super) fn subtask(&self) -> Option<u32> {
        self.subtask
    }

    /// What the `return` function answered once `task.return` was called: (flat
    /// result count, value).
    pub(super) fn results(&self) -> Option<(usize, ValueSlot)> {
        self.results
    }

    /// Makes `task.return` resolve the caller's subtask `id`.
    pub(super) fn set_subtask(&mut self, id: u32) {
        self.subtask = Some(id);
    }
}

/// What a call's callee did before returning to `start-call`.
enum Ran {
    /// It returned its results: the values the `return` function answered.
    Returned(Vec<ValueSlot>),
    /// Under an `async` lower, its callback loop asked to yield or wait (`packed`):
    /// the caller goes on while the callee's task is parked.
    Blocked(u32),
}

/// Forgets a prepared call (a harness command starts afresh).
pub fn reset() {
    PREPARED.with(|prepared| *prepared = None);
}

fn word(slot: &ValueSlot) -> u32 {
    u32::from_le_bytes([slot[0], slot[1], slot[2], slot[3]])
}

fn pointer(slot: &ValueSlot) -> *const u8 {
    let mut bytes = [0u8; core::mem::size_of::<usize>()];
    bytes.copy_from_slice(&slot[..core::mem::size_of::<usize>()]);
    usize::from_le_bytes(bytes) as *const u8
}

/// Calls `func` through `call_ref` with `slots` (at least [`SLOTS`] long): the result
/// count.
fn call(call_ref: CallRef, func: *const u8, slots: &mut [ValueSlot]) -> Result<usize, TrapKind> {
    debug_assert!(slots.len() >= SLOTS);
    match call_ref(func, slots.as_mut_ptr()) {
        u32::MAX => Err(TrapKind::UnsupportedBuiltin),
        count => Ok(count as usize),
    }
}

/// Delivers a callee's results through the adapter's `return` function: its answer
/// (the flat results of a synchronous lower).
fn deliver(
    call_ref: CallRef,
    ret: *const u8,
    retptr: Option<ValueSlot>,
    values: &[ValueSlot],
) -> Result<Vec<ValueSlot>, TrapKind> {
    if values.len() >= SLOTS {
        return Err(TrapKind::InvalidTaskReturn);
    }
    let mut slots = vec![[0u8; 16]; SLOTS];
    slots[..values.len()].copy_from_slice(values);
    if let Some(retptr) = retptr {
        slots[values.len()] = retptr;
    }
    let count = call(call_ref, ret, &mut slots)?;
    Ok(slots[..count.min(SLOTS)].to_vec())
}

/// `prepare-call`: see `wafer_abi::symbols::PREPARE_CALL`.
///
/// # Safety
/// `values` must point at `count` value slots.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wafer_rt_prepare_call(
    _descriptor: *const Descriptor,
    values: *const ValueSlot,
    count: u32,
) -> u64 {
    // SAFETY: the compiled caller spilled `count` slots there.
    let values = unsafe { core::slice::from_raw_parts(values, count as usize) };
    if values.len() < PREPARE_FIXED || values.len() - PREPARE_FIXED >= SLOTS {
        return BuiltinResult::trap(TrapKind::Unreachable).encode();
    }
    let prepared = Prepared {
        start: pointer(&values[0]),
        ret: pointer(&values[1]),
        caller: word(&values[2]),
        callee: word(&values[3]),
        callee_type_async: word(&values[5]) != 0,
        result_count: word(&values[7]),
        params: values[PREPARE_FIXED..].to_vec(),
    };
    PREPARED.with(|slot| *slot = Some(prepared));
    BuiltinResult::value(0).encode()
}

/// `start-call`: see `wafer_abi::symbols::START_CALL`.
///
/// # Safety
/// `descriptor` must be the image's component descriptor, `call_ref`, `callback` and
/// `post_return` the image's generated callers, `callee` a function reference,
/// `may_block` the address of the task's `may_block` global and `results` room for
/// [`SLOTS`] value slots.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wafer_rt_start_call(
    descriptor: *const Descriptor,
    call_ref: CallRef,
    callback: Option<SlotFn>,
    post_return: Option<SlotFn>,
    callee: *const u8,
    flags: u32,
    may_block: *mut u32,
    results: *mut ValueSlot,
) -> u64 {
    // SAFETY: forwarded from the caller.
    let component = unsafe { Component::new(descriptor) };
    let Some(prepared) = PREPARED.with(Option::take) else {
        return BuiltinResult::trap(TrapKind::Unreachable).encode();
    };
    // SAFETY: the compiled caller passes the address of the task's `may_block` global.
    let caller_may_block = unsafe { may_block.read() };
    if flags & ASYNC_LOWER == 0 && !super::threads::may_wait(component, caller_may_block != 0) {
        // A synchronous lower of a function of `async` type from a task that may not
        // block, with no other thread to run meanwhile (the spec's `canon_lower`
        // check).
        return BuiltinResult::trap(TrapKind::CannotBlockSyncTask).encode();
    }
    let caller = prepared.caller;
    let callee_instance = prepared.callee;
    let callee_may_block = u32::from(prepared.callee_type_async);
    // The spec's `needs_exclusive`: a task of an `async` function lifted synchronously
    // or with a callback has its instance to itself (but for its callback loop's
    // waits).
    let exclusive = prepared.callee_type_async && (flags & ASYNC_CALLEE == 0 || callback.is_some());
    let type_async = prepared.callee_type_async;
    let work = move || {
        super::start_call(component, caller, callee_instance)?;
        if type_async && super::stackful::wait_to_start(component, callee_instance, exclusive)? {
            // Cancelled before it started.
            super::end_call(component).map_err(host_trap)?;
            return Ok((subtask_state::CANCELLED_BEFORE_STARTED, Vec::new()));
        }
        if exclusive {
            component.set_exclusive(callee_instance, true);
        }
        super::stackful::started();
        {
            // SAFETY: as above; the callee's task may block if its type is `async`.
            unsafe { may_block.write(callee_may_block) };
            let ran = run(
                component,
                call_ref,
                callback,
                post_return,
                callee,
                flags,
                prepared,
            );
            // SAFETY: as above.
            unsafe { may_block.write(caller_may_block) };
            if exclusive {
                component.set_exclusive(callee_instance, false);
            }
            match (ran, callback) {
                (Ok(Ran::Blocked(packed)), Some(callback)) => {
                    let call = CALLS.with(Vec::pop).ok_or(TrapKind::Unreachable)?;
                    // What the callee's `task.return` delivered, if it has (the flat
                    // results of a synchronous lower).
                    let values = call
                        .async_return
                        .and_then(|r| r.results)
                        .map(|(count, slot)| vec![slot; count])
                        .unwrap_or_default();
                    let parked = Parked {
                        call,
                        callback,
                        may_block,
                        callee_may_block,
                        exclusive,
                    };
                    park(component, parked, packed).map(|status| (status, values))
                }
                (ran, _) => {
                    let ended = super::end_call(component).map_err(host_trap);
                    match ran {
                        Ok(Ran::Returned(values)) => {
                            ended.map(|()| (subtask_state::RETURNED, values))
                        }
                        Ok(Ran::Blocked(_)) => Err(TrapKind::Unreachable),
                        Err(kind) => Err(kind),
                    }
                }
            }
        }
    };
    // On a fiber of its own, a callee that blocks lets its caller go on.
    let async_lower = flags & ASYNC_LOWER != 0;
    let outcome = if crate::fiber::available() {
        super::stackful::run_call(
            component,
            caller,
            callee_instance,
            async_lower,
            type_async,
            exclusive,
            may_block,
            work,
        )
    } else {
        work()
    };
    match outcome {
        Ok((status, values)) => {
            // SAFETY: the compiled caller gave room for `SLOTS` slots.
            let out = unsafe { core::slice::from_raw_parts_mut(results, SLOTS) };
            out[..values.len()].copy_from_slice(&values);
            BuiltinResult::value(status).encode()
        }
        Err(kind) => BuiltinResult::trap(kind).encode(),
    }
}

/// Parks the callee's task of a call lowered `async` whose callback loop asked to
/// yield or wait (`packed`), its call taken off the stack of calls: it leaves the
/// callee's instance, and the executor gives it its turns from now on. Answers the
/// caller's packed status: `STARTED` with a new subtask's handle, or `RETURNED` when
/// the callee has called `task.return` already (it runs on with no subtask).
fn park(component: Component, mut parked: Parked, packed: u32) -> Result<u32, TrapKind> {
    let call = &mut parked.call;
    component.leave(Some(call.caller), call.callee);
    let r = call.async_return.as_mut().ok_or(TrapKind::Unreachable)?;
    let status = if r.returned() {
        subtask_state::RETURNED
    } else {
        let (status, subtask) = super::tasks::new_call_subtask(component, call.caller)?;
        r.subtask = Some(subtask);
        status
    };
    super::tasks::park(component, parked, packed)?;
    Ok(status)
}

/// Runs a started call in the callee (the innermost call): the values its `return`
/// function answered.
fn run(
    component: Component,
    call_ref: CallRef,
    callback: Option<SlotFn>,
    post_return: Option<SlotFn>,
    callee: *const u8,
    flags: u32,
    prepared: Prepared,
) -> Result<Ran, TrapKind> {
    let async_lower = flags & ASYNC_LOWER != 0;
    let async_callee = flags & ASYNC_CALLEE != 0;
    let has_retptr = match prepared.result_count {
        PREPARE_ASYNC_WITH_RESULT => true,
        PREPARE_ASYNC_NO_RESULT => false,
        count => count > MAX_FLAT_RESULTS,
    };
    let retptr = if has_retptr {
        Some(*prepared.params.last().ok_or(TrapKind::Unreachable)?)
    } else {
        None
    };
    let mut slots = vec![[0u8; 16]; SLOTS];
    slots[..prepared.params.len()].copy_from_slice(&prepared.params);
    // `start` reads only its own parameters (not a trailing return pointer).
    call(call_ref, prepared.start, &mut slots)?;
    if async_callee {
        CALLS.with(|calls| {
            if let Some(call) = calls.last_mut() {
                call.async_return = Some(AsyncReturn {
                    call_ref,
                    ret: prepared.ret,
                    retptr,
                    results: None,
                    subtask: None,
                });
            }
        });
    }
    let count = call(call_ref, callee, &mut slots)?;
    if !async_callee {
        let values = deliver(call_ref, prepared.ret, retptr, &slots[..count.min(SLOTS)])?;
        if let Some(post_return) = post_return {
            post_return(slots.as_mut_ptr());
        }
        return Ok(Ran::Returned(values));
    }
    if let Some(callback) = callback {
        let packed = word(&slots[0]);
        // (Once its fiber suspended, the callee's caller has its answer already: the
        // callback loop goes on on the fiber.)
        if async_lower && packed & 0xf != EXIT && !super::stackful::running_has_suspended() {
            // The caller gets `STARTED` and runs on.
            return Ok(Ran::Blocked(packed));
        }
        // A synchronous caller waits (other tasks run meanwhile) until the callee
        // returns its results; a callee that runs on after `task.return` is parked.
        let blocked = drive_until(
            component,
            prepared.callee,
            prepared.callee_type_async,
            packed,
            |event| {
                for (slot, word) in slots.iter_mut().zip(event) {
                    *slot = u128::from(word).to_le_bytes();
                }
                callback(slots.as_mut_ptr());
                word(&slots[0])
            },
            returned,
        )?;
        if let Some(packed) = blocked {
            return Ok(Ran::Blocked(packed));
        }
    }
    CALLS
        .with(|calls| {
            calls
                .last_mut()
                .and_then(|call| call.async_return.as_mut())
                .and_then(|r| r.results.take())
        })
        .map(|(count, slot)| Ran::Returned(vec![slot; count]))
        .ok_or(TrapKind::TaskNotReturned)
}

/// Which call's task `task.return` and `task.cancel` act on.
#[derive(Debug, Clone, Copy)]
pub(super) enum TaskCall {
    /// The innermost call's.
    Innermost,
    /// The call whose task's implicit thread is this one (a thread `thread.new-indirect`
    /// made acts for its task): on the stack of calls, kept by a suspended fiber, or
    /// a parked callee's.
    OfThread(u32),
}

/// Runs `f` on the call `target` names, if it still runs.
fn with_task_call<T>(target: TaskCall, f: impl FnOnce(&mut super::Call) -> T) -> Option<T> {
    match target {
        TaskCall::Innermost => CALLS.with(|calls| calls.last_mut().map(f)),
        TaskCall::OfThread(thread) => {
            let on_stack =
                CALLS.with(|calls| calls.iter().rposition(|call| call.thread == Some(thread)));
            match on_stack {
                Some(at) => CALLS.with(|calls| calls.get_mut(at).map(f)),
                None => super::tasks::with_kept_call(thread, f),
            }
        }
    }
}

/// Whether `target`'s callee is `instance`'s task lifted `async`.
pub(super) fn is_async_callee(target: TaskCall, instance: u32) -> Option<bool> {
    with_task_call(target, |call| {
        call.callee == instance && call.async_return.is_some()
    })
}

/// `task.cancel` of a callee lifted `async` (`target`'s call): it ends with no
/// results. Answers its caller's subtask, if the call was parked with one.
pub(super) fn task_cancel(target: TaskCall) -> Result<Option<u32>, TrapKind> {
    with_task_call(target, |call| {
        let r = call
            .async_return
            .as_mut()
            .ok_or(TrapKind::TaskCancelNotCancelled)?;
        if r.results.is_some() {
            return Err(TrapKind::TaskReturnTwice);
        }
        r.results = Some((0, [0; 16]));
        Ok(r.subtask)
    })
    .unwrap_or(Err(TrapKind::TaskCancelNotCancelled))
}

/// Whether the innermost call's callee, lifted `async`, has called `task.return`.
fn returned() -> bool {
    CALLS.with(|calls| {
        calls
            .last()
            .and_then(|call| call.async_return)
            .is_some_and(|r| r.returned())
    })
}

/// `task.return` of a callee lifted `async` (`target`'s call): delivers `values`
/// through the adapter's `return` function.
pub(super) fn task_return(target: TaskCall, values: &[ValueSlot]) -> Result<(), TrapKind> {
    let to = with_task_call(target, |call| {
        let r = call.async_return.as_mut()?;
        Some(match r.results {
            Some(_) => Err(TrapKind::TaskReturnTwice),
            None => Ok((r.call_ref, r.ret, r.retptr)),
        })
    })
    .flatten();
    let (call_ref, ret, retptr) = to.ok_or(TrapKind::InvalidTaskReturn)??;
    let results = deliver(call_ref, ret, retptr, values)?;
    let result = match results.as_slice() {
        [] => (0, [0; 16]),
        [slot] => (1, *slot),
        _ => return Err(TrapKind::Unreachable),
    };
    let subtask = with_task_call(target, |call| {
        let r = call.async_return.as_mut()?;
        r.results = Some(result);
        r.subtask
    })
    .flatten();
    // A parked callee's caller learns of it through its subtask.
    if let Some(subtask) = subtask {
        super::tasks::resolve_subtask(subtask);
    }
    Ok(())
}
