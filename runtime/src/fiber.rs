//! Fibers: code that runs on a stack of its own and can suspend itself, handing control
//! back to whoever resumed it, then go on later where it stopped. The component
//! model's tasks use them: a callee that blocks before returning lets its caller run
//! on (`component::tasks`).
//!
//! One thread runs everything, so a fiber runs only between a [`resume`] and its next
//! [`suspend`] (or its end). Stacks come from the platform (`Platform::fiber_stack`,
//! with a guard region on Linux, from the heap on boards) and are kept for reuse once a
//! fiber ends. Where there are none, [`available`] says so and the caller runs the
//! work on its own stack instead. Images with stack-limit checks get the limit of the stack that runs in
//! their VM contexts at each switch (`crate::stack::set_limit`).
//!
//! A trap in a fiber lands where any trap lands: at the harness's catch on the guest
//! stack, or at the end of the process. The fiber is abandoned then; [`reset`] forgets
//! every fiber and keeps their stacks.

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::global::Global;
use crate::sys::isa::{self, FIBER_FRAME_BIAS, FIBER_FRAME_SLOTS, FIBER_FRAME_WORDS};
use crate::sys::{Current, Platform};

/// Bytes of a fiber's stack when the image does not say how large its stack is.
const MIN_STACK: usize = 256 * 1024;

/// A stack from the platform: (guard start, lowest usable address, top).
#[derive(Clone, Copy)]
struct Stack {
    guard: usize,
    bottom: usize,
    top: usize,
}

/// Where a fiber is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum State {
    /// Running now, or resumed by a fiber that is.
    Running,
    /// It suspended itself.
    Suspended,
    /// Its work returned.
    Finished,
}

struct Fiber {
    stack: Stack,
    /// Its stack pointer while it is suspended.
    sp: usize,
    /// The stack pointer of whoever resumed it, while it runs.
    resumer_sp: usize,
    /// The fiber (or `None`, the guest stack) that resumed it.
    resumer: Option<u32>,
    state: State,
    work: Option<Box<dyn FnOnce()>>,
}

/// Fibers by id; boxed, so the saved stack pointers keep their addresses while the
/// table grows.
static FIBERS: Global<Vec<Option<Box<Fiber>>>> = Global::new(Vec::new());
/// Stacks of fibers that ended, for new ones.
static FREE_STACKS: Global<Vec<Stack>> = Global::new(Vec::new());
/// The fiber running now (`None`: the guest stack).
static RUNNING: Global<Option<u32>> = Global::new(None);

/// Whether work can run on a fiber here.
pub fn available() -> bool {
    stack().is_some()
}

impl Stack {
    /// The limit of prologue checks on this stack (see `crate::stack`).
    fn limit(&self) -> usize {
        crate::stack::limit_for(self.bottom, self.top - self.bottom)
    }
}

/// The stack limit of the fiber running now, if one is.
pub fn running_stack_limit() -> Option<usize> {
    let id = running()?;
    with_fiber(id, |fiber| fiber.stack.limit())
}

/// Puts the limit of the stack of `fiber` (`None`: the guest stack) where compiled
/// code checks it, and tells the fault handler its guard region.
fn use_stack_of(fiber: Option<u32>) {
    let stack = fiber.and_then(|id| with_fiber(id, |f| f.stack));
    Current::set_fiber_guard(stack.map(|s| (s.guard, s.bottom)));
    crate::stack::set_limit(match stack {
        Some(stack) => stack.limit(),
        None => crate::stack::guest_stack_limit(),
    });
}

/// A stack for a new fiber: a free one, or a new one from the platform.
fn stack() -> Option<Stack> {
    if let Some(stack) = FREE_STACKS.with(|free| free.last().copied()) {
        return Some(stack);
    }
    let size = (crate::image::descriptor().stack_size as usize).max(MIN_STACK);
    let (guard, bottom, top) = Current::fiber_stack(size)?;
    let stack = Stack { guard, bottom, top };
    FREE_STACKS.with(|free| free.push(stack));
    Some(stack)
}

/// The fiber running now, if any.
pub fn running() -> Option<u32> {
    RUNNING.with(|running| *running)
}

/// A new fiber that will run `work` when first resumed; `None` when no stack can be
/// had (see [`available`]).
pub fn new(work: Box<dyn FnOnce()>) -> Option<u32> {
    stack()?;
    let stack = FREE_STACKS.with(Vec::pop)?;
    let fiber = Box::new(Fiber {
        stack,
        sp: 0,
        resumer_sp: 0,
        resumer: None,
        state: State::Suspended,
        work: Some(work),
    });
    let id = FIBERS.with(|fibers| crate::slots::insert(fibers, fiber));
    // The first frame `wafer_rt_fiber_switch` pops, just below the top.
    let frame = ((stack.top - FIBER_FRAME_WORDS * 8 - 16) & !15) + FIBER_FRAME_BIAS;
    let mut words = [0usize; FIBER_FRAME_WORDS];
    words[FIBER_FRAME_SLOTS.entry] = fiber_main as *const () as usize;
    words[FIBER_FRAME_SLOTS.argument] = id as usize;
    words[FIBER_FRAME_SLOTS.start] = isa::wafer_rt_fiber_start as *const () as usize;
    // SAFETY: the frame lies inside the fiber's committed stack, below its top.
    unsafe { core::ptr::copy_nonoverlapping(words.as_ptr(), frame as *mut usize, words.len()) };
    with_fiber(id, |fiber| fiber.sp = frame);
    Some(id)
}

/// Runs `f` on fiber `id`'s record (which stays where it is while `f` runs).
fn with_fiber<T>(id: u32, f: impl FnOnce(&mut Fiber) -> T) -> Option<T> {
    FIBERS.with(|fibers| match fibers.get_mut(id as usize) {
        Some(Some(fiber)) => Some(f(fiber)),
        _ => None,
    })
}

/// The raw address of fiber `id`'s record: switches write its saved stack pointers
/// while no borrow of the table is held.
fn fiber_ptr(id: u32) -> Option<*mut Fiber> {
    FIBERS.with(|fibers| match fibers.get_mut(id as usize) {
        Some(Some(fiber)) => Some(&mut **fiber as *mut Fiber),
        _ => None,
    })
}

/// Resumes suspended fiber `id` until it suspends again or finishes: its state then.
/// A finished fiber is forgotten and its stack kept for reuse.
pub fn resume(id: u32) -> Option<State> {
    let fiber = fiber_ptr(id)?;
    // SAFETY: the record is boxed in the table and nothing else refers to it now.
    if unsafe { (*fiber).state } != State::Suspended {
        return None;
    }
    let resumer = RUNNING.with(|running| running.replace(id));
    // SAFETY: as above.
    let sp = unsafe {
        (*fiber).state = State::Running;
        (*fiber).resumer = resumer;
        (*fiber).sp
    };
    use_stack_of(Some(id));
    // SAFETY: `sp` is the fiber's saved stack pointer (or its first frame); the switch
    // saves ours in the record, where its `suspend` or end finds it.
    unsafe { isa::wafer_rt_fiber_switch(&raw mut (*fiber).resumer_sp, sp) };
    RUNNING.with(|running| *running = resumer);
    use_stack_of(resumer);
    // SAFETY: as above (the fiber switched back, so it is not running).
    let state = unsafe { (*fiber).state };
    if state == State::Finished {
        // SAFETY: as above; nothing runs on the stack any more.
        let stack = unsafe { (*fiber).stack };
        FREE_STACKS.with(|free| free.push(stack));
        FIBERS.with(|fibers| fibers[id as usize] = None);
    }
    Some(state)
}

/// Suspends the running fiber, back to whoever resumed it; returns when it is resumed.
/// Answers `false`, doing nothing, on the guest stack.
pub fn suspend() -> bool {
    let Some(id) = running() else {
        return false;
    };
    let Some(fiber) = fiber_ptr(id) else {
        return false;
    };
    // SAFETY: the record is boxed in the table; its resumer's stack pointer was saved
    // by the `resume` that is waiting for this switch.
    unsafe {
        (*fiber).state = State::Suspended;
        isa::wafer_rt_fiber_switch(&raw mut (*fiber).sp, (*fiber).resumer_sp);
    }
    true
}

/// A fiber's first frame calls this with its id: runs its work, then switches back to
/// its resumer for good.
extern "C" fn fiber_main(id: usize) {
    let id = id as u32;
    if let Some(work) = with_fiber(id, |fiber| fiber.work.take()).flatten() {
        work();
    }
    let Some(fiber) = fiber_ptr(id) else {
        crate::fatal(b"a fiber ended without its record");
    };
    // SAFETY: as in `suspend`; this switch never returns, and the resumer frees the
    // stack only after it.
    unsafe {
        (*fiber).state = State::Finished;
        let mut unused = 0usize;
        isa::wafer_rt_fiber_switch(&raw mut unused, (*fiber).resumer_sp);
    }
    crate::fatal(b"a finished fiber was resumed");
}

/// Forgets the fibers that were running when a trap landed on the guest stack: they
/// never run again (their stacks are kept for new fibers).
pub fn abandon_running() {
    let stacks: Vec<Stack> = FIBERS.with(|fibers| {
        let mut stacks = Vec::new();
        for slot in fibers.iter_mut() {
            if slot
                .as_ref()
                .is_some_and(|fiber| fiber.state == State::Running)
            {
                stacks.extend(slot.take().map(|fiber| fiber.stack));
            }
        }
        stacks
    });
    FREE_STACKS.with(|free| free.extend(stacks));
    RUNNING.with(|running| *running = None);
    use_stack_of(None);
}

/// Forgets every fiber (a trap abandoned them, or a harness starts afresh), keeping
/// their stacks for new ones.
pub fn reset() {
    let stacks: Vec<Stack> = FIBERS.with(|fibers| {
        fibers
            .drain(..)
            .flatten()
            .map(|fiber| fiber.stack)
            .collect()
    });
    FREE_STACKS.with(|free| free.extend(stacks));
    RUNNING.with(|running| *running = None);
    use_stack_of(None);
}
