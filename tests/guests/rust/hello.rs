//! The smallest real Rust guest: `println!` through std's wasip1 stdout.

fn main() {
    println!("Hello from Rust, compiled by {}!", "wafer");
}
