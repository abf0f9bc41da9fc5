//! The stack limit that compiled code checks in its prologues (images built with
//! stack-limit checks, which every bare-metal image is).

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

/// The lowest address the stack pointer of compiled code may reach (see
/// `wafer_abi::symbols::STACK_LIMIT`): instantiation stores it in the VM context.
#[unsafe(no_mangle)]
pub extern "C" fn wafer_rt_stack_limit() -> usize {
    // Code that checks this limit cannot run on a fiber's stack.
    crate::fiber::note_stack_limit();
    let size = crate::image::descriptor().stack_size as usize;
    limit_for(Current::stack_bottom(), size)
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
