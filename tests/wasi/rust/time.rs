//! Clocks, sleeping and randomness through Rust's std: Instant (monotonic clock),
//! SystemTime (realtime clock), thread::sleep (poll_oneoff with a relative clock) and
//! the random keys of HashMap (random_get).

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn check(what: &str, ok: bool) {
    println!("{what:<40} {}", if ok { "yes" } else { "NO" });
}

fn main() {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    check("the system time is after 2023", since_epoch.as_secs() > 1_700_000_000);
    let start = Instant::now();
    let mut last = start;
    let mut monotonic = true;
    for _ in 0..10_000 {
        let now = Instant::now();
        monotonic &= now >= last;
        last = now;
    }
    check("Instant never goes back", monotonic);
    let before = Instant::now();
    std::thread::sleep(Duration::from_millis(60));
    let slept = before.elapsed();
    check("sleep(60 ms) slept at least 60 ms", slept >= Duration::from_millis(60));
    check("and less than 2 s", slept < Duration::from_secs(2));
    std::thread::sleep(Duration::ZERO);
    let a = RandomState::new().hash_one(42u32);
    let b = RandomState::new().hash_one(42u32);
    check("two random hash keys differ", a != b);
}
