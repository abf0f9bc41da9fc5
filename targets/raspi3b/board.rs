// The Raspberry Pi 3 Model B (BCM2837): PL011 UART0, the BCM2835 RNG, the architected
// timer, and a reset through the power-management watchdog.

use devices::{Register, bcm2835_rng::Bcm2835Rng, pl011::Pl011};

type Uart = Pl011<0x3f20_1000>;
type Rng = Bcm2835Rng<0x3f10_4000>;

/// The power-management block: its watchdog resets the SoC.
const PM_RSTC: Register = Register(0x3f10_001c);
const PM_WDOG: Register = Register(0x3f10_0024);
const PM_PASSWORD: u32 = 0x5a00_0000;
const PM_RSTC_FULL_RESET: u32 = 0x20;

/// Raspberry Pi 3 Model B.
#[derive(Debug)]
pub struct ThisBoard;

impl Board for ThisBoard {
    const NAME: &'static str = "raspi3b";

    fn ticks_per_second() -> u64 {
        arch::counter_frequency()
    }

    fn ticks() -> u64 {
        arch::counter()
    }

    fn init() {
        Uart::init();
        Rng::init();
    }

    fn console_write(bytes: &[u8]) {
        Uart::write(bytes)
    }

    fn console_read(buf: &mut [u8]) -> usize {
        Uart::read(buf)
    }

    fn console_flush() {
        Uart::flush()
    }

    fn hardware_random(buf: &mut [u8]) -> bool {
        Rng::fill(buf);
        true
    }

    fn reset() {
        PM_WDOG.write(PM_PASSWORD | 10);
        PM_RSTC.write(PM_PASSWORD | PM_RSTC_FULL_RESET);
        let start = Self::ticks();
        // The watchdog fires within microseconds; give up after a second.
        while Self::ticks().wrapping_sub(start) < Self::ticks_per_second() {}
    }
}
