//! Component instances at run time: the descriptor a component image hands the runtime
//! for the canonical built-ins that keep state (handle tables, the borrow scopes of
//! calls between component instances, task storage), and how those built-ins answer.
//!
//! The compiler emits one component descriptor per image (every field one target
//! pointer wide):
//!
//! ```text
//! descriptor:       instances | instance count | tables | table count
//!                   | resources | resource count | entry instance
//! instance record:  flags global address | state word address | parent instance
//! table record:     instance (u32) | resource (u32)
//! resource record:  implementing instance (u32, NO_INSTANCE for an imported resource)
//!                   | host resource type (u32, for an imported one)
//! ```
//!
//! An instance's *flags* are the `i32` global fused adapters read and write (bit 0:
//! `may_leave`). Its *state word* is a pointer the compiler emits as zero and the runtime
//! owns: it creates the instance's state there on first use, with the instance's one
//! handle table (resources the host defines and those components define alike); the
//! canonical-ABI contexts of the instance (`crate::wasi_p2::CanonContext`) point at the
//! same word. Its *parent* is the index of the instance that instantiated it
//! ([`NO_INSTANCE`] for the root), for the instances a call enters. Tables are the ones
//! fused adapters name by index when they move handles (a resource type in an
//! instance); resources are numbered as the component numbers them.
//!
//! Every built-in the runtime implements takes the descriptor first and returns a `u64`
//! ([`BuiltinResult`]): its `i32` result in the low 32 bits, [`RUN_DESTRUCTOR`] when a
//! dropped own handle's destructor must run (the compiled caller runs it on the
//! representation in the low bits), and a [`crate::trap::TrapKind`] code from bit
//! [`TRAP_SHIFT`] when the caller must trap. A trap that names a handle leaves its index
//! with the runtime, which reports it with the trap.

/// The `implementing instance` of a resource imported from the host.
pub const NO_INSTANCE: u32 = u32::MAX;

/// Where a built-in's trap kind starts in its `u64` result.
pub const TRAP_SHIFT: u32 = 48;

/// Where the trap kind starts in the result of `stream.new` and `future.new`, whose low
/// 56 bits hold two handle indices.
pub const NEW_TRAP_SHIFT: u32 = 56;

/// Set in a `resource.drop` result when the destructor must run.
pub const RUN_DESTRUCTOR: u64 = 1 << 32;

/// The decoded answer of a built-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuiltinResult {
    /// The `i32` result.
    pub value: u32,
    /// Whether a destructor must run on `value`.
    pub run_destructor: bool,
    /// The trap kind code to raise, 0 for none.
    pub trap: u8,
}

impl BuiltinResult {
    /// A result.
    pub const fn value(value: u32) -> BuiltinResult {
        BuiltinResult {
            value,
            run_destructor: false,
            trap: 0,
        }
    }

    /// A trap.
    pub const fn trap(kind: crate::trap::TrapKind) -> BuiltinResult {
        BuiltinResult {
            value: 0,
            run_destructor: false,
            trap: kind as u8,
        }
    }

    /// The `u64` compiled code receives.
    pub const fn encode(self) -> u64 {
        self.value as u64
            | if self.run_destructor {
                RUN_DESTRUCTOR
            } else {
                0
            }
            | (self.trap as u64) << TRAP_SHIFT
    }

    /// The result `bits` encode.
    pub const fn decode(bits: u64) -> BuiltinResult {
        BuiltinResult {
            value: bits as u32,
            run_destructor: bits & RUN_DESTRUCTOR != 0,
            trap: (bits >> TRAP_SHIFT) as u8,
        }
    }
}

/// The asynchronous built-ins of [`crate::symbols::ASYNC_BUILTIN`].
pub mod async_op {
    /// `waitable-set.new`: `() -> set`.
    pub const WAITABLE_SET_NEW: u32 = 0;
    /// `waitable-set.drop`: `(set)`.
    pub const WAITABLE_SET_DROP: u32 = 1;
    /// `waitable-set.wait`: `(set, ptr) -> event code`, the payload at `ptr`.
    pub const WAITABLE_SET_WAIT: u32 = 2;
    /// `waitable-set.poll`: as `wait`, without blocking.
    pub const WAITABLE_SET_POLL: u32 = 3;
    /// `waitable.join`: `(waitable, set)`.
    pub const WAITABLE_JOIN: u32 = 4;
    /// `thread.yield`: `() -> cancelled`.
    pub const THREAD_YIELD: u32 = 5;
    /// `subtask.drop`: `(subtask)`.
    pub const SUBTASK_DROP: u32 = 6;
    /// `subtask.cancel` (synchronous): `(subtask) -> state`.
    pub const SUBTASK_CANCEL: u32 = 7;
    /// `subtask.cancel async`: `(subtask) -> state or BLOCKED`.
    pub const SUBTASK_CANCEL_ASYNC: u32 = 8;
    /// `task.cancel`: `()`.
    pub const TASK_CANCEL: u32 = 9;
    /// `thread.index`: `() -> thread`.
    pub const THREAD_INDEX: u32 = 10;
    /// `thread.resume-later`: `(thread)`.
    pub const THREAD_RESUME_LATER: u32 = 11;
    /// `thread.suspend`: `() -> cancelled`.
    pub const THREAD_SUSPEND: u32 = 12;
    /// `thread.suspend-then-resume`: `(thread) -> cancelled`.
    pub const THREAD_SUSPEND_THEN_RESUME: u32 = 13;
    /// `thread.yield-then-resume`: `(thread) -> cancelled`.
    pub const THREAD_YIELD_THEN_RESUME: u32 = 14;
    /// `thread.suspend-then-promote`: `(thread) -> cancelled`.
    pub const THREAD_SUSPEND_THEN_PROMOTE: u32 = 15;
    /// `thread.yield-then-promote`: `(thread) -> cancelled`.
    pub const THREAD_YIELD_THEN_PROMOTE: u32 = 16;
    /// Or'd into `waitable-set.wait`, `.poll` and `thread.yield` given the
    /// `cancellable` immediate: the task may learn of its cancellation there.
    pub const CANCELLABLE: u32 = 1 << 8;
    /// Or'd in when the running task may block (its type is `async`, the spec's
    /// `may_block`): `waitable-set.wait` traps without it.
    pub const MAY_BLOCK: u32 = 1 << 9;
}

/// The stream and future built-ins of [`crate::symbols::COPY_BUILTIN`]: one of these,
/// or'd with [`copy_op::ASYNC`] for a copy or cancel whose canonical options are `async`.
pub mod copy_op {
    /// `stream.new`: `() -> readable | writable << 32`.
    pub const STREAM_NEW: u32 = 0;
    /// `stream.read`: `(end, ptr, n) -> packed result or BLOCKED`.
    pub const STREAM_READ: u32 = 1;
    /// `stream.write`: `(end, ptr, n) -> packed result or BLOCKED`.
    pub const STREAM_WRITE: u32 = 2;
    /// `stream.cancel-read`: `(end) -> packed result or BLOCKED`.
    pub const STREAM_CANCEL_READ: u32 = 3;
    /// `stream.cancel-write`: `(end) -> packed result or BLOCKED`.
    pub const STREAM_CANCEL_WRITE: u32 = 4;
    /// `stream.drop-readable`: `(end)`.
    pub const STREAM_DROP_READABLE: u32 = 5;
    /// `stream.drop-writable`: `(end)`.
    pub const STREAM_DROP_WRITABLE: u32 = 6;
    /// A fused adapter's `stream-transfer`: `(end, destination instance) -> end`, the
    /// readable end moved from the calling instance's table to the destination's.
    pub const STREAM_TRANSFER: u32 = 7;
    /// `future.new`: as `stream.new`.
    pub const FUTURE_NEW: u32 = 8;
    /// `future.read`: `(end, ptr) -> result or BLOCKED`.
    pub const FUTURE_READ: u32 = 9;
    /// `future.write`: `(end, ptr) -> result or BLOCKED`.
    pub const FUTURE_WRITE: u32 = 10;
    /// `future.cancel-read`: `(end) -> result or BLOCKED`.
    pub const FUTURE_CANCEL_READ: u32 = 11;
    /// `future.cancel-write`: `(end) -> result or BLOCKED`.
    pub const FUTURE_CANCEL_WRITE: u32 = 12;
    /// `future.drop-readable`: `(end)`.
    pub const FUTURE_DROP_READABLE: u32 = 13;
    /// `future.drop-writable`: `(end)`.
    pub const FUTURE_DROP_WRITABLE: u32 = 14;
    /// A fused adapter's `future-transfer`: as [`STREAM_TRANSFER`].
    pub const FUTURE_TRANSFER: u32 = 15;
    /// Set for `async` copies and cancels: they return `BLOCKED` rather than wait.
    pub const ASYNC: u32 = 16;
    /// The mask of the operation without [`ASYNC`].
    pub const MASK: u32 = 15;
    /// Or'd in when the running task may block (as `async_op::MAY_BLOCK`): a
    /// synchronous copy or cancel traps without it, unless another thread is ready.
    pub const MAY_BLOCK: u32 = 32;
}

/// The error-context built-ins of [`crate::symbols::ERROR_CONTEXT_BUILTIN`].
pub mod error_context_op {
    /// `error-context.new`: `(ptr, tagged code units) -> handle`, the debug message
    /// lifted in the options' string encoding.
    pub const NEW: u32 = 0;
    /// `error-context.debug-message`: `(handle, ptr)`, the message stored at `ptr` as a
    /// string (pointer and length) in memory the options' `realloc` gives.
    pub const DEBUG_MESSAGE: u32 = 1;
    /// `error-context.drop`: `(handle)`.
    pub const DROP: u32 = 2;
    /// A fused adapter's `error-context-transfer`: `(handle, destination instance) ->
    /// handle`, called with the source instance: the same error context in the
    /// destination's table (the source keeps its handle).
    pub const TRANSFER: u32 = 3;
}

/// How a stream's or future's elements lie in memory, as the compiler passes it to
/// [`crate::symbols::COPY_BUILTIN`]: the element size in the low 28 bits, log2 of its
/// alignment above, and two flags.
pub mod elem_layout {
    /// The size's bits.
    pub const SIZE_MASK: u32 = (1 << 28) - 1;
    /// Where log2 of the alignment starts (two bits: 1, 2, 4 or 8 bytes).
    pub const ALIGN_SHIFT: u32 = 28;
    /// No payload (`stream`, `future`): elements are `()`, nothing is copied.
    pub const NONE: u32 = 1 << 30;
    /// A number type: lifting and lowering an element copies its bytes (the spec's
    /// `none_or_number_type`).
    pub const NUMBER: u32 = 1 << 31;

    /// The layout word of an element of `size` bytes aligned to `align`.
    pub const fn new(size: u32, align: u32, number: bool) -> u32 {
        (size & SIZE_MASK)
            | (align.trailing_zeros() & 3) << ALIGN_SHIFT
            | if number { NUMBER } else { 0 }
    }
}

/// A stream or future type's identity: FNV-1a of its text (`wafer_canon`'s display,
/// `stream<u8>`), so that the compiler and the host's stdio streams agree on equal
/// types without sharing a type arena, as the spec compares types structurally.
pub const fn type_identity(text: &str) -> u32 {
    let bytes = text.as_bytes();
    let mut hash: u32 = 0x811c_9dc5;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u32;
        hash = hash.wrapping_mul(0x0100_0193);
        i += 1;
    }
    hash
}

/// The text of `stream<u8>`, the stdio streams' type.
pub const STREAM_U8: &str = "stream<u8>";

/// The text of the `future<result<_, error-code>>` the WASI 0.3 stdio functions return.
pub const STDIO_RESULT_FUTURE: &str = "future<result<_, enum{io, illegal-byte-sequence, pipe}>>";

/// The text of `wasi:filesystem@0.3`'s `descriptor-type`.
macro_rules! descriptor_type {
    () => {
        "variant{block-device, character-device, directory, fifo, symbolic-link, \
         regular-file, socket, other(option<string>)}"
    };
}

/// The text of `wasi:filesystem@0.3`'s `error-code`.
macro_rules! filesystem_error_code {
    () => {
        "variant{access, already, bad-descriptor, busy, deadlock, quota, exist, \
         file-too-large, illegal-byte-sequence, in-progress, interrupted, invalid, io, \
         is-directory, loop, too-many-links, message-size, name-too-long, no-device, \
         no-entry, no-lock, insufficient-memory, insufficient-space, not-directory, \
         not-empty, not-recoverable, unsupported, no-tty, no-such-device, overflow, \
         not-permitted, pipe, read-only, invalid-seek, text-file-busy, cross-device, \
         other(option<string>)}"
    };
}

/// The text of the `future<result<_, error-code>>` of a `wasi:filesystem@0.3` stream's
/// outcome.
pub const FILESYSTEM_RESULT_FUTURE: &str =
    concat!("future<result<_, ", filesystem_error_code!(), ">>");

/// The text of `read-directory`'s `stream<directory-entry>`.
pub const DIRECTORY_ENTRY_STREAM: &str = concat!(
    "stream<record{type: ",
    descriptor_type!(),
    ", name: string}>"
);

/// The text of `wasi:sockets@0.3`'s `error-code`.
macro_rules! sockets_error_code {
    () => {
        "variant{access-denied, not-supported, invalid-argument, out-of-memory, timeout, \
         invalid-state, address-not-bindable, address-in-use, remote-unreachable, \
         connection-refused, connection-broken, connection-reset, connection-aborted, \
         datagram-too-large, other(option<string>)}"
    };
}

/// The text of the `future<result<_, error-code>>` of a `wasi:sockets@0.3` TCP
/// stream's outcome.
pub const SOCKETS_RESULT_FUTURE: &str = concat!("future<result<_, ", sockets_error_code!(), ">>");

/// Offsets in the component descriptor and its records for a target with
/// `pointer_size`-byte pointers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComponentLayout {
    ptr: u32,
}

impl ComponentLayout {
    /// The layout for a target with `pointer_size`-byte pointers.
    pub const fn new(pointer_size: u8) -> Self {
        ComponentLayout {
            ptr: pointer_size as u32,
        }
    }

    /// Size of the descriptor.
    pub const fn descriptor_size(&self) -> u32 {
        7 * self.ptr
    }

    /// Offset in the descriptor of the pointer to the instance records.
    pub const fn instances(&self) -> u32 {
        0
    }

    /// Offset in the descriptor of the instance count.
    pub const fn instance_count(&self) -> u32 {
        self.ptr
    }

    /// Offset in the descriptor of the pointer to the table records.
    pub const fn tables(&self) -> u32 {
        2 * self.ptr
    }

    /// Offset in the descriptor of the table count.
    pub const fn table_count(&self) -> u32 {
        3 * self.ptr
    }

    /// Offset in the descriptor of the pointer to the resource records.
    pub const fn resources(&self) -> u32 {
        4 * self.ptr
    }

    /// Offset in the descriptor of the resource count.
    pub const fn resource_count(&self) -> u32 {
        5 * self.ptr
    }

    /// Offset in the descriptor of the entry instance (pointer-sized): the instance
    /// whose `wasi:cli/run` export the image runs, entered (with its ancestors) for the
    /// whole run; [`NO_INSTANCE`] in a harness image, whose harness enters instances
    /// call by call.
    pub const fn entry(&self) -> u32 {
        6 * self.ptr
    }

    /// Size of an instance record.
    pub const fn instance_size(&self) -> u32 {
        3 * self.ptr
    }

    /// Offset in an instance record of its flags global's address.
    pub const fn instance_flags(&self) -> u32 {
        0
    }

    /// Offset in an instance record of the address of the runtime's state word.
    pub const fn instance_state(&self) -> u32 {
        self.ptr
    }

    /// Offset in an instance record of its parent's index (pointer-sized).
    pub const fn instance_parent(&self) -> u32 {
        2 * self.ptr
    }

    /// Size of a table record (two `u32`s).
    pub const fn table_size(&self) -> u32 {
        8
    }

    /// Size of a resource record (two `u32`s).
    pub const fn resource_size(&self) -> u32 {
        8
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trap::TrapKind;

    #[test]
    fn results_round_trip() {
        for result in [
            BuiltinResult::value(0),
            BuiltinResult::value(u32::MAX),
            BuiltinResult::trap(TrapKind::InvalidHandle),
            BuiltinResult {
                value: 7,
                run_destructor: true,
                trap: 0,
            },
        ] {
            assert_eq!(BuiltinResult::decode(result.encode()), result);
        }
        assert_eq!(
            BuiltinResult::trap(TrapKind::CannotLeaveComponent).encode() >> TRAP_SHIFT,
            TrapKind::CannotLeaveComponent as u64
        );
    }
}
