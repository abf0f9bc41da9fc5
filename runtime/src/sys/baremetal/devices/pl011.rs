//! The ARM PL011 UART (QEMU virt, Raspberry Pi 3 UART0).

use super::Register;

/// A PL011 at `BASE`.
#[derive(Debug)]
pub struct Pl011<const BASE: usize>;

const DR: usize = 0x00;
const FR: usize = 0x18;
const CR: usize = 0x30;
/// Flag register: receive FIFO empty.
const FR_RXFE: u32 = 1 << 4;
/// Flag register: transmit FIFO full.
const FR_TXFF: u32 = 1 << 5;
/// Flag register: busy transmitting.
const FR_BUSY: u32 = 1 << 3;
/// Control register: UART, transmit and receive enabled.
const CR_ENABLED: u32 = 1 | (1 << 8) | (1 << 9);

impl<const BASE: usize> Pl011<BASE> {
    const BASE: Register = Register(BASE);

    /// Enables the UART (QEMU transmits without it; hardware does not).
    pub fn init() {
        Self::BASE.at(CR).write(CR_ENABLED);
    }

    /// Writes `bytes`, waiting for room in the FIFO.
    pub fn write(bytes: &[u8]) {
        for &byte in bytes {
            while Self::BASE.at(FR).read() & FR_TXFF != 0 {}
            Self::BASE.at(DR).write(byte as u32);
        }
    }

    /// Reads what the receive FIFO holds, up to `buf.len()` bytes.
    pub fn read(buf: &mut [u8]) -> usize {
        let mut count = 0;
        for slot in buf.iter_mut() {
            if Self::BASE.at(FR).read() & FR_RXFE != 0 {
                break;
            }
            *slot = Self::BASE.at(DR).read() as u8;
            count += 1;
        }
        count
    }

    /// Waits until the last byte has been sent.
    pub fn flush() {
        while Self::BASE.at(FR).read() & FR_BUSY != 0 {}
    }
}
