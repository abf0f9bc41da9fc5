//! Arguments and the granted environment through Rust's std.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    println!("{} arguments after the program name: {args:?}", args.len());
    let mut vars: Vec<(String, String)> = std::env::vars().collect();
    vars.sort();
    println!("environment: {vars:?}");
    println!("GREETING = {:?}", std::env::var("GREETING"));
    println!("HOME = {:?}", std::env::var("HOME"));
}
