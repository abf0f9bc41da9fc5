// Reads stdin to the end through wasi:io/streams and counts it.
use std::io::Read;

fn main() {
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text).expect("stdin is UTF-8");
    let lines = text.lines().count();
    let words = text.split_whitespace().count();
    println!("{lines} lines, {words} words, {} bytes", text.len());
    println!("last line: {:?}", text.lines().last().unwrap_or_default());
}
