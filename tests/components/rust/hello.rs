// Prints through wasi:cli/stdout: several writes, one larger than a pipe's buffer.
fn main() {
    println!("Hello from a component!");
    let line = "wafer ".repeat(12_000);
    println!("{} bytes: {}", line.len(), &line[..30]);
    for i in 0..3 {
        println!("line {i}");
    }
}
