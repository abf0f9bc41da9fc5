//! The SiFive UART (HiFive Unleashed).

use super::Register;

/// A SiFive UART at `BASE`.
#[derive(Debug)]
pub struct SifiveUart<const BASE: usize>;

const TXDATA: usize = 0x00;
const RXDATA: usize = 0x04;
const TXCTRL: usize = 0x08;
const RXCTRL: usize = 0x0c;
/// `txdata`: the FIFO is full. `rxdata`: the FIFO is empty.
const FIFO_FLAG: u32 = 1 << 31;

impl<const BASE: usize> SifiveUart<BASE> {
    const BASE: Register = Register(BASE);

    /// Enables transmit and receive.
    pub fn init() {
        Self::BASE.at(TXCTRL).write(1);
        Self::BASE.at(RXCTRL).write(1);
    }

    /// Writes `bytes`, waiting for room.
    pub fn write(bytes: &[u8]) {
        for &byte in bytes {
            while Self::BASE.at(TXDATA).read() & FIFO_FLAG != 0 {}
            Self::BASE.at(TXDATA).write(byte as u32);
        }
    }

    /// Reads what has been received, up to `buf.len()` bytes.
    pub fn read(buf: &mut [u8]) -> usize {
        let mut count = 0;
        for slot in buf.iter_mut() {
            let data = Self::BASE.at(RXDATA).read();
            if data & FIFO_FLAG != 0 {
                break;
            }
            *slot = data as u8;
            count += 1;
        }
        count
    }
}
