//! Size probe: the smallest useful Rust program.

fn main() {
    println!("hello, world");
}
