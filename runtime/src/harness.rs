//! The test harness: drives the instances of a harness image from commands on stdin
//! (protocol in `wafer_abi::harness`). Only harness images reach this code; it is not
//! linked into ordinary executables.

use wafer_abi::harness::{
    EXPORT_FUNC, EXPORT_GLOBAL, EXPORT_MEMORY, EXPORT_TABLE, MAX_VALUES, VALUE_SLOT_SIZE,
    WordHasher,
};

use crate::out::Line;
use crate::sys::{Current, Platform};

#[cfg(feature = "image")]
unsafe extern "C" {
    static wafer_harness: [usize; 2];
}

/// A record of the harness table: `N` pointer-sized fields.
#[derive(Clone, Copy)]
struct Record<const N: usize>(*const [usize; N]);

impl<const N: usize> Record<N> {
    fn field(&self, index: usize) -> usize {
        // SAFETY: records point into the compiler-generated harness table, which is
        // static and has N fields per record.
        unsafe { (*self.0).get(index).copied().unwrap_or(0) }
    }
}

/// The harness table: (instance count, first instance record).
fn table() -> (usize, *const [usize; 3]) {
    #[cfg(feature = "image")]
    {
        // SAFETY: the compiler defines `wafer_harness` in every harness image.
        let header = unsafe { &*core::ptr::addr_of!(wafer_harness) };
        (header[0], header[1] as *const [usize; 3])
    }
    #[cfg(not(feature = "image"))]
    {
        (0, core::ptr::null())
    }
}

fn instance(index: usize) -> Option<Record<3>> {
    let (count, first) = table();
    // SAFETY: `index < count` records follow the first one.
    (index < count).then(|| Record(unsafe { first.add(index) }))
}

fn export(instance: Record<3>, index: usize) -> Option<Record<2>> {
    let count = instance.field(1);
    let first = instance.field(2) as *const [usize; 2];
    // SAFETY: `index < count` export records follow the first one.
    (index < count).then(|| Record(unsafe { first.add(index) }))
}

/// The longest command: a component call's arguments (hex) can be long.
const INPUT_BUFFER: usize = 1 << 20;

/// Reads stdin line by line.
struct Input {
    buffer: &'static mut [u8; INPUT_BUFFER],
    start: usize,
    end: usize,
}

impl Input {
    /// The next line without its newline, or `None` at end of input.
    fn line(&mut self) -> Option<&[u8]> {
        loop {
            if let Some(newline) = self.buffer[self.start..self.end]
                .iter()
                .position(|&b| b == b'\n')
            {
                let line = self.start..self.start + newline;
                self.start += newline + 1;
                return self.buffer.get(line);
            }
            // Keep the partial line, then read more after it.
            self.buffer.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            let free = self.buffer.len() - self.end;
            if free == 0 {
                crate::fatal(b"harness command longer than its buffer");
            }
            let buf = crate::sys::IoVec {
                // SAFETY: `end + free` is within the buffer.
                base: unsafe { self.buffer.as_mut_ptr().add(self.end) },
                len: free,
            };
            // SAFETY: the iovec covers the free part of the buffer.
            let read = unsafe { Current::read(0, &[buf]) };
            match read {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.end += n,
            }
        }
    }
}

fn hex_value(text: &[u8]) -> Option<u128> {
    if text.is_empty() || text.len() > 32 {
        return None;
    }
    text.iter().try_fold(0u128, |acc, &c| {
        let digit = (c as char).to_digit(16)?;
        Some((acc << 4) | digit as u128)
    })
}

fn number(text: &[u8]) -> Option<usize> {
    hex_value(text).and_then(|v| usize::try_from(v).ok())
}

/// Writes the line and resets it; long replies go out in several writes.
fn flush(line: &mut Line) {
    line.write_to(1);
    *line = Line::new();
}

fn put_value(line: &mut Line, value: u128) {
    if line.as_bytes().len() > 400 {
        flush(line);
    }
    let mut digits = [0u8; 32];
    for (i, digit) in digits.iter_mut().enumerate() {
        let nibble = (value >> (124 - 4 * i)) & 0xf;
        *digit = b"0123456789abcdef"[nibble as usize];
    }
    line.str(b" ").str(&digits);
}

fn reply_trap(kind: crate::trap::TrapKind) {
    let mut line = Line::new();
    line.str(b"trap ").dec(kind as u64).str(b"\n");
    line.write_to(1);
}

fn reply_error(message: &[u8]) {
    let mut line = Line::new();
    line.str(b"error ").str(message).str(b"\n");
    line.write_to(1);
}

/// Length in bytes and hash of the linear memory whose `VMMemoryDefinition` (base,
/// current length) is at `definition`.
fn hash_memory(definition: usize) -> (usize, u64) {
    let fields = definition as *const [usize; 2];
    // SAFETY: a memory export's address is its definition in a VM context.
    let [base, length] = unsafe { *fields };
    let mut hasher = WordHasher::default();
    let mut chunk = [0u8; 4096];
    let mut at = 0;
    while at < length {
        let size = chunk.len().min(length - at);
        // SAFETY: `[base + at, base + at + size)` lies within the memory's current
        // length; it is copied out, never referenced.
        unsafe {
            core::ptr::copy_nonoverlapping((base + at) as *const u8, chunk.as_mut_ptr(), size)
        };
        hasher.update(&chunk[..size]);
        at += size;
    }
    (length, hasher.finish())
}

/// Length in elements and hash of which elements are non-null, of the table whose
/// `VMTableDefinition` (base, current elements) is at `definition`.
fn hash_table(definition: usize) -> (usize, u64) {
    let fields = definition as *const [usize; 2];
    // SAFETY: a table export's address is its definition in a VM context.
    let [base, length] = unsafe { *fields };
    let mut hasher = WordHasher::default();
    let mut chunk = [0u8; 512];
    let mut at = 0;
    while at < length {
        let size = chunk.len().min(length - at);
        for (i, byte) in chunk[..size].iter_mut().enumerate() {
            // SAFETY: element `at + i` is below the table's current length.
            let element = unsafe { *(base as *const usize).add(at + i) };
            *byte = (element != 0) as u8;
        }
        hasher.update(&chunk[..size]);
        at += size;
    }
    (length, hasher.finish())
}

/// The harness main loop; exits the process when stdin ends or on `q`.
pub extern "C" fn run() {
    crate::wasi::fd::init_stdio();
    static BUFFER: crate::global::Global<[u8; INPUT_BUFFER]> =
        crate::global::Global::new([0; INPUT_BUFFER]);
    let mut input = Input {
        // SAFETY: `run` is entered once and never returns, so this is the only reference
        // to the buffer; nothing else names it.
        buffer: unsafe { &mut *BUFFER.as_ptr() },
        start: 0,
        end: 0,
    };
    let mut values = [[0u8; VALUE_SLOT_SIZE as usize]; MAX_VALUES];
    while let Some(line) = input.line() {
        let mut words = line.split(|&b| b == b' ').filter(|w| !w.is_empty());
        let command = words.next().unwrap_or(b"");
        let target_word = words.next();
        match (command, target_word.and_then(number)) {
            (b"n", Some(component)) => {
                crate::component::harness::instantiate(component);
                continue;
            }
            (b"x", Some(component)) => {
                let export = words.next().and_then(number);
                let args = words.next().unwrap_or(b"");
                match export {
                    Some(export) => crate::component::harness::call(component, export, args),
                    None => reply_error(b"no export"),
                }
                continue;
            }
            _ => {}
        }
        let target = target_word.and_then(number).and_then(instance);
        match (command, target) {
            (b"q", _) => Current::exit(0),
            (b"i", Some(instance)) => {
                let init = instance.field(0);
                // SAFETY: field 0 of an instance record is its instantiation function.
                let init: extern "C" fn() = unsafe { core::mem::transmute(init) };
                match Current::catch_traps(|| init()) {
                    Ok(()) => Line::new().str(b"ok\n").write_to(1),
                    Err(kind) => reply_trap(kind),
                }
            }
            (b"c", Some(instance)) => {
                let export = words
                    .next()
                    .and_then(number)
                    .and_then(|e| export(instance, e));
                let results = words.next().and_then(number).unwrap_or(usize::MAX);
                let Some(export) = export.filter(|e| e.field(0) as u64 == EXPORT_FUNC) else {
                    reply_error(b"no such function export");
                    continue;
                };
                let mut count = 0;
                for word in words.by_ref() {
                    match (hex_value(word), values.get_mut(count)) {
                        (Some(value), Some(slot)) => *slot = value.to_le_bytes(),
                        _ => {
                            count = MAX_VALUES + 1;
                            break;
                        }
                    }
                    count += 1;
                }
                if count > MAX_VALUES || results > MAX_VALUES {
                    reply_error(b"bad arguments");
                    continue;
                }
                // SAFETY: field 1 of a function export is its trampoline.
                let trampoline: extern "C" fn(*mut [u8; 16]) =
                    unsafe { core::mem::transmute(export.field(1)) };
                let slots = values.as_mut_ptr();
                match Current::catch_traps(|| trampoline(slots)) {
                    Ok(()) => {
                        let mut line = Line::new();
                        line.str(b"ok");
                        for slot in values.iter().take(results) {
                            put_value(&mut line, u128::from_le_bytes(*slot));
                        }
                        line.str(b"\n");
                        flush(&mut line);
                    }
                    Err(kind) => reply_trap(kind),
                }
            }
            (b"g", Some(instance)) => {
                let export = words
                    .next()
                    .and_then(number)
                    .and_then(|e| export(instance, e));
                let Some(export) = export.filter(|e| e.field(0) as u64 == EXPORT_GLOBAL) else {
                    reply_error(b"no such global export");
                    continue;
                };
                let mut slot = [0u8; 16];
                // SAFETY: field 1 of a global export is the address of its 16-byte slot.
                unsafe {
                    core::ptr::copy_nonoverlapping(
                        export.field(1) as *const u8,
                        slot.as_mut_ptr(),
                        16,
                    )
                };
                let mut line = Line::new();
                line.str(b"ok");
                put_value(&mut line, u128::from_le_bytes(slot));
                line.str(b"\n");
                flush(&mut line);
            }
            (b"s", Some(instance)) => {
                let export = words
                    .next()
                    .and_then(number)
                    .and_then(|e| export(instance, e));
                let value = words.next().and_then(hex_value);
                let (Some(export), Some(value)) =
                    (export.filter(|e| e.field(0) as u64 == EXPORT_GLOBAL), value)
                else {
                    reply_error(b"no such global export, or no value");
                    continue;
                };
                // SAFETY: field 1 of a global export is the address of its 16-byte slot.
                unsafe {
                    core::ptr::copy_nonoverlapping(
                        value.to_le_bytes().as_ptr(),
                        export.field(1) as *mut u8,
                        16,
                    )
                };
                Line::new().str(b"ok\n").write_to(1);
            }
            (b"m" | b"t", Some(instance)) => {
                let kind = match command {
                    b"m" => EXPORT_MEMORY,
                    _ => EXPORT_TABLE,
                };
                let export = words
                    .next()
                    .and_then(number)
                    .and_then(|e| export(instance, e));
                let Some(export) = export.filter(|e| e.field(0) as u64 == kind) else {
                    reply_error(b"no such memory or table export");
                    continue;
                };
                let (length, hash) = match kind {
                    EXPORT_MEMORY => hash_memory(export.field(1)),
                    _ => hash_table(export.field(1)),
                };
                let mut line = Line::new();
                line.str(b"ok");
                put_value(&mut line, length as u128);
                put_value(&mut line, hash as u128);
                line.str(b"\n");
                flush(&mut line);
            }
            _ => reply_error(b"unknown command or instance"),
        }
    }
    Current::exit(0)
}
