// The SiFive HiFive Unleashed (FU540): SiFive UART0, CLINT timer (1 MHz). The program
// runs on hart 1, the first U54 (hart 0, the E51, has no FPU).

use devices::{clint::Clint, sifive_uart::SifiveUart};

type Uart = SifiveUart<0x1001_0000>;
type Timer = Clint<0x0200_0000>;

/// HiFive Unleashed.
#[derive(Debug)]
pub struct ThisBoard;

impl Board for ThisBoard {
    const NAME: &'static str = "sifive_u";
    const BOOT_HART: usize = 1;

    fn ticks_per_second() -> u64 {
        1_000_000
    }

    fn ticks() -> u64 {
        Timer::mtime()
    }

    fn init() {
        Uart::init();
    }

    fn console_write(bytes: &[u8]) {
        Uart::write(bytes)
    }

    fn console_read(buf: &mut [u8]) -> usize {
        Uart::read(buf)
    }

    fn console_flush() {
        // No register says when the transmit FIFO has drained, and QEMU sends it from a
        // timer: 50 ms is enough for the whole FIFO (measured: shorter waits lost bytes).
        let start = Self::ticks();
        while Self::ticks().wrapping_sub(start) < Self::ticks_per_second() / 20 {}
    }
}
