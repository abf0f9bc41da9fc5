//! The 🧵 built-ins: cooperative threads of a component instance (`thread.index`,
//! `thread.new-indirect`, `thread.resume-later`, `thread.suspend`, and the
//! `thread.*-then-resume` / `-then-promote` switches).
//!
//! A thread is the implicit thread of a task (a call's callee, or the task the host
//! started) or one `thread.new-indirect` made, which runs on a fiber of its own
//! (`stackful::spawn_thread`) inside a call of its instance into itself, so its
//! storage (`context.get`/`set`) and borrows are its own. Threads are numbered per
//! instance from 1; an implicit thread gets its number when `thread.index` (or a
//! built-in that suspends it) first names it, so calls that never use threads pay
//! nothing.
//!
//! A thread lives where it started: a thread on a fiber suspends its fiber; the
//! thread on the guest stack (the host's call, and the synchronous calls it made)
//! blocks by running the executor until it is resumed. A switch to a thread on a
//! fiber runs that fiber next (`stackful`'s trampoline); a switch to the thread on the
//! guest stack makes it go on once control returns to it.
//!
//! While a synchronous task (one whose type is not `async`) waits, only the threads
//! of its own instance that can use the stack may run (not the implicit thread of an
//! `async` task that needs the instance to itself), and with none ready the wait is a
//! deadlock. A synchronous task may start waiting only while some other thread is
//! ready (else "cannot block a synchronous task before returning"), as the
//! component-model suite's `during-sync-call-*` and `trap-if-block-and-sync` scripts
//! expect.

use alloc::vec::Vec;

use wafer_abi::component::async_op;
use wafer_abi::trap::TrapKind;

use super::tasks::{self, Turn, event};
use super::{CALLS, Component};
use crate::global::Global;

/// Where a thread is in the spec's life cycle (running or waiting on something else
/// is `Running`: only a `Suspended` thread may be resumed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum State {
    Running,
    /// `thread.suspend`ed (or switched away from): waits to be resumed.
    Suspended,
    /// Made ready by `thread.resume-later`, or yielded: any turn may resume it.
    Ready,
    /// Switched to: it runs next.
    Resumed,
}

/// Where a thread runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Home {
    /// On the fiber of task `id` (`tasks::TASKS`).
    Fiber(u32),
    /// On the guest stack.
    Stack,
}

#[derive(Debug)]
struct Thread {
    instance: u32,
    index: u32,
    state: State,
    home: Home,
    /// For a thread `thread.new-indirect` made: the task it belongs to, as that task's
    /// implicit thread (`task.return` and `task.cancel` act on the task's call) and
    /// record in `tasks::TASKS`, if it has one (its cancellation reaches this thread).
    owner: Option<Owner>,
}

/// The task a thread `thread.new-indirect` made belongs to.
#[derive(Debug, Clone, Copy)]
pub(super) struct Owner {
    /// The task's implicit thread.
    pub(super) thread: u32,
    /// The task's record, if it has one (a call between instances, or a task the host
    /// started).
    pub(super) task: Option<u32>,
}

/// Every thread a built-in named, by id.
static THREADS: Global<Vec<Option<Thread>>> = Global::new(Vec::new());

/// The id of the implicit thread of the task the host started, once named.
static ROOT_THREAD: Global<Option<u32>> = Global::new(None);

/// While a synchronous task's thread on the guest stack waits: its instance, whose
/// threads alone may run meanwhile.
static SYNC_SCOPE: Global<Option<u32>> = Global::new(None);

fn with_thread<T>(id: u32, f: impl FnOnce(&mut Thread) -> T) -> Result<T, TrapKind> {
    THREADS.with(|threads| match threads.get_mut(id as usize) {
        Some(Some(thread)) => Ok(f(thread)),
        _ => Err(TrapKind::Unreachable),
    })
}

/// A thread's state, if it still exists.
pub(super) fn state(id: u32) -> Option<State> {
    with_thread(id, |t| t.state).ok()
}

fn set_state(id: u32, state: State) -> Result<(), TrapKind> {
    with_thread(id, |t| t.state = state)
}

/// Forgets thread `id` (its task or its start function ended).
pub(super) fn forget(id: u32) {
    THREADS.with(|threads| {
        if let Some(slot) = threads.get_mut(id as usize) {
            *slot = None;
        }
    });
}

/// Forgets the threads of the calls on the guest stack and of the host's task with
/// no task record: a harness call starts afresh.
pub(super) fn reset_stack() {
    if let Some(id) = ROOT_THREAD.with(Option::take) {
        forget(id);
    }
    SYNC_SCOPE.with(|scope| *scope = None);
    let named: Vec<u32> = CALLS.with(|calls| calls.iter().filter_map(|c| c.thread).collect());
    named.into_iter().for_each(forget);
}

/// Forgets every thread: a harness instantiates a new component.
pub(super) fn reset() {
    reset_stack();
    THREADS.with(Vec::clear);
}

/// A new thread of `instance` in `state`, with the instance's lowest free number.
pub(super) fn register(instance: u32, home: Home, state: State) -> u32 {
    THREADS.with(|threads| {
        let mut index = 1;
        while threads
            .iter()
            .flatten()
            .any(|t| t.instance == instance && t.index == index)
        {
            index += 1;
        }
        crate::slots::insert(
            threads,
            Thread {
                instance,
                index,
                state,
                home,
                owner: None,
            },
        )
    })
}

/// The id of the thread that instance `instance` numbers `index` ("unknown handle
/// index", as for handles, when there is none).
fn lookup(instance: u32, index: u32) -> Result<u32, TrapKind> {
    THREADS.with(|threads| {
        threads
            .iter()
            .position(|t| {
                t.as_ref()
                    .is_some_and(|t| t.instance == instance && t.index == index)
            })
            .map(|id| id as u32)
            .ok_or_else(|| super::host_trap(wafer_canon::Trap::UnknownHandle(index)))
    })
}

/// The id of the thread `instance` numbers `index`, which must be suspended (the
/// built-ins that resume a thread take only such a one).
fn suspended(instance: u32, index: u32) -> Result<u32, TrapKind> {
    let id = lookup(instance, index)?;
    match state(id) {
        Some(State::Suspended) => Ok(id),
        _ => Err(TrapKind::ThreadNotSuspended),
    }
}

/// The running thread, named (registered) on first use: the innermost call's, or the
/// host's task's.
fn current(instance: u32) -> u32 {
    let named = CALLS.with(|calls| calls.last().map(|call| call.thread));
    match named {
        Some(Some(id)) => id,
        Some(None) => {
            let id = register(instance, running_home(), State::Running);
            CALLS.with(|calls| {
                if let Some(call) = calls.last_mut() {
                    call.thread = Some(id);
                }
            });
            id
        }
        // A task the host started keeps its thread across its turns.
        None => match tasks::current_host_task() {
            Some(task) => {
                let named = tasks::with_task(task, |t| t.thread).ok().flatten();
                named.unwrap_or_else(|| {
                    let id = register(instance, Home::Stack, State::Running);
                    let _ = tasks::with_task(task, |t| t.thread = Some(id));
                    id
                })
            }
            None => match ROOT_THREAD.with(|root| *root) {
                Some(id) => id,
                None => {
                    let id = register(instance, Home::Stack, State::Running);
                    ROOT_THREAD.with(|root| *root = Some(id));
                    id
                }
            },
        },
    }
}

fn running_home() -> Home {
    match super::stackful::current() {
        Some(task) => Home::Fiber(task),
        None => Home::Stack,
    }
}

/// Whether some thread other than the running one could run now: a synchronous task
/// may start to wait only then.
pub(super) fn others_ready(component: Component) -> bool {
    let threads = THREADS.with(|threads| {
        threads
            .iter()
            .flatten()
            .any(|t| matches!(t.state, State::Ready | State::Resumed))
    });
    threads || tasks::any_ready(component)
}

/// Whether a built-in whose task may not block (`may_block` false: its type is not
/// `async`) may still wait: only while another thread is ready to run meanwhile.
pub(super) fn may_wait(component: Component, may_block: bool) -> bool {
    may_block || others_ready(component)
}

/// Runs `f`, a wait of a thread of `instance` whose task may block or not: while a
/// synchronous task's thread on the guest stack waits, only its instance's threads run.
pub(super) fn scoped<T>(instance: u32, may_block: bool, f: impl FnOnce() -> T) -> T {
    let scope = (!may_block).then_some(instance);
    let previous = SYNC_SCOPE.with(|s| core::mem::replace(s, scope));
    let result = f();
    SYNC_SCOPE.with(|s| *s = previous);
    result
}

/// The instance whose threads alone may run while the guest stack waits, if a
/// synchronous task waits there.
pub(super) fn sync_scope() -> Option<u32> {
    SYNC_SCOPE.with(|s| *s)
}

/// What ends the wait of thread `id` for being resumed, taken: `NONE`.
pub(super) fn take_resumed(id: u32) -> Option<[u32; 3]> {
    let resumed = with_thread(id, |t| {
        let ready = matches!(t.state, State::Ready | State::Resumed);
        if ready {
            t.state = State::Running;
        }
        ready
    });
    // A forgotten thread waits for nothing.
    resumed.unwrap_or(true).then_some([event::NONE, 0, 0])
}

/// Whether thread `id` waits to be resumed and may be (without taking it).
pub(super) fn is_resumable(id: u32) -> bool {
    matches!(state(id), Some(State::Ready | State::Resumed))
}

/// `thread.new-indirect`'s record: a new suspended thread of `instance` on the fiber of
/// task `task`, belonging to the running thread's task (answered too).
pub(super) fn new_thread(instance: u32, task: u32) -> (u32, Owner) {
    let creator = current(instance);
    let owner = with_thread(creator, |t| t.owner)
        .ok()
        .flatten()
        .unwrap_or(Owner {
            thread: creator,
            task: super::stackful::current().or_else(tasks::current_host_task),
        });
    let id = register(instance, Home::Fiber(task), State::Suspended);
    let _ = with_thread(id, |t| t.owner = Some(owner));
    (id, owner)
}

/// The task the running thread belongs to, if `thread.new-indirect` made it.
pub(super) fn running_owner() -> Option<Owner> {
    let running = CALLS.with(|calls| calls.last().and_then(|call| call.thread))?;
    with_thread(running, |t| t.owner).ok().flatten()
}

/// The number instance `instance` gives thread `id`.
pub(super) fn index_of(id: u32) -> Result<u32, TrapKind> {
    with_thread(id, |t| t.index)
}

/// The `thread.*` built-ins but `thread.new-indirect` and `thread.yield`: `op` called
/// by `instance` with operand `a`; `may_block` says whether the running task may block
/// and `cancellable` whether a wait may end with its cancellation. Answers the
/// built-in's result (the index, or whether it was cancelled).
pub(super) fn builtin(
    component: Component,
    op: u32,
    instance: u32,
    a: u32,
    may_block: bool,
    cancellable: bool,
) -> Result<u32, TrapKind> {
    if op == async_op::THREAD_INDEX {
        let id = current(instance);
        return index_of(id);
    }
    if op == async_op::THREAD_RESUME_LATER {
        let other = suspended(instance, a)?;
        set_state(other, State::Ready)?;
        // With a thread ready to run meanwhile, the running thread may block (the
        // checks fused adapters compile in read only the `may_block` global).
        super::stackful::allow_blocking();
        return Ok(0);
    }
    if cancellable && tasks::deliver_pending_cancel()? {
        return Ok(1);
    }
    let me = current(instance);
    let target = match op {
        async_op::THREAD_SUSPEND => None,
        async_op::THREAD_SUSPEND_THEN_RESUME | async_op::THREAD_YIELD_THEN_RESUME => {
            Some(suspended(instance, a)?)
        }
        async_op::THREAD_SUSPEND_THEN_PROMOTE | async_op::THREAD_YIELD_THEN_PROMOTE => {
            let other = lookup(instance, a)?;
            is_ready(component, other).then_some(other)
        }
        _ => return Err(TrapKind::Unreachable),
    };
    let yields = matches!(
        op,
        async_op::THREAD_YIELD_THEN_RESUME | async_op::THREAD_YIELD_THEN_PROMOTE
    );
    let event = match target {
        Some(other) => {
            set_state(
                me,
                if yields {
                    State::Ready
                } else {
                    State::Suspended
                },
            )?;
            // A thread waiting to be resumed is resumed now; one whose other wait is
            // over takes that wait's event when it runs, next.
            if matches!(state(other), Some(State::Suspended | State::Ready)) {
                set_state(other, State::Resumed)?;
            }
            scoped(instance, may_block, || {
                switch(component, me, other, cancellable)
            })?
        }
        // `thread.yield-then-promote` of a thread that is not ready: a yield.
        None if yields => {
            return tasks::yield_now(component, instance, may_block, cancellable)
                .map(|event| u32::from(event[0] == event::TASK_CANCELLED));
        }
        None => {
            if !may_wait(component, may_block) {
                return Err(TrapKind::CannotBlockSyncTask);
            }
            set_state(me, State::Suspended)?;
            scoped(instance, may_block, || {
                tasks::wait_for(component, Turn::Thread(me), cancellable)
            })?
        }
    };
    if event[0] == event::TASK_CANCELLED {
        // Resumed by its cancellation rather than by a thread.
        let _ = set_state(me, State::Running);
        return Ok(1);
    }
    Ok(0)
}

/// Whether thread `id` is ready (the spec's `ready()`): made ready to be resumed, or
/// on a fiber whose wait (a set, a copy, a yield) would end now.
fn is_ready(component: Component, id: u32) -> bool {
    match with_thread(id, |t| (t.state, t.home)) {
        Ok((State::Ready, _)) => true,
        Ok((State::Running, Home::Fiber(task))) => tasks::task_would_be_ready(component, task),
        _ => false,
    }
}

/// Switches from thread `me` (suspended or ready now) to thread `other` (resumed):
/// `other` runs, and `me` waits until it is resumed. Answers the event that ended
/// `me`'s wait.
fn switch(
    component: Component,
    me: u32,
    other: u32,
    cancellable: bool,
) -> Result<[u32; 3], TrapKind> {
    let home = with_thread(other, |t| t.home)?;
    if super::stackful::current().is_some() {
        // On a fiber: suspend it, and the trampoline that resumed it runs `other`'s.
        if let Home::Fiber(task) = home {
            super::stackful::switch_next(task);
        }
        return super::stackful::block(component, Turn::Thread(me), cancellable);
    }
    // On the guest stack: run `other`'s fiber now; then wait until resumed.
    if let Home::Fiber(task) = home {
        super::stackful::turn(component, task)?;
    }
    tasks::wait_for(component, Turn::Thread(me), cancellable)
}
