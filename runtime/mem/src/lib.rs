//! `memcpy`, `memmove`, `memset`, `memcmp`, `bcmp` and `strlen` for the wafer runtime.
//!
//! On `*-linux-*` targets nothing else supplies them: there is no libc, and
//! `compiler_builtins` leaves them to libc there. Compiled wasm code calls them for
//! `memory.copy`, `memory.fill` and data segments, and rustc emits calls to them.
//!
//! The crate is `no_builtins`, so LLVM cannot recognise the loops below as a copy and
//! turn them back into a call to `memcpy` itself.

#![no_std]
#![no_builtins]

// Only an image defines them: a host build (unit tests, tools) links against libc.
#[cfg(feature = "image")]
mod impls {
    use core::ffi::c_int;

    const WORD: usize = core::mem::size_of::<usize>();

    /// # Safety
    /// `dest` and `src` must be valid for `n` bytes and must not overlap.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn memcpy(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
        // SAFETY: the caller guarantees both ranges are valid; a forward copy is correct
        // for non-overlapping ranges.
        // (No small-copy path here: compiled wasm calls `memmove`, and the runtime's own
        // copies do not need it, so a hello image does not carry it.)
        unsafe { copy_forward(dest, src, n) };
        dest
    }

    /// # Safety
    /// `dest` and `src` must be valid for `n` bytes; they may overlap.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn memmove(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
        // SAFETY: the caller guarantees both ranges; a small copy reads everything before
        // it writes, so overlap in either direction is fine.
        if unsafe { copy_small(dest, src, n) } {
            return dest;
        }
        if (dest as usize).wrapping_sub(src as usize) >= n {
            // `dest` is below `src` or past its end: copying forward never overwrites
            // bytes not yet read.
            // SAFETY: the caller guarantees both ranges are valid.
            unsafe { copy_forward(dest, src, n) };
        } else {
            // SAFETY: as above; `dest` overlaps the tail of `src`, so copy backward.
            unsafe { copy_backward(dest, src, n) };
        }
        dest
    }

    /// # Safety
    /// `dest` must be valid for writes of `n` bytes.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn memset(dest: *mut u8, c: c_int, n: usize) -> *mut u8 {
        // SAFETY: the caller guarantees `dest..dest+n` is writable.
        unsafe {
            if !fill_small(dest, c as u8, n) {
                fill(dest, c as u8, n);
            }
        }
        dest
    }

    /// # Safety
    /// `a` and `b` must be valid for reads of `n` bytes.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> c_int {
        let mut i = 0;
        while i < n {
            // SAFETY: `i < n` and the caller guarantees both ranges are readable.
            let (x, y) = unsafe { (*a.add(i), *b.add(i)) };
            if x != y {
                return x as c_int - y as c_int;
            }
            i += 1;
        }
        0
    }

    /// # Safety
    /// `a` and `b` must be valid for reads of `n` bytes.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> c_int {
        // SAFETY: same contract as `memcmp`.
        unsafe { memcmp(a, b, n) }
    }

    /// # Safety
    /// `s` must point to a NUL-terminated string.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn strlen(s: *const u8) -> usize {
        let mut len = 0;
        // SAFETY: the caller guarantees a NUL before the end of readable memory.
        while unsafe { *s.add(len) } != 0 {
            len += 1;
        }
        len
    }

    /// Copies `n` bytes if `n <= 32`, returning whether it did: at most two pairs of
    /// overlapping unaligned loads, all before any store, so overlapping ranges are
    /// copied correctly in either direction. Wasm's `memory.copy` (which calls
    /// `memmove`) is mostly this size, and a `rep movsb` or a loop costs tens of cycles
    /// just to start.
    ///
    /// # Safety
    /// `dest` and `src` must be valid for `n` bytes.
    // Not on bare metal: the runtime is built for strict alignment there (it runs before
    // the MMU is on), and LLVM turns an unaligned load it may not emit into a call to
    // `memmove`, which here is this very function.
    #[cfg(all(
        any(target_arch = "x86_64", target_arch = "aarch64"),
        not(target_os = "none")
    ))]
    #[inline(always)]
    unsafe fn copy_small(dest: *mut u8, src: *const u8, n: usize) -> bool {
        /// Copies `n` bytes, `size <= n <= 2 * size`, as a head and a tail of `size`.
        ///
        /// # Safety
        /// As for `copy_small`.
        #[inline(always)]
        unsafe fn head_and_tail<T: Copy>(dest: *mut u8, src: *const u8, n: usize) {
            let size = core::mem::size_of::<T>();
            // SAFETY: `size <= n`, so both `size`-byte windows lie inside the ranges;
            // both loads happen before either store.
            unsafe {
                let head = (src as *const T).read_unaligned();
                let tail = (src.add(n - size) as *const T).read_unaligned();
                (dest as *mut T).write_unaligned(head);
                (dest.add(n - size) as *mut T).write_unaligned(tail);
            }
        }
        // SAFETY: each arm's size bounds match `head_and_tail`'s requirement.
        unsafe {
            match n {
                0 => {}
                1 => *dest = *src,
                2..=3 => head_and_tail::<u16>(dest, src, n),
                4..=7 => head_and_tail::<u32>(dest, src, n),
                8..=15 => head_and_tail::<u64>(dest, src, n),
                16..=32 => head_and_tail::<[u64; 2]>(dest, src, n),
                _ => return false,
            }
        }
        true
    }

    /// No fast path where unaligned accesses may be emulated by the kernel (riscv64) or
    /// must not be emitted (bare metal).
    #[cfg(not(all(
        any(target_arch = "x86_64", target_arch = "aarch64"),
        not(target_os = "none")
    )))]
    #[inline(always)]
    unsafe fn copy_small(_: *mut u8, _: *const u8, _: usize) -> bool {
        false
    }

    /// Fills `n` bytes if `16 <= n <= 256`, returning whether it did: 16-byte stores,
    /// the last one ending exactly at `dest + n` (overlapping the one before). Zeroing a
    /// local array (`[0u32; 64]` in Rust, `= {0}` in C) is a `memory.fill` of this size
    /// on every call, and starting a `rep stosb` costs more than these stores. Shorter
    /// fills are rare in compiled wasm (LLVM stores them inline), so they keep to
    /// `rep stosb` rather than growing every image.
    ///
    /// # Safety
    /// `dest` must be valid for writes of `n` bytes.
    #[cfg(all(
        any(target_arch = "x86_64", target_arch = "aarch64"),
        not(target_os = "none")
    ))]
    #[inline(always)]
    unsafe fn fill_small(dest: *mut u8, value: u8, n: usize) -> bool {
        if !(16..=256).contains(&n) {
            return false;
        }
        // Spelled out element by element: in a `no_builtins` crate an array repeat
        // expression becomes a loop.
        let byte = u64::from(value) * 0x0101_0101_0101_0101;
        let block = [byte, byte];
        let mut offset = 0;
        while offset + 16 < n {
            // SAFETY: `offset + 16 < n`, inside the caller's range.
            unsafe { (dest.add(offset) as *mut [u64; 2]).write_unaligned(block) };
            offset += 16;
        }
        // SAFETY: `n >= 16`, so the last window starts inside the range and ends at its end.
        unsafe { (dest.add(n - 16) as *mut [u64; 2]).write_unaligned(block) };
        true
    }

    /// No fast path where unaligned accesses may be emulated by the kernel (riscv64) or
    /// must not be emitted (bare metal).
    #[cfg(not(all(
        any(target_arch = "x86_64", target_arch = "aarch64"),
        not(target_os = "none")
    )))]
    #[inline(always)]
    unsafe fn fill_small(_: *mut u8, _: u8, _: usize) -> bool {
        false
    }

    #[cfg(target_arch = "x86_64")]
    unsafe fn copy_forward(dest: *mut u8, src: *const u8, n: usize) {
        // `rep movsb` is the fastest general copy on CPUs with ERMSB/FSRM and is
        // correct on every x86_64 CPU.
        // SAFETY: the caller guarantees the ranges; the direction flag is clear per the
        // System V ABI.
        unsafe {
            core::arch::asm!(
                "rep movsb",
                inout("rcx") n => _,
                inout("rdi") dest => _,
                inout("rsi") src => _,
                options(nostack, preserves_flags)
            );
        }
    }

    #[cfg(target_arch = "x86_64")]
    unsafe fn fill(dest: *mut u8, value: u8, n: usize) {
        // SAFETY: the caller guarantees `dest..dest+n` is writable.
        unsafe {
            core::arch::asm!(
                "rep stosb",
                inout("rcx") n => _,
                inout("rdi") dest => _,
                in("al") value,
                options(nostack, preserves_flags)
            );
        }
    }

    #[cfg(not(target_arch = "x86_64"))]
    unsafe fn copy_forward(dest: *mut u8, src: *const u8, n: usize) {
        let mut i = 0;
        // Word-at-a-time when both pointers share alignment; unaligned word accesses are
        // slow or trap on some cores.
        if (dest as usize) % WORD == (src as usize) % WORD {
            while i < n && !(dest as usize + i).is_multiple_of(WORD) {
                // SAFETY: `i < n`, within the caller's ranges.
                unsafe { *dest.add(i) = *src.add(i) };
                i += 1;
            }
            while i + WORD <= n {
                // SAFETY: aligned word inside both ranges.
                unsafe {
                    *(dest.add(i) as *mut usize) = *(src.add(i) as *const usize);
                }
                i += WORD;
            }
        }
        while i < n {
            // SAFETY: `i < n`, within the caller's ranges.
            unsafe { *dest.add(i) = *src.add(i) };
            i += 1;
        }
    }

    #[cfg(not(target_arch = "x86_64"))]
    unsafe fn fill(dest: *mut u8, value: u8, n: usize) {
        let word = usize::from_ne_bytes([value; WORD]);
        let mut i = 0;
        while i < n && !(dest as usize + i).is_multiple_of(WORD) {
            // SAFETY: `i < n`, within the caller's range.
            unsafe { *dest.add(i) = value };
            i += 1;
        }
        while i + WORD <= n {
            // SAFETY: aligned word inside the range.
            unsafe { *(dest.add(i) as *mut usize) = word };
            i += WORD;
        }
        while i < n {
            // SAFETY: `i < n`, within the caller's range.
            unsafe { *dest.add(i) = value };
            i += 1;
        }
    }

    unsafe fn copy_backward(dest: *mut u8, src: *const u8, n: usize) {
        let mut i = n;
        if (dest as usize) % WORD == (src as usize) % WORD {
            while i > 0 && !(dest as usize + i).is_multiple_of(WORD) {
                i -= 1;
                // SAFETY: `i < n`, within the caller's ranges.
                unsafe { *dest.add(i) = *src.add(i) };
            }
            while i >= WORD {
                i -= WORD;
                // SAFETY: aligned word inside both ranges; reading before writing each
                // word keeps overlapping copies correct going backward.
                unsafe {
                    let value = (src.add(i) as *const usize).read();
                    (dest.add(i) as *mut usize).write(value);
                }
            }
        }
        while i > 0 {
            i -= 1;
            // SAFETY: `i < n`, within the caller's ranges.
            unsafe { *dest.add(i) = *src.add(i) };
        }
    }
}
