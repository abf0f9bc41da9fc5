//! The asynchronous component model's tasks and waitables, on one single-threaded
//! executor (the caller's thread: a task runs until it returns to the executor, which
//! then runs whatever can make progress).
//!
//! What is here: the task a host call of an export lifted `async` with a `callback`
//! starts, driven by the callback loop ([`drive`]: `EXIT`, `YIELD`, `WAIT` on a
//! waitable set), `task.return` (the task's flat results, kept for its caller),
//! waitable sets (`waitable-set.new`, `.drop`, `.wait`, `.poll`, `waitable.join`) and
//! `thread.yield`. Waitable sets hold no waitables yet: subtasks, streams and futures
//! (asynchronous calls between instances, WASI 0.3 host calls) come next, and with them
//! events; until then a task waiting on a set can never be woken, which is the
//! deadlock the spec traps on.

use alloc::vec::Vec;

use wafer_abi::component::{BuiltinResult, async_op};
use wafer_abi::harness::VALUE_SLOT_SIZE;
use wafer_abi::trap::TrapKind;
use wafer_canon::{AsyncKind, Trap};

use super::{CALLS, Component, Descriptor, host_trap};
use crate::global::Global;

/// The event codes delivered to a callback or written by `waitable-set.wait/poll`.
pub mod event {
    /// Nothing happened (after `YIELD`, or from `poll`).
    pub const NONE: u32 = 0;
}

/// The codes a callback (or an `async` lifted function) returns in the low 4 bits.
mod callback_code {
    pub const EXIT: u32 = 0;
    pub const YIELD: u32 = 1;
    pub const WAIT: u32 = 2;
}

/// A waitable set.
#[derive(Debug, Default)]
struct WaitableSet {
    /// Tasks waiting on it.
    waiting: u32,
}

/// Waitable sets by id (the handle table entry of one holds its id).
static SETS: Global<Vec<Option<WaitableSet>>> = Global::new(Vec::new());

/// One value slot, as `task.return` passes its flat results.
pub type ValueSlot = [u8; VALUE_SLOT_SIZE as usize];

/// The `async` task the host started (a harness call of an export lifted `async`).
#[derive(Debug)]
struct HostTask {
    /// The component instance it runs in.
    instance: u32,
    /// What `task.return` gave, once it has been called.
    results: Option<Vec<ValueSlot>>,
}

static HOST_TASK: Global<Option<HostTask>> = Global::new(None);

/// Forgets every task and waitable set (a harness command starts afresh).
pub fn reset() {
    HOST_TASK.with(|task| *task = None);
    SETS.with(Vec::clear);
}

/// Starts the host's `async` task in `instance`.
pub fn start_host_task(instance: u32) {
    HOST_TASK.with(|task| {
        *task = Some(HostTask {
            instance,
            results: None,
        })
    });
}

/// Ends the host's task: what its `task.return` gave, or the trap for a task that never
/// called it.
pub fn finish_host_task() -> Result<Vec<ValueSlot>, TrapKind> {
    HOST_TASK
        .with(Option::take)
        .and_then(|task| task.results)
        .ok_or(TrapKind::TaskNotReturned)
}

/// Whether `instance` runs an `async` task right now (not a synchronous call it made or
/// received since).
fn in_async_task(instance: u32) -> bool {
    let in_sync_call = CALLS.with(|calls| !calls.is_empty());
    !in_sync_call && HOST_TASK.with(|task| task.as_ref().is_some_and(|t| t.instance == instance))
}

/// The callback loop of an `async` task in `instance` whose core function returned
/// `packed`: calls `callback` with each event until it returns `EXIT`. `callback` takes
/// the event (code, two payload words) and returns the next packed code.
pub fn drive(
    component: Component,
    instance: u32,
    mut packed: u32,
    mut callback: impl FnMut([u32; 3]) -> u32,
) -> Result<(), TrapKind> {
    loop {
        let (code, set) = (packed & 0xf, packed >> 4);
        let event = match code {
            callback_code::EXIT => return Ok(()),
            callback_code::YIELD => [event::NONE, 0, 0],
            callback_code::WAIT => {
                let id = component
                    .with_table(instance, |table| {
                        table.async_id(AsyncKind::WaitableSet, set)
                    })
                    .and_then(|id| id)
                    .map_err(host_trap)?;
                wait(id)?
            }
            _ => return Err(TrapKind::UnsupportedCallbackCode),
        };
        packed = callback(event);
    }
}

/// Waits for an event in waitable set `id`. No waitable can deliver one yet, and no
/// other task can run meanwhile: the wait never ends.
fn wait(id: u32) -> Result<[u32; 3], TrapKind> {
    with_set(id, |set| set.waiting += 1)?;
    let event = Err(TrapKind::Deadlock);
    with_set(id, |set| set.waiting -= 1)?;
    event
}

/// Runs `f` on waitable set `id`.
fn with_set<T>(id: u32, f: impl FnOnce(&mut WaitableSet) -> T) -> Result<T, TrapKind> {
    SETS.with(|sets| match sets.get_mut(id as usize) {
        Some(Some(set)) => Ok(f(set)),
        _ => Err(TrapKind::Unreachable),
    })
}

/// `task.return`: see `wafer_abi::symbols::TASK_RETURN`.
///
/// # Safety
/// `descriptor` must be the image's component descriptor, and `values` must point at
/// `count` value slots.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wafer_rt_task_return(
    _descriptor: *const Descriptor,
    instance: u32,
    values: *const ValueSlot,
    count: u32,
) -> u64 {
    if !in_async_task(instance) {
        return BuiltinResult::trap(TrapKind::InvalidTaskReturn).encode();
    }
    // SAFETY: the compiled caller spilled `count` slots there.
    let slots = unsafe { core::slice::from_raw_parts(values, count as usize) }.to_vec();
    HOST_TASK.with(|task| match task {
        Some(task) if task.results.is_none() => {
            task.results = Some(slots);
            BuiltinResult::value(0).encode()
        }
        _ => BuiltinResult::trap(TrapKind::TaskReturnTwice).encode(),
    })
}

/// The asynchronous built-ins: see `wafer_abi::symbols::ASYNC_BUILTIN`.
///
/// # Safety
/// `descriptor` must be the image's component descriptor, and `context` null or a
/// canonical-options context the compiler emitted.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wafer_rt_async_builtin(
    descriptor: *const Descriptor,
    context: *const crate::p2::CanonContext,
    op: u32,
    instance: u32,
    a: u32,
    b: u32,
) -> u64 {
    // SAFETY: forwarded from the caller.
    let component = unsafe { Component::new(descriptor) };
    let set_id = |index: u32| {
        component
            .with_table(instance, |table| {
                table.async_id(AsyncKind::WaitableSet, index)
            })
            .and_then(|id| id)
            .map_err(host_trap)
    };
    let result: Result<u32, TrapKind> = match op {
        async_op::WAITABLE_SET_NEW => {
            let id = SETS.with(|sets| {
                sets.push(Some(WaitableSet::default()));
                sets.len() as u32 - 1
            });
            component
                .with_table(instance, |table| {
                    table.add_async(AsyncKind::WaitableSet, id)
                })
                .and_then(|index| index)
                .map_err(host_trap)
        }
        async_op::WAITABLE_SET_DROP => set_id(a).and_then(|id| {
            if with_set(id, |set| set.waiting)? > 0 {
                return Err(TrapKind::WaitableSetBusy);
            }
            SETS.with(|sets| sets[id as usize] = None);
            component
                .with_table(instance, |table| {
                    table.remove_async(AsyncKind::WaitableSet, a)
                })
                .and_then(|id| id)
                .map(|_| 0)
                .map_err(host_trap)
        }),
        async_op::WAITABLE_SET_WAIT | async_op::WAITABLE_SET_POLL => set_id(a).and_then(|id| {
            let event = if op == async_op::WAITABLE_SET_POLL {
                [event::NONE, 0, 0]
            } else if !in_async_task(instance) {
                return Err(TrapKind::CannotBlockSyncTask);
            } else {
                wait(id)?
            };
            // SAFETY: the compiler passes the options' context for these built-ins.
            let memory = unsafe { crate::p2::context_memory(context) };
            memory
                .write_u32(b, event[1])
                .and_then(|()| memory.write_u32(b.wrapping_add(4), event[2]))
                .map_err(|_| TrapKind::PointerOutOfBounds)?;
            Ok(event[0])
        }),
        async_op::WAITABLE_JOIN => {
            // Every waitable is a subtask, stream or future end, none of which exists
            // yet: whatever `a` is, it is not one.
            let found = component.with_table(instance, |table| table.entry(a).is_some());
            Err(host_trap(match found {
                Ok(true) => Trap::HandleWrongType(a),
                _ => Trap::UnknownHandle(a),
            }))
        }
        // Nothing can cancel a task yet: never cancelled.
        async_op::THREAD_YIELD => Ok(0),
        _ => Err(TrapKind::Unreachable),
    };
    match result {
        Ok(value) => BuiltinResult::value(value).encode(),
        Err(kind) => BuiltinResult::trap(kind).encode(),
    }
}
