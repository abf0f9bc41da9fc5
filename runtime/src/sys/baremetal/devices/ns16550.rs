//! The NS16550A UART (QEMU riscv virt).

use super::Register;

/// An NS16550A at `BASE`, registers one byte apart.
#[derive(Debug)]
pub struct Ns16550<const BASE: usize>;

const RBR_THR: usize = 0;
const LSR: usize = 5;
/// Line status: a received byte is ready.
const LSR_DATA_READY: u8 = 1;
/// Line status: the transmit holding register is empty.
const LSR_THR_EMPTY: u8 = 1 << 5;
/// Line status: transmitter idle.
const LSR_TRANSMITTER_EMPTY: u8 = 1 << 6;

impl<const BASE: usize> Ns16550<BASE> {
    const BASE: Register = Register(BASE);

    /// Writes `bytes`, waiting for room.
    pub fn write(bytes: &[u8]) {
        for &byte in bytes {
            while Self::BASE.at(LSR).read8() & LSR_THR_EMPTY == 0 {}
            Self::BASE.at(RBR_THR).write8(byte);
        }
    }

    /// Reads what has been received, up to `buf.len()` bytes.
    pub fn read(buf: &mut [u8]) -> usize {
        let mut count = 0;
        for slot in buf.iter_mut() {
            if Self::BASE.at(LSR).read8() & LSR_DATA_READY == 0 {
                break;
            }
            *slot = Self::BASE.at(RBR_THR).read8();
            count += 1;
        }
        count
    }

    /// Waits until the last byte has been sent.
    pub fn flush() {
        while Self::BASE.at(LSR).read8() & LSR_TRANSMITTER_EMPTY == 0 {}
    }
}
