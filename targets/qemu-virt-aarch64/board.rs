// The QEMU `virt` machine with a Cortex-A53 (`-machine virt -cpu cortex-a53`): PL011
// UART, PL031 RTC, PL061 GPIO, the architected timer, PSCI through `hvc`.

use devices::{pl011::Pl011, pl031::Pl031, pl061::Pl061};

type Uart = Pl011<0x0900_0000>;
type Rtc = Pl031<0x0901_0000>;
type Gpio = Pl061<0x0903_0000>;

/// QEMU virt, aarch64.
#[derive(Debug)]
pub struct ThisBoard;

impl Board for ThisBoard {
    const NAME: &'static str = "qemu-virt-aarch64";

    fn ticks_per_second() -> u64 {
        arch::counter_frequency()
    }

    fn ticks() -> u64 {
        arch::counter()
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
        Uart::flush()
    }

    fn rtc_now() -> Option<u64> {
        Some(Rtc::seconds() * 1_000_000_000)
    }

    fn reset() {
        arch::psci_reset()
    }

    fn gpio_make_output(pin: u32) -> Result {
        Gpio::make_output(pin)
    }

    fn gpio_set(pin: u32, high: bool) -> Result {
        Gpio::set(pin, high)
    }

    fn gpio_get(pin: u32) -> Result<bool> {
        Gpio::get(pin)
    }
}
