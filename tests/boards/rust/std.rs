//! Rust's std on a board: collections, formatting, arguments, environment, the baked
//! file tree, clocks, a HashMap (randomly seeded) and the exit code.
use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    println!("args: {args:?}");
    println!("MODE: {:?}", std::env::var("MODE").ok());
    let config = std::fs::read_to_string("/data/config.txt").expect("config");
    let settings: BTreeMap<&str, &str> = config
        .lines()
        .filter_map(|line| line.split_once('='))
        .collect();
    println!("settings: {settings:?}");
    let mut names: Vec<String> = std::fs::read_dir("/data")
        .expect("read_dir")
        .map(|entry| entry.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    println!("tree: {names:?}");
    let mut inner = String::new();
    std::fs::File::open("/data/sub/inner.txt")
        .and_then(|mut file| file.read_to_string(&mut inner))
        .expect("inner");
    println!("inner: {inner:?}");
    let start = Instant::now();
    let mut words: HashMap<String, usize> = HashMap::new();
    for i in 0..2000u32 {
        *words.entry(format!("w{}", i % 37)).or_default() += 1;
    }
    let mut counts: Vec<(String, usize)> = words.into_iter().collect();
    counts.sort();
    println!("{} words, first {:?}", counts.len(), counts.first());
    println!("elapsed is measured: {}", start.elapsed().as_nanos() > 0);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970");
    println!("after 2020: {}", now.as_secs() > 1_577_836_800);
    println!("{:>8.3}|{:<6}|{:#x}", std::f64::consts::PI, "left", 48879);
    std::process::exit(3);
}
