//! Trap kinds and the trap table.
//!
//! Compiled code traps with a machine trap instruction or a faulting memory access. The
//! compiler records, for every such instruction, its offset in the code, the trap kind and
//! the wasm byte offset of the operator it came from, plus the code range and name of
//! every function. The runtime's signal handler (or exception vector) looks the faulting
//! program counter up here to report `wafer: trap: <kind> in <function> (wasm offset 0x..)`.
//!
//! Every load and store can fault, so a large module has millions of trap sites, and a
//! small image should not pay 20 bytes of fixed fields per function: everything after
//! the header is LEB128, delta-encoded. Format (code offsets relative to the image's
//! code start):
//!
//! ```text
//! header:   magic "WTR6" (4 bytes) | record count (u32 LE) | body length (u32 LE)
//! body:     per function, sorted by start:
//!             start - previous function's end, length,
//!             name length, name (UTF-8),
//!             sites length, sites,
//!             inlined length, then per function inlined into it:
//!               its wasm body's start, its length, the index of a record with its
//!               name (a function inlined everywhere and left out of the image has a
//!               record of length 0, after the others, for its name)
//! sites:    in code order, each site as
//!             LEB128 (code offset - previous code offset) << 1 | kind changed,
//!             the kind (one byte) if it changed,
//!             LEB128 zigzag(wasm offset - previous wasm offset)
//!           ("previous" starts at the function's start, wasm offset 0 and
//!           out-of-bounds memory access, the kind of most sites)
//! ```
//!
//! Code wafer generates around the wasm (a component's trampolines for canonical
//! built-ins) has no wasm offsets: its sites record offset 0. A trap there is reported
//! at the wasm offset of the call into it, so such calls are recorded too, as sites on
//! the call instruction's last byte (the return address minus one, never the first byte
//! of an instruction, so never a real trap site) with the call's wasm offset.
//!
//! A lookup walks the functions, skipping names and sites by their lengths, then decodes
//! one function's sites: traps are reported once, so a millisecond on a huge module
//! does not matter. A site whose wasm offset lies in the body of a function inlined
//! into the one holding it is named after the inlined function. The same entries name
//! source lines in images built with debug info (`wafer build -g`, where nothing is
//! inlined): each line's wasm code is an entry named `function at file:line`, so
//! reports say where a trap happened with no code for it in the runtime.

use crate::bytes::Reader;

/// Why compiled code trapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum TrapKind {
    /// `unreachable` executed.
    Unreachable = 1,
    /// A memory access, `memory.init/copy/fill` or data segment outside the memory.
    MemoryOutOfBounds = 2,
    /// `table.get/set/init/copy/fill` or an element segment outside the table.
    TableOutOfBounds = 3,
    /// `call_indirect` with an index outside the table.
    UndefinedElement = 4,
    /// `call_indirect` through a null table entry.
    UninitializedElement = 5,
    /// `call_indirect` to a function of another type.
    IndirectCallTypeMismatch = 6,
    /// Integer division or remainder by zero.
    IntegerDivideByZero = 7,
    /// Integer overflow (`INT_MIN / -1`, float-to-int out of range).
    IntegerOverflow = 8,
    /// Float-to-int conversion of NaN.
    InvalidConversionToInteger = 9,
    /// The native stack ran out.
    StackExhausted = 10,
    /// `call_ref` / `return_call_ref` through a null reference.
    NullFunctionReference = 11,
    /// `ref.as_non_null` or another operation on a null reference.
    NullReference = 12,
    /// An atomic access at an unaligned address.
    UnalignedAtomic = 13,
    /// An exception escaped the entry point.
    UncaughtException = 14,
    /// An imported memory or table is smaller than the importer requires (a link
    /// failure found at instantiation).
    IncompatibleImport = 15,
    /// `throw_ref` of a null exception reference.
    NullExceptionReference = 16,
    /// A call to an imported function nothing provides (built with
    /// `--trap-unknown-imports`).
    UnknownImport = 17,
    // Component-model traps (18-35 in the order of `wafer_canon::Trap`'s codes, which
    // map onto them as `17 + code`; then the traps of component calls).
    /// A string a component passes as UTF-8 is not.
    InvalidUtf8 = 18,
    /// A string a component passes as UTF-16 is not (an unpaired surrogate).
    InvalidUtf16 = 19,
    /// A component lifted a `char` that is not a Unicode scalar value.
    InvalidChar = 20,
    /// A component lowered a variant with a discriminant its type does not have.
    InvalidDiscriminant = 21,
    /// A component's `realloc` returned, or it passed, a pointer not aligned for the
    /// value stored there.
    UnalignedPointer = 22,
    /// A string a component passes or receives lies outside its memory.
    StringOutOfBounds = 23,
    /// A list a component passes or receives lies outside its memory.
    ListOutOfBounds = 24,
    /// Arguments or results passed in memory lie outside it.
    PointerOutOfBounds = 25,
    /// A string is longer than the canonical ABI allows.
    StringTooLong = 26,
    /// A list is longer than the canonical ABI allows.
    ListTooLong = 27,
    /// A component's `realloc` returned a pointer not aligned as asked.
    ReallocUnaligned = 28,
    /// A component's `realloc` returned a block outside its memory.
    ReallocOutOfBounds = 29,
    /// A component passed a resource handle its table does not hold.
    InvalidHandle = 30,
    /// A component passed a handle of another resource type (or another kind of handle).
    HandleWrongType = 31,
    /// A component moved or dropped an own handle lent to a call still running.
    HandleLent = 32,
    /// A component passed a borrow handle where an own handle is required.
    NotOwnHandle = 33,
    /// A call returned before dropping the borrow handles it was given.
    BorrowsRemain = 34,
    /// A component instance holds as many resource handles as its table can.
    HandleTableFull = 35,
    /// A component instance called out while it may not leave (e.g. in post-return).
    CannotLeaveComponent = 36,
    /// A component instance was re-entered, or entered after it trapped.
    CannotEnterComponent = 37,
    /// A component called a built-in of the asynchronous component model (WASI 0.3),
    /// which wafer does not implement yet.
    UnsupportedBuiltin = 38,
    // The asynchronous component model's traps.
    /// Every task is waiting and nothing can wake one.
    Deadlock = 39,
    /// A callback returned a code the spec does not define.
    UnsupportedCallbackCode = 40,
    /// `waitable-set.drop` of a set a task waits on, or that holds waitables.
    WaitableSetBusy = 41,
    /// `task.return` from a task that is not `async`, or of the wrong type.
    InvalidTaskReturn = 42,
    /// `task.return` of a task that has returned already.
    TaskReturnTwice = 43,
    /// An `async` export's task finished without calling `task.return`.
    TaskNotReturned = 44,
    /// A synchronous task would block before returning.
    CannotBlockSyncTask = 45,
    /// `subtask.drop` of a subtask that has not resolved.
    SubtaskNotResolved = 46,
    /// The instruction budget of `--fuel` ran out.
    OutOfFuel = 47,
    /// The wall-clock limit of `--deadline` passed.
    DeadlineExceeded = 48,
    // Streams and futures.
    /// A synchronous wait, copy or cancel on a waitable joined to a waitable set.
    SyncWaitableInSet = 49,
    /// A stream or future end started a copy while one is in progress.
    CopyInProgress = 50,
    /// A cancel of a stream or future end with no copy in progress.
    NoCopyToCancel = 51,
    /// A stream's or future's writable end dropped during a copy.
    DropBusyEnd = 52,
    /// A read from a stream whose writable end was reported dropped.
    StreamReadAfterDrop = 53,
    /// A write to a stream whose readable end was reported dropped.
    StreamWriteAfterDrop = 54,
    /// A read from a future that was read already.
    FutureReadAfterDone = 55,
    /// A write to a future that was written already, or whose reader dropped.
    FutureWriteAfterDone = 56,
    /// The writable end of a future dropped before a value was written.
    FutureWriterDroppedEarly = 57,
    /// A copy of values that are not numbers between two ends in one component instance.
    IntraComponentCopy = 58,
    /// A stream or future end passed on after its copy reported the end.
    LiftDoneEnd = 59,
    /// A future's readable end passed on after its read succeeded.
    FutureLiftDone = 60,
    /// A stream's readable end passed on while joined to a waitable set.
    StreamLiftInSet = 61,
    /// A future's readable end passed on while joined to a waitable set.
    FutureLiftInSet = 62,
    /// A stream's or future's readable end dropped or passed on during a copy.
    RemoveBusyEnd = 63,
    /// `task.cancel` of a task that was not cancelled.
    TaskCancelNotCancelled = 64,
    /// `subtask.cancel` of a subtask whose resolution was delivered, or cancelled
    /// already.
    SubtaskCancelAfterResolved = 65,
    /// `thread.new-indirect` of a start function whose type is not `(func (param i32))`.
    ThreadStartType = 66,
    /// `thread.resume-later` or a `thread.*-then-resume` of a thread that is not
    /// suspended (it runs, or waits for something other than being resumed).
    ThreadNotSuspended = 67,
    /// `thread.new-indirect` of a null table element.
    ThreadStartMissing = 68,
    /// A new thread, or a call that may block, found no memory for its stack (on a
    /// board: the heap, `--heap-size`).
    NoFiberStack = 69,
}

impl TrapKind {
    /// Every trap kind.
    pub const ALL: [TrapKind; 69] = [
        TrapKind::Unreachable,
        TrapKind::MemoryOutOfBounds,
        TrapKind::TableOutOfBounds,
        TrapKind::UndefinedElement,
        TrapKind::UninitializedElement,
        TrapKind::IndirectCallTypeMismatch,
        TrapKind::IntegerDivideByZero,
        TrapKind::IntegerOverflow,
        TrapKind::InvalidConversionToInteger,
        TrapKind::StackExhausted,
        TrapKind::NullFunctionReference,
        TrapKind::NullReference,
        TrapKind::UnalignedAtomic,
        TrapKind::UncaughtException,
        TrapKind::IncompatibleImport,
        TrapKind::NullExceptionReference,
        TrapKind::UnknownImport,
        TrapKind::InvalidUtf8,
        TrapKind::InvalidUtf16,
        TrapKind::InvalidChar,
        TrapKind::InvalidDiscriminant,
        TrapKind::UnalignedPointer,
        TrapKind::StringOutOfBounds,
        TrapKind::ListOutOfBounds,
        TrapKind::PointerOutOfBounds,
        TrapKind::StringTooLong,
        TrapKind::ListTooLong,
        TrapKind::ReallocUnaligned,
        TrapKind::ReallocOutOfBounds,
        TrapKind::InvalidHandle,
        TrapKind::HandleWrongType,
        TrapKind::HandleLent,
        TrapKind::NotOwnHandle,
        TrapKind::BorrowsRemain,
        TrapKind::HandleTableFull,
        TrapKind::CannotLeaveComponent,
        TrapKind::CannotEnterComponent,
        TrapKind::UnsupportedBuiltin,
        TrapKind::Deadlock,
        TrapKind::UnsupportedCallbackCode,
        TrapKind::WaitableSetBusy,
        TrapKind::InvalidTaskReturn,
        TrapKind::TaskReturnTwice,
        TrapKind::TaskNotReturned,
        TrapKind::CannotBlockSyncTask,
        TrapKind::SubtaskNotResolved,
        TrapKind::OutOfFuel,
        TrapKind::DeadlineExceeded,
        TrapKind::SyncWaitableInSet,
        TrapKind::CopyInProgress,
        TrapKind::NoCopyToCancel,
        TrapKind::DropBusyEnd,
        TrapKind::StreamReadAfterDrop,
        TrapKind::StreamWriteAfterDrop,
        TrapKind::FutureReadAfterDone,
        TrapKind::FutureWriteAfterDone,
        TrapKind::FutureWriterDroppedEarly,
        TrapKind::IntraComponentCopy,
        TrapKind::LiftDoneEnd,
        TrapKind::FutureLiftDone,
        TrapKind::StreamLiftInSet,
        TrapKind::FutureLiftInSet,
        TrapKind::RemoveBusyEnd,
        TrapKind::TaskCancelNotCancelled,
        TrapKind::SubtaskCancelAfterResolved,
        TrapKind::ThreadStartType,
        TrapKind::ThreadNotSuspended,
        TrapKind::ThreadStartMissing,
        TrapKind::NoFiberStack,
    ];

    /// The kind with this code, if any.
    pub fn from_u8(code: u8) -> Option<TrapKind> {
        TrapKind::ALL
            .iter()
            .copied()
            .find(|kind| *kind as u8 == code)
    }

    /// The message printed for this trap; the WebAssembly spec test suite's wording.
    pub const fn message(self) -> &'static str {
        // A table indexed by the code rather than a `match`: firmware images carry this,
        // and a table is two loads where a match of 48 arms is a jump table and a pair
        // of loads per arm.
        MESSAGES[self as usize - 1]
    }

    /// For the traps that name a resource handle, the message around its index: the
    /// text before it and the text after it (`unknown handle index 5`, `handle index 1
    /// used with the wrong type`). The index travels beside the kind (the trap detail).
    pub const fn handle_message(self) -> Option<(&'static str, &'static str)> {
        Some(match self {
            TrapKind::InvalidHandle => ("unknown handle index ", ""),
            TrapKind::HandleWrongType => ("handle index ", " used with the wrong type"),
            TrapKind::HandleLent => (
                "cannot remove owned resource while borrowed (handle index ",
                ")",
            ),
            TrapKind::NotOwnHandle => (
                "borrow handle index ",
                " used where an own handle is required",
            ),
            _ => return None,
        })
    }
}

/// [`TrapKind::message`] of each kind, by code (from 1).
const MESSAGES: [&str; TrapKind::ALL.len()] = [
    // Unreachable
    "unreachable executed",
    // MemoryOutOfBounds
    "out of bounds memory access",
    // TableOutOfBounds
    "out of bounds table access",
    // UndefinedElement
    "undefined element",
    // UninitializedElement
    "uninitialized element",
    // IndirectCallTypeMismatch
    "indirect call type mismatch",
    // IntegerDivideByZero
    "integer divide by zero",
    // IntegerOverflow
    "integer overflow",
    // InvalidConversionToInteger
    "invalid conversion to integer",
    // StackExhausted
    "call stack exhausted",
    // NullFunctionReference
    "null function reference",
    // NullReference
    "null reference",
    // UnalignedAtomic
    "unaligned atomic",
    // UncaughtException
    "uncaught exception",
    // IncompatibleImport
    "incompatible import type",
    // NullExceptionReference
    "null exception reference",
    // UnknownImport
    "call to an unknown import",
    // InvalidUtf8
    "invalid utf-8",
    // InvalidUtf16
    "invalid utf-16",
    // InvalidChar
    "invalid `char` bit pattern",
    // InvalidDiscriminant
    "invalid variant discriminant",
    // UnalignedPointer
    "unaligned pointer",
    // StringOutOfBounds
    "string content out-of-bounds",
    // ListOutOfBounds
    "list content out-of-bounds",
    // PointerOutOfBounds
    "pointer out of bounds of memory",
    // StringTooLong
    "string too long",
    // ListTooLong
    "list too long",
    // ReallocUnaligned
    "realloc return: result not aligned",
    // ReallocOutOfBounds
    "realloc return: beyond end of memory",
    // InvalidHandle
    "unknown handle index",
    // HandleWrongType
    "handle used with the wrong type",
    // HandleLent
    "cannot remove owned resource while borrowed",
    // NotOwnHandle
    "borrow handle used where an own handle is required",
    // BorrowsRemain
    "borrow handles still remain at the end of the call",
    // HandleTableFull
    "handle table full",
    // CannotLeaveComponent
    "cannot leave component instance",
    // CannotEnterComponent
    "cannot enter component instance",
    // UnsupportedBuiltin
    "asynchronous component built-in not supported",
    // Deadlock
    "deadlock detected: event loop cannot make further progress",
    // UnsupportedCallbackCode
    "unsupported callback code",
    // WaitableSetBusy
    "cannot drop waitable set with waiters",
    // InvalidTaskReturn
    "invalid `task.return` signature and/or options for current task",
    // TaskReturnTwice
    "`task.return` or `task.cancel` called more than once for current task",
    // TaskNotReturned
    "async-lifted export failed to produce a result",
    // CannotBlockSyncTask
    "cannot block a synchronous task before returning",
    // SubtaskNotResolved
    "cannot drop a subtask which has not yet resolved",
    // OutOfFuel
    "all fuel consumed",
    // DeadlineExceeded
    "deadline exceeded",
    // SyncWaitableInSet
    "waitable cannot be used synchronously while added to a waitable set",
    // CopyInProgress
    "cannot have concurrent operations active on a future/stream",
    // NoCopyToCancel
    "no copy in progress on this stream or future end to cancel",
    // DropBusyEnd
    "cannot drop busy stream",
    // StreamReadAfterDrop
    "cannot read from stream after being notified that the writable end dropped",
    // StreamWriteAfterDrop
    "cannot write to stream after being notified that the readable end dropped",
    // FutureReadAfterDone
    "cannot read from future after previous read succeeded",
    // FutureWriteAfterDone
    "cannot write to future after previous write succeeded or readable end dropped",
    // FutureWriterDroppedEarly
    "cannot drop future write end without first writing a value",
    // IntraComponentCopy
    "cannot read from and write to intra-component future",
    // LiftDoneEnd
    "cannot lift stream after being notified that the writable end dropped",
    // FutureLiftDone
    "cannot lift future after previous read succeeded",
    // StreamLiftInSet
    "cannot lift stream while it's in a waitable set",
    // FutureLiftInSet
    "cannot lift future while it's in a waitable set",
    // RemoveBusyEnd
    "cannot remove busy stream",
    // TaskCancelNotCancelled
    "`task.cancel` called by task which has not been cancelled",
    // SubtaskCancelAfterResolved
    "`subtask.cancel` called after terminal status delivered",
    // ThreadStartType (wasmtime's wording)
    "start function does not match expected type",
    // ThreadNotSuspended
    "cannot resume thread which is not suspended",
    // ThreadStartMissing (wasmtime's wording)
    "the start function index points to an uninitialized function",
    // NoFiberStack
    "no memory for a thread's stack (a board's heap: --heap-size)",
];

const MAGIC: u32 = u32::from_le_bytes(*b"WTR6");
/// The kind a function's sites start from: loads and stores are most sites.
const FIRST_KIND: TrapKind = TrapKind::MemoryOutOfBounds;

/// A trap site found in the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrapSite {
    /// What trapped.
    pub kind: TrapKind,
    /// Byte offset of the wasm operator in the input module.
    pub wasm_offset: u32,
}

/// A read-only view of a trap table. Never panics, whatever the bytes.
#[derive(Debug, Clone, Copy)]
pub struct TrapTable<'a> {
    body: &'a [u8],
}

/// Reads an unsigned LEB128 number from `bytes` at `*at`, advancing it.
fn read_leb(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *bytes.get(*at)?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// Reads a LEB128 length and the bytes it covers.
fn read_bytes<'a>(bytes: &'a [u8], at: &mut usize) -> Option<&'a [u8]> {
    let len = usize::try_from(read_leb(bytes, at)?).ok()?;
    let slice = bytes.get(*at..at.checked_add(len)?)?;
    *at += len;
    Some(slice)
}

/// One function's record.
struct Function<'a> {
    start: u64,
    len: u64,
    name: &'a [u8],
    sites: &'a [u8],
    /// The inlined functions' entries, undecoded.
    inlined: &'a [u8],
}

impl Function<'_> {
    /// The record index of the function inlined here whose body holds `wasm_offset`.
    fn inlined_at(&self, wasm_offset: u32) -> Option<usize> {
        let mut at = 0;
        while at < self.inlined.len() {
            let start = read_leb(self.inlined, &mut at)?;
            let len = read_leb(self.inlined, &mut at)?;
            let index = read_leb(self.inlined, &mut at)?;
            if u64::from(wasm_offset).wrapping_sub(start) < len {
                return usize::try_from(index).ok();
            }
        }
        None
    }
}

/// The function records in order; stops at the first malformed one.
struct Functions<'a> {
    body: &'a [u8],
    at: usize,
    end_of_previous: u64,
}

impl<'a> Iterator for Functions<'a> {
    type Item = Function<'a>;

    fn next(&mut self) -> Option<Function<'a>> {
        if self.at >= self.body.len() {
            return None;
        }
        let at = &mut self.at;
        let start = self.end_of_previous.checked_add(read_leb(self.body, at)?)?;
        let len = read_leb(self.body, at)?;
        let name = read_bytes(self.body, at)?;
        let sites = read_bytes(self.body, at)?;
        let inlined = read_bytes(self.body, at)?;
        self.end_of_previous = start.checked_add(len)?;
        Some(Function {
            start,
            len,
            name,
            sites,
            inlined,
        })
    }
}

/// Decodes `function`'s sites, in code order, as (code offset, kind code, wasm
/// offset); stops at the first malformed one.
fn sites(function: &Function<'_>) -> impl Iterator<Item = (u64, u8, i64)> {
    let (bytes, mut at, mut code, mut wasm) = (function.sites, 0, function.start, 0i64);
    let mut kind = FIRST_KIND as u8;
    core::iter::from_fn(move || {
        let first = read_leb(bytes, &mut at)?;
        if first & 1 == 1 {
            kind = *bytes.get(at)?;
            at += 1;
        }
        let zigzag = read_leb(bytes, &mut at)?;
        code = code.saturating_add(first >> 1);
        wasm = wasm.wrapping_add(((zigzag >> 1) as i64) ^ (zigzag & 1).wrapping_neg() as i64);
        Some((code, kind, wasm))
    })
}

impl<'a> TrapTable<'a> {
    /// Parses the table, or `None` if the bytes are not a trap table.
    pub fn parse(bytes: &'a [u8]) -> Option<Self> {
        let mut reader = Reader::new(bytes);
        if reader.u32()? != MAGIC {
            return None;
        }
        // The record count (u32) is for readers that preallocate; lookups walk the body.
        let _record_count = reader.u32()?;
        let body_len = reader.u32()? as usize;
        let body = reader.take(body_len)?;
        Some(TrapTable { body })
    }

    fn functions(&self) -> Functions<'a> {
        Functions {
            body: self.body,
            at: 0,
            end_of_previous: 0,
        }
    }

    /// Number of functions with code (name-only records of functions inlined everywhere
    /// are not counted).
    pub fn function_count(&self) -> usize {
        self.functions().filter(|f| f.len > 0).count()
    }

    /// Number of trap sites (decodes them all: for `wafer inspect`).
    pub fn trap_count(&self) -> usize {
        self.functions().map(|f| sites(&f).count()).sum()
    }

    /// The function whose code contains `code_offset`.
    fn function_at(&self, code_offset: u32) -> Option<Function<'a>> {
        let offset = u64::from(code_offset);
        self.functions()
            .take_while(|f| f.start <= offset)
            .find(|f| offset - f.start < f.len)
    }

    /// What happened at `code_offset`: the trap site there, if one is recorded, and the
    /// name of the function it belongs to (a function inlined there whose body holds the
    /// site's wasm offset, else the one whose code contains `code_offset`). `None` if no
    /// function contains `code_offset`. One walk of the table.
    pub fn lookup(&self, code_offset: u32) -> Option<Lookup<'a>> {
        let function = self.function_at(code_offset)?;
        let offset = u64::from(code_offset);
        let site = sites(&function)
            .take_while(|&(code, _, _)| code <= offset)
            .find(|&(code, _, _)| code == offset)
            .and_then(|(_, kind, wasm)| {
                Some(TrapSite {
                    kind: TrapKind::from_u8(kind)?,
                    wasm_offset: u32::try_from(wasm).ok()?,
                })
            });
        let inlined = site.and_then(|site| function.inlined_at(site.wasm_offset));
        let name = match inlined {
            Some(index) => self
                .functions()
                .nth(index)
                .map_or(function.name, |f| f.name),
            None => function.name,
        };
        Some(Lookup { site, name })
    }

    /// The trap recorded at exactly `code_offset`.
    pub fn trap_at(&self, code_offset: u32) -> Option<TrapSite> {
        self.lookup(code_offset)?.site
    }

    /// The name of the function whose code contains `code_offset` (UTF-8, as the
    /// compiler wrote it; printed as bytes, so a damaged table cannot make it fail).
    pub fn function_name_at(&self, code_offset: u32) -> Option<&'a [u8]> {
        Some(self.function_at(code_offset)?.name)
    }
}

/// What [`TrapTable::lookup`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lookup<'a> {
    /// The trap site at the code offset, if one is recorded.
    pub site: Option<TrapSite>,
    /// The function it happened in (UTF-8 as the compiler wrote it).
    pub name: &'a [u8],
}

/// Builds a trap table.
#[cfg(feature = "alloc")]
#[derive(Debug, Default)]
pub struct TrapTableBuilder {
    /// (start, length, name).
    functions: alloc::vec::Vec<(u32, u32, alloc::string::String)>,
    traps: alloc::vec::Vec<(u32, u32, TrapKind)>,
    /// (caller's start, wasm body start, wasm body length, callee's name).
    inlined: alloc::vec::Vec<(u32, u32, u32, alloc::string::String)>,
}

#[cfg(feature = "alloc")]
fn push_leb(out: &mut alloc::vec::Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// The longest function name a trap table keeps, in bytes: C++ template instances run to
/// kilobytes, and their first few hundred bytes identify them in a trap report.
pub const MAX_NAME_LEN: usize = 256;

/// `name`, cut to at most [`MAX_NAME_LEN`] bytes at a character boundary and ending in
/// `…` when it was cut.
#[cfg(feature = "alloc")]
fn shortened(name: &str) -> alloc::string::String {
    if name.len() <= MAX_NAME_LEN {
        return name.into();
    }
    let ellipsis = "…";
    let mut end = MAX_NAME_LEN - ellipsis.len();
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    alloc::format!("{}{ellipsis}", &name[..end])
}

#[cfg(feature = "alloc")]
fn push_bytes(out: &mut alloc::vec::Vec<u8>, bytes: &[u8]) {
    push_leb(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

#[cfg(feature = "alloc")]
impl TrapTableBuilder {
    /// Records a function occupying `len` bytes from `start`.
    pub fn function(&mut self, start: u32, len: u32, name: &str) {
        self.functions.push((start, len, shortened(name)));
    }

    /// Records that the function starting at `caller` holds an inlined copy of function
    /// `callee`, whose wasm body is `wasm_len` bytes from `wasm_start`.
    pub fn inlined(&mut self, caller: u32, wasm_start: u32, wasm_len: u32, callee: &str) {
        self.inlined
            .push((caller, wasm_start, wasm_len, shortened(callee)));
    }

    /// Records a trap site (inside a function recorded with [`Self::function`]).
    pub fn trap(&mut self, code_offset: u32, wasm_offset: u32, kind: TrapKind) {
        self.traps.push((code_offset, wasm_offset, kind));
    }

    /// Encodes the table, sorting functions and sites by code offset. Sites outside
    /// every function, and a function overlapping the one before it, are dropped.
    pub fn finish(mut self) -> alloc::vec::Vec<u8> {
        use crate::bytes::push_u32;
        self.functions.sort_unstable_by_key(|f| f.0);
        self.traps.sort_unstable_by_key(|t| t.0);
        self.inlined.sort_unstable();
        // The record index of each kept function, by start, and of a record with each
        // name: the functions' own, then name-only records (appended as needed) for
        // inlined functions that have none.
        let mut index_of = alloc::collections::BTreeMap::new();
        let mut named = alloc::collections::BTreeMap::new();
        let mut end_of_previous = 0u64;
        for (start, len, name) in &self.functions {
            if u64::from(*start) >= end_of_previous {
                let index = index_of.len();
                index_of.insert(*start, index);
                named.entry(name.as_str()).or_insert(index);
                end_of_previous = u64::from(*start) + u64::from(*len);
            }
        }
        let mut name_only = alloc::vec::Vec::new();
        let mut site_offsets = alloc::vec::Vec::new();
        let mut body = alloc::vec::Vec::with_capacity(self.traps.len() * 3);
        let mut sites = alloc::vec::Vec::new();
        let mut entries = alloc::vec::Vec::new();
        let mut traps = self.traps.iter().peekable();
        let mut inlined = self.inlined.iter().peekable();
        let (mut end_of_previous, mut count) = (0u64, 0u32);
        for (start, len, name) in &self.functions {
            if index_of
                .get(start)
                .is_none_or(|&index| index != count as usize)
            {
                continue;
            }
            let caller = *start;
            let (start, end) = (u64::from(*start), u64::from(*start) + u64::from(*len));
            while traps.next_if(|t| u64::from(t.0) < start).is_some() {}
            sites.clear();
            site_offsets.clear();
            let (mut code, mut wasm, mut previous_kind) = (start, 0i64, FIRST_KIND);
            while let Some(&(code_offset, wasm_offset, kind)) =
                traps.next_if(|t| u64::from(t.0) < end)
            {
                let code_offset = u64::from(code_offset);
                let changed = kind != previous_kind;
                push_leb(&mut sites, ((code_offset - code) << 1) | u64::from(changed));
                if changed {
                    sites.push(kind as u8);
                    previous_kind = kind;
                }
                let delta = i64::from(wasm_offset) - wasm;
                push_leb(&mut sites, ((delta << 1) ^ (delta >> 63)) as u64);
                code = code_offset;
                wasm = i64::from(wasm_offset);
                site_offsets.push(wasm_offset);
            }
            entries.clear();
            while inlined.next_if(|i| i.0 < caller).is_some() {}
            while let Some((_, wasm_start, wasm_len, callee)) = inlined.next_if(|i| i.0 == caller) {
                // Named only if one of this function's sites lies in the body: most
                // inlined wrappers cannot trap, and their names would be dead weight.
                let holds_a_site = site_offsets
                    .iter()
                    .any(|&offset: &u32| offset.wrapping_sub(*wasm_start) < *wasm_len);
                if !holds_a_site {
                    continue;
                }
                let index = *named.entry(callee.as_str()).or_insert_with(|| {
                    name_only.push(callee.as_str());
                    index_of.len() + name_only.len() - 1
                });
                push_leb(&mut entries, u64::from(*wasm_start));
                push_leb(&mut entries, u64::from(*wasm_len));
                push_leb(&mut entries, index as u64);
            }
            push_leb(&mut body, start - end_of_previous);
            push_leb(&mut body, end - start);
            push_bytes(&mut body, name.as_bytes());
            push_bytes(&mut body, &sites);
            push_bytes(&mut body, &entries);
            end_of_previous = end;
            count += 1;
        }
        for name in name_only {
            // Length 0 at the end: it contains no code, so only its index finds it.
            push_leb(&mut body, 0);
            push_leb(&mut body, 0);
            push_bytes(&mut body, name.as_bytes());
            push_bytes(&mut body, &[]);
            push_leb(&mut body, 0);
            count += 1;
        }
        let mut out = alloc::vec::Vec::with_capacity(12 + body.len());
        push_u32(&mut out, MAGIC);
        push_u32(&mut out, count);
        push_u32(&mut out, body.len() as u32);
        out.extend_from_slice(&body);
        out
    }
}

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use super::*;

    #[test]
    fn codes_count_from_one_so_messages_index_by_code() {
        for (i, kind) in TrapKind::ALL.iter().enumerate() {
            assert_eq!(*kind as usize, i + 1, "{kind:?}");
        }
        assert_eq!(TrapKind::Unreachable.message(), "unreachable executed");
        assert_eq!(TrapKind::StackExhausted.message(), "call stack exhausted");
        assert_eq!(
            TrapKind::UnsupportedBuiltin.message(),
            "asynchronous component built-in not supported"
        );
    }

    #[test]
    fn lookups_find_exact_traps_and_enclosing_functions() {
        let mut builder = TrapTableBuilder::default();
        builder.function(64, 32, "second");
        builder.function(0, 48, "first");
        builder.trap(70, 0x99, TrapKind::IntegerDivideByZero);
        builder.trap(10, 0x42, TrapKind::MemoryOutOfBounds);
        let bytes = builder.finish();
        let table = TrapTable::parse(&bytes).unwrap();
        assert_eq!(table.function_count(), 2);
        assert_eq!(table.function_name_at(0), Some(&b"first"[..]));
        assert_eq!(table.function_name_at(47), Some(&b"first"[..]));
        assert_eq!(table.function_name_at(50), None, "gap between functions");
        assert_eq!(table.function_name_at(95), Some(&b"second"[..]));
        assert_eq!(table.function_name_at(96), None);
        assert_eq!(
            table.trap_at(10),
            Some(TrapSite {
                kind: TrapKind::MemoryOutOfBounds,
                wasm_offset: 0x42
            })
        );
        assert_eq!(
            table.trap_at(70).unwrap().kind,
            TrapKind::IntegerDivideByZero
        );
        assert_eq!(table.trap_at(11), None);
        assert_eq!(table.trap_at(5), None);
    }

    #[test]
    fn many_sites_with_large_and_backward_offsets_round_trip() {
        let mut builder = TrapTableBuilder::default();
        builder.function(1000, 100_000, "big");
        builder.function(0, 10, "small");
        let mut expected = alloc::vec::Vec::new();
        for i in 0..5000u32 {
            let code = 1000 + i * 19;
            // Wasm offsets jump back and forth, as inlined or reordered code does.
            let wasm = if i % 3 == 0 {
                0x10_0000 + i
            } else {
                0x200 + i * 7
            };
            let kind = TrapKind::ALL[(i as usize) % TrapKind::ALL.len()];
            builder.trap(code, wasm, kind);
            expected.push((code, wasm, kind));
        }
        builder.trap(4, 0x7fff_ffff, TrapKind::Unreachable);
        builder.trap(50, 1, TrapKind::Unreachable); // in no function: dropped
        let bytes = builder.finish();
        assert!(
            bytes.len() < 5000 * 6,
            "{} bytes for 5000 sites",
            bytes.len()
        );
        let table = TrapTable::parse(&bytes).unwrap();
        assert_eq!(table.trap_count(), 5001);
        for (code, wasm, kind) in expected {
            assert_eq!(
                table.trap_at(code),
                Some(TrapSite {
                    kind,
                    wasm_offset: wasm
                })
            );
            assert_eq!(table.trap_at(code + 1), None);
        }
        assert_eq!(table.trap_at(4).unwrap().wasm_offset, 0x7fff_ffff);
        assert_eq!(table.trap_at(50), None);
        assert_eq!(table.function_name_at(1000 + 99_999), Some(&b"big"[..]));
    }

    #[test]
    fn sites_in_inlined_code_are_named_after_the_inlined_function() {
        let mut builder = TrapTableBuilder::default();
        builder.function(0, 100, "caller");
        builder.function(100, 20, "leaf");
        builder.function(120, 20, "wrapper");
        // `caller` (wasm body 0x100..0x140) holds `wrapper` (0x40..0x50), which holds
        // `leaf` (0x20..0x30); `wrapper` on its own holds `leaf` too.
        builder.inlined(0, 0x40, 0x10, "wrapper");
        builder.inlined(0, 0x20, 0x10, "leaf");
        builder.inlined(120, 0x20, 0x10, "leaf");
        // Inlined everywhere and left out of the image: named by a record of its own.
        builder.inlined(0, 0x60, 0x10, "gone");
        // Inlined, but holding no site: not named at all.
        builder.inlined(0, 0x80, 0x10, "siteless");
        builder.trap(10, 0x120, TrapKind::Unreachable);
        builder.trap(20, 0x44, TrapKind::IntegerDivideByZero);
        builder.trap(30, 0x2f, TrapKind::MemoryOutOfBounds);
        builder.trap(40, 0x30, TrapKind::MemoryOutOfBounds);
        builder.trap(125, 0x25, TrapKind::MemoryOutOfBounds);
        builder.trap(50, 0x65, TrapKind::Unreachable);
        let bytes = builder.finish();
        let table = TrapTable::parse(&bytes).unwrap();
        let named = |code: u32| Some(table.lookup(code).unwrap().name);
        assert_eq!(named(10), Some(&b"caller"[..]));
        assert_eq!(named(20), Some(&b"wrapper"[..]));
        assert_eq!(named(30), Some(&b"leaf"[..]));
        assert_eq!(named(40), Some(&b"caller"[..]), "just past leaf's body");
        assert_eq!(named(125), Some(&b"leaf"[..]));
        assert_eq!(named(50), Some(&b"gone"[..]));
        assert_eq!(table.function_name_at(20), Some(&b"caller"[..]));
        assert_eq!(
            table.function_count(),
            3,
            "the name-only record has no code"
        );
        assert_eq!(table.trap_count(), 6);
        assert!(!bytes.windows(8).any(|w| w == b"siteless"));
    }

    #[test]
    fn typical_sites_take_two_bytes() {
        // Loads and stores a few instructions and a few wasm bytes apart, the bulk of
        // every large module's sites.
        let mut builder = TrapTableBuilder::default();
        builder.function(0, 10_000, "f");
        for i in 0..1000u32 {
            builder.trap(i * 7, 0x100 + i * 3, TrapKind::MemoryOutOfBounds);
        }
        builder.trap(7001, 0x2000, TrapKind::IntegerDivideByZero);
        builder.trap(7002, 0x2001, TrapKind::MemoryOutOfBounds);
        let bytes = builder.finish();
        assert!(bytes.len() < 2 * 1000 + 40, "{} bytes", bytes.len());
        let table = TrapTable::parse(&bytes).unwrap();
        assert_eq!(table.trap_at(7).unwrap().wasm_offset, 0x103);
        assert_eq!(
            table.trap_at(7001).unwrap().kind,
            TrapKind::IntegerDivideByZero
        );
        assert_eq!(
            table.trap_at(7002).unwrap().kind,
            TrapKind::MemoryOutOfBounds
        );
        assert_eq!(table.trap_count(), 1002);
    }

    #[test]
    fn long_names_are_cut_at_a_character_boundary() {
        let long = "é".repeat(400); // two bytes each
        let mut builder = TrapTableBuilder::default();
        builder.function(0, 4, &long);
        builder.function(4, 4, "short");
        let bytes = builder.finish();
        let table = TrapTable::parse(&bytes).unwrap();
        let name = core::str::from_utf8(table.function_name_at(0).unwrap()).unwrap();
        assert!(name.len() <= MAX_NAME_LEN, "{}", name.len());
        assert!(name.ends_with('…') && name.starts_with("éé"), "{name}");
        assert_eq!(table.function_name_at(4), Some(&b"short"[..]));
    }

    #[test]
    fn a_function_overlapping_the_previous_one_is_dropped() {
        let mut builder = TrapTableBuilder::default();
        builder.function(0, 100, "outer");
        builder.function(50, 10, "inner");
        builder.function(100, 4, "next");
        let bytes = builder.finish();
        let table = TrapTable::parse(&bytes).unwrap();
        assert_eq!(table.function_count(), 2);
        assert_eq!(table.function_name_at(55), Some(&b"outer"[..]));
        assert_eq!(table.function_name_at(101), Some(&b"next"[..]));
    }

    #[test]
    fn garbage_never_panics() {
        assert!(TrapTable::parse(&[]).is_none());
        assert!(TrapTable::parse(b"WTRP\xff\xff\xff\xff\0\0\0\0\0\0\0\0").is_none());
        let mut bytes = TrapTableBuilder::default().finish();
        bytes[8] = 1; // claims a body that is not there
        assert!(TrapTable::parse(&bytes).is_none());
        // Truncated or overlong LEB128 sites decode to nothing, never a panic.
        let mut builder = TrapTableBuilder::default();
        builder.function(0, 100, "f");
        builder.trap(10, 5, TrapKind::Unreachable);
        let good = builder.finish();
        for cut in 0..good.len() {
            if let Some(table) = TrapTable::parse(&good[..cut]) {
                let _ = table.trap_at(10);
                let _ = table.trap_count();
            }
        }
        // Every byte of the body damaged in turn: lookups answer something or nothing.
        for at in 12..good.len() {
            for value in [0x00, 0x7f, 0x80, 0xff] {
                let mut bad = good.clone();
                bad[at] = value;
                let table = TrapTable::parse(&bad).unwrap();
                let _ = (table.trap_at(10), table.trap_count());
                let _ = table.function_name_at(10);
            }
        }
    }

    #[test]
    fn every_kind_round_trips_through_its_code() {
        for kind in TrapKind::ALL {
            assert_eq!(TrapKind::from_u8(kind as u8), Some(kind));
            assert!(!kind.message().is_empty());
        }
        assert_eq!(TrapKind::from_u8(0), None);
    }
}
