//! A panic: std prints the message to stderr, then aborts, which is `unreachable` in
//! wasi-libc's `abort`. The image must trap and exit 134 after the stdout it flushed.

use std::io::Write;

fn main() {
    println!("before the panic");
    std::io::stdout().flush().unwrap();
    let depth: u32 = std::env::args().count() as u32 + 41;
    panic!("the guest gave up at depth {depth}");
}
