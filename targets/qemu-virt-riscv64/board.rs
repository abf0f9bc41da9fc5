// The QEMU `virt` machine, rv64gc: NS16550A UART, CLINT timer (10 MHz), Goldfish RTC,
// and the SiFive test device for reset.

use devices::{Register, clint::Clint, goldfish_rtc::GoldfishRtc, ns16550::Ns16550};

type Uart = Ns16550<0x1000_0000>;
type Timer = Clint<0x0200_0000>;
type Rtc = GoldfishRtc<0x0010_1000>;

/// The test device: writing 0x7777 resets the machine.
const TEST_DEVICE: Register = Register(0x10_0000);
const TEST_RESET: u32 = 0x7777;

/// QEMU virt, riscv64.
#[derive(Debug)]
pub struct ThisBoard;

impl Board for ThisBoard {
    const NAME: &'static str = "qemu-virt-riscv64";

    fn ticks_per_second() -> u64 {
        10_000_000
    }

    fn ticks() -> u64 {
        Timer::mtime()
    }

    fn init() {}

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
        Some(Rtc::nanoseconds())
    }

    fn reset() {
        TEST_DEVICE.write(TEST_RESET)
    }
}
