//! Handles: the interface lifting and lowering use for `own`, `borrow`, `stream`,
//! `future` and `error-context` values, and the reference per-instance handle table.
//!
//! A component instance has one table of handles; core code sees indices into it (never
//! 0, at most 2^28 - 1). The rules of `definitions.py`:
//!
//! * lowering an `own` adds an owning handle; lifting one moves it out (the index
//!   becomes free), which traps if it is a borrow or is lent;
//! * lowering a `borrow` into a call (a *task* of the callee) adds a borrow handle the
//!   callee must drop before it returns ([`Trap::BorrowsRemain`]), except that an
//!   instance given a borrow of a resource it implements gets the representation itself;
//! * lifting a `borrow` for a call the instance makes (a *subtask*) lends the handle,
//!   own or borrow, until the call ends: a lent handle cannot be moved out or dropped;
//! * `resource.new`, `resource.rep` and `resource.drop` are the built-ins on it;
//! * a freed index is reused before the table grows, the last freed first.
//!
//! Calls are scoped explicitly: [`HandleTable::begin_task`] / [`end_task`] around the
//! callee side of a call into the instance, [`begin_subtask`] / [`end_subtask`] around a
//! call it makes; [`task_scope`] and [`subtask_scope`] give the [`Handles`] that lifts and
//! lowers for one of them.
//!
//! Streams, futures and error contexts are kept as opaque values with their type:
//! lifting a stream or future moves it out, lifting an error context leaves it. Their
//! copy states and waitable sets are not modelled.
//!
//! [`end_task`]: HandleTable::end_task
//! [`begin_subtask`]: HandleTable::begin_subtask
//! [`end_subtask`]: HandleTable::end_subtask
//! [`task_scope`]: HandleTable::task_scope
//! [`subtask_scope`]: HandleTable::subtask_scope

use alloc::vec::Vec;

use crate::Trap;
use crate::types::{ResourceId, TypeId};

/// The handles of an instance, as lifting and lowering one value reach them.
///
/// `lift_*` take an index from core code and return the value it stands for;
/// `lower_*` take a value and return the index core code gets.
pub trait Handles {
    /// Moves an `own<resource>` out of handle `index`; returns its representation.
    fn lift_own(&mut self, resource: ResourceId, index: u32) -> Result<u32, Trap>;
    /// Lends handle `index` (own or borrow) of `resource` to the current call; returns
    /// its representation.
    fn lift_borrow(&mut self, resource: ResourceId, index: u32) -> Result<u32, Trap>;
    /// Adds an owning handle for `rep`.
    fn lower_own(&mut self, resource: ResourceId, rep: u32) -> Result<u32, Trap>;
    /// Adds a borrow handle for `rep`, scoped to the current call.
    fn lower_borrow(&mut self, resource: ResourceId, rep: u32) -> Result<u32, Trap>;
    /// Lifts a stream, future or error context of type `ty` from handle `index`.
    fn lift_opaque(&mut self, kind: OpaqueKind, ty: TypeId, index: u32) -> Result<u32, Trap>;
    /// Lowers a stream, future or error context of type `ty`.
    fn lower_opaque(&mut self, kind: OpaqueKind, ty: TypeId, value: u32) -> Result<u32, Trap>;
}

/// Which opaque handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpaqueKind {
    /// The readable end of a stream.
    Stream,
    /// The readable end of a future.
    Future,
    /// An error context.
    ErrorContext,
}

/// [`Handles`] for values that hold none: every call fails with [`Trap::Host`].
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHandles;

impl Handles for NoHandles {
    fn lift_own(&mut self, _: ResourceId, _: u32) -> Result<u32, Trap> {
        Err(Trap::Host)
    }
    fn lift_borrow(&mut self, _: ResourceId, _: u32) -> Result<u32, Trap> {
        Err(Trap::Host)
    }
    fn lower_own(&mut self, _: ResourceId, _: u32) -> Result<u32, Trap> {
        Err(Trap::Host)
    }
    fn lower_borrow(&mut self, _: ResourceId, _: u32) -> Result<u32, Trap> {
        Err(Trap::Host)
    }
    fn lift_opaque(&mut self, _: OpaqueKind, _: TypeId, _: u32) -> Result<u32, Trap> {
        Err(Trap::Host)
    }
    fn lower_opaque(&mut self, _: OpaqueKind, _: TypeId, _: u32) -> Result<u32, Trap> {
        Err(Trap::Host)
    }
}

/// A call into the instance (the spec's `Task`), holding the borrows lowered into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskId(u32);

/// A call the instance makes (the spec's `Subtask`), holding the handles lent to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubtaskId(u32);

/// A resource handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handle {
    /// Its resource type.
    pub resource: ResourceId,
    /// The resource's representation.
    pub rep: u32,
    /// Whether it owns the resource (else it is a borrow).
    pub own: bool,
    /// How many calls it is lent to.
    pub lends: u32,
    /// For a borrow lowered into a call, that call.
    pub scope: Option<TaskId>,
}

/// An entry of a [`HandleTable`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// A resource handle.
    Resource(Handle),
    /// A stream, future or error context.
    Opaque {
        /// Which.
        kind: OpaqueKind,
        /// Its type (a `stream<T>`, `future<T>` or `error-context`).
        ty: TypeId,
        /// The value it stands for.
        value: u32,
    },
    /// An object of the asynchronous ABI the embedder keeps (a waitable set, say).
    Async {
        /// Which kind of object.
        kind: AsyncKind,
        /// The embedder's id for it.
        id: u32,
    },
}

/// The kinds of [`Entry::Async`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AsyncKind {
    /// A waitable set.
    WaitableSet,
    /// A subtask: a call the instance made `async` that has not resolved when it
    /// returned.
    Subtask,
    /// The readable end of a stream.
    StreamReadable,
    /// The writable end of a stream.
    StreamWritable,
    /// The readable end of a future.
    FutureReadable,
    /// The writable end of a future.
    FutureWritable,
}

/// What `resource.drop` dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dropped {
    /// An owning handle: the caller runs the resource's destructor, if it has one, on
    /// `rep`.
    Own {
        /// The representation.
        rep: u32,
    },
    /// A borrow handle.
    Borrow,
}

/// The spec's limit on table indices: the top 4 bits stay free for guest code.
pub const MAX_TABLE_LENGTH: u32 = (1 << 28) - 1;

/// One instance's handle table. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct HandleTable {
    /// Index 0 is never used.
    entries: Vec<Option<Entry>>,
    free: Vec<u32>,
    max_len: u32,
    implements: Vec<ResourceId>,
    /// Per live task, the borrow handles lowered into it and not yet dropped.
    tasks: Vec<Option<u32>>,
    /// Per live subtask, the indices of the handles lent to it.
    subtasks: Vec<Option<Vec<u32>>>,
}

impl Default for HandleTable {
    fn default() -> Self {
        HandleTable::new()
    }
}

impl HandleTable {
    /// An empty table with the spec's limit.
    pub fn new() -> HandleTable {
        HandleTable::with_max_len(MAX_TABLE_LENGTH)
    }

    /// An empty table whose indices stay at or below `max_len` (at most the spec's
    /// limit): for small targets, and for testing the limit.
    pub fn with_max_len(max_len: u32) -> HandleTable {
        HandleTable {
            entries: alloc::vec![None],
            free: Vec::new(),
            max_len: max_len.min(MAX_TABLE_LENGTH),
            implements: Vec::new(),
            tasks: Vec::new(),
            subtasks: Vec::new(),
        }
    }

    /// Records that this instance implements `resource`: borrows of it lowered into
    /// this instance are its representations, not handles.
    pub fn set_implements(&mut self, resource: ResourceId) {
        if !self.implements.contains(&resource) {
            self.implements.push(resource);
        }
    }

    /// Whether this instance implements `resource`.
    pub fn implements(&self, resource: ResourceId) -> bool {
        self.implements.contains(&resource)
    }

    /// The entry at `index`, if there is one.
    pub fn entry(&self, index: u32) -> Option<&Entry> {
        self.entries.get(index as usize)?.as_ref()
    }

    /// How many entries the table holds.
    pub fn len(&self) -> usize {
        self.entries.iter().filter(|entry| entry.is_some()).count()
    }

    /// Whether the table holds no entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn add(&mut self, entry: Entry) -> Result<u32, Trap> {
        if let Some(index) = self.free.pop() {
            self.entries[index as usize] = Some(entry);
            return Ok(index);
        }
        let index = self.entries.len();
        if index > self.max_len as usize {
            return Err(Trap::HandleTableFull);
        }
        self.entries.push(Some(entry));
        Ok(index as u32)
    }

    fn get(&self, index: u32) -> Result<&Entry, Trap> {
        self.entry(index).ok_or(Trap::UnknownHandle(index))
    }

    fn remove(&mut self, index: u32) -> Result<Entry, Trap> {
        let entry = self
            .entries
            .get_mut(index as usize)
            .and_then(Option::take)
            .ok_or(Trap::UnknownHandle(index))?;
        self.free.push(index);
        Ok(entry)
    }

    /// The resource handle at `index`, which must be of `resource`.
    fn handle(&self, resource: ResourceId, index: u32) -> Result<&Handle, Trap> {
        match self.get(index)? {
            Entry::Resource(handle) if handle.resource == resource => Ok(handle),
            _ => Err(Trap::HandleWrongType(index)),
        }
    }

    fn handle_mut(&mut self, index: u32) -> Option<&mut Handle> {
        match self.entries.get_mut(index as usize) {
            Some(Some(Entry::Resource(handle))) => Some(handle),
            _ => None,
        }
    }

    /// A new entry for the embedder's object `id` of `kind`.
    pub fn add_async(&mut self, kind: AsyncKind, id: u32) -> Result<u32, Trap> {
        self.add(Entry::Async { kind, id })
    }

    /// The embedder's id of the object of `kind` at `index`.
    pub fn async_id(&self, kind: AsyncKind, index: u32) -> Result<u32, Trap> {
        match self.get(index)? {
            Entry::Async { kind: k, id } if *k == kind => Ok(*id),
            _ => Err(Trap::HandleWrongType(index)),
        }
    }

    /// The kind and embedder's id of the asynchronous object at `index`, whatever its
    /// kind (`waitable.join` takes any waitable).
    pub fn async_entry(&self, index: u32) -> Result<(AsyncKind, u32), Trap> {
        match self.get(index)? {
            Entry::Async { kind, id } => Ok((*kind, *id)),
            _ => Err(Trap::HandleWrongType(index)),
        }
    }

    /// Removes the object of `kind` at `index`; returns the embedder's id of it.
    pub fn remove_async(&mut self, kind: AsyncKind, index: u32) -> Result<u32, Trap> {
        let id = self.async_id(kind, index)?;
        self.remove(index)?;
        Ok(id)
    }

    /// `canon resource.new`: a new owning handle for `rep`.
    pub fn resource_new(&mut self, resource: ResourceId, rep: u32) -> Result<u32, Trap> {
        self.lower_own(resource, rep)
    }

    /// `canon resource.rep`: the representation behind handle `index`.
    pub fn resource_rep(&self, resource: ResourceId, index: u32) -> Result<u32, Trap> {
        Ok(self.handle(resource, index)?.rep)
    }

    /// `canon resource.drop`: removes handle `index`, which must not be lent.
    pub fn resource_drop(&mut self, resource: ResourceId, index: u32) -> Result<Dropped, Trap> {
        let handle = *self.handle(resource, index)?;
        if handle.lends != 0 {
            return Err(Trap::HandleLent(index));
        }
        self.remove(index)?;
        if handle.own {
            return Ok(Dropped::Own { rep: handle.rep });
        }
        if let Some(TaskId(task)) = handle.scope
            && let Some(Some(borrows)) = self.tasks.get_mut(task as usize)
        {
            *borrows = borrows.saturating_sub(1);
        }
        Ok(Dropped::Borrow)
    }

    /// `lift_own`: moves the owning handle `index` out; returns its representation.
    pub fn lift_own(&mut self, resource: ResourceId, index: u32) -> Result<u32, Trap> {
        let handle = *self.handle(resource, index)?;
        if handle.lends != 0 {
            return Err(Trap::HandleLent(index));
        }
        if !handle.own {
            return Err(Trap::NotOwnHandle(index));
        }
        self.remove(index)?;
        Ok(handle.rep)
    }

    /// `lower_own`: a new owning handle for `rep`.
    pub fn lower_own(&mut self, resource: ResourceId, rep: u32) -> Result<u32, Trap> {
        self.add(Entry::Resource(Handle {
            resource,
            rep,
            own: true,
            lends: 0,
            scope: None,
        }))
    }

    /// `lift_borrow`: lends handle `index` to `subtask`; returns its representation.
    pub fn lift_borrow(
        &mut self,
        subtask: SubtaskId,
        resource: ResourceId,
        index: u32,
    ) -> Result<u32, Trap> {
        if !matches!(self.subtasks.get(subtask.0 as usize), Some(Some(_))) {
            return Err(Trap::NoBorrowScope);
        }
        let rep = self.handle(resource, index)?.rep;
        if let Some(handle) = self.handle_mut(index) {
            handle.lends += 1;
        }
        if let Some(Some(lenders)) = self.subtasks.get_mut(subtask.0 as usize) {
            lenders.push(index);
        }
        Ok(rep)
    }

    /// `lower_borrow`: a borrow handle for `rep` scoped to `task` (or `rep` itself if this
    /// instance implements `resource`).
    pub fn lower_borrow(
        &mut self,
        task: TaskId,
        resource: ResourceId,
        rep: u32,
    ) -> Result<u32, Trap> {
        if !matches!(self.tasks.get(task.0 as usize), Some(Some(_))) {
            return Err(Trap::NoBorrowScope);
        }
        if self.implements(resource) {
            return Ok(rep);
        }
        let index = self.add(Entry::Resource(Handle {
            resource,
            rep,
            own: false,
            lends: 0,
            scope: Some(task),
        }))?;
        if let Some(Some(borrows)) = self.tasks.get_mut(task.0 as usize) {
            *borrows += 1;
        }
        Ok(index)
    }

    /// Lifts a stream, future or error context: handle `index` must hold one of `kind`
    /// and type `ty`; a stream or future is moved out.
    pub fn lift_opaque(&mut self, kind: OpaqueKind, ty: TypeId, index: u32) -> Result<u32, Trap> {
        let value = match *self.get(index)? {
            Entry::Opaque {
                kind: held_kind,
                ty: held_ty,
                value,
            } if held_kind == kind && held_ty == ty => value,
            _ => return Err(Trap::HandleWrongType(index)),
        };
        if kind != OpaqueKind::ErrorContext {
            self.remove(index)?;
        }
        Ok(value)
    }

    /// Removes handle `index`, which must hold a stream, future or error context of
    /// `kind` and type `ty` (`error-context.drop`); returns the value it stood for.
    pub fn remove_opaque(&mut self, kind: OpaqueKind, ty: TypeId, index: u32) -> Result<u32, Trap> {
        let value = match *self.get(index)? {
            Entry::Opaque {
                kind: held_kind,
                ty: held_ty,
                value,
            } if held_kind == kind && held_ty == ty => value,
            _ => return Err(Trap::HandleWrongType(index)),
        };
        self.remove(index)?;
        Ok(value)
    }

    /// Lowers a stream, future or error context: a new handle for `value`.
    pub fn lower_opaque(&mut self, kind: OpaqueKind, ty: TypeId, value: u32) -> Result<u32, Trap> {
        self.add(Entry::Opaque { kind, ty, value })
    }

    /// Starts a call into this instance.
    pub fn begin_task(&mut self) -> TaskId {
        TaskId(claim(&mut self.tasks, 0))
    }

    /// Ends a call into this instance when it returns: traps if borrow handles lowered
    /// into it remain (the task then stays).
    pub fn end_task(&mut self, task: TaskId) -> Result<(), Trap> {
        match self.tasks.get_mut(task.0 as usize) {
            Some(Some(0)) => {
                self.tasks[task.0 as usize] = None;
                Ok(())
            }
            Some(Some(_)) => Err(Trap::BorrowsRemain),
            _ => Err(Trap::NoBorrowScope),
        }
    }

    /// The borrow handles lowered into `task` and not yet dropped.
    pub fn task_borrows(&self, task: TaskId) -> Option<u32> {
        *self.tasks.get(task.0 as usize)?
    }

    /// Starts a call this instance makes.
    pub fn begin_subtask(&mut self) -> SubtaskId {
        SubtaskId(claim(&mut self.subtasks, Vec::new()))
    }

    /// Ends a call this instance made: the handles lent to it are no longer lent.
    pub fn end_subtask(&mut self, subtask: SubtaskId) {
        let Some(lenders) = self
            .subtasks
            .get_mut(subtask.0 as usize)
            .and_then(Option::take)
        else {
            return;
        };
        for index in lenders {
            if let Some(handle) = self.handle_mut(index) {
                handle.lends = handle.lends.saturating_sub(1);
            }
        }
    }

    /// The [`Handles`] for lowering into (and lifting results out of) `task`.
    pub fn task_scope(&mut self, task: TaskId) -> TaskScope<'_> {
        TaskScope { table: self, task }
    }

    /// The [`Handles`] for lifting arguments into (and lowering results of) `subtask`.
    pub fn subtask_scope(&mut self, subtask: SubtaskId) -> SubtaskScope<'_> {
        SubtaskScope {
            table: self,
            subtask,
        }
    }
}

/// Takes the first free slot of `slots` (or a new one) for `value`.
fn claim<T>(slots: &mut Vec<Option<T>>, value: T) -> u32 {
    match slots.iter().position(Option::is_none) {
        Some(index) => {
            slots[index] = Some(value);
            index as u32
        }
        None => {
            slots.push(Some(value));
            (slots.len() - 1) as u32
        }
    }
}

/// Without a call, borrows can be neither lifted nor lowered.
impl Handles for HandleTable {
    fn lift_own(&mut self, resource: ResourceId, index: u32) -> Result<u32, Trap> {
        HandleTable::lift_own(self, resource, index)
    }
    fn lift_borrow(&mut self, _: ResourceId, _: u32) -> Result<u32, Trap> {
        Err(Trap::NoBorrowScope)
    }
    fn lower_own(&mut self, resource: ResourceId, rep: u32) -> Result<u32, Trap> {
        HandleTable::lower_own(self, resource, rep)
    }
    fn lower_borrow(&mut self, _: ResourceId, _: u32) -> Result<u32, Trap> {
        Err(Trap::NoBorrowScope)
    }
    fn lift_opaque(&mut self, kind: OpaqueKind, ty: TypeId, index: u32) -> Result<u32, Trap> {
        HandleTable::lift_opaque(self, kind, ty, index)
    }
    fn lower_opaque(&mut self, kind: OpaqueKind, ty: TypeId, value: u32) -> Result<u32, Trap> {
        HandleTable::lower_opaque(self, kind, ty, value)
    }
}

/// The handles of a call into an instance: borrows are lowered into it.
#[derive(Debug)]
pub struct TaskScope<'a> {
    table: &'a mut HandleTable,
    task: TaskId,
}

impl Handles for TaskScope<'_> {
    fn lift_own(&mut self, resource: ResourceId, index: u32) -> Result<u32, Trap> {
        self.table.lift_own(resource, index)
    }
    fn lift_borrow(&mut self, _: ResourceId, _: u32) -> Result<u32, Trap> {
        Err(Trap::NoBorrowScope)
    }
    fn lower_own(&mut self, resource: ResourceId, rep: u32) -> Result<u32, Trap> {
        self.table.lower_own(resource, rep)
    }
    fn lower_borrow(&mut self, resource: ResourceId, rep: u32) -> Result<u32, Trap> {
        self.table.lower_borrow(self.task, resource, rep)
    }
    fn lift_opaque(&mut self, kind: OpaqueKind, ty: TypeId, index: u32) -> Result<u32, Trap> {
        self.table.lift_opaque(kind, ty, index)
    }
    fn lower_opaque(&mut self, kind: OpaqueKind, ty: TypeId, value: u32) -> Result<u32, Trap> {
        self.table.lower_opaque(kind, ty, value)
    }
}

/// The handles of a call an instance makes: borrows are lifted (lent) for it.
#[derive(Debug)]
pub struct SubtaskScope<'a> {
    table: &'a mut HandleTable,
    subtask: SubtaskId,
}

impl Handles for SubtaskScope<'_> {
    fn lift_own(&mut self, resource: ResourceId, index: u32) -> Result<u32, Trap> {
        self.table.lift_own(resource, index)
    }
    fn lift_borrow(&mut self, resource: ResourceId, index: u32) -> Result<u32, Trap> {
        self.table.lift_borrow(self.subtask, resource, index)
    }
    fn lower_own(&mut self, resource: ResourceId, rep: u32) -> Result<u32, Trap> {
        self.table.lower_own(resource, rep)
    }
    fn lower_borrow(&mut self, _: ResourceId, _: u32) -> Result<u32, Trap> {
        Err(Trap::NoBorrowScope)
    }
    fn lift_opaque(&mut self, kind: OpaqueKind, ty: TypeId, index: u32) -> Result<u32, Trap> {
        self.table.lift_opaque(kind, ty, index)
    }
    fn lower_opaque(&mut self, kind: OpaqueKind, ty: TypeId, value: u32) -> Result<u32, Trap> {
        self.table.lower_opaque(kind, ty, value)
    }
}
