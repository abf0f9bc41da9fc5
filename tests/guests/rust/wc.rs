//! Reads all of stdin and reports lines, words, bytes, the longest line, the most
//! common words and a checksum, like a small `wc`.

use std::collections::HashMap;
use std::io::Read;

fn main() {
    let mut input = Vec::new();
    std::io::stdin().read_to_end(&mut input).expect("read stdin");
    let text = String::from_utf8_lossy(&input);
    let lines = input.iter().filter(|&&b| b == b'\n').count();
    let words: Vec<&str> = text.split_whitespace().collect();
    let longest = text.lines().map(str::len).max().unwrap_or(0);
    let checksum = input.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    println!("lines {lines}, words {}, bytes {}", words.len(), input.len());
    println!("longest line {longest} bytes, fnv1a {checksum:016x}");
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for word in &words {
        *counts.entry(word).or_default() += 1;
    }
    let mut common: Vec<(&str, usize)> = counts.into_iter().collect();
    common.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    for (word, count) in common.iter().take(5) {
        println!("{count:>6} {word}");
    }
}
