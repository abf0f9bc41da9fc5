//! Standard input from the board's console UART.
//!
//! Bytes are drained from the UART into a small buffer whenever the runtime looks
//! (reads, polls), so none are lost while the guest computes and the UART's own FIFO is
//! small. A read waits for at least one byte, like a terminal; a Ctrl-D (0x04) at the
//! start of a read is end of file, as a terminal in canonical mode reports it.

use core::sync::atomic::{AtomicBool, Ordering};

use super::{Board, ThisBoard};
use crate::errno::{Errno, Result};
use crate::global::Global;
use crate::sys::IoVec;

/// End of file, as a terminal's Ctrl-D.
const END_OF_FILE: u8 = 0x04;
const CAPACITY: usize = 1024;

struct Input {
    bytes: [u8; CAPACITY],
    start: usize,
    len: usize,
}

static INPUT: Global<Input> = Global::new(Input {
    bytes: [0; CAPACITY],
    start: 0,
    len: 0,
});

static NONBLOCKING: AtomicBool = AtomicBool::new(false);

/// Whether stdin reads fail with `EAGAIN` instead of waiting.
pub fn nonblocking() -> bool {
    NONBLOCKING.load(Ordering::Relaxed)
}

/// Sets whether stdin reads wait.
pub fn set_nonblocking(nonblocking: bool) {
    NONBLOCKING.store(nonblocking, Ordering::Relaxed)
}

impl Input {
    /// Moves what the UART holds into the buffer.
    fn fill(&mut self) {
        while self.len < CAPACITY {
            let end = (self.start + self.len) % CAPACITY;
            let contiguous = if end >= self.start {
                CAPACITY - end
            } else {
                self.start - end
            };
            let room = contiguous.min(CAPACITY - self.len);
            let Some(slot) = self.bytes.get_mut(end..end + room) else {
                return;
            };
            let got = ThisBoard::console_read(slot);
            self.len += got;
            if got < room {
                return;
            }
        }
    }

    fn pop(&mut self) -> Option<u8> {
        if self.len == 0 {
            return None;
        }
        let byte = *self.bytes.get(self.start)?;
        self.start = (self.start + 1) % CAPACITY;
        self.len -= 1;
        Some(byte)
    }
}

/// Bytes ready to read now.
pub fn available() -> usize {
    INPUT.with(|input| {
        input.fill();
        input.len
    })
}

/// Reads into `bufs`: waits for a first byte, then takes what is there.
///
/// # Safety
/// Every buffer must be writable for its length.
pub unsafe fn read(bufs: &[IoVec]) -> Result<usize> {
    let wanted: usize = bufs.iter().map(|buf| buf.len).sum();
    if wanted == 0 {
        return Ok(0);
    }
    loop {
        let outcome = INPUT.with(|input| {
            input.fill();
            if input.len == 0 {
                return None;
            }
            let mut total = 0;
            for buf in bufs {
                for offset in 0..buf.len {
                    if input.bytes.get(input.start) == Some(&END_OF_FILE) {
                        if total == 0 {
                            input.pop();
                        }
                        return Some(total);
                    }
                    let Some(byte) = input.pop() else {
                        return Some(total);
                    };
                    // SAFETY: the caller guarantees `buf` is writable for its length.
                    unsafe { buf.base.add(offset).write(byte) };
                    total += 1;
                }
            }
            Some(total)
        });
        match outcome {
            Some(total) => return Ok(total),
            None if nonblocking() => return Err(Errno::AGAIN),
            None => core::hint::spin_loop(),
        }
    }
}
