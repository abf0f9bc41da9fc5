// wasi:clocks and wasi:random: a HashMap (seeded through wasi:random/insecure-seed), a
// sleep (a monotonic-clock deadline pollable), the wall clock.
use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn main() {
    let mut counts: HashMap<&str, u32> = HashMap::new();
    for word in "the quick brown fox jumps over the lazy dog the end".split(' ') {
        *counts.entry(word).or_default() += 1;
    }
    let mut counts: Vec<_> = counts.into_iter().collect();
    counts.sort();
    println!("{counts:?}");

    let start = Instant::now();
    std::thread::sleep(Duration::from_millis(30));
    let slept = start.elapsed();
    println!("slept at least 30 ms: {}", slept >= Duration::from_millis(30));
    println!("and less than 10 s: {}", slept < Duration::from_secs(10));

    let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970");
    println!("the wall clock is past 2025: {}", now.as_secs() > 1_735_689_600);
}
