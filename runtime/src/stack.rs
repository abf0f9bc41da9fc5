//! The stack limit that compiled code checks in its prologues (images built with
//! stack-limit checks, which every bare-metal image is).

use alloc::vec::Vec;

use crate::global::Global;
use crate::sys::{Current, Platform};

/// Room kept between the limit and the bottom of the guest stack for the runtime's host
/// functions, which run on the guest stack below the deepest wasm frame and have no
/// check of their own. The deepest today is a WASI path call resolving beneath a
/// directory without `openat2`, about 40 KiB of frames on x86_64.
pub const HOST_CALL_RESERVE: usize = 64 * 1024;

/// The stack limit for a guest stack whose lowest usable address is `bottom` and whose
/// size is `size` bytes: [`HOST_CALL_RESERVE`] above the bottom, but never more than
/// half the stack (a small stack still runs wasm code). Zero, no limit, when there is no
/// guest stack.
pub fn limit_for(bottom: usize, size: usize) -> usize {
    if bottom == 0 {
        return 0;
    }
    bottom.saturating_add(HOST_CALL_RESERVE.min(size / 2))
}

/// The VM contexts' `stack_limit` slots, by address (images with stack-limit checks;
/// instantiation gives them, once per instance).
static LIMIT_SLOTS: Global<Vec<usize>> = Global::new(Vec::new());

/// The limit of the guest stack.
pub fn guest_stack_limit() -> usize {
    let size = crate::image::descriptor().stack_size as usize;
    limit_for(Current::stack_bottom(), size)
}

/// Puts `limit` in every VM context's `stack_limit` slot: code is about to run on the
/// stack it belongs to (a fiber's, or the guest stack again).
pub fn set_limit(limit: usize) {
    LIMIT_SLOTS.with(|slots| {
        for &slot in slots.iter() {
            // SAFETY: each address is a VM context's `stack_limit` slot, given by its
            // instantiation; VM contexts are the image's static data and live as long.
            unsafe { (slot as *mut usize).write(limit) };
        }
    });
}

/// The lowest address the stack pointer of compiled code may reach (see
/// `wafer_abi::symbols::STACK_LIMIT`): instantiation stores it in the VM context's
/// `slot`, whose address is kept so that fibers can change it.
#[unsafe(no_mangle)]
pub extern "C" fn wafer_rt_stack_limit(slot: *mut usize) -> usize {
    LIMIT_SLOTS.with(|slots| {
        if !slots.contains(&(slot as usize)) {
            slots.push(slot as usize);
        }
    });
    crate::fiber::running_stack_limit().unwrap_or_else(guest_stack_limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_leaves_room_for_host_calls_within_half_the_stack() {
        assert_eq!(limit_for(0x10_0000, 8 << 20), 0x10_0000 + HOST_CALL_RESERVE);
        assert_eq!(limit_for(0x10_0000, 64 << 10), 0x10_0000 + (32 << 10));
        assert_eq!(limit_for(0, 8 << 20), 0);
    }
}
