//! A TCP server through Rust's std on the socket granted with --listen (descriptor 3):
//! accept one connection, read until the client shuts down, answer in upper case.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener};
use std::os::wasi::io::FromRawFd;

fn main() -> std::io::Result<()> {
    // SAFETY: the image's grant put a listening socket at descriptor 3.
    let listener = unsafe { TcpListener::from_raw_fd(3) };
    let (mut stream, _) = listener.accept()?;
    println!("accepted a connection");
    // (std's TcpStream::peek is unsupported on wasm32-wasip1; the C case peeks.)
    let mut request = String::new();
    stream.read_to_string(&mut request)?;
    println!("received {} bytes", request.len());
    stream.write_all(request.to_uppercase().as_bytes())?;
    stream.shutdown(Shutdown::Write)?;
    println!("replied and shut down");
    Ok(())
}
