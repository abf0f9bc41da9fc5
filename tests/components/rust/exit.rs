// A non-zero exit: WASI 0.2's `exit` takes a result, so the status is 1.
fn main() {
    println!("exiting");
    std::process::exit(3);
}
