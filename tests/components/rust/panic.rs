// A panic: the message on stderr, then a trap.
fn main() {
    println!("before the panic");
    let depth: u32 = std::env::args().count() as u32 + 41;
    panic!("the component gave up at depth {depth}");
}
