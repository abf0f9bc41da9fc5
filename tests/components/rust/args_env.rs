// Arguments (without argv[0], whose value depends on the runner) and the environment
// the build grants, sorted.
fn main() {
    for (i, arg) in std::env::args().skip(1).enumerate() {
        println!("arg {i}: {arg:?}");
    }
    let mut vars: Vec<(String, String)> = std::env::vars().collect();
    vars.sort();
    for (key, value) in vars {
        println!("env {key}={value:?}");
    }
    println!("HOME is {:?}", std::env::var("HOME").ok());
}
