//! The asynchronous component model's tasks and waitables, on one single-threaded
//! executor (the caller's thread: a task runs until it returns to the executor, which
//! then runs whatever can make progress).
//!
//! What is here: the task a host call of an export lifted `async` with a `callback`
//! starts, driven by the callback loop ([`drive`]: `EXIT`, `YIELD`, `WAIT` on a
//! waitable set), `task.return` (the task's flat results, kept for its caller),
//! waitable sets (`waitable-set.new`, `.drop`, `.wait`, `.poll`, `waitable.join`) and
//! `thread.yield`, and the subtasks of WASI 0.3 host functions lowered `async`
//! (`wasi:clocks/monotonic-clock@0.3` `wait-for` / `wait-until`: a subtask resolves at
//! its deadline). Waiting on a set delivers a resolved subtask's event, or else sleeps
//! in the reactor (`crate::host::poll::wait`, on every target) until the earliest
//! deadline of a subtask in the set; a set nothing in it can wake is the deadlock the
//! spec traps on. Calls between instances lowered or lifted `async` are `calls.rs`.

use alloc::vec::Vec;

use wafer_abi::component::{BuiltinResult, async_op};
use wafer_abi::harness::VALUE_SLOT_SIZE;
use wafer_abi::trap::TrapKind;
use wafer_canon::AsyncKind;

use super::{Component, Descriptor, host_trap};
use crate::global::Global;

/// The event codes delivered to a callback or written by `waitable-set.wait/poll`.
pub mod event {
    /// Nothing happened (after `YIELD`, or from `poll`).
    pub const NONE: u32 = 0;
    /// A subtask's state changed (payload: its handle and its new state).
    pub const SUBTASK: u32 = 1;
}

/// A subtask's states, as `async` lowers return them (low 4 bits) and events report.
pub mod subtask_state {
    /// The callee has started.
    pub const STARTED: u32 = 1;
    /// The callee has returned.
    pub const RETURNED: u32 = 2;
}

/// A subtask of a host function: it resolves when the monotonic clock reaches its
/// deadline.
#[derive(Debug)]
struct HostSubtask {
    deadline: u64,
    resolved: bool,
    /// Its resolution was delivered as an event.
    delivered: bool,
    /// The waitable set it is joined to.
    set: Option<u32>,
    /// Its handle in its instance's table.
    handle: u32,
}

static SUBTASKS: Global<Vec<Option<HostSubtask>>> = Global::new(Vec::new());

/// The monotonic clock, in nanoseconds.
fn now() -> u64 {
    crate::host::now(crate::sys::Clock::Monotonic).unwrap_or(0)
}

/// Starts a host subtask of `instance` (its state word) that resolves at `deadline`:
/// the packed status an `async` lower returns (`RETURNED` when the deadline has passed
/// already, else `STARTED` and the subtask's handle).
fn start_host_subtask(instance: super::StateWord, deadline: u64) -> Result<u32, TrapKind> {
    if deadline <= now() {
        return Ok(subtask_state::RETURNED);
    }
    new_host_subtask(instance, deadline).map(|(packed, _)| packed)
}

/// The deadline of a subtask the host resolves itself ([`resolve_subtask`]).
const RESOLVED_BY_HOST: u64 = u64::MAX;

/// Starts a host subtask of `instance` that [`resolve_subtask`] resolves (an HTTP
/// client's `send`): the packed `STARTED` status, and the subtask's id.
pub(crate) fn start_pending_subtask(instance: super::StateWord) -> Result<(u32, u32), TrapKind> {
    new_host_subtask(instance, RESOLVED_BY_HOST)
}

/// Resolves subtask `id` of [`start_pending_subtask`] (its results are stored).
pub(crate) fn resolve_subtask(id: u32) {
    let _ = with_subtask(id, |subtask| subtask.resolved = true);
}

/// A new host subtask in the table of `instance`: (packed `STARTED` status, id).
fn new_host_subtask(instance: super::StateWord, deadline: u64) -> Result<(u32, u32), TrapKind> {
    let id = SUBTASKS.with(|subtasks| {
        let subtask = HostSubtask {
            deadline,
            resolved: false,
            delivered: false,
            set: None,
            handle: 0,
        };
        match subtasks.iter().position(Option::is_none) {
            Some(free) => {
                subtasks[free] = Some(subtask);
                free as u32
            }
            None => {
                subtasks.push(Some(subtask));
                subtasks.len() as u32 - 1
            }
        }
    });
    // SAFETY: the context the host function got holds its instance's state word.
    let handle = unsafe {
        super::with_instance_state(instance, |state| {
            state.table().add_async(AsyncKind::Subtask, id)
        })
    }
    .map_err(host_trap)?;
    with_subtask(id, |subtask| subtask.handle = handle)?;
    Ok((subtask_state::STARTED | handle << 4, id))
}

/// Runs `f` on host subtask `id`.
fn with_subtask<T>(id: u32, f: impl FnOnce(&mut HostSubtask) -> T) -> Result<T, TrapKind> {
    SUBTASKS.with(|subtasks| match subtasks.get_mut(id as usize) {
        Some(Some(subtask)) => Ok(f(subtask)),
        _ => Err(TrapKind::Unreachable),
    })
}

/// Resolves every subtask whose deadline has passed.
fn resolve_due() {
    let now = now();
    SUBTASKS.with(|subtasks| {
        for subtask in subtasks.iter_mut().flatten() {
            subtask.resolved |= subtask.deadline <= now;
        }
    });
}

/// A pending event of waitable set `id`, marked delivered; or the earliest deadline
/// that can give it one.
fn take_event(id: u32) -> Result<[u32; 3], Option<u64>> {
    // A failure to make progress on a copy leaves its end without an event.
    if let Ok(Some(event)) = super::streams::take_event(id) {
        return Ok(event);
    }
    resolve_due();
    SUBTASKS.with(|subtasks| {
        let joined = subtasks.iter_mut().flatten().filter(|s| s.set == Some(id));
        let mut next = None::<u64>;
        for subtask in joined {
            if subtask.resolved && !subtask.delivered {
                subtask.delivered = true;
                return Ok([event::SUBTASK, subtask.handle, subtask_state::RETURNED]);
            }
            if !subtask.resolved && subtask.deadline != RESOLVED_BY_HOST {
                next = Some(next.map_or(subtask.deadline, |n| n.min(subtask.deadline)));
            }
        }
        Err(next)
    })
}

/// `wasi:clocks/monotonic-clock@0.3.x#wait-for`, lowered `async`.
///
/// # Safety
/// `context` must be the canonical-options context the compiler passes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wafer_p3_clocks_wait_for(
    context: *mut crate::p2::CanonContext,
    duration: u64,
) -> u32 {
    // SAFETY: forwarded from the caller.
    unsafe { wait_host(context, now().saturating_add(duration)) }
}

/// `wasi:clocks/monotonic-clock@0.3.x#wait-until`, lowered `async`.
///
/// # Safety
/// As [`wafer_p3_clocks_wait_for`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wafer_p3_clocks_wait_until(
    context: *mut crate::p2::CanonContext,
    instant: u64,
) -> u32 {
    // SAFETY: forwarded from the caller.
    unsafe { wait_host(context, instant) }
}

/// A host subtask until `deadline` for the instance of `context`; a trap is left in the
/// context for the compiled caller.
///
/// # Safety
/// As [`wafer_p3_clocks_wait_for`].
unsafe fn wait_host(context: *mut crate::p2::CanonContext, deadline: u64) -> u32 {
    // SAFETY: forwarded from the caller.
    let instance = unsafe { crate::p2::context_instance(context) };
    match start_host_subtask(instance, deadline) {
        Ok(packed) => packed,
        Err(kind) => {
            // SAFETY: as above; the trap field is the host's to set.
            unsafe { crate::p2::set_context_trap(context, kind) };
            0
        }
    }
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

/// Where a task the host started is between its turns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Turn {
    /// Running now, or started by a driver that runs its loop itself ([`drive`]).
    Running,
    /// Its callback asked to run again soon (`YIELD`).
    Yielded,
    /// Its callback waits for an event in this waitable set.
    Waiting(u32),
    /// It exited.
    Exited,
}

/// An `async` task the host started: a harness call's or the run export's, or one per
/// request of an HTTP service (many at once: [`spawn`] and [`run_ready`]).
#[derive(Debug)]
struct HostTask {
    /// The component instance it runs in.
    instance: u32,
    /// What `task.return` gave, once it has been called.
    results: Option<Vec<ValueSlot>>,
    /// Its `context.get`/`context.set` storage while another task runs.
    context: [u32; 2],
    /// Its callback, for tasks the executor drives.
    callback: Option<extern "C" fn(*mut ValueSlot)>,
    turn: Turn,
}

static TASKS: Global<Vec<Option<HostTask>>> = Global::new(Vec::new());

/// The task running now, if the host started one.
static CURRENT: Global<Option<u32>> = Global::new(None);

/// Forgets every task and waitable set (a harness command starts afresh).
pub fn reset() {
    TASKS.with(Vec::clear);
    CURRENT.with(|current| *current = None);
    SETS.with(Vec::clear);
    SUBTASKS.with(Vec::clear);
}

/// Adds a task in `instance`; returns its id.
fn new_task(instance: u32, callback: Option<extern "C" fn(*mut ValueSlot)>) -> u32 {
    let task = HostTask {
        instance,
        results: None,
        context: [0; 2],
        callback,
        turn: Turn::Running,
    };
    TASKS.with(|tasks| match tasks.iter().position(Option::is_none) {
        Some(free) => {
            tasks[free] = Some(task);
            free as u32
        }
        None => {
            tasks.push(Some(task));
            tasks.len() as u32 - 1
        }
    })
}

/// Runs `f` on task `id`.
fn with_task<T>(id: u32, f: impl FnOnce(&mut HostTask) -> T) -> Result<T, TrapKind> {
    TASKS.with(|tasks| match tasks.get_mut(id as usize) {
        Some(Some(task)) => Ok(f(task)),
        _ => Err(TrapKind::Unreachable),
    })
}

/// Starts the host's `async` task in `instance`, which runs now (its driver runs its
/// loop itself).
pub fn start_host_task(instance: u32) {
    let id = new_task(instance, None);
    CURRENT.with(|current| *current = Some(id));
}

/// Ends the running task the host started: what its `task.return` gave, or the trap
/// for a task that never called it.
pub fn finish_host_task() -> Result<Vec<ValueSlot>, TrapKind> {
    let id = CURRENT
        .with(Option::take)
        .ok_or(TrapKind::TaskNotReturned)?;
    TASKS
        .with(|tasks| tasks.get_mut(id as usize).and_then(Option::take))
        .and_then(|task| task.results)
        .ok_or(TrapKind::TaskNotReturned)
}

/// Whether `instance` runs an `async` task right now (not a synchronous call it made or
/// received since).
pub(super) fn in_async_task(instance: u32) -> bool {
    // The innermost call between instances decides, if one is in progress.
    match super::calls::in_async_callee(instance) {
        Some(in_callee) => in_callee,
        None => CURRENT
            .with(|current| *current)
            .is_some_and(|id| with_task(id, |task| task.instance == instance).unwrap_or(false)),
    }
}

/// Runs `f` as task `id`: it is the current task, with its context storage.
fn enter<T>(id: u32, f: impl FnOnce() -> T) -> Result<T, TrapKind> {
    let mut context = with_task(id, |task| task.context)?;
    let previous = CURRENT.with(|current| current.replace(id));
    super::swap_root_context(&mut context);
    let result = f();
    super::swap_root_context(&mut context);
    CURRENT.with(|current| *current = previous);
    with_task(id, |task| task.context = context)?;
    Ok(result)
}

/// Starts a task of an export lifted `async` with a callback in `instance`: `start`
/// calls its core function with `args` in the first value slots, and `callback` is
/// the export's callback. The task runs until it first returns to the host; then
/// [`run_ready`] goes on with it whenever it can make progress. Returns its id.
pub fn spawn(
    component: Component,
    instance: u32,
    start: extern "C" fn(*mut ValueSlot),
    callback: extern "C" fn(*mut ValueSlot),
    args: &[u32],
) -> Result<u32, TrapKind> {
    let id = new_task(instance, Some(callback));
    let mut slots = [[0u8; VALUE_SLOT_SIZE as usize]; 3];
    for (slot, arg) in slots.iter_mut().zip(args) {
        *slot = u128::from(*arg).to_le_bytes();
    }
    let packed = enter(id, || {
        start(slots.as_mut_ptr());
        first_word(&slots[0])
    })?;
    settle(component, id, packed)?;
    Ok(id)
}

fn first_word(slot: &ValueSlot) -> u32 {
    u32::from_le_bytes([slot[0], slot[1], slot[2], slot[3]])
}

/// Records what task `id`'s core function or callback returned (`packed`).
fn settle(component: Component, id: u32, packed: u32) -> Result<(), TrapKind> {
    let (code, set) = (packed & 0xf, packed >> 4);
    let turn = match code {
        callback_code::EXIT => Turn::Exited,
        callback_code::YIELD => Turn::Yielded,
        callback_code::WAIT => {
            let instance = with_task(id, |task| task.instance)?;
            let set = component
                .with_table(instance, |table| {
                    table.async_id(AsyncKind::WaitableSet, set)
                })
                .and_then(|id| id)
                .map_err(host_trap)?;
            with_set(set, |set| set.waiting += 1)?;
            Turn::Waiting(set)
        }
        _ => return Err(TrapKind::UnsupportedCallbackCode),
    };
    with_task(id, |task| task.turn = turn)
}

/// Gives each task [`spawn`] started that can make progress its next turn: a task
/// that yielded runs, and a task waiting on a set with an event gets it. Returns
/// whether any ran.
pub fn run_ready(component: Component) -> Result<bool, TrapKind> {
    let mut ran = false;
    let count = TASKS.with(|tasks| tasks.len()) as u32;
    for id in 0..count {
        let Some((turn, callback)) = TASKS.with(|tasks| {
            let task = tasks.get(id as usize)?.as_ref()?;
            Some((task.turn, task.callback?))
        }) else {
            continue;
        };
        let event = match turn {
            Turn::Yielded => [event::NONE, 0, 0],
            Turn::Waiting(set) => match take_event(set) {
                Ok(event) => {
                    with_set(set, |set| set.waiting -= 1)?;
                    event
                }
                Err(_) => continue,
            },
            Turn::Running | Turn::Exited => continue,
        };
        with_task(id, |task| task.turn = Turn::Running)?;
        let mut slots = [[0u8; VALUE_SLOT_SIZE as usize]; 3];
        for (slot, word) in slots.iter_mut().zip(event) {
            *slot = u128::from(word).to_le_bytes();
        }
        let packed = enter(id, || {
            callback(slots.as_mut_ptr());
            first_word(&slots[0])
        })?;
        settle(component, id, packed)?;
        ran = true;
    }
    Ok(ran)
}

/// What task `id` gave `task.return`, once (`None` before it has).
pub fn take_results(id: u32) -> Option<Vec<ValueSlot>> {
    with_task(id, |task| task.results.take()).ok().flatten()
}

/// Whether task `id` exited; an exited task is forgotten after this says so. A task
/// that exited without `task.return` traps, as the spec says.
pub fn exited(id: u32) -> Result<bool, TrapKind> {
    let (exited, returned) = with_task(id, |task| {
        (task.turn == Turn::Exited, task.results.is_some())
    })?;
    if exited {
        TASKS.with(|tasks| tasks[id as usize] = None);
    }
    let _ = returned;
    Ok(exited)
}

/// The earliest deadline of a host subtask some task waits for, if any.
pub fn next_deadline() -> Option<u64> {
    resolve_due();
    SUBTASKS.with(|subtasks| {
        subtasks
            .iter()
            .flatten()
            .filter(|s| !s.resolved && s.set.is_some() && s.deadline != RESOLVED_BY_HOST)
            .map(|s| s.deadline)
            .min()
    })
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

/// Waits for an event in waitable set `id`: sleeps in the reactor until a subtask in
/// it resolves or stdin is ready for a stream read in it; with nothing that can end
/// the wait, it would never end (the spec's deadlock).
fn wait(id: u32) -> Result<[u32; 3], TrapKind> {
    with_set(id, |set| set.waiting += 1)?;
    let event = loop {
        // HTTP exchanges the guest started move on meanwhile.
        crate::http::server::advance_clients()?;
        match take_event(id) {
            Ok(event) => break Ok(event),
            Err(deadline) => {
                let stdin = super::streams::set_waits_on_stdin(id);
                let http = crate::http::server::has_connections();
                if deadline.is_none() && !stdin && !http {
                    break Err(TrapKind::Deadlock);
                }
                // Nothing else can run meanwhile (one task): sleep in the reactor.
                crate::http::server::sleep_with(stdin, deadline);
            }
        }
    };
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
    if super::calls::in_async_callee(instance) == Some(true) {
        return match super::calls::task_return(&slots) {
            Ok(()) => BuiltinResult::value(0).encode(),
            Err(kind) => BuiltinResult::trap(kind).encode(),
        };
    }
    let Some(id) = CURRENT.with(|current| *current) else {
        return BuiltinResult::trap(TrapKind::InvalidTaskReturn).encode();
    };
    let stored = with_task(id, |task| match task.results {
        None => {
            task.results = Some(slots);
            Ok(())
        }
        Some(_) => Err(TrapKind::TaskReturnTwice),
    })
    .and_then(|r| r);
    match stored {
        Ok(()) => BuiltinResult::value(0).encode(),
        Err(kind) => BuiltinResult::trap(kind).encode(),
    }
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
    // `cancellable` waits, polls and yields may deliver the task's cancellation. Nothing
    // can cancel a task yet (`subtask.cancel` and `task.cancel` are not implemented), so
    // none is ever pending and they do what the plain ones do.
    let op = op & !async_op::CANCELLABLE;
    let result: Result<u32, TrapKind> = match op {
        async_op::WAITABLE_SET_NEW => {
            // A freed id is reused (a service makes a set per request); joins still
            // naming it are forgotten just below.
            let id = SETS.with(|sets| match sets.iter().position(Option::is_none) {
                Some(free) => {
                    sets[free] = Some(WaitableSet::default());
                    free as u32
                }
                None => {
                    sets.push(Some(WaitableSet::default()));
                    sets.len() as u32 - 1
                }
            });
            super::streams::forget_set(id);
            SUBTASKS.with(|subtasks| {
                for subtask in subtasks.iter_mut().flatten() {
                    if subtask.set == Some(id) {
                        subtask.set = None;
                    }
                }
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
                take_event(id).unwrap_or([event::NONE, 0, 0])
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
            // Host subtasks, and the ends of streams and futures.
            let waitable = component
                .with_table(instance, |table| match table.async_entry(a) {
                    Ok((kind, id))
                        if kind == AsyncKind::Subtask || super::streams::is_end(kind) =>
                    {
                        Ok((kind, id))
                    }
                    Ok(_) => Err(wafer_canon::Trap::HandleWrongType(a)),
                    Err(trap) => Err(trap),
                })
                .and_then(|id| id)
                .map_err(host_trap);
            let set = match b {
                0 => Ok(None),
                _ => set_id(b).map(Some),
            };
            waitable.and_then(|(kind, waitable)| {
                let set = set?;
                if kind == AsyncKind::Subtask {
                    with_subtask(waitable, |s| s.set = set)?;
                } else {
                    super::streams::join(waitable, set)?;
                }
                Ok(0)
            })
        }
        async_op::SUBTASK_DROP => component
            .with_table(instance, |table| table.async_id(AsyncKind::Subtask, a))
            .and_then(|id| id)
            .map_err(host_trap)
            .and_then(|id| {
                if !with_subtask(id, |s| s.resolved)? {
                    return Err(TrapKind::SubtaskNotResolved);
                }
                SUBTASKS.with(|subtasks| subtasks[id as usize] = None);
                component
                    .with_table(instance, |table| table.remove_async(AsyncKind::Subtask, a))
                    .and_then(|id| id)
                    .map(|_| 0)
                    .map_err(host_trap)
            }),
        // Nothing can cancel a task yet: never cancelled.
        async_op::THREAD_YIELD => Ok(0),
        _ => Err(TrapKind::Unreachable),
    };
    match result {
        Ok(value) => BuiltinResult::value(value).encode(),
        Err(kind) => BuiltinResult::trap(kind).encode(),
    }
}

/// Drives an `async` `wasi:cli/run` export: see `wafer_abi::symbols::RUN_ASYNC`.
///
/// # Safety
/// `descriptor` must be the image's component descriptor and `callback` the run
/// export's callback trampoline.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wafer_rt_run_async(
    descriptor: *const Descriptor,
    instance: u32,
    start: extern "C" fn(*mut ValueSlot),
    callback: extern "C" fn(*mut ValueSlot),
) -> u64 {
    // SAFETY: forwarded from the caller.
    let component = unsafe { Component::new(descriptor) };
    let mut slots = [[0u8; VALUE_SLOT_SIZE as usize]; 3];
    start_host_task(instance);
    start(slots.as_mut_ptr());
    let packed = u32::from_le_bytes([slots[0][0], slots[0][1], slots[0][2], slots[0][3]]);
    let driven = drive(component, instance, packed, |event| {
        for (slot, word) in slots.iter_mut().zip(event) {
            *slot = u128::from(word).to_le_bytes();
        }
        callback(slots.as_mut_ptr());
        u32::from_le_bytes([slots[0][0], slots[0][1], slots[0][2], slots[0][3]])
    });
    let status = driven
        .and_then(|()| finish_host_task())
        .and_then(|results| {
            // `result` flattens to its discriminant: 0 (`ok`) or 1 (`err`).
            match results.as_slice() {
                [slot] if slot[0] <= 1 && slot[1..4] == [0; 3] => Ok(u32::from(slot[0])),
                [_] => Err(TrapKind::InvalidDiscriminant),
                _ => Err(TrapKind::InvalidTaskReturn),
            }
        });
    match status {
        Ok(status) => BuiltinResult::value(status).encode(),
        Err(kind) => BuiltinResult::trap(kind).encode(),
    }
}
