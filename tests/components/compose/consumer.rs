//! The command component that imports `local:demo/api`, by hand on the canonical ABI,
//! and prints what the provider answers (std, through the preview1 adapter).

use std::alloc::{Layout, alloc, realloc};

#[unsafe(no_mangle)]
pub unsafe extern "C" fn cabi_realloc(old: *mut u8, old_size: usize, align: usize, new_size: usize) -> *mut u8 {
    unsafe {
        if old.is_null() {
            alloc(Layout::from_size_align(new_size.max(1), align).unwrap())
        } else {
            realloc(old, Layout::from_size_align(old_size.max(1), align).unwrap(), new_size.max(1))
        }
    }
}

#[link(wasm_import_module = "local:demo/api")]
unsafe extern "C" {
    #[link_name = "greet"]
    fn greet(ptr: *const u8, len: usize, ret: *mut u32);
    #[link_name = "sum"]
    fn sum(ptr: *const i64, len: usize) -> i64;
    #[link_name = "describe"]
    fn describe(ptr: *const i32, len: usize, ret: *mut u64);
    #[link_name = "split"]
    fn split(ptr: *const u8, len: usize, ret: *mut u32);
    #[link_name = "[constructor]counter"]
    fn counter_new(start: i64) -> u32;
    #[link_name = "[method]counter.add"]
    fn counter_add(counter: u32, n: i64);
    #[link_name = "[method]counter.value"]
    fn counter_value(counter: u32) -> i64;
    #[link_name = "[resource-drop]counter"]
    fn counter_drop(counter: u32);
    #[link_name = "make-counter"]
    fn make_counter(start: i64) -> u32;
    #[link_name = "take"]
    fn take(counter: u32) -> i64;
    #[link_name = "peek"]
    fn peek(counter: u32) -> i64;
    #[link_name = "keep"]
    fn keep(counter: u32);
    #[link_name = "release-kept"]
    fn release_kept();
    #[link_name = "destroyed"]
    fn destroyed(ret: *mut u32);
}

/// The provider's log of destroyed counters.
fn destroyed_log() -> Vec<i64> {
    let mut ret = [0u32; 2];
    unsafe { destroyed(ret.as_mut_ptr()) };
    unsafe { std::slice::from_raw_parts(ret[0] as *const i64, ret[1] as usize) }.to_vec()
}

/// A resource the provider implements, owned, lent and handed back: each destructor
/// runs when the last own handle is dropped, in whichever component drops it.
fn counters() {
    let a = unsafe { counter_new(1) };
    unsafe { counter_add(a, 2) };
    println!("a = {}, peek(a) = {}, destroyed {:?}", unsafe { counter_value(a) }, unsafe { peek(a) }, destroyed_log());
    let b = unsafe { counter_new(10) };
    println!("take(b) = {}, destroyed {:?}", unsafe { take(b) }, destroyed_log());
    let c = unsafe { make_counter(100) };
    unsafe { counter_add(c, 5) };
    unsafe { keep(c) };
    println!("kept c, destroyed {:?}", destroyed_log());
    unsafe { release_kept() };
    println!("released c, destroyed {:?}", destroyed_log());
    let d = unsafe { make_counter(7) };
    println!("a = {}, d = {}, destroyed {:?}", unsafe { peek(a) }, unsafe { peek(d) }, destroyed_log());
    unsafe { counter_drop(a) };
    println!("dropped a, destroyed {:?}", destroyed_log());
    unsafe { counter_drop(d) };
    println!("dropped d, destroyed {:?}", destroyed_log());
}

unsafe fn string(ptr: u32, len: u32) -> String {
    unsafe { String::from_utf8_lossy(std::slice::from_raw_parts(ptr as *const u8, len as usize)).into_owned() }
}

fn main() {
    for name in ["world", "wörld ☃", ""] {
        let mut ret = [0u32; 2];
        unsafe { greet(name.as_ptr(), name.len(), ret.as_mut_ptr()) };
        println!("greet({name:?}) = {:?}", unsafe { string(ret[0], ret[1]) });
    }
    for values in [&[][..], &[1, 2, 3][..], &[i64::MAX, 1][..], &[-5, 40, -2, 9_000_000_000][..]] {
        println!("sum({values:?}) = {}", unsafe { sum(values.as_ptr(), values.len()) });
    }
    let points: [[i32; 2]; 3] = [[1, 2], [3, -4], [100_000, 100_000]];
    let mut ret = [0u64; 3];
    unsafe { describe(points.as_ptr() as *const i32, points.len(), ret.as_mut_ptr()) };
    let words = ret[2];
    println!(
        "describe({points:?}) = count {}, total {}, label {:?}",
        ret[0] as u32,
        ret[1] as i64,
        unsafe { string(words as u32, (words >> 32) as u32) }
    );
    let text = "split  these words, please ✓";
    let mut ret = [0u32; 2];
    unsafe { split(text.as_ptr(), text.len(), ret.as_mut_ptr()) };
    let items = unsafe { std::slice::from_raw_parts(ret[0] as *const u32, 2 * ret[1] as usize) };
    let words: Vec<String> = items.chunks_exact(2).map(|w| unsafe { string(w[0], w[1]) }).collect();
    println!("split({text:?}) = {words:?}");
    counters();
}
