//! Building one line of output without `core::fmt` (which would add kilobytes to every
//! image) and writing it with a single system call.

/// A fixed-capacity line buffer; text past the capacity is dropped.
pub struct Line {
    buf: [u8; 512],
    len: usize,
}

impl Default for Line {
    fn default() -> Self {
        Self::new()
    }
}

impl Line {
    /// An empty line.
    pub const fn new() -> Self {
        Line {
            buf: [0; 512],
            len: 0,
        }
    }

    /// Appends bytes.
    pub fn str(&mut self, bytes: &[u8]) -> &mut Self {
        for &byte in bytes {
            if let Some(slot) = self.buf.get_mut(self.len) {
                *slot = byte;
                self.len += 1;
            }
        }
        self
    }

    /// Appends `value` in decimal.
    pub fn dec(&mut self, value: u64) -> &mut Self {
        self.digits(value, 10)
    }

    /// Appends `value` as `0x` and lowercase hex digits.
    pub fn hex(&mut self, value: u64) -> &mut Self {
        self.str(b"0x").digits(value, 16)
    }

    /// Appends `value` in `base` (at most 16) with no prefix, most significant digit
    /// first. Written without indexing that could panic: a panic path would pull
    /// `core::fmt` into every image.
    pub fn digits(&mut self, value: u64, base: u64) -> &mut Self {
        let mut reversed = [0u8; 20];
        let mut count = 0;
        let mut rest = value;
        for slot in reversed.iter_mut() {
            *slot = b"0123456789abcdef"
                .get((rest % base) as usize)
                .copied()
                .unwrap_or(b'?');
            count += 1;
            rest /= base;
            if rest == 0 {
                break;
            }
        }
        for &digit in reversed.iter().take(count).rev() {
            self.str(&[digit]);
        }
        self
    }

    /// The bytes so far.
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }

    /// Writes the line to host file descriptor `fd`, ignoring errors (there is nowhere
    /// left to report them).
    pub fn write_to(&self, fd: i32) {
        use crate::sys::Platform;
        crate::sys::Current::console_write(fd, self.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_text() {
        let mut line = Line::new();
        line.str(b"a ")
            .dec(0)
            .str(b" ")
            .dec(18446744073709551615)
            .str(b" ");
        line.hex(0).str(b" ").hex(0x1a2b);
        assert_eq!(line.as_bytes(), b"a 0 18446744073709551615 0x0 0x1a2b");
    }

    #[test]
    fn overflow_is_truncated_not_a_panic() {
        let mut line = Line::new();
        for _ in 0..100 {
            line.str(b"0123456789");
        }
        assert_eq!(line.as_bytes().len(), 512);
    }
}
