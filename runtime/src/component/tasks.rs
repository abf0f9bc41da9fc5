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
//! spec traps on. Calls between instances lowered or lifted `async` are `calls.rs`;
//! a callee of one whose callback loop blocks is parked here as a task (`park`), one
//! that blocks elsewhere suspends its fiber (`stackful.rs`); both are given their
//! turns by `run_turns` whenever a task waits or yields (`wait_until`, the one wait
//! loop), and the caller's subtask resolves when the callee calls `task.return`.

use alloc::vec::Vec;

use wafer_abi::component::{BuiltinResult, async_op};
use wafer_abi::harness::VALUE_SLOT_SIZE;
use wafer_abi::trap::TrapKind;
use wafer_canon::AsyncKind;

use super::calls::TaskCall;
use super::{Component, Descriptor, host_trap};
use crate::global::Global;

/// The event codes delivered to a callback or written by `waitable-set.wait/poll`.
pub mod event {
    /// Nothing happened (after `YIELD`, or from `poll`).
    pub const NONE: u32 = 0;
    /// A subtask's state changed (payload: its handle and its new state).
    pub const SUBTASK: u32 = 1;
    /// The task was cancelled (`subtask.cancel` of its caller).
    pub const TASK_CANCELLED: u32 = 6;
}

/// A subtask's states, as `async` lowers return them (low 4 bits) and events report.
pub mod subtask_state {
    /// The callee waits to start (backpressure).
    pub const STARTING: u32 = 0;
    /// The callee has started.
    pub const STARTED: u32 = 1;
    /// The callee has returned.
    pub const RETURNED: u32 = 2;
    /// The callee was cancelled before it started.
    pub const CANCELLED_BEFORE_STARTED: u32 = 3;
    /// The callee was cancelled (`task.cancel`) before it returned.
    pub const CANCELLED_BEFORE_RETURNED: u32 = 4;
}

/// What `subtask.cancel async` answers while the callee has not resolved.
const BLOCKED: u32 = u32::MAX;

/// A subtask of a host function: it resolves when the monotonic clock reaches its
/// deadline.
#[derive(Debug)]
pub(super) struct HostSubtask {
    deadline: u64,
    pub(super) resolved: bool,
    /// Its resolution was delivered as an event.
    delivered: bool,
    /// The waitable set it is joined to.
    set: Option<u32>,
    /// Its handle in its instance's table.
    handle: u32,
    /// The state it resolved with (`RETURNED`, or a `CANCELLED_*` one).
    pub(super) state: u32,
    /// The callee's task, for the subtask of a parked call between instances.
    pub(super) task: Option<u32>,
    /// Its caller asked to cancel it (`subtask.cancel`).
    cancel_requested: bool,
    /// It was `STARTING` and has started since: a `STARTED` event is pending.
    pub(super) started_event: bool,
    /// A synchronous `subtask.cancel` waits on it: it may not join a waitable set.
    sync_waiter: bool,
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
    new_subtask(deadline, |id| {
        // SAFETY: the context the host function got holds its instance's state word.
        unsafe {
            super::with_instance_state(instance, |state| {
                state.table().add_async(AsyncKind::Subtask, id)
            })
        }
        .map_err(host_trap)
    })
}

/// The subtask of a call from `caller` lowered `async` whose callee's task was parked
/// ([`park`]): it resolves when the callee calls `task.return`. Answers (packed
/// `STARTED` status, id).
pub(super) fn new_call_subtask(component: Component, caller: u32) -> Result<(u32, u32), TrapKind> {
    new_subtask(RESOLVED_BY_HOST, |id| {
        component
            .with_table(caller, |table| table.add_async(AsyncKind::Subtask, id))
            .and_then(|handle| handle)
            .map_err(host_trap)
    })
}

/// A new subtask resolving at `deadline`, which `add` puts in its instance's table
/// (answering its handle): (packed `STARTED` status, id).
fn new_subtask(
    deadline: u64,
    add: impl FnOnce(u32) -> Result<u32, TrapKind>,
) -> Result<(u32, u32), TrapKind> {
    let id = SUBTASKS.with(|subtasks| {
        let subtask = HostSubtask {
            deadline,
            resolved: false,
            delivered: false,
            set: None,
            handle: 0,
            state: subtask_state::RETURNED,
            task: None,
            cancel_requested: false,
            started_event: false,
            sync_waiter: false,
        };
        crate::slots::insert(subtasks, subtask)
    });
    let handle = match add(id) {
        Ok(handle) => handle,
        Err(kind) => {
            SUBTASKS.with(|subtasks| subtasks[id as usize] = None);
            return Err(kind);
        }
    };
    with_subtask(id, |subtask| subtask.handle = handle)?;
    Ok((subtask_state::STARTED | handle << 4, id))
}

/// Runs `f` on host subtask `id`.
pub(super) fn with_subtask<T>(
    id: u32,
    f: impl FnOnce(&mut HostSubtask) -> T,
) -> Result<T, TrapKind> {
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
pub(super) fn take_event(id: u32) -> Result<[u32; 3], Option<u64>> {
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
                subtask.started_event = false;
                return Ok([event::SUBTASK, subtask.handle, subtask.state]);
            }
            if subtask.started_event && !subtask.resolved {
                subtask.started_event = false;
                return Ok([event::SUBTASK, subtask.handle, subtask_state::STARTED]);
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

/// Where a task is between its turns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Turn {
    /// Running now, or started by a driver that runs its loop itself ([`drive`]).
    Running,
    /// Its callback asked to run again soon (`YIELD`).
    Yielded,
    /// Its callback waits for an event in this waitable set.
    Waiting(u32),
    /// It exited.
    Exited,
    /// A task on a fiber waits until subtask `id` resolves (a synchronous cancel).
    AwaitSubtask(u32),
    /// A task on a fiber waits until end `id` of a stream or future has an event (a
    /// synchronous copy or cancel).
    AwaitEnd(u32),
    /// A task waits until the task on a fiber `id` returns (a synchronous call into it).
    AwaitTask(u32),
    /// A call waits to start in an instance until it has no backpressure (for a task
    /// that needs the instance to itself, until no other has it either).
    AwaitEnter { instance: u32, exclusive: bool },
    /// A callback loop waits to have its instance to itself again.
    AwaitExclusive(u32),
    /// Thread `id` (`threads`) waits to be resumed.
    Thread(u32),
}

/// An `async` task the host started: a harness call's or the run export's, or one per
/// request of an HTTP service (many at once: [`spawn`] and [`run_ready`]).
#[derive(Debug)]
pub(super) struct HostTask {
    /// The component instance it runs in.
    instance: u32,
    /// What `task.return` gave, once it has been called.
    results: Option<Vec<ValueSlot>>,
    /// Its `context.get`/`context.set` storage while another task runs.
    context: [u32; 2],
    /// Its callback, for tasks the executor drives.
    callback: Option<extern "C" fn(*mut ValueSlot)>,
    pub(super) turn: Turn,
    /// For the callee's task of a call between instances that blocked: its call.
    parked: Option<Parked>,
    /// Its caller cancelled it: pending until its next turn delivers
    /// `TASK_CANCELLED`, then delivered (`task.cancel` may be called).
    pub(super) cancel: Cancel,
    /// For the callee's task of a call between instances run on a fiber: the fiber.
    pub(super) fiber: Option<super::stackful::FiberTask>,
    /// For a task the host started: its implicit thread, once a `thread.*` built-in
    /// named it (`threads`).
    pub(super) thread: Option<u32>,
}

/// Where a task's cancellation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cancel {
    None,
    Pending,
    Delivered,
}

/// The callee's task of a call between instances lowered `async` whose callback
/// loop blocked before it returned (`calls::park`): what its turns need. Its storage,
/// borrows and `task.return` target are its call's, which each turn puts back on the
/// stack of calls; `context` is unused.
#[derive(Debug, Clone, Copy)]
pub(super) struct Parked {
    pub(super) call: super::Call,
    pub(super) callback: extern "C" fn(*mut ValueSlot),
    /// The image's `may_block` global, set for the callee during its turns.
    pub(super) may_block: *mut u32,
    pub(super) callee_may_block: u32,
    /// It needs its instance to itself for each turn (the spec's `needs_exclusive`).
    pub(super) exclusive: bool,
}

pub(super) static TASKS: Global<Vec<Option<HostTask>>> = Global::new(Vec::new());

/// The task running now, if the host started one.
static CURRENT: Global<Option<u32>> = Global::new(None);

/// Forgets every task, subtask and waitable set (a harness instantiates a new
/// component).
pub fn reset() {
    TASKS.with(Vec::clear);
    crate::fiber::reset();
    CURRENT.with(|current| *current = None);
    SETS.with(Vec::clear);
    SUBTASKS.with(Vec::clear);
}

/// Forgets which task runs (a harness call starts afresh; a trap may have left one
/// running). A task that was running when it trapped never runs again.
pub fn reset_current() {
    CURRENT.with(|current| *current = None);
    crate::fiber::abandon_running();
}

/// Adds a task in `instance`; returns its id.
pub(super) fn new_task(instance: u32, callback: Option<extern "C" fn(*mut ValueSlot)>) -> u32 {
    let task = HostTask {
        instance,
        results: None,
        context: [0; 2],
        callback,
        turn: Turn::Running,
        parked: None,
        cancel: Cancel::None,
        fiber: None,
        thread: None,
    };
    TASKS.with(|tasks| crate::slots::insert(tasks, task))
}

/// Runs `f` on task `id`.
pub(super) fn with_task<T>(id: u32, f: impl FnOnce(&mut HostTask) -> T) -> Result<T, TrapKind> {
    TASKS.with(|tasks| match tasks.get_mut(id as usize) {
        Some(Some(task)) => Ok(f(task)),
        _ => Err(TrapKind::Unreachable),
    })
}

impl HostTask {
    /// The component instance it runs in.
    pub(super) fn instance(&self) -> u32 {
        self.instance
    }
}

/// `thread.new-indirect`: see `wafer_abi::symbols::THREAD_NEW`.
///
/// # Safety
/// `descriptor` must be the image's component descriptor, `func_ref` a function
/// reference of type `(func (param i32))`, `call_ref` the image's caller of function
/// references and `may_block` the address of the task's `may_block` global.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wafer_rt_thread_new(
    descriptor: *const Descriptor,
    instance: u32,
    func_ref: *const u8,
    arg: u32,
    call_ref: super::calls::CallRef,
    may_block: *mut u32,
) -> u64 {
    // SAFETY: forwarded from the caller.
    let component = unsafe { Component::new(descriptor) };
    super::stackful::note_may_block_at(may_block);
    // SAFETY: as above; the new thread inherits its task's `may_block`.
    let inherited = unsafe { may_block.read() };
    let func_ref = func_ref as usize;
    let work = move || {
        let mut slots = [[0u8; VALUE_SLOT_SIZE as usize]; 1];
        slots[0] = u128::from(arg).to_le_bytes();
        // The compiled caller checked the reference's type, so the image's caller
        // calls it with the one `i32` argument in the first slot.
        match call_ref(func_ref as *const u8, slots.as_mut_ptr()) {
            0 => Ok(()),
            _ => Err(TrapKind::Unreachable),
        }
    };
    let made = super::stackful::spawn_thread(component, instance, inherited, work)
        .and_then(super::threads::index_of);
    match made {
        Ok(index) => BuiltinResult::value(index).encode(),
        Err(kind) => BuiltinResult::trap(kind).encode(),
    }
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
    let task = TASKS.with(|tasks| tasks.get_mut(id as usize).and_then(Option::take));
    if let Some(thread) = task.as_ref().and_then(|task| task.thread) {
        super::threads::forget(thread);
    }
    task.and_then(|task| task.results)
        .ok_or(TrapKind::TaskNotReturned)
}

/// The task the host started that runs now, if any.
pub(super) fn current_host_task() -> Option<u32> {
    CURRENT.with(|current| *current)
}

/// Whether the running task the host started has called `task.return`.
pub(super) fn host_task_returned() -> bool {
    CURRENT
        .with(|current| *current)
        .and_then(|id| with_task(id, |task| task.results.is_some()).ok())
        .unwrap_or(false)
}

/// Ends the host's call of the running task it started, which returned but whose
/// callback loop goes on (it asked to yield or wait, `packed`): what its `task.return`
/// gave. The task stays, with its storage, for the executor's later turns
/// ([`run_ready`]).
pub(super) fn park_host_task(
    component: Component,
    callback: extern "C" fn(*mut ValueSlot),
    packed: u32,
) -> Result<Vec<ValueSlot>, TrapKind> {
    let id = CURRENT
        .with(Option::take)
        .ok_or(TrapKind::TaskNotReturned)?;
    let mut context = [0; 2];
    super::swap_root_context(&mut context);
    let results = with_task(id, |task| {
        task.callback = Some(callback);
        task.context = context;
        task.results.take()
    })?
    .ok_or(TrapKind::TaskNotReturned)?;
    settle(component, id, packed)?;
    Ok(results)
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
    run_turns(component, false)
}

/// Gives each task that can make progress its next turn, as [`run_ready`]; with
/// `parked_only`, only the callees of calls between instances, parked or suspended on
/// their fibers (a task that waits or yields lets them run, not the host's other
/// tasks, whose driver runs them). A callee runs only when its instances can be
/// entered (another call into them is not in progress). Returns whether any ran.
fn run_turns(component: Component, parked_only: bool) -> Result<bool, TrapKind> {
    let mut ran = false;
    let count = TASKS.with(|tasks| tasks.len()) as u32;
    for id in 0..count {
        if super::stackful::is_fiber_task(id) {
            ran |= super::stackful::turn(component, id)?;
            continue;
        }
        let Some((turn, callback, parked)) = TASKS.with(|tasks| {
            let task = tasks.get(id as usize)?.as_ref()?;
            Some((task.turn, task.callback?, task.parked))
        }) else {
            continue;
        };
        if (parked_only && parked.is_none()) || matches!(turn, Turn::Running | Turn::Exited) {
            continue;
        }
        if let Some(parked) = &parked
            && ((parked.exclusive && component.is_exclusive(parked.call.callee))
                || component
                    .enter(Some(parked.call.caller), parked.call.callee)
                    .is_err())
        {
            continue;
        }
        let cancel = with_task(id, |task| task.cancel)?;
        let event = match turn {
            // A callback task learns of its cancellation when it next waits or yields.
            Turn::Waiting(set) if cancel == Cancel::Pending => {
                with_set(set, |set| set.waiting -= 1)?;
                with_task(id, |task| task.cancel = Cancel::Delivered)?;
                [event::TASK_CANCELLED, 0, 0]
            }
            _ if cancel == Cancel::Pending => {
                with_task(id, |task| task.cancel = Cancel::Delivered)?;
                [event::TASK_CANCELLED, 0, 0]
            }
            Turn::Waiting(set) => match take_event(set) {
                Ok(event) => {
                    with_set(set, |set| set.waiting -= 1)?;
                    event
                }
                Err(_) => {
                    if let Some(parked) = &parked {
                        component.leave(Some(parked.call.caller), parked.call.callee);
                    }
                    continue;
                }
            },
            _ => [event::NONE, 0, 0],
        };
        with_task(id, |task| task.turn = Turn::Running)?;
        let mut slots = [[0u8; VALUE_SLOT_SIZE as usize]; 3];
        for (slot, word) in slots.iter_mut().zip(event) {
            *slot = u128::from(word).to_le_bytes();
        }
        let run_callback = || {
            callback(slots.as_mut_ptr());
            first_word(&slots[0])
        };
        let packed = match parked {
            None => enter(id, run_callback)?,
            Some(parked) => parked_turn(component, id, parked, run_callback)?,
        };
        settle(component, id, packed)?;
        if parked.is_some() && with_task(id, |task| task.turn)? == Turn::Exited {
            finish_parked(component, id)?;
        }
        ran = true;
    }
    Ok(ran)
}

/// Runs `f` (a turn of parked callee `id`, whose instance it has entered) inside the
/// callee's call: on the stack of calls, with the callee's `may_block`. Leaves the
/// instance after.
fn parked_turn(
    component: Component,
    id: u32,
    parked: Parked,
    f: impl FnOnce() -> u32,
) -> Result<u32, TrapKind> {
    super::CALLS.with(|calls| calls.push(parked.call));
    if parked.exclusive {
        component.set_exclusive(parked.call.callee, true);
    }
    // SAFETY: `may_block` is the address of the image's `may_block` global, which
    // compiled code reads only while it runs (not now).
    let caller_may_block = unsafe { parked.may_block.read() };
    // SAFETY: as above.
    unsafe { parked.may_block.write(parked.callee_may_block) };
    let packed = enter(id, f);
    if parked.exclusive {
        component.set_exclusive(parked.call.callee, false);
    }
    // SAFETY: as above.
    unsafe { parked.may_block.write(caller_may_block) };
    let call = super::CALLS.with(Vec::pop).ok_or(TrapKind::Unreachable)?;
    component.leave(Some(call.caller), call.callee);
    with_task(id, |task| {
        if let Some(parked) = &mut task.parked {
            parked.call = call;
        }
    })?;
    packed
}

/// Ends parked callee `id`, whose callback exited: it must have called
/// `task.return`, and its call ends (its borrows dropped, its caller's lent handles
/// free again).
fn finish_parked(component: Component, id: u32) -> Result<(), TrapKind> {
    let task = TASKS.with(|tasks| tasks.get_mut(id as usize).and_then(Option::take));
    let call = task
        .and_then(|task| task.parked)
        .ok_or(TrapKind::Unreachable)?
        .call;
    if !call.async_return.is_some_and(|r| r.returned()) {
        return Err(TrapKind::TaskNotReturned);
    }
    super::finish_call(component, call).map_err(host_trap)
}

/// Parks the callee's task of a call between instances whose callback loop returned
/// `packed` (`YIELD` or `WAIT`) before the call returned: [`run_turns`] goes on with
/// it whenever it can make progress.
pub(super) fn park(component: Component, parked: Parked, packed: u32) -> Result<(), TrapKind> {
    let id = new_task(parked.call.callee, Some(parked.callback));
    let subtask = parked.call.async_return.and_then(|r| r.subtask());
    with_task(id, |task| task.parked = Some(parked))?;
    if let Some(subtask) = subtask {
        with_subtask(subtask, |s| s.task = Some(id))?;
    }
    settle(component, id, packed)
}

/// `subtask.cancel` of subtask `id`: asks its callee's task to cancel, which it learns
/// of at once if it is waiting or yielding (a turn delivers `TASK_CANCELLED`); a
/// `wasi:sockets@0.3` operation waiting for its socket is dropped at once. Answers
/// the state it resolved with; while it has not, `BLOCKED` for an `async` cancel, else
/// the caller waits for it (other tasks run meanwhile).
fn cancel_subtask(component: Component, id: u32, is_async: bool) -> Result<u32, TrapKind> {
    let (delivered, requested, task, joined) = with_subtask(id, |s| {
        (s.delivered, s.cancel_requested, s.task, s.set.is_some())
    })?;
    if joined && !is_async {
        return Err(TrapKind::SyncWaitableInSet);
    }
    if delivered || requested {
        return Err(TrapKind::SubtaskCancelAfterResolved);
    }
    with_subtask(id, |s| s.cancel_requested = true)?;
    if !with_subtask(id, |s| s.resolved)? {
        match task {
            Some(task) => {
                with_task(task, |task| {
                    if task.cancel == Cancel::None {
                        task.cancel = Cancel::Pending;
                    }
                })?;
                run_turns(component, true)?;
            }
            // A host subtask stops at once, with nothing done: a wait on the clock, a
            // `wasi:sockets@0.3` operation waiting for its socket, or an HTTP client's
            // request (its connection closed).
            None if with_subtask(id, |s| s.deadline != RESOLVED_BY_HOST)?
                || crate::p2::sockets_p3::cancel(id)
                || crate::http::server::cancel_exchange(id)
                || crate::http::client::cancel_lookup(id) =>
            {
                with_subtask(id, |s| {
                    s.state = subtask_state::CANCELLED_BEFORE_RETURNED;
                    s.resolved = true;
                })?
            }
            // Every host subtask is one of those.
            None => return Err(TrapKind::Unreachable),
        }
    }
    loop {
        if with_subtask(id, |s| s.resolved)? {
            // The caller learns the resolution here rather than as an event.
            return with_subtask(id, |s| {
                s.delivered = true;
                s.state
            });
        }
        if is_async {
            return Ok(BLOCKED);
        }
        with_subtask(id, |s| s.sync_waiter = true)?;
        let waited = wait_until(component, Turn::AwaitSubtask(id));
        let _ = with_subtask(id, |s| s.sync_waiter = false);
        waited?;
    }
}

/// `task.cancel` of the running task in `instance`: it must be a parked callee that
/// was told of its cancellation; its caller's subtask resolves as
/// `CANCELLED_BEFORE_RETURNED`, with no results.
fn cancel_task(instance: u32) -> Result<(), TrapKind> {
    // A thread `thread.new-indirect` made acts for its task.
    let owner = super::threads::running_owner();
    let id = match owner {
        Some(owner) => owner.task,
        None => super::stackful::current().or_else(|| CURRENT.with(|current| *current)),
    }
    .ok_or(TrapKind::TaskCancelNotCancelled)?;
    let target = owner.map_or(TaskCall::Innermost, |owner| {
        TaskCall::OfThread(owner.thread)
    });
    let delivered = with_task(id, |task| {
        task.instance == instance && task.cancel == Cancel::Delivered
    })
    .unwrap_or(false);
    if !delivered || super::calls::is_async_callee(target, instance) != Some(true) {
        return Err(TrapKind::TaskCancelNotCancelled);
    }
    if let Some(subtask) = super::calls::task_cancel(target)? {
        with_subtask(subtask, |s| {
            s.state = subtask_state::CANCELLED_BEFORE_RETURNED;
            s.resolved = true;
        })?;
    }
    Ok(())
}

/// What task `id` gave `task.return`, once (`None` before it has).
pub fn take_results(id: u32) -> Option<Vec<ValueSlot>> {
    with_task(id, |task| task.results.take()).ok().flatten()
}

/// Whether task `id` exited; an exited task is forgotten after this says so (its
/// driver traps for one that exited without `task.return`, as the spec says).
pub fn exited(id: u32) -> Result<bool, TrapKind> {
    let exited = with_task(id, |task| task.turn == Turn::Exited)?;
    if exited {
        let task = TASKS.with(|tasks| tasks[id as usize].take());
        if let Some(thread) = task.and_then(|task| task.thread) {
            super::threads::forget(thread);
        }
    }
    Ok(exited)
}

/// The earliest deadline of a host subtask some task waits for, if any.
pub fn next_deadline() -> Option<u64> {
    resolve_due();
    let clocks = SUBTASKS.with(|subtasks| {
        subtasks
            .iter()
            .flatten()
            .filter(|s| !s.resolved && s.set.is_some() && s.deadline != RESOLVED_BY_HOST)
            .map(|s| s.deadline)
            .min()
    });
    // A DNS lookup gives up (or asks again) at its deadline.
    match (clocks, crate::host::dns::next_deadline()) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The callback loop of an `async` task in `instance` whose core function returned
/// `packed`: calls `callback` with each event until it returns `EXIT`. `callback` takes
/// the event (code, two payload words) and returns the next packed code.
pub fn drive(
    component: Component,
    instance: u32,
    packed: u32,
    callback: impl FnMut([u32; 3]) -> u32,
) -> Result<(), TrapKind> {
    drive_until(component, instance, false, packed, callback, || false).map(|_| ())
}

/// [`drive`], stopping before the task would yield or wait once `stop` says so: then
/// answers the packed code it returned last (its task can be parked with it), else
/// `None` when it exited. With `exclusive`, the task has its instance to itself, and
/// gives it up while it yields or waits (the spec's callback loop).
pub(super) fn drive_until(
    component: Component,
    instance: u32,
    exclusive: bool,
    mut packed: u32,
    mut callback: impl FnMut([u32; 3]) -> u32,
    mut stop: impl FnMut() -> bool,
) -> Result<Option<u32>, TrapKind> {
    loop {
        let (code, set) = (packed & 0xf, packed >> 4);
        if code != callback_code::EXIT && stop() {
            return Ok(Some(packed));
        }
        if exclusive && code != callback_code::EXIT {
            component.set_exclusive(instance, false);
        }
        let event = match code {
            callback_code::EXIT => return Ok(None),
            callback_code::YIELD => {
                // Others make progress meanwhile.
                yield_turn(component, true)?
            }
            callback_code::WAIT => {
                let id = component
                    .with_table(instance, |table| {
                        table.async_id(AsyncKind::WaitableSet, set)
                    })
                    .and_then(|id| id)
                    .map_err(host_trap)?;
                wait(component, id, true)?
            }
            _ => return Err(TrapKind::UnsupportedCallbackCode),
        };
        if exclusive {
            wait_until(component, Turn::AwaitExclusive(instance))?;
            component.set_exclusive(instance, true);
        }
        packed = callback(event);
    }
}

/// Waits for an event in waitable set `id` ([`wait_until`]).
fn wait(component: Component, id: u32, cancellable: bool) -> Result<[u32; 3], TrapKind> {
    with_set(id, |set| set.waiting += 1)?;
    let event = wait_for(component, Turn::Waiting(id), cancellable);
    with_set(id, |set| set.waiting -= 1)?;
    event
}

/// Delivers the running task's pending cancellation, if it has one (for a
/// `cancellable` wait, poll or yield): whether it did.
pub(super) fn deliver_pending_cancel() -> Result<bool, TrapKind> {
    // A thread `thread.new-indirect` made learns of its task's cancellation.
    let running = super::stackful::current().map(super::stackful::cancel_record);
    let Some(id) = running.or_else(|| CURRENT.with(|current| *current)) else {
        return Ok(false);
    };
    with_task(id, |task| {
        let pending = task.cancel == Cancel::Pending;
        if pending {
            task.cancel = Cancel::Delivered;
        }
        pending
    })
}

/// Lets the others run (`thread.yield`, a callback's `YIELD`): a task on a fiber
/// suspends until its next turn; on the guest stack, the parked callees take theirs.
fn yield_turn(component: Component, cancellable: bool) -> Result<[u32; 3], TrapKind> {
    if super::stackful::current().is_some() {
        return wait_for(component, Turn::Yielded, cancellable);
    }
    match super::threads::sync_scope() {
        Some(instance) => {
            run_scoped(component, instance)?;
        }
        None => {
            run_turns(component, true)?;
        }
    }
    Ok([event::NONE, 0, 0])
}

/// What ends a wait for `turn` now, if anything does: the event it delivers (taken).
pub(super) fn ready(component: Component, turn: Turn) -> Result<Option<[u32; 3]>, TrapKind> {
    let none = [event::NONE, 0, 0];
    Ok(match turn {
        Turn::AwaitEnter {
            instance,
            exclusive,
        } => (!component.has_backpressure(instance, exclusive)).then_some(none),
        Turn::AwaitExclusive(instance) => (!component.is_exclusive(instance)).then_some(none),
        Turn::Waiting(set) => take_event(set).ok(),
        Turn::Yielded => Some([event::NONE, 0, 0]),
        Turn::AwaitSubtask(id) => with_subtask(id, |s| s.resolved)?.then_some([event::NONE, 0, 0]),
        Turn::AwaitEnd(id) => super::streams::end_has_event(id)?.then_some([event::NONE, 0, 0]),
        Turn::AwaitTask(id) => super::stackful::has_returned(id).then_some([event::NONE, 0, 0]),
        Turn::Thread(id) => super::threads::take_resumed(id),
        Turn::Running | Turn::Exited => None,
    })
}

/// Whether a wait for `turn` would end now, as [`ready`] says, without taking its
/// event.
fn would_be_ready(component: Component, turn: Turn) -> bool {
    match turn {
        Turn::AwaitEnter {
            instance,
            exclusive,
        } => !component.has_backpressure(instance, exclusive),
        Turn::AwaitExclusive(instance) => !component.is_exclusive(instance),
        Turn::Waiting(set) => {
            super::streams::set_has_event(set)
                || SUBTASKS.with(|subtasks| {
                    subtasks.iter().flatten().any(|s| {
                        s.set == Some(set)
                            && ((s.resolved && !s.delivered) || (s.started_event && !s.resolved))
                    })
                })
        }
        Turn::Yielded => true,
        Turn::AwaitSubtask(id) => with_subtask(id, |s| s.resolved).unwrap_or(false),
        Turn::AwaitEnd(id) => super::streams::end_has_event(id).unwrap_or(false),
        Turn::AwaitTask(id) => super::stackful::has_returned(id),
        Turn::Thread(id) => super::threads::is_resumable(id),
        Turn::Running | Turn::Exited => false,
    }
}

/// Whether task `id` waits and its wait would end now (a running task does not).
pub(super) fn task_would_be_ready(component: Component, id: u32) -> bool {
    with_task(id, |task| task.turn).is_ok_and(|turn| would_be_ready(component, turn))
}

/// Whether some task that waits could go on now.
pub(super) fn any_ready(component: Component) -> bool {
    let turns: Vec<Turn> = TASKS.with(|tasks| tasks.iter().flatten().map(|t| t.turn).collect());
    turns
        .into_iter()
        .any(|turn| would_be_ready(component, turn))
}

/// Gives one ready thread of `instance` that may use the stack its turn (a task on a
/// fiber that does not need the instance to itself): what a synchronous task's wait
/// runs meanwhile. Answers whether one ran.
pub(super) fn run_scoped(component: Component, instance: u32) -> Result<bool, TrapKind> {
    let count = TASKS.with(|tasks| tasks.len()) as u32;
    for id in 0..count {
        if super::stackful::may_run_in_scope(id, instance) && super::stackful::turn(component, id)?
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// `thread.yield` (or a `thread.yield-then-promote` with no thread to promote) of a
/// thread of `instance`: answers the event that ended it.
pub(super) fn yield_now(
    component: Component,
    instance: u32,
    may_block: bool,
    cancellable: bool,
) -> Result<[u32; 3], TrapKind> {
    super::threads::scoped(instance, may_block, || yield_turn(component, cancellable))
}

/// Waits until `turn` is ready ([`ready`]): a task on a fiber suspends until then,
/// while on the guest stack the parked callees and fibers take their turns, and with
/// none ready the reactor sleeps until a subtask's deadline, stdin or a connection;
/// with nothing that can end the wait, it would never end (the spec's deadlock).
pub(super) fn wait_until(component: Component, turn: Turn) -> Result<[u32; 3], TrapKind> {
    wait_for(component, turn, false)
}

/// [`wait_until`]; with `cancellable`, a task on a fiber that is asked to cancel
/// learns of it (`TASK_CANCELLED`) rather than waiting on.
pub(super) fn wait_for(
    component: Component,
    turn: Turn,
    cancellable: bool,
) -> Result<[u32; 3], TrapKind> {
    if cancellable && deliver_pending_cancel()? {
        return Ok([event::TASK_CANCELLED, 0, 0]);
    }
    if super::stackful::current().is_some() {
        // A wait that is over already does not suspend (but a yield does).
        if turn != Turn::Yielded
            && let Some(event) = ready(component, turn)?
        {
            return Ok(event);
        }
        return super::stackful::block(component, turn, cancellable);
    }
    loop {
        // HTTP exchanges and socket operations the guest started move on meanwhile.
        crate::http::server::advance_clients()?;
        crate::p2::sockets_p3::advance()?;
        if let Some(event) = ready(component, turn)? {
            return Ok(event);
        }
        if let Some(instance) = super::threads::sync_scope() {
            // A synchronous task waits: only its instance's threads may run.
            if run_scoped(component, instance)? {
                continue;
            }
            return Err(TrapKind::Deadlock);
        }
        if run_turns(component, true)? {
            continue;
        }
        let deadline = next_deadline();
        let stdin = match turn {
            Turn::Waiting(set) => super::streams::set_waits_on_stdin(set),
            Turn::AwaitEnd(id) => super::streams::end_waits_on_stdin(id),
            _ => false,
        };
        let http = crate::http::server::has_connections();
        let sockets = crate::p2::sockets_p3::waiting() || crate::host::dns::any_live();
        let output = !super::streams::waiting_outputs().is_empty();
        if deadline.is_none() && !stdin && !http && !sockets && !output {
            return Err(TrapKind::Deadlock);
        }
        // Nothing else can run meanwhile: sleep in the reactor.
        crate::http::server::sleep_with(stdin, deadline);
    }
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
    // SAFETY: the compiled caller spilled `count` slots there.
    let slots = unsafe { core::slice::from_raw_parts(values, count as usize) }.to_vec();
    let returned = match super::threads::running_owner() {
        // A thread `thread.new-indirect` made returns for its task.
        Some(owner) => task_return_for(
            TaskCall::OfThread(owner.thread),
            owner
                .task
                .filter(|&id| with_task(id, |t| t.thread == Some(owner.thread)).unwrap_or(false)),
            instance,
            slots,
        )
        // Its task is gone: it resolved.
        .map_err(|kind| match kind {
            TrapKind::InvalidTaskReturn => TrapKind::TaskReturnTwice,
            kind => kind,
        }),
        None => task_return_for(TaskCall::Innermost, CURRENT.with(|c| *c), instance, slots),
    };
    match returned {
        Ok(()) => BuiltinResult::value(0).encode(),
        Err(kind) => BuiltinResult::trap(kind).encode(),
    }
}

/// `task.return` of `instance`'s task: the callee of `target`'s call if it is one
/// lifted `async`, else the task the host started (`host_task`), if it runs there.
fn task_return_for(
    target: TaskCall,
    host_task: Option<u32>,
    instance: u32,
    slots: Vec<ValueSlot>,
) -> Result<(), TrapKind> {
    match super::calls::is_async_callee(target, instance) {
        Some(true) => super::calls::task_return(target, &slots),
        Some(false) => Err(TrapKind::InvalidTaskReturn),
        None => {
            let id = host_task.ok_or(TrapKind::InvalidTaskReturn)?;
            with_task(id, |task| match task.results {
                _ if task.instance != instance => Err(TrapKind::InvalidTaskReturn),
                None => {
                    task.results = Some(slots);
                    Ok(())
                }
                Some(_) => Err(TrapKind::TaskReturnTwice),
            })?
        }
    }
}

/// Runs `f` on the call of the task whose implicit thread is `thread`, if a suspended
/// fiber keeps it or it is a parked callee's.
pub(super) fn with_kept_call<T>(thread: u32, f: impl FnOnce(&mut super::Call) -> T) -> Option<T> {
    TASKS.with(|tasks| {
        let call = tasks.iter_mut().flatten().find_map(|task| {
            match (&mut task.parked, &mut task.fiber) {
                (Some(parked), _) if parked.call.thread == Some(thread) => Some(&mut parked.call),
                (_, Some(fiber)) => fiber.kept_call(thread),
                _ => None,
            }
        })?;
        Some(f(call))
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
    // `cancellable` waits, polls and yields may deliver the task's cancellation. Only a
    // parked callee's callback turn delivers one here (`run_turns`), so they do what
    // the plain ones do.
    let may_block = op & async_op::MAY_BLOCK != 0;
    let cancellable = op & async_op::CANCELLABLE != 0;
    let op = op & !(async_op::CANCELLABLE | async_op::MAY_BLOCK);
    let result: Result<u32, TrapKind> = match op {
        async_op::WAITABLE_SET_NEW => {
            // A freed id is reused (a service makes a set per request); joins still
            // naming it are forgotten just below.
            let id = SETS.with(|sets| crate::slots::insert(sets, WaitableSet::default()));
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
                if cancellable && deliver_pending_cancel()? {
                    [event::TASK_CANCELLED, 0, 0]
                } else {
                    take_event(id).unwrap_or([event::NONE, 0, 0])
                }
            } else if !super::threads::may_wait(component, may_block) {
                return Err(TrapKind::CannotBlockSyncTask);
            } else {
                super::threads::scoped(instance, may_block, || wait(component, id, cancellable))?
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
                    with_subtask(waitable, |s| {
                        if set.is_some() && s.sync_waiter {
                            return Err(TrapKind::SyncWaitableInSet);
                        }
                        s.set = set;
                        Ok(())
                    })??;
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
        // Answers whether the task was cancelled.
        async_op::THREAD_YIELD => yield_now(component, instance, may_block, cancellable)
            .map(|event| u32::from(event[0] == event::TASK_CANCELLED)),
        // A synchronous cancel may block.
        async_op::SUBTASK_CANCEL if !super::threads::may_wait(component, may_block) => {
            Err(TrapKind::CannotBlockSyncTask)
        }
        async_op::SUBTASK_CANCEL | async_op::SUBTASK_CANCEL_ASYNC => component
            .with_table(instance, |table| table.async_id(AsyncKind::Subtask, a))
            .and_then(|id| id)
            .map_err(host_trap)
            .and_then(|id| {
                super::threads::scoped(instance, may_block, || {
                    cancel_subtask(component, id, op == async_op::SUBTASK_CANCEL_ASYNC)
                })
            }),
        async_op::TASK_CANCEL => cancel_task(instance).map(|()| 0),
        async_op::THREAD_INDEX..=async_op::THREAD_YIELD_THEN_PROMOTE => {
            super::threads::builtin(component, op, instance, a, may_block, cancellable)
        }
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
