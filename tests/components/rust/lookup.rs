//! Name lookup through Rust's std on WASI 0.2: each argument's addresses, sorted, or
//! the kind of error.

use std::net::ToSocketAddrs;

fn main() {
    for name in std::env::args().skip(1) {
        match (name.as_str(), 443).to_socket_addrs() {
            Ok(addrs) => {
                let mut ips: Vec<String> = addrs.map(|a| a.ip().to_string()).collect();
                ips.sort();
                ips.dedup();
                println!("{name:<28} {}", ips.join(" "));
            }
            Err(e) => println!("{name:<28} {:?}", e.kind()),
        }
    }
}
