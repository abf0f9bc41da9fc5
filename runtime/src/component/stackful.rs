//! Calls between component instances run on fibers (`crate::fiber`): a callee that
//! blocks before it returns (a synchronous callee waiting on a set, a copy or a call,
//! a callback's core function making a blocking call, a `thread.yield`) suspends its
//! fiber, and its caller goes on. An `async` lower then gets `STARTED` and a subtask
//! that resolves when the callee returns; a synchronous lower gets its results as soon
//! as the callee calls `task.return`, and otherwise waits (itself suspending, if it is
//! on a fiber) until it has them. The executor (`tasks::run_turns`) resumes a suspended
//! fiber when what it waits for is ready.
//!
//! While a fiber is suspended, its calls (the part of the stack of calls it pushed)
//! are kept with its task, and their instances are left; resuming enters them again
//! and pushes the calls back, so the reentrance rule and each call's borrows and
//! storage are as they were. A fiber is resumed only when its instances can be
//! entered. Where no fiber stack can be had, calls run on the caller's stack: their
//! waits block in place.

use alloc::boxed::Box;
use alloc::rc::Rc;
use alloc::vec;
use alloc::vec::Vec;
use core::cell::RefCell;

use wafer_abi::trap::TrapKind;

use super::tasks::{self, Cancel, TASKS, Turn, ValueSlot, event, subtask_state, with_task};
use super::{CALLS, Call, Component};
use crate::global::Global;

/// What a call run on a fiber ended with: its packed status for the caller and the
/// values a synchronous lower gets, or a trap.
pub(super) type Outcome = Result<(u32, Vec<ValueSlot>), TrapKind>;

/// The fiber part of a task (`tasks::HostTask::fiber`).
#[derive(Debug)]
pub(super) struct FiberTask {
    fiber: u32,
    /// The calls it pushed, while it is suspended (innermost last).
    calls: Vec<Call>,
    /// Where its calls start in the stack of calls while it runs.
    calls_base: usize,
    /// The image's `may_block` value inside it, while it is suspended.
    may_block: u32,
    /// What the turn that resumes it delivers to its wait.
    event: [u32; 3],
    /// Its caller's subtask, once it blocked under an `async` lower.
    subtask: Option<u32>,
    /// What its work ended with, once it has.
    outcome: Rc<RefCell<Option<Outcome>>>,
    /// A synchronous caller waits for it (and takes its outcome).
    awaited: bool,
    /// It has suspended at least once.
    suspended: bool,
    /// Its wait may end with its cancellation.
    cancellable: bool,
    /// Its callee started (it did not wait for backpressure, or waited and started).
    started: bool,
    /// Its callee has no `task.return` (it is lifted synchronously): the caller's
    /// subtask resolves when the fiber finishes.
    resolves_at_end: bool,
    /// Its callee's task needs its instance to itself (the spec's `needs_exclusive`):
    /// a synchronous task's wait does not run it.
    exclusive: bool,
    /// For a thread `thread.new-indirect` made: its instance, which it enters (if no
    /// thread of the instance is in it already) whenever it runs.
    thread_of: Option<u32>,
    /// For such a thread: the record of the task it belongs to, whose cancellation it
    /// may be told of.
    owner_task: Option<u32>,
}

impl FiberTask {
    /// A task on fiber `fiber` that has not run yet, its work to end with `outcome`.
    fn new(fiber: u32, outcome: Rc<RefCell<Option<Outcome>>>) -> FiberTask {
        FiberTask {
            fiber,
            calls: Vec::new(),
            calls_base: 0,
            may_block: 0,
            event: [event::NONE, 0, 0],
            subtask: None,
            outcome,
            awaited: false,
            suspended: false,
            cancellable: false,
            started: false,
            resolves_at_end: false,
            exclusive: false,
            thread_of: None,
            owner_task: None,
        }
    }

    /// The call it keeps while suspended whose task's implicit thread is `thread`.
    pub(super) fn kept_call(&mut self, thread: u32) -> Option<&mut Call> {
        self.calls
            .iter_mut()
            .find(|call| call.thread == Some(thread))
    }
}

/// The task record whose cancellation the thread on fiber task `id` learns of: its
/// own, or for a thread `thread.new-indirect` made, its task's.
pub(super) fn cancel_record(id: u32) -> u32 {
    with_task(id, |task| task.fiber.as_ref().and_then(|f| f.owner_task))
        .ok()
        .flatten()
        .unwrap_or(id)
}

/// The task on a fiber the trampoline in [`resume`] runs next: a thread switched to
/// one on a fiber, and suspended its own.
static SWITCH_NEXT: Global<Option<u32>> = Global::new(None);

/// Has the trampoline that resumed the running fiber run task `id`'s next (a switch).
pub(super) fn switch_next(id: u32) {
    SWITCH_NEXT.with(|next| *next = Some(id));
}

/// The address of the image's `may_block` global (zero before a call ran on a fiber).
static MAY_BLOCK: Global<usize> = Global::new(0);

/// Notes the address of the image's `may_block` global, which compiled code passed.
pub(super) fn note_may_block_at(at: *mut u32) {
    MAY_BLOCK.with(|slot| *slot = at as usize);
}

/// Lets the running thread block from now on (its `may_block` global is set): another
/// thread is ready to run meanwhile.
pub(super) fn allow_blocking() {
    set_may_block(1);
}

fn may_block() -> u32 {
    let at = MAY_BLOCK.with(|at| *at);
    if at == 0 {
        return 0;
    }
    // SAFETY: `MAY_BLOCK` holds the address of the image's `may_block` global, which
    // compiled code reads only while it runs (not now).
    unsafe { (at as *const u32).read() }
}

fn set_may_block(value: u32) {
    let at = MAY_BLOCK.with(|at| *at);
    if at != 0 {
        // SAFETY: as in `may_block`.
        unsafe { (at as *mut u32).write(value) };
    }
}

/// Waits, if it must, until a call of an `async` function may start in `instance`
/// (the spec's backpressure; `exclusive`: the task needs the instance to itself).
/// Answers whether it was cancelled while it waited.
pub(super) fn wait_to_start(
    component: Component,
    instance: u32,
    exclusive: bool,
) -> Result<bool, TrapKind> {
    if !component.must_wait_to_enter(instance, exclusive) {
        return Ok(false);
    }
    component.count_waiting_to_enter(instance, 1);
    let waited = tasks::wait_for(
        component,
        Turn::AwaitEnter {
            instance,
            exclusive,
        },
        true,
    );
    component.count_waiting_to_enter(instance, -1);
    Ok(waited?[0] == event::TASK_CANCELLED)
}

/// Notes that the call of the running fiber started: a caller that got `STARTING`
/// learns of it as an event.
pub(super) fn started() {
    let Some(id) = current() else {
        return;
    };
    let subtask = with_task(id, |task| {
        let f = task.fiber.as_mut()?;
        f.started = true;
        f.subtask
    })
    .ok()
    .flatten();
    if let Some(subtask) = subtask {
        let _ = tasks::with_subtask(subtask, |s| s.started_event = true);
    }
}

/// Whether the fiber running now has suspended before (its caller has its answer).
pub(super) fn running_has_suspended() -> bool {
    current().is_some_and(|id| {
        with_task(id, |task| task.fiber.as_ref().is_some_and(|f| f.suspended)).unwrap_or(false)
    })
}

/// Whether task `id` runs on a fiber.
pub(super) fn is_fiber_task(id: u32) -> bool {
    TASKS.with(|tasks| {
        tasks
            .get(id as usize)
            .and_then(Option::as_ref)
            .is_some_and(|task| task.fiber.is_some())
    })
}

/// The task of the fiber running now, if any.
pub(super) fn current() -> Option<u32> {
    let fiber = crate::fiber::running()?;
    TASKS.with(|tasks| {
        tasks.iter().enumerate().find_map(|(id, task)| {
            task.as_ref()
                .and_then(|task| task.fiber.as_ref())
                .is_some_and(|f| f.fiber == fiber)
                .then_some(id as u32)
        })
    })
}

/// Runs `work`, a call from `caller` into `callee` lowered `async` (`async_lower`) or
/// not, on a new fiber (the caller runs it itself when `crate::fiber::available` says
/// there is none to be had). `may_block` is the image's `may_block` global. Answers the call's outcome: what `work` answered when
/// it ran to its end, or else the status of a call that blocked (see the module's
/// documentation).
#[allow(clippy::too_many_arguments, reason = "the parts of a call")]
pub(super) fn run_call(
    component: Component,
    caller: u32,
    callee: u32,
    async_lower: bool,
    callee_async: bool,
    exclusive: bool,
    may_block_at: *mut u32,
    work: impl FnOnce() -> Outcome + 'static,
) -> Outcome {
    MAY_BLOCK.with(|at| *at = may_block_at as usize);
    let outcome = Rc::new(RefCell::new(None));
    let id = tasks::new_task(callee, None);
    let slot = outcome.clone();
    let fiber = crate::fiber::new(Box::new(move || {
        let base = CALLS.with(|calls| calls.len());
        let _ = with_task(id, |task| {
            if let Some(f) = &mut task.fiber {
                f.calls_base = base;
            }
        });
        let result = work();
        *slot.borrow_mut() = Some(result);
    }));
    let Some(fiber) = fiber else {
        TASKS.with(|tasks| tasks[id as usize] = None);
        return Err(TrapKind::NoFiberStack);
    };
    let _ = with_task(id, |task| {
        task.fiber = Some(FiberTask {
            exclusive,
            ..FiberTask::new(fiber, outcome)
        });
    });
    let mut finished = resume(component, id)?;
    if !finished && !callee_async {
        // A synchronous callee blocked: until it returns, only the threads of its
        // instance that can use the stack run (its own among them), else it deadlocks.
        while !has_returned(id) {
            if !super::tasks::run_scoped(component, callee)? {
                return Err(TrapKind::Deadlock);
            }
        }
        finished = self::finished(id);
    }
    match finished {
        true => take_outcome(id),
        false => blocked(component, id, caller, async_lower),
    }
}

/// Resumes the fiber of task `id` (its turn is taken): whether it finished. A thread
/// that suspends by switching to a thread on another fiber has that fiber run next,
/// here, and so on (a trampoline: switches do not nest).
fn resume(component: Component, id: u32) -> Result<bool, TrapKind> {
    let mut running = id;
    let mut id_finished = false;
    loop {
        let finished = resume_one(component, running)?;
        if running == id {
            id_finished = finished;
        } else if finished {
            finish(running)?;
        }
        let Some(next) = SWITCH_NEXT.with(Option::take) else {
            return Ok(id_finished);
        };
        if !prepare_turn(component, next)? {
            // It cannot run now (its instance is busy): a later turn runs it.
            return Ok(id_finished);
        }
        running = next;
    }
}

/// Resumes the fiber of task `id` once: whether it finished. A thread
/// `thread.new-indirect` made enters its instance while it runs, unless a thread of
/// the instance is in it already (it was switched to, or a synchronous task's wait
/// runs it).
fn resume_one(component: Component, id: u32) -> Result<bool, TrapKind> {
    let (fiber, thread_of) = with_task(id, |task| {
        task.fiber.as_ref().map(|f| (f.fiber, f.thread_of))
    })?
    .ok_or(TrapKind::Unreachable)?;
    let entered = match thread_of {
        Some(instance) => component.enter(None, instance).is_ok(),
        None => false,
    };
    let mine = may_block();
    let state = crate::fiber::resume(fiber);
    set_may_block(mine);
    if let (true, Some(instance)) = (entered, thread_of) {
        component.leave(None, instance);
    }
    match state {
        Some(crate::fiber::State::Finished) => Ok(true),
        Some(_) => Ok(false),
        None => Err(TrapKind::Unreachable),
    }
}

/// The outcome of finished task `id`, which is forgotten.
fn take_outcome(id: u32) -> Outcome {
    let task = TASKS.with(|tasks| tasks.get_mut(id as usize).and_then(Option::take));
    task.and_then(|task| task.fiber)
        .and_then(|f| f.outcome.borrow_mut().take())
        .unwrap_or(Err(TrapKind::Unreachable))
}

/// What `task.return` gave the call suspended task `id` was started for, if its
/// callee has called it: (flat result count, value).
fn root_results(id: u32) -> Option<(usize, ValueSlot)> {
    with_task(id, |task| {
        task.fiber.as_ref()?.calls.first()?.async_return?.results()
    })
    .ok()
    .flatten()
}

/// The caller's answer for the call of task `id`, which blocked before its end.
fn blocked(component: Component, id: u32, caller: u32, async_lower: bool) -> Outcome {
    if async_lower {
        if root_results(id).is_some() {
            // It returned already and runs on with no subtask.
            return Ok((subtask_state::RETURNED, Vec::new()));
        }
        let (mut status, subtask) = tasks::new_call_subtask(component, caller)?;
        if !with_task(id, |task| task.fiber.as_ref().is_some_and(|f| f.started))? {
            status = (status & !0xf) | subtask_state::STARTING;
        }
        with_task(id, |task| {
            if let Some(f) = &mut task.fiber {
                f.subtask = Some(subtask);
                match f.calls.first_mut().and_then(|c| c.async_return.as_mut()) {
                    Some(r) => r.set_subtask(subtask),
                    None => f.resolves_at_end = true,
                }
            }
        })?;
        tasks::with_subtask(subtask, |s| s.task = Some(id))?;
        return Ok((status, Vec::new()));
    }
    // A synchronous caller waits for the results.
    with_task(id, |task| {
        if let Some(f) = &mut task.fiber {
            f.awaited = true;
        }
    })?;
    let caller_may_block = may_block() != 0;
    super::threads::scoped(caller, caller_may_block, || {
        tasks::wait_until(component, Turn::AwaitTask(id))
    })?;
    match root_results(id) {
        Some((count, slot)) if !finished(id) => {
            with_task(id, |task| {
                if let Some(f) = &mut task.fiber {
                    f.awaited = false;
                }
            })?;
            Ok((subtask_state::RETURNED, vec![slot; count]))
        }
        _ => take_outcome(id),
    }
}

/// Whether task `id`'s fiber finished (its outcome is kept for an awaiting caller).
fn finished(id: u32) -> bool {
    with_task(id, |task| task.turn == Turn::Exited).unwrap_or(true)
}

/// Whether the caller awaiting task `id` can go on: it called `task.return`, or it
/// finished.
pub(super) fn has_returned(id: u32) -> bool {
    !is_fiber_task(id) || finished(id) || root_results(id).is_some()
}

/// Suspends the running fiber's task until `turn` is ready: its calls leave the stack
/// of calls and their instances until a turn resumes it. Answers the event that turn
/// delivers.
pub(super) fn block(
    component: Component,
    turn: Turn,
    cancellable: bool,
) -> Result<[u32; 3], TrapKind> {
    let id = current().ok_or(TrapKind::Unreachable)?;
    let base = with_task(id, |task| task.fiber.as_ref().map_or(0, |f| f.calls_base))?;
    let calls = CALLS.with(|calls| calls.split_off(base.min(calls.len())));
    for call in calls.iter().rev() {
        component.leave(Some(call.caller), call.callee);
    }
    let inside = may_block();
    with_task(id, |task| {
        task.turn = turn;
        if let Some(f) = &mut task.fiber {
            f.calls = calls;
            f.may_block = inside;
            f.suspended = true;
            f.cancellable = cancellable;
        }
    })?;
    crate::fiber::suspend();
    // Resumed by `turn` below, which checked that the instances can be entered.
    let (calls, inside, event) = with_task(id, |task| {
        let f = task.fiber.as_mut()?;
        Some((core::mem::take(&mut f.calls), f.may_block, f.event))
    })?
    .ok_or(TrapKind::Unreachable)?;
    for call in &calls {
        component.enter(Some(call.caller), call.callee)?;
    }
    let base = CALLS.with(|stack| {
        let base = stack.len();
        stack.extend(calls);
        base
    });
    with_task(id, |task| {
        if let Some(f) = &mut task.fiber {
            f.calls_base = base;
        }
    })?;
    set_may_block(inside);
    Ok(event)
}

/// Whether every call of a suspended fiber can enter its instance again.
fn can_enter(component: Component, calls: &[Call]) -> bool {
    let entered = calls
        .iter()
        .take_while(|call| component.enter(Some(call.caller), call.callee).is_ok())
        .count();
    for call in calls[..entered].iter().rev() {
        component.leave(Some(call.caller), call.callee);
    }
    entered == calls.len()
}

/// Gives fiber task `id` its turn if what it waits for is ready: resumes it, and
/// resolves its caller's subtask once it finishes. Answers whether it ran.
pub(super) fn turn(component: Component, id: u32) -> Result<bool, TrapKind> {
    if !prepare_turn(component, id)? {
        return Ok(false);
    }
    if resume(component, id)? {
        finish(id)?;
    }
    Ok(true)
}

/// Takes fiber task `id`'s turn if what it waits for is ready (and its instances can
/// be entered): its wait's event is set for it to find. Answers whether it may run.
fn prepare_turn(component: Component, id: u32) -> Result<bool, TrapKind> {
    let record = cancel_record(id);
    let cancel = with_task(record, |task| task.cancel).unwrap_or(Cancel::None);
    let (turn, cancel, enterable) = with_task(id, |task| {
        let f = task.fiber.as_ref();
        (
            task.turn,
            if f.is_some_and(|f| f.cancellable) {
                cancel
            } else {
                Cancel::None
            },
            // A thread of an instance a trap poisoned never runs again.
            f.is_some_and(|f| {
                can_enter(component, &f.calls)
                    && f.thread_of
                        .is_none_or(|instance| component.may_enter(instance))
            }),
        )
    })?;
    if matches!(turn, Turn::Running | Turn::Exited) || !enterable {
        return Ok(false);
    }
    // A task learns of its cancellation when it next waits or yields.
    let event = match turn {
        _ if cancel == Cancel::Pending => {
            with_task(record, |task| task.cancel = Cancel::Delivered)?;
            [event::TASK_CANCELLED, 0, 0]
        }
        _ => match tasks::ready(component, turn)? {
            Some(event) => event,
            None => return Ok(false),
        },
    };
    with_task(id, |task| {
        task.turn = Turn::Running;
        if let Some(f) = &mut task.fiber {
            f.event = event;
        }
    })?;
    Ok(true)
}

/// Whether fiber task `id` is a thread of `instance` that a synchronous task's wait
/// there may run: any but the implicit thread of a task that needs the instance to
/// itself.
pub(super) fn may_run_in_scope(id: u32, instance: u32) -> bool {
    TASKS.with(|tasks| {
        tasks
            .get(id as usize)
            .and_then(Option::as_ref)
            .is_some_and(|task| {
                task.instance() == instance && task.fiber.as_ref().is_some_and(|f| !f.exclusive)
            })
    })
}

/// `thread.new-indirect`: a new thread of `instance`, suspended, whose fiber will run
/// `work` inside a call of the instance into itself (its own storage and borrows)
/// with `may_block` as its task's `may_block`. Answers its thread id.
pub(super) fn spawn_thread(
    component: Component,
    instance: u32,
    may_block: u32,
    work: impl FnOnce() -> Result<(), TrapKind> + 'static,
) -> Result<u32, TrapKind> {
    let outcome = Rc::new(RefCell::new(None));
    let id = tasks::new_task(instance, None);
    let (thread, owner) = super::threads::new_thread(instance, id);
    let slot = outcome.clone();
    let fiber = crate::fiber::new(Box::new(move || {
        let result = (|| {
            super::start_thread_call(component, instance, thread)?;
            let base = CALLS.with(|calls| calls.len() - 1);
            with_task(id, |task| {
                if let Some(f) = &mut task.fiber {
                    f.calls_base = base;
                }
            })?;
            set_may_block(may_block);
            work()?;
            super::end_call(component).map_err(super::host_trap)
        })();
        *slot.borrow_mut() = Some(result.map(|()| (0, Vec::new())));
    }));
    let Some(fiber) = fiber else {
        TASKS.with(|tasks| tasks[id as usize] = None);
        super::threads::forget(thread);
        return Err(TrapKind::NoFiberStack);
    };
    with_task(id, |task| {
        task.turn = Turn::Thread(thread);
        // It waits to be resumed, and its task has started.
        task.fiber = Some(FiberTask {
            may_block,
            suspended: true,
            started: true,
            thread_of: Some(instance),
            owner_task: owner.task,
            ..FiberTask::new(fiber, outcome)
        });
    })?;
    Ok(thread)
}

/// Ends task `id`, whose fiber finished: its caller's subtask resolves (a trap in it
/// traps here), and its outcome is kept for a synchronous caller waiting for it.
fn finish(id: u32) -> Result<(), TrapKind> {
    let (awaited, subtask) = with_task(id, |task| {
        task.turn = Turn::Exited;
        task.fiber
            .as_ref()
            .map_or((false, None), |f| (f.awaited, f.subtask))
    })?;
    if awaited {
        return Ok(());
    }
    let resolves_at_end = with_task(id, |task| {
        task.fiber.as_ref().is_some_and(|f| f.resolves_at_end)
    })?;
    let (status, _) = take_outcome(id)?;
    let cancelled = status == subtask_state::CANCELLED_BEFORE_STARTED;
    if let Some(subtask) = subtask.filter(|_| resolves_at_end || cancelled) {
        tasks::with_subtask(subtask, |s| {
            s.state = status;
            s.resolved = true;
        })?;
    }
    Ok(())
}
