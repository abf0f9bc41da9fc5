//! Names of the symbols shared between compiled code and the runtime.
//!
//! Compiled code uses the C calling convention of the target (System V on every
//! supported target) for every call that crosses into the runtime, and for the two
//! image entry points. Wasm-to-wasm calls use Cranelift's `tail` convention and never
//! cross this boundary.
//!
//! Unless stated otherwise, `vmctx` below is a pointer to the calling instance's VM
//! context (see [`crate::vmctx`]).

/// Defined by the compiler: the image descriptor ([`crate::image`]), a data symbol.
pub const IMAGE_DESCRIPTOR: &str = "wafer_image";

/// Defined by the compiler: `extern "C" fn()`. Instantiates every instance of the image in
/// order: creates memories and tables, evaluates global initialisers, applies element and
/// data segments, and runs start functions. A trap here ends the program like any trap.
pub const IMAGE_INIT: &str = "wafer_image_init";

/// Defined by the compiler: `extern "C" fn()`. Runs the image's entry point (the WASI
/// command export `_start`); returns when the guest returns.
pub const IMAGE_MAIN: &str = "wafer_image_main";

/// Defined by the runtime: the process entry point of a Linux executable.
pub const ENTRY: &str = "_start";

/// Defined by the runtime: the entry point of a test-harness image, which reads commands
/// on stdin instead of running `_start` (see [`crate::harness`]).
pub const HARNESS_ENTRY: &str = "wafer_harness_start";

/// Defined by the compiler in harness images: the harness table ([`crate::harness`]).
pub const HARNESS_TABLE: &str = "wafer_harness";

/// Defined by the compiler in harness images: the component harness table (see
/// [`crate::harness::component`]; empty in an image of core modules, as
/// [`HARNESS_TABLE`] is in an image of components).
pub const COMPONENT_HARNESS_TABLE: &str = "wafer_component_harness";

/// Defined by the runtime: `extern "C" fn()`. Checks the image's grants;
/// `wafer_image_init` calls it first, and only in an image that has grants, so other
/// images carry none of that code.
pub const APPLY_GRANTS: &str = "wafer_rt_apply_grants";

/// Defined by the runtime: `extern "C" fn()`. Opens the granted directories (fds 3 and
/// up); called after [`APPLY_GRANTS`], only in an image that grants a directory.
pub const OPEN_GRANTED_DIRS: &str = "wafer_rt_open_granted_dirs";

/// Defined by the runtime: `extern "C" fn()`. A component image's [`OPEN_GRANTED_DIRS`]:
/// opens the granted directories for the WASI 0.2 host's `get-directories`; called
/// after [`APPLY_GRANTS`], only in a component image that grants a directory.
pub const P2_OPEN_GRANTED_DIRS: &str = "wafer_p2_open_granted_dirs";

/// Defined by the runtime: `extern "C" fn()`. Opens the granted listening sockets (after
/// the directories); called after [`OPEN_GRANTED_DIRS`], only in an image that grants a
/// listener.
pub const OPEN_GRANTED_LISTENERS: &str = "wafer_rt_open_granted_listeners";

/// Defined by the runtime: `extern "C" fn(def: *mut VMMemoryDefinition, min_pages: u64,
/// max_pages: u64, fixed_base: usize, page_size_log2: u32)`. Reserves a linear memory of
/// pages of `1 << page_size_log2` bytes (64 KiB, or 1 byte under the custom-page-sizes
/// proposal), at `fixed_base` unless it is 0 (see [`crate::FIXED_MEMORY_BASE`]), and makes
/// `min_pages` accessible; ends the process with an internal error when the memory cannot
/// be reserved. `max_pages` is at most what the memory's index type can address.
pub const MEMORY_NEW: &str = "wafer_rt_memory_new";

/// Defined by the runtime: `extern "C" fn(def: *mut VMMemoryDefinition, delta_pages: u64,
/// page_size_log2: u32) -> u64`. Grows a memory whose pages are `1 << page_size_log2`
/// bytes (as created); returns the old size in pages, or `u64::MAX` when the memory cannot
/// grow by `delta_pages` without passing its maximum.
pub const MEMORY_GROW: &str = "wafer_rt_memory_grow";

/// Defined by the runtime: `extern "C" fn() -> usize`. The lowest address the stack
/// pointer of compiled code may reach, leaving room below it for the runtime's host
/// functions. Images built with stack-limit checks store it in each VM context's
/// `stack_limit` slot when the instance is instantiated (see [`crate::vmctx`]), passing
/// the slot's address, which the runtime keeps: code that runs on another stack (a
/// fiber) gets that stack's limit in every slot while it runs.
/// `extern "C" fn(slot: *mut usize) -> usize`.
pub const STACK_LIMIT: &str = "wafer_rt_stack_limit";

/// Defined by the runtime: `static mut wafer_rt_meter: i64`, the metered images' count
/// of what the code may still do before it must ask the runtime (`--fuel`, `--deadline`).
/// Compiled code keeps it in a register, charges it as it goes, stores it around calls and
/// calls [`METER_EXHAUSTED`] when it goes below zero at a check (function entries and loop
/// headers).
pub const METER: &str = "wafer_rt_meter";

/// Defined by the runtime: `extern "C" fn() -> i64`, called with [`METER`] stored and
/// below zero. Returns the meter's next value, or a [`crate::trap::TrapKind`] code
/// negated (`-47` out of fuel, `-48` past the deadline), and stores the same in [`METER`],
/// so compiled code may call it through a shim that returns nothing but keeps every
/// register (the compiler's metering slow path).
pub const METER_EXHAUSTED: &str = "wafer_rt_meter_exhausted";

/// Defined by the riscv64 runtimes: `fn()` in Cranelift's `preserve_all` convention, which
/// calls [`METER_EXHAUSTED`] and keeps every register. On the other architectures the
/// compiler generates this shim itself.
pub const METER_SLOW_PATH: &str = "wafer_rt_meter_slow_path";

/// Defined by the runtime: `extern "C" fn(def: *mut VMTableDefinition, min: u64, max: u64,
/// init: usize)`. Allocates a table of `min` elements set to `init`; ends the process
/// with an internal error when it cannot be allocated.
pub const TABLE_NEW: &str = "wafer_rt_table_new";

/// Defined by the runtime: `extern "C" fn(def: *mut VMTableDefinition, delta: u64,
/// init: usize) -> u64`. Grows a table, filling new slots with `init`; returns the old
/// size, or `u64::MAX` when it cannot grow past its maximum.
pub const TABLE_GROW: &str = "wafer_rt_table_grow";

/// Defined by the runtime: `extern "C" fn(tag: u32, payload_slots: u32) -> *mut u8`.
/// Allocates a zeroed exception object (see [`crate::exceptions`]) with the tag set.
pub const EXCEPTION_NEW: &str = "wafer_rt_exception_new";

/// Defined by the runtime: `fn(exception: *mut u8) -> !`, called with Cranelift's `tail`
/// convention (the exception in the first argument register, as in C). Throws: unwinds
/// to the nearest matching handler (see [`crate::exceptions`]). Must be called directly
/// from compiled code, which keeps frame pointers.
pub const THROW: &str = "wafer_rt_throw";

/// Defined by the runtime with C semantics; compiled code calls them for bulk memory and
/// table operations after it has checked the bounds itself.
pub const MEMCPY: &str = "memcpy";
/// See [`MEMCPY`].
pub const MEMMOVE: &str = "memmove";
/// See [`MEMCPY`].
pub const MEMSET: &str = "memset";
/// See [`MEMCPY`].
pub const MEMCMP: &str = "memcmp";

/// Defined by the runtime: `extern "C" fn(dst: *mut usize, value: usize, count: usize)`.
/// Fills `count` pointer-sized slots with `value` (`table.fill`, table initialisation).
pub const FILL_PTRS: &str = "wafer_rt_fill_ptrs";

/// Float rounding helpers Cranelift calls when the target lacks an instruction for them
/// (for example x86_64 without SSE4.1). Signatures are those of C's `ceilf`, `ceil`, ...;
/// `nearest` rounds half to even.
pub const CEIL_F32: &str = "wafer_rt_ceilf";
/// See [`CEIL_F32`].
pub const CEIL_F64: &str = "wafer_rt_ceil";
/// See [`CEIL_F32`].
pub const FLOOR_F32: &str = "wafer_rt_floorf";
/// See [`CEIL_F32`].
pub const FLOOR_F64: &str = "wafer_rt_floor";
/// See [`CEIL_F32`].
pub const TRUNC_F32: &str = "wafer_rt_truncf";
/// See [`CEIL_F32`].
pub const TRUNC_F64: &str = "wafer_rt_trunc";
/// See [`CEIL_F32`].
pub const NEAREST_F32: &str = "wafer_rt_nearestf";
/// See [`CEIL_F32`].
pub const NEAREST_F64: &str = "wafer_rt_nearest";
/// x86_64 only: `pshufb` for CPUs without SSSE3, `extern "C" fn(a: __m128i, b: __m128i)
/// -> __m128i`; lane `i` of the result is `a[b[i] & 15]`, or 0 when `b[i]` has its top bit
/// set.
pub const X86_PSHUFB: &str = "wafer_rt_x86_pshufb";

/// Fused multiply-add, C's `fmaf` / `fma`.
pub const FMA_F32: &str = "wafer_rt_fmaf";
/// See [`FMA_F32`].
pub const FMA_F64: &str = "wafer_rt_fma";

/// Prefix of the runtime's WASI preview1 host functions. The import
/// `wasi_snapshot_preview1.NAME` is the symbol `wafer_wasi_p1_NAME`, with the signature
/// `extern "C" fn(vmctx, params...) -> results` where the params and results are those of
/// [`crate::wasi::PREVIEW1`] (i32 as `i32`, i64 as `i64`).
pub const WASI_PREVIEW1_PREFIX: &str = "wafer_wasi_p1_";

/// The import module name of WASI preview1.
pub const WASI_PREVIEW1_MODULE: &str = "wasi_snapshot_preview1";

/// Prefix of the runtime's WASI 0.2 host functions: one symbol per function of
/// [`crate::wasi_p2::FUNCTIONS`], named without the interface's version so that every
/// `0.2.x` import of it reaches the same code. Each takes a
/// `*mut crate::wasi_p2::CanonContext` first, then the import's flat core parameters.
pub const WASI_P2_PREFIX: &str = "wafer_p2_";

/// Defined by the runtime: `extern "C" fn(ctx: *mut CanonContext, ty: u32, handle: u32)
/// -> u64` (see [`crate::wasi_p2::CanonContext`]). `resource.drop` of a resource the
/// WASI 0.2 host defines (type `ty` of [`crate::wasi_p2::resource`]): removes `handle`
/// from the context's instance's handle table, checking that it holds a resource of
/// type `ty` and is not lent (else it sets the context's trap); the runtime releases
/// what an own handle held. Returns 0.
pub const RESOURCE_DROP: &str = "wafer_p2_resource_drop";

/// Defined by the runtime: `extern "C" fn(ctx: *mut CanonContext, ty: u32, rep: u32) ->
/// u32`. A new own handle of host resource type `ty` (validation allows `resource.new`
/// only of resources components define, so compiled code reaches this only for types
/// no host function hands out).
pub const RESOURCE_NEW: &str = "wafer_p2_resource_new";

/// Defined by the runtime: `extern "C" fn(ctx: *mut CanonContext, ty: u32, handle: u32)
/// -> u32`. The representation behind a handle of host resource type `ty` (as
/// [`RESOURCE_NEW`]).
pub const RESOURCE_REP: &str = "wafer_p2_resource_rep";

/// Defined by the runtime: `extern "C" fn(info: *const ComponentDescriptor, instance:
/// u32, resource: u32, rep: u32) -> u64` (see [`crate::component`] for the descriptor
/// and the result). `resource.new` of a resource a component defines: a new own handle
/// in the instance's table.
pub const COMPONENT_RESOURCE_NEW: &str = "wafer_rt_resource_new";

/// Defined by the runtime: as [`COMPONENT_RESOURCE_NEW`], with a handle for `rep`.
/// `resource.rep`: the representation behind the handle.
pub const COMPONENT_RESOURCE_REP: &str = "wafer_rt_resource_rep";

/// Defined by the runtime: as [`COMPONENT_RESOURCE_NEW`], with a handle for `rep`.
/// `resource.drop`: removes the handle; for an own handle of a resource with a
/// destructor the result asks the caller to run it.
pub const COMPONENT_RESOURCE_DROP: &str = "wafer_rt_resource_drop";

/// Defined by the runtime: `extern "C" fn(info: *const ComponentDescriptor, handle: u32,
/// from_table: u32, to_table: u32) -> u64`. A fused adapter moving an own handle from
/// one component instance's table to another's; the result is the new handle.
pub const RESOURCE_TRANSFER_OWN: &str = "wafer_rt_resource_transfer_own";

/// Defined by the runtime: as [`RESOURCE_TRANSFER_OWN`], lending the handle to the
/// current call: a borrow handle in the callee's table (or the representation, if the
/// callee implements the resource).
pub const RESOURCE_TRANSFER_BORROW: &str = "wafer_rt_resource_transfer_borrow";

/// Defined by the runtime: `extern "C" fn(info: *const ComponentDescriptor, caller: u32,
/// callee_async: u32, callee: u32) -> u64`. A fused adapter starting a call that passes
/// borrows: the scope of the handles lent to it and the borrows lowered into it.
pub const ENTER_SYNC_CALL: &str = "wafer_rt_enter_sync_call";

/// Defined by the runtime: `extern "C" fn(info: *const ComponentDescriptor) -> u64`. The
/// end of the innermost call [`ENTER_SYNC_CALL`] started: traps if the callee kept
/// borrows, and ends the caller's lends.
pub const EXIT_SYNC_CALL: &str = "wafer_rt_exit_sync_call";

/// Defined by the runtime: `extern "C" fn(slot: u32) -> u32`. `context.get` of the
/// running task's storage.
pub const CONTEXT_GET: &str = "wafer_rt_context_get";

/// Defined by the runtime: `extern "C" fn(slot: u32, value: u32)`. `context.set`.
pub const CONTEXT_SET: &str = "wafer_rt_context_set";

/// Defined by the runtime: `extern "C" fn(info: *const ComponentDescriptor, instance:
/// u32, delta: i32) -> u64`. `backpressure.inc` (delta 1) and `backpressure.dec` (-1).
pub const BACKPRESSURE: &str = "wafer_rt_backpressure";

/// Defined by a component image whose `wasi:cli/run` export is lifted `async` with a
/// callback: `extern "C" fn() -> i32`, runs it to completion (through
/// [`RUN_ASYNC`]) and returns the exit status; the image's entry calls it.
pub const COMPONENT_ASYNC_RUN: &str = "wafer_component_async_run";

/// Defined by the runtime: `extern "C" fn(info: *const ComponentDescriptor, instance:
/// u32, start: extern "C" fn(*mut [u8; 16]), callback: extern "C" fn(*mut [u8; 16])) ->
/// u64`. Runs the task of an `async` `run` export in `instance`: `start` calls its core
/// function (the packed code in the first slot), then the callback loop, then the exit
/// status from the `result` `task.return` passed (0 for
/// `ok`, 1 for `err`) in the low bits, or a trap kind as other built-ins report one.
pub const RUN_ASYNC: &str = "wafer_rt_run_async";

/// Defined by the runtime, with [`RUN_ASYNC`]'s signature: serves HTTP with a
/// `wasi:http/handler@0.3` export lifted `async` with a callback (`start` takes the
/// request's handle in its first slot). It listens on the granted addresses, runs one
/// task of the export per request, many at once, and returns only on a trap (or a
/// failure to listen, as an exit status).
pub const SERVE_HTTP: &str = "wafer_rt_serve_http";

/// Defined by the runtime: `extern "C" fn(info: *const ComponentDescriptor, instance:
/// u32, values: *const [u8; 16], count: u32) -> u64`. `task.return` of the running task
/// in `instance`: its flat results, one per 16-byte value slot (low bytes).
pub const TASK_RETURN: &str = "wafer_rt_task_return";

/// Defined by the runtime: `extern "C" fn(info: *const ComponentDescriptor, values:
/// *const [u8; 16], count: u32) -> u64`. A fused adapter's `prepare-call` for a call
/// between component instances lowered or lifted `async`: its flat arguments, one per
/// value slot (the `start` and `return` function references, the caller and callee
/// instances, the `task.return` type, whether the callee is `async`, its string
/// encoding, the result count or a marker of an `async` lower, then the lowered
/// parameters).
pub const PREPARE_CALL: &str = "wafer_rt_prepare_call";

/// Defined by the runtime: `extern "C" fn(info: *const ComponentDescriptor, call_ref:
/// extern "C" fn(*const u8, *mut [u8; 16]) -> u32, callback: Option<extern "C"
/// fn(*mut [u8; 16])>, post_return: Option<extern "C" fn(*mut [u8; 16])>, callee: *const
/// u8, flags: u32, may_block: *mut u32, results: *mut [u8; 16]) -> u64`. A fused
/// adapter's `start-call` after [`PREPARE_CALL`]: runs the callee (`flags`: bit 0 the
/// callee is lifted `async`, bit 1 the caller lowered `async`; `may_block` the task's
/// global, checked for a synchronous lower and set for the callee's task) and answers
/// the packed subtask status of an `async` lower, or writes a synchronous lower's flat
/// results into `results`. `call_ref` calls a function reference with arguments and
/// results in value slots (answering its result count, or `u32::MAX` when the image
/// has no caller for its type).
pub const START_CALL: &str = "wafer_rt_start_call";

/// Defined by the runtime: `extern "C" fn(info: *const ComponentDescriptor, context:
/// *const CanonContext, op: u32, instance: u32, a: u32, b: u32) -> u64`. The
/// asynchronous built-in `op` (`crate::component::async_op`) called by `instance` with
/// its `i32` operands `a` and `b` (0 when it has fewer); `context` is the canonical
/// options' context of the built-ins that write an event to memory, else null.
pub const ASYNC_BUILTIN: &str = "wafer_rt_async_builtin";

/// Defined by the runtime: `extern "C" fn(info: *const ComponentDescriptor, instance:
/// u32, func_ref: *const u8, arg: u32, call_ref: extern "C" fn(*const u8, *mut
/// [u8; 16]) -> u32, may_block: *mut u32) -> u64`. `thread.new-indirect` called by
/// `instance`: a new suspended thread that will call `func_ref` with `arg` through
/// `call_ref` (the image's caller of function references, as for `START_CALL`), where
/// `func_ref` is the `VMFuncRef` the compiled code took from the table (checked:
/// present, of the start function's type) and `may_block` the address of the task's
/// `may_block` global. The result holds the thread's index.
pub const THREAD_NEW: &str = "wafer_rt_thread_new";

/// Defined by the runtime: `extern "C" fn(info: *const ComponentDescriptor, context:
/// *const CanonContext, op: u32, instance: u32, ty: u32, layout: u32, a: u32, b: u32,
/// c: u32) -> u64`. The stream or future built-in `op` (`crate::component::copy_op`)
/// called by `instance` on a stream or future type of identity `ty`
/// (`crate::component::type_identity`) whose elements lie as `layout` says
/// (`crate::component::elem_layout`), with its `i32` operands (0 past its arity);
/// `context` is the canonical options' context of reads and writes, else null. For
/// `stream.new` and `future.new` the result holds the readable end's index, the
/// writable end's shifted left by 28 and a trap kind from bit 56
/// (`crate::component::NEW_TRAP_SHIFT`): handle indices take 28 bits each.
pub const COPY_BUILTIN: &str = "wafer_rt_copy_builtin";

/// Defined by the runtime: `extern "C" fn(info: *const ComponentDescriptor, context:
/// *const CanonContext, op: u32, instance: u32, a: u32, b: u32, c: u32) -> u64`. The
/// error-context built-in `op` (`crate::component::error_context_op`) called by
/// `instance` with its `i32` operands (0 past its arity); `context` is the canonical
/// options' context of `error-context.new` and `.debug-message`, else null.
pub const ERROR_CONTEXT_BUILTIN: &str = "wafer_rt_error_context";

/// Defined by the runtime: `extern "C" fn(instance: u32, ty: u32, elem_type: *const u8,
/// len: u32, resource_base: u32)`. Called before a read or write of a stream or future
/// type of identity `ty` whose elements are not numbers: the element type as `instance`
/// sees it (`len` bytes of `wafer_canon::encode::encode_types`, one function type whose
/// one parameter it is; its resource ids plus `resource_base` are the component's
/// resource indices), for copies between component instances, which lift each element
/// from the writer's memory and lower it into the reader's.
pub const STREAM_ELEM_TYPE: &str = "wafer_rt_stream_elem_type";

/// Defined by the runtime: `extern "C" fn(from: *const VMMemoryDefinition, to: *const
/// VMMemoryDefinition, op: u32, args: *mut [u32; 5]) -> u32`. A fused adapter's string
/// transcoding between two memories: `op` is one of [`crate::wasi_p2::transcode`], `args`
/// holds the operation's flat parameters (pointers and lengths, in order) and receives
/// its results. Returns 0, or the `TrapKind` the compiled caller must raise.
pub const TRANSCODE: &str = "wafer_p2_transcode";
