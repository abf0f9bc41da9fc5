//! Wasm exceptions: allocating exception objects and unwinding to handlers
//! (see `wafer_abi::exceptions`).

use core::sync::atomic::{AtomicUsize, Ordering};

use crate::sys::{Current, Platform};
use wafer_abi::exceptions::{ExceptionTable, PAYLOAD_OFFSET, PAYLOAD_SLOT};
use wafer_abi::trap::{TrapKind, TrapTable};

/// Address space for exception objects. They are never freed: exceptions are rare, and
/// an exception reference may live anywhere (globals, tables) with no collector to find
/// it. Exhausting it is a fatal error.
const ARENA_SIZE: usize = 1 << 30;
/// Committed in steps of this size.
const ARENA_STEP: usize = 1 << 16;

static ARENA_BASE: AtomicUsize = AtomicUsize::new(0);
static ARENA_USED: AtomicUsize = AtomicUsize::new(0);
static ARENA_COMMITTED: AtomicUsize = AtomicUsize::new(0);
static ARENA_CAPACITY: AtomicUsize = AtomicUsize::new(0);

/// Allocates a zeroed exception object for `tag` with `payload_slots` value slots.
#[unsafe(no_mangle)]
pub extern "C" fn wafer_rt_exception_new(tag: u32, payload_slots: u32) -> *mut u8 {
    let size = PAYLOAD_OFFSET as usize + payload_slots as usize * PAYLOAD_SLOT as usize;
    let mut base = ARENA_BASE.load(Ordering::Relaxed);
    if base == 0 {
        let Some((reserved, size)) = Current::reserve_growable(ARENA_STEP, ARENA_SIZE) else {
            crate::fatal(b"cannot reserve memory for exceptions");
        };
        base = reserved as usize;
        ARENA_BASE.store(base, Ordering::Relaxed);
        ARENA_CAPACITY.store(size, Ordering::Relaxed);
    }
    let start = ARENA_USED.load(Ordering::Relaxed);
    let end = start + size.next_multiple_of(16);
    if end > ARENA_CAPACITY.load(Ordering::Relaxed) {
        crate::fatal(b"out of memory for exception objects");
    }
    let committed = ARENA_COMMITTED.load(Ordering::Relaxed);
    if end > committed {
        let capacity = ARENA_CAPACITY.load(Ordering::Relaxed);
        let grow = (end - committed)
            .next_multiple_of(ARENA_STEP)
            .min(capacity - committed);
        // SAFETY: the range lies inside the arena's reservation, past what is in use.
        if !unsafe { Current::commit((base + committed) as *mut u8, grow) } {
            crate::fatal(b"out of memory for exception objects");
        }
        ARENA_COMMITTED.store(committed + grow, Ordering::Relaxed);
    }
    ARENA_USED.store(end, Ordering::Relaxed);
    let object = (base + start) as *mut u8;
    // SAFETY: `object` starts a fresh, committed, 16-aligned block of `size` bytes.
    unsafe { (object as *mut u64).write(tag as u64) };
    object
}

/// Reads the frame record at `fp`: the caller's frame pointer and the return address.
///
/// # Safety
/// `fp` must be the frame pointer of a live frame of compiled code.
pub unsafe fn frame_record(fp: usize) -> (usize, usize) {
    // SAFETY: compiled code keeps frame pointers; every frame starts with the saved
    // caller frame pointer and, one word above, the return address (all three
    // architectures).
    unsafe {
        let record = fp as *const usize;
        (*record, *record.add(1))
    }
}

/// Unwinds from a throw: `fp` and `ret` are the frame pointer and return address of the
/// compiled code that called `wafer_rt_throw`. Called only by that stub.
///
/// # Safety
/// `exception` must be an exception object and `fp`/`ret` the thrower's frame.
pub unsafe extern "C" fn unwind(exception: *mut u8, mut fp: usize, mut ret: usize) -> ! {
    let image = crate::image::descriptor();
    let table = ExceptionTable::parse(image.exception_table);
    // SAFETY: exception objects start with their tag.
    let tag = unsafe { *(exception as *const u64) } as u32;
    let code = image.code_start..image.code_start + image.code_len;
    let thrower = ret;
    while code.contains(&ret) && fp != 0 {
        let offset = (ret - image.code_start) as u32;
        if let Some(site) = table.and_then(|t| t.site(offset))
            && let Some(handler) = site.handler_for(tag)
        {
            let pc = image.code_start + handler as usize;
            let sp = fp - site.frame_offset as usize;
            // SAFETY: the handler belongs to the call site in the frame at `fp`, whose
            // stack pointer at the call was `sp`; compiled code expects the exception
            // object in the first payload register and no callee-saved registers.
            unsafe { Current::resume(pc, sp, fp, exception) }
        }
        // SAFETY: `fp` is the frame pointer of a frame of compiled code.
        let (caller_fp, caller_ret) = unsafe { frame_record(fp) };
        if caller_fp <= fp {
            break; // the chain must go up the stack
        }
        fp = caller_fp;
        ret = caller_ret;
    }
    uncaught(thrower)
}

/// An exception left every frame of compiled code: under a test harness the call ends
/// with an "uncaught exception" result; otherwise the program ends with status 1, as
/// under wasmtime (a trap ends with 134).
fn uncaught(thrower: usize) -> ! {
    Current::land_if_catching(TrapKind::UncaughtException);
    let image = crate::image::descriptor();
    let function = thrower
        .checked_sub(image.code_start)
        .and_then(|offset| TrapTable::parse(image.trap_table)?.function_name_at(offset as u32));
    let mut line = crate::out::Line::new();
    line.str(b"wafer: uncaught exception");
    if let Some(function) = function {
        line.str(b" thrown in ").str(function);
    }
    line.str(b"\n");
    line.write_to(2);
    crate::host::exit(wafer_abi::UNCAUGHT_EXCEPTION_EXIT_CODE)
}
