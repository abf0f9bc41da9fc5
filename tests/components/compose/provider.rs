//! The component that exports `local:demo/api`, by hand on the canonical ABI: a
//! `no_std` library with a bump allocator, so it imports nothing.

#![no_std]

use core::ptr::{addr_of_mut, copy_nonoverlapping};

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

/// Everything the component allocates, never freed (each call is small).
static mut HEAP: [u8; 1 << 20] = [0; 1 << 20];
static mut NEXT: usize = 0;

/// Allocates `size` bytes aligned to `align`.
unsafe fn allocate(align: usize, size: usize) -> *mut u8 {
    unsafe {
        let base = addr_of_mut!(HEAP) as *mut u8 as usize;
        let start = (base + NEXT).next_multiple_of(align);
        NEXT = start + size - base;
        if NEXT > (1 << 20) {
            core::arch::wasm32::unreachable();
        }
        start as *mut u8
    }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cabi_realloc(old: *mut u8, old_size: usize, align: usize, new_size: usize) -> *mut u8 {
    unsafe {
        let new = allocate(align, new_size);
        if !old.is_null() {
            copy_nonoverlapping(old, new, old_size.min(new_size));
        }
        new
    }
}

/// A result area: two words.
static mut RET: [u64; 4] = [0; 4];

fn ret() -> *mut u8 {
    addr_of_mut!(RET) as *mut u8
}

/// Copies `parts` one after another into a new allocation; returns (pointer, length).
unsafe fn concat(parts: &[&[u8]]) -> (*mut u8, usize) {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    unsafe {
        let out = allocate(1, len);
        let mut at = out;
        for part in parts {
            copy_nonoverlapping(part.as_ptr(), at, part.len());
            at = at.add(part.len());
        }
        (out, len)
    }
}

#[unsafe(export_name = "local:demo/api#greet")]
pub unsafe extern "C" fn greet(ptr: *const u8, len: usize) -> *mut u8 {
    unsafe {
        let name = core::slice::from_raw_parts(ptr, len);
        let (out, out_len) = concat(&[b"Hello, ", name, "! (from the provider)".as_bytes()]);
        let area = ret() as *mut u32;
        *area = out as u32;
        *area.add(1) = out_len as u32;
        ret()
    }
}

#[unsafe(export_name = "local:demo/api#sum")]
pub unsafe extern "C" fn sum(ptr: *const i64, len: usize) -> i64 {
    unsafe { core::slice::from_raw_parts(ptr, len) }.iter().fold(0i64, |a, b| a.wrapping_add(*b))
}

/// `n` in decimal into `buf`; returns the digits.
fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[at..];
        }
    }
}

#[unsafe(export_name = "local:demo/api#describe")]
pub unsafe extern "C" fn describe(ptr: *const i32, len: usize) -> *mut u8 {
    unsafe {
        let coords = core::slice::from_raw_parts(ptr, 2 * len);
        let total = coords.chunks_exact(2).fold(0i64, |t, p| t + i64::from(p[0]) * i64::from(p[1]));
        let mut digits = [0u8; 20];
        let (label, label_len) = concat(&[b"points: ", decimal(len as u64, &mut digits)]);
        let area = ret();
        *(area as *mut u32) = len as u32;
        *(area.add(8) as *mut i64) = total;
        *(area.add(16) as *mut u32) = label as u32;
        *(area.add(20) as *mut u32) = label_len as u32;
        area
    }
}

#[unsafe(export_name = "local:demo/api#split")]
pub unsafe extern "C" fn split(ptr: *const u8, len: usize) -> *mut u8 {
    unsafe {
        let text = core::slice::from_raw_parts(ptr, len);
        let count = text.split(|&b| b == b' ').filter(|w| !w.is_empty()).count();
        let array = allocate(4, 8 * count) as *mut u32;
        for (i, word) in text.split(|&b| b == b' ').filter(|w| !w.is_empty()).enumerate() {
            let (copy, copy_len) = concat(&[word]);
            *array.add(2 * i) = copy as u32;
            *array.add(2 * i + 1) = copy_len as u32;
        }
        let area = ret() as *mut u32;
        *area = array as u32;
        *area.add(1) = count as u32;
        ret()
    }
}

// The `counter` resource: a representation is an index into `VALUES`.

#[link(wasm_import_module = "[export]local:demo/api")]
unsafe extern "C" {
    #[link_name = "[resource-new]counter"]
    fn counter_new(rep: u32) -> u32;
    #[link_name = "[resource-rep]counter"]
    fn counter_rep(handle: u32) -> u32;
    #[link_name = "[resource-drop]counter"]
    fn counter_drop(handle: u32);
}

static mut VALUES: [i64; 64] = [0; 64];
static mut COUNTERS: usize = 0;
/// The last values of destroyed counters.
static mut DESTROYED: [i64; 64] = [0; 64];
static mut DESTROYED_COUNT: usize = 0;
/// The handle `keep` keeps.
static mut KEPT: u32 = 0;

fn values() -> &'static mut [i64; 64] {
    unsafe { &mut *addr_of_mut!(VALUES) }
}

#[unsafe(export_name = "local:demo/api#[constructor]counter")]
pub unsafe extern "C" fn counter_constructor(start: i64) -> u32 {
    unsafe {
        let rep = COUNTERS;
        COUNTERS += 1;
        values()[rep] = start;
        counter_new(rep as u32)
    }
}

#[unsafe(export_name = "local:demo/api#[method]counter.add")]
pub unsafe extern "C" fn counter_add(rep: u32, n: i64) {
    values()[rep as usize] += n;
}

#[unsafe(export_name = "local:demo/api#[method]counter.value")]
pub unsafe extern "C" fn counter_value(rep: u32) -> i64 {
    values()[rep as usize]
}

#[unsafe(export_name = "local:demo/api#[dtor]counter")]
pub unsafe extern "C" fn counter_dtor(rep: u32) {
    unsafe {
        (*addr_of_mut!(DESTROYED))[DESTROYED_COUNT] = values()[rep as usize];
        DESTROYED_COUNT += 1;
    }
}

#[unsafe(export_name = "local:demo/api#make-counter")]
pub unsafe extern "C" fn make_counter(start: i64) -> u32 {
    unsafe { counter_constructor(start) }
}

#[unsafe(export_name = "local:demo/api#take")]
pub unsafe extern "C" fn take(handle: u32) -> i64 {
    unsafe {
        let value = values()[counter_rep(handle) as usize];
        counter_drop(handle);
        value
    }
}

#[unsafe(export_name = "local:demo/api#peek")]
pub unsafe extern "C" fn peek(rep: u32) -> i64 {
    values()[rep as usize]
}

#[unsafe(export_name = "local:demo/api#keep")]
pub unsafe extern "C" fn keep(handle: u32) {
    unsafe { KEPT = handle };
}

#[unsafe(export_name = "local:demo/api#release-kept")]
pub unsafe extern "C" fn release_kept() {
    unsafe { counter_drop(KEPT) };
}

#[unsafe(export_name = "local:demo/api#destroyed")]
pub unsafe extern "C" fn destroyed() -> *mut u8 {
    unsafe {
        let area = ret() as *mut u32;
        *area = addr_of_mut!(DESTROYED) as u32;
        *area.add(1) = DESTROYED_COUNT as u32;
        ret()
    }
}
