//! wafer's flat plan of a component: what the image instantiates, in order, and how
//! every core import is satisfied. Codegen reads only this, never the front end's types.

use std::borrow::Cow;

/// A component flattened into core instances, trampolines and exports.
#[derive(Debug, Clone, Default)]
pub struct ComponentPlan<'data> {
    /// Every core module: the component's own, then the fused adapter modules.
    pub modules: Vec<CoreModule<'data>>,
    /// Core instances in instantiation order.
    pub instances: Vec<CoreInstance>,
    /// Functions the image generates to stand in for canonical built-ins.
    pub trampolines: Vec<Trampoline>,
    /// The core signature of each trampoline.
    pub trampoline_signatures: Vec<FlatSig>,
    /// Canonical options, by index.
    pub options: Vec<CanonOptions>,
    /// Memories canonical options name (`RuntimeMemoryIndex`): exports of instances.
    pub memories: Vec<CoreItem>,
    /// Functions named as `realloc` options.
    pub reallocs: Vec<CoreDef>,
    /// Functions named as `post-return` options.
    pub post_returns: Vec<CoreDef>,
    /// Functions named as `callback` options (of functions lifted `async`).
    pub callbacks: Vec<CoreDef>,
    /// Resource types by the component's resource index.
    pub resources: Vec<Resource>,
    /// The handle tables fused adapters name when they move handles between component
    /// instances, by their index (the constants adapters pass to the transfer
    /// trampolines); `None` for a table of a resource type left abstract.
    pub resource_tables: Vec<Option<ResourceTable>>,
    /// How many component instances there are; each has its own handle table.
    pub component_instances: u32,
    /// The component instance that instantiated each one (`None` for the root, and
    /// where the front end cannot tell), by index: a call into an instance enters its
    /// ancestors too, those the caller is not inside already.
    pub parents: Vec<Option<u32>>,
    /// The component's imported interfaces and functions, as its type declares them.
    pub imports: Vec<WorldItem>,
    /// Exported functions (lifted core functions), by export name path.
    pub exports: Vec<Export>,
    /// The component-level types of the exported functions ([`Export::func_type`]
    /// indexes `funcs`), for callers that pass component values (the test harness).
    pub types: wafer_canon::Types,
    /// The exported functions' types.
    pub funcs: Vec<wafer_canon::FuncType>,
    /// Exported interfaces and functions, as its type declares them.
    pub export_names: Vec<WorldItem>,
}

/// One core module of the component.
#[derive(Debug, Clone)]
pub struct CoreModule<'data> {
    /// The module's binary.
    pub wasm: Cow<'data, [u8]>,
    /// Where it starts in the component file (errors in it are reported from there);
    /// `None` for a generated adapter module.
    pub input_offset: Option<usize>,
}

/// A core instance: a module and its imports, positionally.
#[derive(Debug, Clone)]
pub struct CoreInstance {
    /// The module, by position in [`ComponentPlan::modules`].
    pub module: usize,
    /// What each import gets, in the module's import order.
    pub args: Vec<CoreDef>,
}

/// The kind of a core item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ItemKind {
    /// A function.
    Func,
    /// A table.
    Table,
    /// A memory.
    Memory,
    /// A global.
    Global,
    /// An exception tag.
    Tag,
}

/// An item of an earlier core instance, by its index in that module's index space of
/// its kind (imports included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CoreItem {
    /// The instance, by position.
    pub instance: usize,
    /// The item's kind.
    pub kind: ItemKind,
    /// Its index.
    pub index: u32,
}

/// Where a core import comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoreDef {
    /// An item of an earlier instance.
    Item(CoreItem),
    /// A generated trampoline, by position in [`ComponentPlan::trampolines`].
    Trampoline(usize),
    /// The flags global of a component instance (fused adapters read it to check
    /// reentrance).
    InstanceFlags(u32),
    /// The global fused adapters keep whether the running task may block in (only
    /// adapters generated with concurrency support, for components that make
    /// asynchronous calls, use it).
    TaskMayBlock,
}

/// A core value type in a trampoline's signature: the canonical ABI's flat types, and
/// the function references fused adapters pass for asynchronous calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlatType {
    /// `i32`
    I32,
    /// `i64`
    I64,
    /// `f32`
    F32,
    /// `f64`
    F64,
    /// `funcref`
    FuncRef,
}

impl From<wafer_abi::wasi_p2::FlatType> for FlatType {
    fn from(flat: wafer_abi::wasi_p2::FlatType) -> FlatType {
        use wafer_abi::wasi_p2::FlatType as Host;
        match flat {
            Host::I32 => FlatType::I32,
            Host::I64 => FlatType::I64,
            Host::F32 => FlatType::F32,
            Host::F64 => FlatType::F64,
        }
    }
}

/// A flat core signature.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FlatSig {
    /// Parameters.
    pub params: Vec<FlatType>,
    /// Results.
    pub results: Vec<FlatType>,
}

/// A function the image generates for a canonical built-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trampoline {
    /// `canon lower` of an imported function: calls the host.
    LowerImport {
        /// The imported function.
        func: ImportedFunc,
        /// Its canonical options.
        options: usize,
    },
    /// `resource.new` of a resource the component defines.
    ResourceNew {
        /// The component instance whose table gets the handle.
        instance: u32,
        /// The resource type.
        resource: usize,
    },
    /// `resource.rep`.
    ResourceRep {
        /// The component instance whose table holds the handle.
        instance: u32,
        /// The resource type.
        resource: usize,
    },
    /// `resource.drop`.
    ResourceDrop {
        /// The component instance whose table holds the handle.
        instance: u32,
        /// The resource type.
        resource: usize,
    },
    /// A string copy or transcoding between two memories, for fused adapters.
    Transcoder {
        /// The operation, as wasmtime names it (`utf8-to-utf16`).
        op: String,
        /// Source memory, by position in [`ComponentPlan::memories`].
        from: usize,
        /// Destination memory.
        to: usize,
    },
    /// A trap raised by a fused adapter, with a code (wasmtime's trap numbering).
    Trap,
    /// Moves an own handle from one component instance's table to another's (fused
    /// adapters pass the index and both tables, as [`ComponentPlan::resource_tables`]
    /// positions, and get the new index).
    ResourceTransferOwn {
        /// What to add to the tables adapters name (non-zero once plans are merged).
        table_base: u32,
    },
    /// Lends a handle of one component instance to a call into another: a borrow handle
    /// there (or the representation, if that instance implements the resource).
    ResourceTransferBorrow {
        /// As for [`Trampoline::ResourceTransferOwn`].
        table_base: u32,
    },
    /// The start of a call between component instances that passes borrows: the scope
    /// the borrows live in (caller instance, whether the callee is async, callee).
    EnterSyncCall {
        /// What to add to the instances adapters name (non-zero once plans are merged).
        instance_base: u32,
    },
    /// The end of that call: the callee must have dropped its borrows.
    ExitSyncCall,
    /// `context.get` of an `i32` slot of the running task's storage.
    ContextGet {
        /// The slot.
        slot: u32,
    },
    /// `context.set` of an `i32` slot of the running task's storage.
    ContextSet {
        /// The slot.
        slot: u32,
    },
    /// `thread.new-indirect`: a new thread of the running task, which will call the
    /// function at an index of `table` (checked to be of type `(func (param i32))`).
    ThreadNew {
        /// The component instance.
        instance: u32,
        /// The core table the start function comes from.
        table: CoreItem,
    },
    /// `backpressure.inc` (`delta` 1) or `backpressure.dec` (-1).
    Backpressure {
        /// The component instance.
        instance: u32,
        /// The change.
        delta: i32,
    },
    /// `task.return`: the running task's results, as flat values (or a pointer to them
    /// past `MAX_FLAT_PARAMS`), which the runtime keeps for the task's caller.
    TaskReturn {
        /// The component instance calling it.
        instance: u32,
    },
    /// A built-in of the asynchronous component model the runtime implements on `i32`
    /// operands.
    Async {
        /// Which one.
        op: AsyncOp,
        /// The component instance calling it.
        instance: u32,
        /// The canonical options whose memory it writes an event to, for `waitable-set.wait`
        /// and `.poll`.
        options: Option<usize>,
        /// `waitable-set.wait`, `.poll` or `thread.yield` with the `cancellable`
        /// immediate.
        cancellable: bool,
    },
    /// A stream or future built-in (`stream.new`, `.read`, ..., `future.drop-writable`).
    Copy {
        /// The operation: `wafer_abi::component::copy_op`, with `ASYNC` for an `async`
        /// copy or cancel.
        op: u32,
        /// The built-in's name, for symbols and trap reports.
        name: &'static str,
        /// The component instance calling it.
        instance: u32,
        /// The stream or future type's identity (`wafer_abi::component::type_identity`).
        ty: u32,
        /// How its elements lie in memory (`wafer_abi::component::elem_layout`).
        layout: u32,
        /// The canonical options of a read or write (their memory holds the buffer).
        options: Option<usize>,
        /// For a read or write of elements that are not numbers: the element type, as
        /// `wafer_canon::encode::encode_types` of an arena with one function type whose
        /// one parameter it is (empty otherwise). Copies between component instances
        /// lift and lower elements of it.
        elem_type: Vec<u8>,
        /// What to add to the resource ids of `elem_type` (resource indices of the
        /// plan; non-zero once plans are merged).
        resource_base: u32,
    },
    /// A fused adapter's move of a stream's or future's readable end from one component
    /// instance's table to another's: `(end, source table, destination table) -> end`.
    Transfer {
        /// A future's (else a stream's).
        future: bool,
        /// By the table index adapters pass: its component instance and the stream or
        /// future type's identity.
        tables: Vec<(u32, u32)>,
    },
    /// An error-context built-in (`error-context.new`, `.debug-message`, `.drop`).
    ErrorContext {
        /// The operation: `wafer_abi::component::error_context_op`.
        op: u32,
        /// The component instance calling it.
        instance: u32,
        /// The canonical options of `new` and `debug-message` (their memory holds the
        /// message; `debug-message` allocates with their `realloc`).
        options: Option<usize>,
    },
    /// A fused adapter's `error-context-transfer`: `(handle, source table, destination
    /// table) -> handle`, the error context added to the destination's table.
    ErrorContextTransfer {
        /// By the table index adapters pass: the component instance of each
        /// error-context table.
        tables: Vec<u32>,
    },
    /// A fused adapter's `prepare-call` for a call lowered or lifted `async` (the
    /// `start` and `return` function references, instances, result count and the
    /// lowered parameters): the runtime keeps them for [`Trampoline::StartCall`].
    PrepareCall {
        /// Added to the instance numbers the adapter passes (a harness image's merged
        /// plans number instances past those of the components before).
        instance_base: u32,
    },
    /// A fused adapter's `start-call`: runs the prepared call (`(callee, param count)
    /// -> results` for a synchronous lower, `(callee, param count, result count, flags)
    /// -> status` for an `async` one).
    StartCall {
        /// The caller lowered `async`.
        async_lower: bool,
        /// The callee's callback, by position in [`ComponentPlan::callbacks`].
        callback: Option<usize>,
        /// The callee's post-return, by position in [`ComponentPlan::post_returns`].
        post_return: Option<usize>,
    },
    /// A built-in of the asynchronous component model (WASI 0.3) that wafer does not
    /// implement: it checks that its instance may leave, as the spec's built-ins do
    /// first, then traps.
    Unsupported {
        /// The component instance calling it (`None` for the ones fused adapters call,
        /// which check the flags themselves).
        instance: Option<u32>,
        /// The built-in's name, for trap reports.
        name: String,
    },
}

/// The asynchronous built-ins [`Trampoline::Async`] stands for; `wafer_abi`'s numbering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsyncOp {
    /// `waitable-set.new`: `() -> i32`.
    WaitableSetNew,
    /// `waitable-set.drop`: `(set)`.
    WaitableSetDrop,
    /// `waitable-set.wait`: `(set, ptr) -> event`.
    WaitableSetWait,
    /// `waitable-set.poll`: `(set, ptr) -> event`.
    WaitableSetPoll,
    /// `waitable.join`: `(waitable, set)`.
    WaitableJoin,
    /// `thread.yield`: `() -> cancelled`.
    ThreadYield,
    /// `subtask.drop`: `(subtask)`.
    SubtaskDrop,
    /// `subtask.cancel`, `async` or not: `(subtask) -> state`.
    SubtaskCancel { is_async: bool },
    /// `task.cancel`: `()`.
    TaskCancel,
    /// `thread.index`: `() -> thread`.
    ThreadIndex,
    /// `thread.resume-later`: `(thread)`.
    ThreadResumeLater,
    /// `thread.suspend`: `() -> cancelled`.
    ThreadSuspend,
    /// `thread.suspend-then-resume`: `(thread) -> cancelled`.
    ThreadSuspendThenResume,
    /// `thread.yield-then-resume`: `(thread) -> cancelled`.
    ThreadYieldThenResume,
    /// `thread.suspend-then-promote`: `(thread) -> cancelled`.
    ThreadSuspendThenPromote,
    /// `thread.yield-then-promote`: `(thread) -> cancelled`.
    ThreadYieldThenPromote,
}

impl AsyncOp {
    /// The built-in's name in the spec.
    pub fn name(self) -> &'static str {
        match self {
            AsyncOp::WaitableSetNew => "waitable-set.new",
            AsyncOp::WaitableSetDrop => "waitable-set.drop",
            AsyncOp::WaitableSetWait => "waitable-set.wait",
            AsyncOp::WaitableSetPoll => "waitable-set.poll",
            AsyncOp::WaitableJoin => "waitable.join",
            AsyncOp::ThreadYield => "thread.yield",
            AsyncOp::SubtaskDrop => "subtask.drop",
            AsyncOp::SubtaskCancel { .. } => "subtask.cancel",
            AsyncOp::TaskCancel => "task.cancel",
            AsyncOp::ThreadIndex => "thread.index",
            AsyncOp::ThreadResumeLater => "thread.resume-later",
            AsyncOp::ThreadSuspend => "thread.suspend",
            AsyncOp::ThreadSuspendThenResume => "thread.suspend-then-resume",
            AsyncOp::ThreadYieldThenResume => "thread.yield-then-resume",
            AsyncOp::ThreadSuspendThenPromote => "thread.suspend-then-promote",
            AsyncOp::ThreadYieldThenPromote => "thread.yield-then-promote",
        }
    }

    /// The runtime's number for it (`wafer_abi::component::async_op`).
    pub fn code(self) -> u32 {
        use wafer_abi::component::async_op as op;
        match self {
            AsyncOp::WaitableSetNew => op::WAITABLE_SET_NEW,
            AsyncOp::WaitableSetDrop => op::WAITABLE_SET_DROP,
            AsyncOp::WaitableSetWait => op::WAITABLE_SET_WAIT,
            AsyncOp::WaitableSetPoll => op::WAITABLE_SET_POLL,
            AsyncOp::WaitableJoin => op::WAITABLE_JOIN,
            AsyncOp::ThreadYield => op::THREAD_YIELD,
            AsyncOp::SubtaskDrop => op::SUBTASK_DROP,
            AsyncOp::SubtaskCancel { is_async: false } => op::SUBTASK_CANCEL,
            AsyncOp::SubtaskCancel { is_async: true } => op::SUBTASK_CANCEL_ASYNC,
            AsyncOp::TaskCancel => op::TASK_CANCEL,
            AsyncOp::ThreadIndex => op::THREAD_INDEX,
            AsyncOp::ThreadResumeLater => op::THREAD_RESUME_LATER,
            AsyncOp::ThreadSuspend => op::THREAD_SUSPEND,
            AsyncOp::ThreadSuspendThenResume => op::THREAD_SUSPEND_THEN_RESUME,
            AsyncOp::ThreadYieldThenResume => op::THREAD_YIELD_THEN_RESUME,
            AsyncOp::ThreadSuspendThenPromote => op::THREAD_SUSPEND_THEN_PROMOTE,
            AsyncOp::ThreadYieldThenPromote => op::THREAD_YIELD_THEN_PROMOTE,
        }
    }
}

/// A handle table fused adapters name: a resource type in a component instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceTable {
    /// The component instance whose table it is.
    pub instance: u32,
    /// The resource type, by the component's resource index.
    pub resource: usize,
}

/// Where strings are in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StringEncoding {
    /// UTF-8.
    Utf8,
    /// UTF-16.
    Utf16,
    /// latin1+utf16.
    CompactUtf16,
}

/// A set of canonical options (`memory`, `realloc`, `post-return`, `string-encoding`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CanonOptions {
    /// `async`: an asynchronous lift or lower (WASI 0.3).
    pub is_async: bool,
    /// The callback of an `async` lift, by position in [`ComponentPlan::callbacks`].
    pub callback: Option<usize>,
    /// The component instance they belong to.
    pub instance: u32,
    /// The memory, by position in [`ComponentPlan::memories`].
    pub memory: Option<usize>,
    /// The realloc function, by position in [`ComponentPlan::reallocs`].
    pub realloc: Option<usize>,
    /// The post-return function, by position in [`ComponentPlan::post_returns`].
    pub post_return: Option<usize>,
    /// The string encoding.
    pub encoding: StringEncoding,
}

/// A resource type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// Imported: the host defines it.
    Imported {
        /// The interface, as imported (`wasi:io/streams@0.2.6`).
        interface: String,
        /// The resource's name (`output-stream`).
        name: String,
    },
    /// Defined by a component instance.
    Defined {
        /// The defining component instance.
        instance: u32,
        /// Its destructor, if any.
        destructor: Option<CoreDef>,
    },
}

/// An imported or exported interface (or bare function) and its functions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorldItem {
    /// The interface (`wasi:cli/stdout@0.2.6`) or a bare function's name.
    pub name: String,
    /// The functions in it (empty for a bare function, which is its own name).
    pub funcs: Vec<String>,
    /// Whether it is a bare function rather than an interface.
    pub bare_func: bool,
}

impl WorldItem {
    /// The imported functions, as (interface or "", function) pairs.
    pub fn functions(&self) -> Vec<(&str, &str)> {
        if self.bare_func {
            vec![("", self.name.as_str())]
        } else {
            self.funcs
                .iter()
                .map(|f| (self.name.as_str(), f.as_str()))
                .collect()
        }
    }
}

/// A lifted function the component exports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Export {
    /// The export's name path, joined with `#` (`wasi:cli/run@0.2.0#run`).
    pub name: String,
    /// The core function lifted.
    pub func: CoreDef,
    /// Its canonical options.
    pub options: usize,
    /// The lifted core signature.
    pub signature: FlatSig,
    /// Its component-level type, by position in [`ComponentPlan::funcs`] (`None` when
    /// the canonical-ABI type model cannot hold it).
    pub func_type: Option<usize>,
}

/// The imported function a [`Trampoline::LowerImport`] lowers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedFunc {
    /// The interface it comes from (empty for a function imported on its own).
    pub interface: String,
    /// The function's name.
    pub name: String,
}

impl ImportedFunc {
    /// `interface#name`, or the name alone.
    pub fn display(&self) -> String {
        if self.interface.is_empty() {
            self.name.clone()
        } else {
            format!("{}#{}", self.interface, self.name)
        }
    }
}
