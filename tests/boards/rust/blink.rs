//! Blinks GPIO pins through wafer's `wafer:board` devices (bindings written by hand, as
//! the canonical ABI lowers `wit/wafer-board/digital.wit` for a core module), prints
//! what it did, then leaves pins 0, 2 and 5 high and 1 low for the test to read back
//! from the board's GPIO controller, and waits for a line on the console before it ends.

mod board {
    #[link(wasm_import_module = "wafer:board/digital@0.1.0")]
    unsafe extern "C" {
        #[link_name = "[static]output-pin.claim"]
        fn claim(number: u32, ret: *mut u8);
        #[link_name = "[method]output-pin.set-high"]
        fn set_high(pin: u32, ret: *mut u8);
        #[link_name = "[method]output-pin.set-low"]
        fn set_low(pin: u32, ret: *mut u8);
        #[link_name = "[method]output-pin.toggle"]
        fn toggle(pin: u32, ret: *mut u8);
        #[link_name = "[method]output-pin.is-set-high"]
        fn is_set_high(pin: u32, ret: *mut u8);
        #[link_name = "[resource-drop]output-pin"]
        fn drop_pin(pin: u32);
    }

    #[link(wasm_import_module = "wafer:board/delay@0.1.0")]
    unsafe extern "C" {
        #[link_name = "delay-ms"]
        pub fn delay_ms(ms: u32);
    }

    /// `error-code` of `wafer:board/digital`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Error {
        NotGranted,
        NoSuchPin,
        Busy,
        Other,
    }

    fn error(code: u8) -> Error {
        match code {
            0 => Error::NotGranted,
            1 => Error::NoSuchPin,
            2 => Error::Busy,
            _ => Error::Other,
        }
    }

    /// A `result<_, error-code>` as the callee stored it: discriminant, then the error
    /// code at offset 1.
    fn unit(call: unsafe extern "C" fn(u32, *mut u8), pin: u32) -> Result<(), Error> {
        let mut ret = [0u8; 2];
        // SAFETY: the import writes 2 bytes at `ret`.
        unsafe { call(pin, ret.as_mut_ptr()) };
        if ret[0] == 0 { Ok(()) } else { Err(error(ret[1])) }
    }

    /// A claimed output pin.
    pub struct OutputPin(u32);

    impl OutputPin {
        pub fn claim(number: u32) -> Result<OutputPin, Error> {
            // result<own<output-pin>, error-code>: the payload is 4-aligned.
            let mut ret = [0u32; 2];
            // SAFETY: the import writes 8 bytes at `ret`.
            unsafe { claim(number, ret.as_mut_ptr().cast()) };
            let payload = ret[1];
            if ret[0] & 0xff == 0 {
                Ok(OutputPin(payload))
            } else {
                Err(error(payload as u8))
            }
        }

        pub fn set_high(&mut self) -> Result<(), Error> {
            unit(set_high, self.0)
        }

        pub fn set_low(&mut self) -> Result<(), Error> {
            unit(set_low, self.0)
        }

        pub fn toggle(&mut self) -> Result<(), Error> {
            unit(toggle, self.0)
        }

        pub fn is_set_high(&self) -> Result<bool, Error> {
            let mut ret = [0u8; 2];
            // SAFETY: the import writes 2 bytes at `ret`.
            unsafe { is_set_high(self.0, ret.as_mut_ptr()) };
            if ret[0] == 0 { Ok(ret[1] != 0) } else { Err(error(ret[1])) }
        }
    }

    impl Drop for OutputPin {
        fn drop(&mut self) {
            // SAFETY: the handle came from `claim` and is dropped once.
            unsafe { drop_pin(self.0) };
        }
    }
}

use board::OutputPin;

fn main() {
    let mut led = OutputPin::claim(0).expect("pin 0 is granted");
    for round in 0..4 {
        led.toggle().expect("toggle");
        println!("round {round}: pin 0 high {}", led.is_set_high().unwrap());
        // SAFETY: a plain delay.
        unsafe { board::delay_ms(5) };
    }
    println!("pin 3 (not granted): {:?}", OutputPin::claim(3).err());
    println!("pin 0 again: {:?}", OutputPin::claim(0).err());
    let mut pins: Vec<OutputPin> = [1, 2, 5]
        .into_iter()
        .map(|n| OutputPin::claim(n).expect("granted"))
        .collect();
    pins[0].set_low().unwrap();
    pins[1].set_high().unwrap();
    pins[2].set_high().unwrap();
    led.set_high().unwrap();
    println!("pins set: 0 high, 1 low, 2 high, 5 high");
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).unwrap();
    println!("done");
}
