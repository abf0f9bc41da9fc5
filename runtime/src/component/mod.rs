//! Component instances at run time: the canonical built-ins that keep state, on the
//! component descriptor the compiler emits (`wafer_abi::component`).
//!
//! - Each component instance has one handle table (`wafer_canon::HandleTable`), created
//!   with the instance's state on first use, as the canonical ABI has it: the resources
//!   components define (`resource.new`, `resource.rep`, `resource.drop`) and those the
//!   WASI 0.2 host hands out (`crate::p2`, under [`host_resource`] ids) share its
//!   indices, and fused adapters move both kinds between instances when a call passes
//!   `own` or `borrow` handles.
//! - Every call between component instances is bracketed by `enter-sync-call` /
//!   `exit-sync-call` (fused adapters are built with concurrency support): a stack of
//!   calls, each with the callee's task (the borrows lowered into it, which it must drop
//!   before it returns; its `context.get` / `context.set` storage, zero at the start)
//!   and the caller's subtask (the handles it lent, which it may not move or drop
//!   meanwhile). A destructor run for `resource.drop` is such a call too, into the
//!   implementing instance.
//! - Reentrance, as the spec's `may_enter_from`: a call enters the callee and those of
//!   its ancestors (the instances that instantiated it, `wafer_abi::component`'s parent
//!   index) the caller is not inside already; it traps with "cannot enter component
//!   instance" if one of them is entered already or poisoned. The image's entry keeps
//!   the `wasi:cli/run` instance and its ancestors entered; a harness enters the
//!   callee's for each call. (Fused adapters trap statically on calls between an
//!   instance and its ancestors.)
//!
//! Every built-in returns a `u64` ([`BuiltinResult`]); a trap is raised by the compiled
//! caller, and a handle trap leaves the handle's index in [`trap_detail`].

mod calls;
mod error_context;
pub mod harness;
mod memory;
mod stackful;
mod stream_values;
pub mod streams;
pub mod tasks;
mod threads;

use alloc::boxed::Box;
use alloc::vec::Vec;

use wafer_abi::component::{BuiltinResult, ComponentLayout, NO_INSTANCE};
use wafer_abi::trap::TrapKind;
use wafer_canon::{HandleTable, Handles, OpaqueKind, ResourceId, SubtaskId, TaskId, Trap, TypeId};

use crate::global::Global;

/// The component descriptor, as the compiler lays it out.
#[repr(C)]
#[derive(Debug)]
pub struct Descriptor {
    instances: *mut InstanceRecord,
    instance_count: usize,
    tables: *const [u32; 2],
    table_count: usize,
    resources: *const [u32; 2],
    resource_count: usize,
    /// The instance the image's entry enters for the whole run, `NO_INSTANCE` in a
    /// harness image.
    entry: usize,
}

/// A component instance's record.
#[repr(C)]
#[derive(Debug)]
pub struct InstanceRecord {
    /// Its flags global (bit 0: `may_leave`).
    flags: *mut u32,
    /// Its state word: the state, created on first use (the instance's canonical-ABI
    /// contexts point at the same word).
    state: StateWord,
    /// The instance that instantiated it, `NO_INSTANCE` for the root.
    parent: usize,
}

/// The address of a component instance's state word, which the compiler emits as a
/// null pointer and the runtime fills on first use.
pub type StateWord = *mut *mut InstanceState;

const _: () = {
    let layout = ComponentLayout::new(core::mem::size_of::<usize>() as u8);
    assert!(core::mem::offset_of!(Descriptor, instances) == layout.instances() as usize);
    assert!(core::mem::offset_of!(Descriptor, instance_count) == layout.instance_count() as usize);
    assert!(core::mem::offset_of!(Descriptor, tables) == layout.tables() as usize);
    assert!(core::mem::offset_of!(Descriptor, table_count) == layout.table_count() as usize);
    assert!(core::mem::offset_of!(Descriptor, resources) == layout.resources() as usize);
    assert!(core::mem::offset_of!(Descriptor, resource_count) == layout.resource_count() as usize);
    assert!(core::mem::offset_of!(Descriptor, entry) == layout.entry() as usize);
    assert!(core::mem::size_of::<Descriptor>() == layout.descriptor_size() as usize);
    assert!(core::mem::offset_of!(InstanceRecord, flags) == layout.instance_flags() as usize);
    assert!(core::mem::offset_of!(InstanceRecord, state) == layout.instance_state() as usize);
    assert!(core::mem::offset_of!(InstanceRecord, parent) == layout.instance_parent() as usize);
    assert!(core::mem::size_of::<InstanceRecord>() == layout.instance_size() as usize);
    assert!(core::mem::size_of::<[u32; 2]>() == layout.table_size() as usize);
};

/// What the runtime keeps for a component instance.
#[derive(Debug, Default)]
pub struct InstanceState {
    /// Its handles: resources (defined by components or by the host), and later
    /// streams, futures, tasks and waitable sets.
    table: HandleTable,
    /// `backpressure.inc` minus `backpressure.dec`.
    backpressure: i32,
    /// A task that needs the instance to itself (of an `async` function, lifted
    /// synchronously or with a callback, outside its callback loop's waits) runs in it.
    exclusive: bool,
    /// Calls waiting for backpressure to lift before they start.
    waiting_to_enter: u32,
    /// A call into it trapped: it may not be entered again.
    poisoned: bool,
    /// A call is in it, or in an instance it instantiated (the spec's `may_enter` is
    /// false): a call from outside that would enter it traps.
    entered: bool,
}

/// A synchronous call from one component instance into another (or a destructor run
/// for a `resource.drop`): the callee's task.
#[derive(Debug, Clone, Copy)]
struct Call {
    caller: u32,
    callee: u32,
    /// The handles the caller lent.
    subtask: SubtaskId,
    /// The borrows lowered into the callee.
    task: TaskId,
    /// The task's storage (`context.get` / `context.set`), zero when it starts.
    context: [u32; 2],
    /// For a callee lifted `async`: where its `task.return` delivers the results.
    async_return: Option<calls::AsyncReturn>,
    /// The thread it runs as, once a `thread.*` built-in named it (`threads`): the
    /// callee's task's implicit thread, or the thread a `thread.new-indirect` made.
    thread: Option<u32>,
}

/// The calls in progress, innermost last.
static CALLS: Global<Vec<Call>> = Global::new(Vec::new());

/// The storage of the task the host started (the entry's, or a harness call's), which
/// runs when no call between instances is in progress.
static ROOT_CONTEXT: Global<[u32; 2]> = Global::new([0; 2]);

/// The handle index of the last handle trap a built-in asked for.
static TRAP_DETAIL: Global<Option<u32>> = Global::new(None);

/// The trap a host-side lift asked for that `wafer_canon::Trap` cannot name (it
/// reports `Trap::Host`): a stream's or future's end lifted by the host.
static HOST_TRAP: Global<Option<TrapKind>> = Global::new(None);

/// The handle index the last handle trap named, if the last trap named one.
pub fn trap_detail() -> Option<u32> {
    // SAFETY: a plain read of a `Copy` value; nothing holds a reference to it across
    // this call (the signal handler reads it too, which is why this is not `with`).
    unsafe { *TRAP_DETAIL.as_ptr() }
}

/// Forgets the calls in progress, task storage and the trap detail: a harness call
/// starts afresh (a trap may have left a call unfinished). Tasks parked in the
/// component's instances, their subtasks and waitable sets stay, as the instances'
/// tables do: a later call's waits go on with them.
pub fn reset_call() {
    HOST_TRAP.with(|slot| *slot = None);
    threads::reset_stack();
    CALLS.with(Vec::clear);
    ROOT_CONTEXT.with(|slots| *slots = [0; 2]);
    tasks::reset_current();
    calls::reset();
    TRAP_DETAIL.with(|detail| *detail = None);
}

/// As [`reset_call`], also forgetting every task, subtask and waitable set: a harness
/// instantiates a new component.
pub fn reset() {
    reset_call();
    tasks::reset();
    threads::reset();
}

/// The trap kind of a canonical-ABI trap: spec traps are kinds `17 + code`; an embedder
/// error (a misuse wafer's code would have made) reports as `unreachable`.
pub fn trap_kind(trap: Trap) -> TrapKind {
    if !trap.is_spec_trap() {
        return HOST_TRAP
            .with(Option::take)
            .unwrap_or(TrapKind::Unreachable);
    }
    TrapKind::from_u8(17 + trap.code()).unwrap_or(TrapKind::Unreachable)
}

/// The result of a built-in that failed with `trap`, its handle index kept for the
/// report.
fn trapped(trap: Trap) -> u64 {
    TRAP_DETAIL.with(|detail| *detail = trap.detail());
    BuiltinResult::trap(trap_kind(trap)).encode()
}

/// The result of a built-in.
fn answer(result: Result<u32, Trap>) -> u64 {
    match result {
        Ok(value) => BuiltinResult::value(value).encode(),
        Err(trap) => trapped(trap),
    }
}

/// A view of the descriptor.
#[derive(Clone, Copy)]
pub struct Component {
    descriptor: *const Descriptor,
}

impl Component {
    /// # Safety
    /// `descriptor` must be the component descriptor the compiler emitted.
    pub unsafe fn new(descriptor: *const Descriptor) -> Component {
        Component { descriptor }
    }

    fn descriptor(&self) -> &Descriptor {
        // SAFETY: the compiler emits the descriptor as static data (see `new`); the
        // runtime never writes it.
        unsafe { &*self.descriptor }
    }

    /// Instance `index`'s record.
    fn record(&self, index: u32) -> Result<*mut InstanceRecord, Trap> {
        let descriptor = self.descriptor();
        if index as usize >= descriptor.instance_count {
            return Err(Trap::Host);
        }
        // SAFETY: `index` is below the count of records the array holds.
        Ok(unsafe { descriptor.instances.add(index as usize) })
    }

    /// Table `index`: (instance, resource).
    fn table(&self, index: u32) -> Result<(u32, u32), Trap> {
        let descriptor = self.descriptor();
        if index as usize >= descriptor.table_count {
            return Err(Trap::Host);
        }
        // SAFETY: as in `record`, for the static table records.
        let [instance, resource] = unsafe { *descriptor.tables.add(index as usize) };
        if instance == NO_INSTANCE {
            return Err(Trap::Host);
        }
        Ok((instance, resource))
    }

    /// Resource `index`: its implementing instance (`NO_INSTANCE` when imported) and
    /// its host resource type.
    fn resource(&self, index: u32) -> Result<(u32, u32), Trap> {
        let descriptor = self.descriptor();
        if index as usize >= descriptor.resource_count {
            return Err(Trap::Host);
        }
        // SAFETY: as in `record`, for the static resource records.
        let [instance, host_type] = unsafe { *descriptor.resources.add(index as usize) };
        Ok((instance, host_type))
    }

    /// Instance `index`'s flags global.
    pub fn flags(&self, index: u32) -> Result<*mut u32, Trap> {
        // SAFETY: the record is the compiler's; its flags pointer is the address of the
        // instance's flags global.
        Ok(unsafe { (*self.record(index)?).flags })
    }

    /// Runs `f` on instance `index`'s state, creating it on first use. `f` must not call
    /// guest code (which may call built-ins that reach the same state).
    fn with_state<T>(
        &self,
        index: u32,
        f: impl FnOnce(&mut InstanceState) -> T,
    ) -> Result<T, Trap> {
        let record = self.record(index)?;
        // SAFETY: the record's state word is the compiler's, for this instance.
        Ok(unsafe { with_instance_state((*record).state, f) })
    }

    /// Runs `f` on instance `index`'s handle table.
    pub(crate) fn with_table<T>(
        &self,
        index: u32,
        f: impl FnOnce(&mut HandleTable) -> T,
    ) -> Result<T, Trap> {
        self.with_state(index, |state| f(&mut state.table))
    }

    /// Whether instance `index` may be entered (no call into it trapped).
    pub fn may_enter(&self, index: u32) -> bool {
        self.with_state(index, |state| !state.poisoned)
            .unwrap_or(false)
    }

    /// The instance that instantiated instance `index`, if the compiler knows one.
    fn parent(&self, index: u32) -> Option<u32> {
        let record = self.record(index).ok()?;
        // SAFETY: the record is the compiler's; its parent field is plain data.
        let parent = unsafe { (*record).parent } as u32;
        // A chain that does not go up (the compiler numbers parents first) ends it.
        (parent != NO_INSTANCE && parent < index).then_some(parent)
    }

    /// Whether `ancestor` is `index` or one of the instances that instantiated it.
    fn is_self_or_ancestor(&self, ancestor: u32, index: u32) -> bool {
        let mut at = Some(index);
        while let Some(i) = at {
            if i == ancestor {
                return true;
            }
            at = self.parent(i);
        }
        false
    }

    /// The instances a call from `caller` (`None`: the host) into `callee` enters: the
    /// callee and its ancestors, less those the caller is in already (the spec's
    /// `entering_set`), each passed to `f`.
    fn for_each_entered(&self, caller: Option<u32>, callee: u32, mut f: impl FnMut(u32)) {
        let mut at = Some(callee);
        while let Some(i) = at {
            if !caller.is_some_and(|caller| self.is_self_or_ancestor(i, caller)) {
                f(i);
            }
            at = self.parent(i);
        }
    }

    /// Whether instance `index` may not be entered: a call is in it, the image's entry
    /// entered it for the whole run, or a call into it trapped.
    fn is_entered(&self, index: u32) -> bool {
        let entry = self.descriptor().entry as u32;
        (entry != NO_INSTANCE && self.is_self_or_ancestor(index, entry))
            || self
                .with_state(index, |state| state.entered || state.poisoned)
                .unwrap_or(true)
    }

    /// Enters `callee` from `caller` (`None`: the host), the spec's `may_enter_from`
    /// and `enter_from`: traps with "cannot enter component instance" when an instance
    /// it would enter is entered already (a reentrant call) or poisoned.
    pub fn enter(&self, caller: Option<u32>, callee: u32) -> Result<(), TrapKind> {
        let mut blocked = false;
        self.for_each_entered(caller, callee, |i| blocked |= self.is_entered(i));
        if blocked {
            return Err(TrapKind::CannotEnterComponent);
        }
        self.for_each_entered(caller, callee, |i| self.set_entered(i, true));
        Ok(())
    }

    /// Leaves `callee` back to `caller`, undoing [`Component::enter`].
    pub fn leave(&self, caller: Option<u32>, callee: u32) {
        self.for_each_entered(caller, callee, |i| self.set_entered(i, false));
    }

    fn set_entered(&self, index: u32, entered: bool) {
        let _ = self.with_state(index, |state| state.entered = entered);
    }

    /// Whether a task of an `async` function must wait before it starts in instance
    /// `index` (the spec's `has_backpressure`): backpressure is on, or the task needs
    /// the instance to itself (`exclusive`) and another task has it.
    fn has_backpressure(&self, index: u32, exclusive: bool) -> bool {
        self.with_state(index, |state| {
            state.backpressure > 0 || (exclusive && state.exclusive)
        })
        .unwrap_or(false)
    }

    /// Whether a task waiting to start in instance `index` must wait: as
    /// [`Component::has_backpressure`], or other calls wait already (first come, first
    /// served).
    fn must_wait_to_enter(&self, index: u32, exclusive: bool) -> bool {
        self.has_backpressure(index, exclusive)
            || self
                .with_state(index, |state| state.waiting_to_enter > 0)
                .unwrap_or(false)
    }

    /// Counts a call waiting to start in instance `index` (`delta` 1) or one that
    /// stopped waiting (-1).
    fn count_waiting_to_enter(&self, index: u32, delta: i32) {
        let _ = self.with_state(index, |state| {
            state.waiting_to_enter = state.waiting_to_enter.saturating_add_signed(delta);
        });
    }

    /// Takes (`true`) or gives back instance `index` as a task's own.
    fn set_exclusive(&self, index: u32, exclusive: bool) {
        let _ = self.with_state(index, |state| state.exclusive = exclusive);
    }

    /// Whether a task has instance `index` to itself.
    fn is_exclusive(&self, index: u32) -> bool {
        self.with_state(index, |state| state.exclusive)
            .unwrap_or(false)
    }

    /// Marks instance `index` as not enterable: a call into it trapped.
    pub fn poison(&self, index: u32) {
        let _ = self.with_state(index, |state| state.poisoned = true);
    }

    /// The [`Handles`] lifting and lowering use for a call from the host into instance
    /// `index`.
    pub fn host_call_handles(&self, index: u32) -> InstanceHandles {
        InstanceHandles {
            component: *self,
            instance: index,
        }
    }
}

/// The handles of a call from the host into an instance: owns move in and out of its
/// table; a borrow cannot cross (the host has none to lend, and borrows cannot be
/// results). Each method reaches the table only for its own duration, since lifting
/// and lowering call the instance's `realloc` in between.
#[derive(Clone, Copy)]
pub struct InstanceHandles {
    component: Component,
    instance: u32,
}

impl Handles for InstanceHandles {
    fn lift_own(&mut self, resource: ResourceId, index: u32) -> Result<u32, Trap> {
        self.component
            .with_table(self.instance, |table| table.lift_own(resource, index))?
    }
    fn lift_borrow(&mut self, _: ResourceId, _: u32) -> Result<u32, Trap> {
        Err(Trap::NoBorrowScope)
    }
    fn lower_own(&mut self, resource: ResourceId, rep: u32) -> Result<u32, Trap> {
        self.component
            .with_table(self.instance, |table| table.lower_own(resource, rep))?
    }
    fn lower_borrow(&mut self, _: ResourceId, _: u32) -> Result<u32, Trap> {
        Err(Trap::NoBorrowScope)
    }
    fn lift_opaque(&mut self, kind: OpaqueKind, _: TypeId, index: u32) -> Result<u32, Trap> {
        let future = match kind {
            OpaqueKind::Stream => false,
            OpaqueKind::Future => true,
            OpaqueKind::ErrorContext => {
                return error_context::lift_to_host(self.component, self.instance, index);
            }
        };
        streams::lift_to_host(self.component, self.instance, future, index).map_err(|kind| {
            // Not a trap `wafer_canon` can name: `trap_kind` finds it here.
            HOST_TRAP.with(|slot| *slot = Some(kind));
            Trap::Host
        })
    }
    fn lower_opaque(&mut self, kind: OpaqueKind, _: TypeId, value: u32) -> Result<u32, Trap> {
        match kind {
            OpaqueKind::ErrorContext => {
                error_context::lower_from_host(self.component, self.instance, value)
            }
            // The host hands out no stream or future ends through a harness call.
            OpaqueKind::Stream | OpaqueKind::Future => Err(Trap::Host),
        }
    }
}

/// Runs `f` on the state of the component instance whose state word is at `word`,
/// creating the state on first use.
///
/// # Safety
/// `word` must be a component instance's state word as the compiler emits it (through
/// its record or a canonical-ABI context), and `f` must not call guest code (which may
/// call built-ins that reach the same state).
pub unsafe fn with_instance_state<T>(
    word: StateWord,
    f: impl FnOnce(&mut InstanceState) -> T,
) -> T {
    // SAFETY: the word is the runtime's: null, or a box this function leaked for it. The
    // reference lives only during `f`, which calls no guest code, so no other reference
    // to the state exists meanwhile.
    unsafe {
        if (*word).is_null() {
            *word = Box::into_raw(Box::default());
        }
        f(&mut **word)
    }
}

impl InstanceState {
    /// The instance's handle table.
    pub fn table(&mut self) -> &mut HandleTable {
        &mut self.table
    }
}

/// The bit that keeps the resource ids of host resources apart from those of the
/// resources components define (the component's resource indices, far below it).
const HOST_RESOURCE: u32 = 1 << 31;

/// The handle-table resource id of WASI 0.2 host resource type `ty`.
pub const fn host_resource(ty: u32) -> ResourceId {
    ResourceId(HOST_RESOURCE | ty)
}

/// The trap kind of `trap` raised by a host function, its handle index kept for the
/// report.
pub fn host_trap(trap: Trap) -> TrapKind {
    TRAP_DETAIL.with(|detail| *detail = trap.detail());
    trap_kind(trap)
}

/// `resource.new`: see `wafer_abi::symbols::COMPONENT_RESOURCE_NEW`.
///
/// # Safety
/// `descriptor` must be the image's component descriptor.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wafer_rt_resource_new(
    descriptor: *const Descriptor,
    instance: u32,
    resource: u32,
    rep: u32,
) -> u64 {
    // SAFETY: forwarded from the caller.
    let component = unsafe { Component::new(descriptor) };
    answer(
        component
            .with_table(instance, |table| {
                table.resource_new(ResourceId(resource), rep)
            })
            .and_then(|r| r),
    )
}

/// `resource.rep`: see `wafer_abi::symbols::COMPONENT_RESOURCE_REP`.
///
/// # Safety
/// As [`wafer_rt_resource_new`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wafer_rt_resource_rep(
    descriptor: *const Descriptor,
    instance: u32,
    resource: u32,
    handle: u32,
) -> u64 {
    // SAFETY: forwarded from the caller.
    let component = unsafe { Component::new(descriptor) };
    answer(
        component
            .with_table(instance, |table| {
                table.resource_rep(ResourceId(resource), handle)
            })
            .and_then(|r| r),
    )
}

/// `resource.drop`: see `wafer_abi::symbols::COMPONENT_RESOURCE_DROP`.
///
/// # Safety
/// As [`wafer_rt_resource_new`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wafer_rt_resource_drop(
    descriptor: *const Descriptor,
    instance: u32,
    resource: u32,
    handle: u32,
) -> u64 {
    // SAFETY: forwarded from the caller.
    let component = unsafe { Component::new(descriptor) };
    let dropped = component
        .with_table(instance, |table| {
            table.resource_drop(ResourceId(resource), handle)
        })
        .and_then(|r| r);
    match dropped {
        Ok(wafer_canon::Dropped::Own { rep }) => {
            // The destructor is a call from this instance into the implementing one
            // (a task of its own), even without a destructor function: an
            // implementer that is entered already cannot be entered for it.
            let implementer = match component.resource(resource) {
                Ok((implementer, _)) if implementer != NO_INSTANCE => implementer,
                _ => instance,
            };
            if let Err(kind) = start_call(component, instance, implementer) {
                return BuiltinResult::trap(kind).encode();
            }
            BuiltinResult {
                value: rep,
                run_destructor: true,
                trap: 0,
            }
            .encode()
        }
        Ok(wafer_canon::Dropped::Borrow) => BuiltinResult::value(0).encode(),
        Err(trap) => trapped(trap),
    }
}

/// Moves an own handle: see `wafer_abi::symbols::RESOURCE_TRANSFER_OWN`.
///
/// # Safety
/// As [`wafer_rt_resource_new`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wafer_rt_resource_transfer_own(
    descriptor: *const Descriptor,
    handle: u32,
    from: u32,
    to: u32,
) -> u64 {
    // SAFETY: forwarded from the caller.
    let component = unsafe { Component::new(descriptor) };
    answer(transfer(component, handle, from, to, false))
}

/// Lends a handle: see `wafer_abi::symbols::RESOURCE_TRANSFER_BORROW`.
///
/// # Safety
/// As [`wafer_rt_resource_new`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wafer_rt_resource_transfer_borrow(
    descriptor: *const Descriptor,
    handle: u32,
    from: u32,
    to: u32,
) -> u64 {
    // SAFETY: forwarded from the caller.
    let component = unsafe { Component::new(descriptor) };
    answer(transfer(component, handle, from, to, true))
}

/// Moves (or lends) `handle` from table `from` to table `to`; returns the handle there.
fn transfer(
    component: Component,
    handle: u32,
    from: u32,
    to: u32,
    borrow: bool,
) -> Result<u32, Trap> {
    let (source, resource) = component.table(from)?;
    let (target, target_resource) = component.table(to)?;
    let (implementer, host_type) = component.resource(resource)?;
    let (resource, target_resource) = if implementer == NO_INSTANCE {
        // A WASI 0.2 resource: handles of it carry the host's id in every table.
        (host_resource(host_type), host_resource(host_type))
    } else {
        (ResourceId(resource), ResourceId(target_resource))
    };
    if !borrow {
        let rep = component.with_table(source, |table| table.lift_own(resource, handle))??;
        return component.with_table(target, |table| table.lower_own(target_resource, rep))?;
    }
    let call = CALLS
        .with(|calls| calls.last().copied())
        .filter(|call| call.caller == source && call.callee == target)
        .ok_or(Trap::NoBorrowScope)?;
    let rep = component.with_table(source, |table| {
        table.lift_borrow(call.subtask, resource, handle)
    })??;
    if implementer == target {
        // The callee implements the resource: it gets the representation itself.
        return Ok(rep);
    }
    component.with_table(target, |table| {
        table.lower_borrow(call.task, target_resource, rep)
    })?
}

/// Starts a call that passes borrows: see `wafer_abi::symbols::ENTER_SYNC_CALL`.
///
/// # Safety
/// As [`wafer_rt_resource_new`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wafer_rt_enter_sync_call(
    descriptor: *const Descriptor,
    caller: u32,
    _callee_async: u32,
    callee: u32,
) -> u64 {
    // SAFETY: forwarded from the caller.
    let component = unsafe { Component::new(descriptor) };
    match start_call(component, caller, callee) {
        Ok(()) => BuiltinResult::value(0).encode(),
        Err(kind) => BuiltinResult::trap(kind).encode(),
    }
}

/// Starts a synchronous call from instance `caller` into instance `callee`: enters the
/// callee (or traps), and pushes the callee's task.
fn start_call(component: Component, caller: u32, callee: u32) -> Result<(), TrapKind> {
    component.enter(Some(caller), callee)?;
    let started = component
        .with_table(caller, HandleTable::begin_subtask)
        .and_then(|subtask| {
            let task = component.with_table(callee, HandleTable::begin_task)?;
            Ok(Call {
                caller,
                callee,
                subtask,
                task,
                context: [0; 2],
                async_return: None,
                thread: None,
            })
        });
    match started {
        Ok(call) => {
            CALLS.with(|calls| calls.push(call));
            Ok(())
        }
        Err(trap) => {
            component.leave(Some(caller), callee);
            Err(host_trap(trap))
        }
    }
}

/// Starts the call a thread `thread.new-indirect` made runs in: from `instance` into
/// itself (it enters nothing), so the thread has storage and borrows of its own.
fn start_thread_call(component: Component, instance: u32, thread: u32) -> Result<(), TrapKind> {
    let call = component
        .with_table(instance, HandleTable::begin_subtask)
        .and_then(|subtask| {
            let task = component.with_table(instance, HandleTable::begin_task)?;
            Ok(Call {
                caller: instance,
                callee: instance,
                subtask,
                task,
                context: [0; 2],
                async_return: None,
                thread: Some(thread),
            })
        })
        .map_err(host_trap)?;
    CALLS.with(|calls| calls.push(call));
    Ok(())
}

/// Ends the innermost call: see `wafer_abi::symbols::EXIT_SYNC_CALL`.
///
/// # Safety
/// As [`wafer_rt_resource_new`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wafer_rt_exit_sync_call(descriptor: *const Descriptor) -> u64 {
    // SAFETY: forwarded from the caller.
    let component = unsafe { Component::new(descriptor) };
    answer(end_call(component).map(|()| 0))
}

/// Ends the innermost call: leaves the callee, which must have dropped its borrows.
fn end_call(component: Component) -> Result<(), Trap> {
    let Some(call) = CALLS.with(Vec::pop) else {
        return Err(Trap::NoBorrowScope);
    };
    component.leave(Some(call.caller), call.callee);
    finish_call(component, call)
}

/// Ends the callee's task of `call` (which must have dropped its borrows) and the
/// caller's subtask: a call that returned, or a parked callee's task that exited.
fn finish_call(component: Component, call: Call) -> Result<(), Trap> {
    if let Some(thread) = call.thread {
        threads::forget(thread);
    }
    component
        .with_table(call.callee, |table| table.end_task(call.task))
        .and_then(|r| r)
        .and_then(|()| component.with_table(call.caller, |table| table.end_subtask(call.subtask)))
}

/// Exchanges the storage of the task the host started with `context`: the executor
/// keeps each waiting task's storage and puts back the one it runs.
pub(super) fn swap_root_context(context: &mut [u32; 2]) {
    ROOT_CONTEXT.with(|slots| core::mem::swap(slots, context));
}

/// Runs `f` on the running task's storage: the innermost call's, or the host's task's.
fn with_task_context<T>(f: impl FnOnce(&mut [u32; 2]) -> T) -> T {
    // The two globals are distinct, so the nested `with` borrows nothing twice.
    CALLS.with(|calls| match calls.last_mut() {
        Some(call) => f(&mut call.context),
        None => ROOT_CONTEXT.with(f),
    })
}

/// `context.get`: see `wafer_abi::symbols::CONTEXT_GET`.
#[unsafe(no_mangle)]
pub extern "C" fn wafer_rt_context_get(slot: u32) -> u32 {
    with_task_context(|slots| slots.get(slot as usize).copied().unwrap_or(0))
}

/// `context.set`: see `wafer_abi::symbols::CONTEXT_SET`.
#[unsafe(no_mangle)]
pub extern "C" fn wafer_rt_context_set(slot: u32, value: u32) {
    with_task_context(|slots| {
        if let Some(slot) = slots.get_mut(slot as usize) {
            *slot = value;
        }
    });
}

/// `backpressure.inc` / `backpressure.dec`: see `wafer_abi::symbols::BACKPRESSURE`.
///
/// # Safety
/// As [`wafer_rt_resource_new`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wafer_rt_backpressure(
    descriptor: *const Descriptor,
    instance: u32,
    delta: i32,
) -> u64 {
    // SAFETY: forwarded from the caller.
    let component = unsafe { Component::new(descriptor) };
    let changed = component.with_state(instance, |state| {
        let counter = state.backpressure + delta;
        // The spec's bounds: the counter stays within 0..2^16.
        if !(0..1 << 16).contains(&counter) {
            return BuiltinResult::trap(TrapKind::Unreachable).encode();
        }
        state.backpressure = counter;
        BuiltinResult::value(0).encode()
    });
    changed.unwrap_or_else(trapped)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A descriptor of instances with `parents`, entered by an entry at `entry`.
    fn with_component(parents: &[u32], entry: u32, f: impl FnOnce(Component)) {
        let mut flags = alloc::vec![1u32; parents.len()];
        let mut words: Vec<*mut InstanceState> = alloc::vec![core::ptr::null_mut(); parents.len()];
        let mut records: Vec<InstanceRecord> = parents
            .iter()
            .zip(flags.iter_mut().zip(words.iter_mut()))
            .map(|(&parent, (flags, word))| InstanceRecord {
                flags,
                state: word,
                parent: parent as usize,
            })
            .collect();
        let descriptor = Descriptor {
            instances: records.as_mut_ptr(),
            instance_count: records.len(),
            tables: core::ptr::null(),
            table_count: 0,
            resources: core::ptr::null(),
            resource_count: 0,
            entry: entry as usize,
        };
        // SAFETY: the descriptor and everything it points at outlive `f`.
        f(unsafe { Component::new(&descriptor) });
        for word in words {
            if !word.is_null() {
                // SAFETY: the runtime boxed each state it created.
                drop(unsafe { Box::from_raw(word) });
            }
        }
    }

    #[test]
    fn a_call_enters_the_callee_and_the_ancestors_the_caller_is_not_in() {
        // 0 is the root; 1 and 2 its children; 3 and 4 children of 2.
        with_component(&[NO_INSTANCE, 0, 0, 2, 2], NO_INSTANCE, |component| {
            let cannot = Err(TrapKind::CannotEnterComponent);
            // The host calls 3: 3, 2 and 0 are entered.
            assert_eq!(component.enter(None, 3), Ok(()));
            assert!((0..4).all(|i| component.is_entered(i) == (i != 1)));
            // 3 calls its sibling 4: only 4 is entered; then 1, a cousin.
            assert_eq!(component.enter(Some(3), 4), Ok(()));
            assert_eq!(component.enter(Some(3), 1), Ok(()));
            // 1 calls 4 (or its parent 2's code, or 3): each is in a call already.
            assert_eq!(component.enter(Some(1), 4), cannot);
            assert_eq!(component.enter(Some(1), 2), cannot);
            assert_eq!(component.enter(Some(1), 3), cannot);
            component.leave(Some(3), 4);
            // 4 is free again, but entering it from 1 enters 2 too, which 3 is in.
            assert_eq!(component.enter(Some(1), 4), cannot);
            component.leave(Some(3), 1);
            component.leave(None, 3);
            assert!((0..5).all(|i| !component.is_entered(i)));
            // With nothing in progress, 1 calling 4 enters 4 and 2, not the root.
            assert_eq!(component.enter(Some(1), 4), Ok(()));
            assert!((0..5).all(|i| component.is_entered(i) == (i == 2 || i == 4)));
            component.leave(Some(1), 4);
            // A poisoned instance cannot be entered.
            component.poison(3);
            assert_eq!(component.enter(None, 3), cannot);
        });
    }

    #[test]
    fn the_entry_keeps_its_instance_and_ancestors_entered() {
        with_component(&[NO_INSTANCE, 0, 0, 2], 3, |component| {
            assert!((0..4).all(|i| component.is_entered(i) == (i != 1)));
            // 3 calls its cousin 1, which cannot call back into 3 or 2.
            assert_eq!(component.enter(Some(3), 1), Ok(()));
            assert_eq!(
                component.enter(Some(1), 2),
                Err(TrapKind::CannotEnterComponent)
            );
            component.leave(Some(3), 1);
            assert!(!component.is_entered(1));
        });
    }

    #[test]
    fn canonical_abi_traps_have_kinds_with_their_messages() {
        for trap in Trap::ALL {
            let kind = trap_kind(trap);
            if !trap.is_spec_trap() {
                assert_eq!(kind, TrapKind::Unreachable);
                continue;
            }
            assert_eq!(kind as u8, 17 + trap.code(), "{trap:?}");
            assert!(kind as u8 >= TrapKind::InvalidUtf8 as u8);
            // The handle traps say which handle; the others say what the spec does.
            match kind.handle_message() {
                Some((before, after)) => assert!(!before.is_empty() || !after.is_empty()),
                None => assert_eq!(kind.message(), trap.message(), "{trap:?}"),
            }
        }
    }
}
