//! std-heavy: generated text split into words, counted in a `HashMap`, ordered in a
//! `BTreeMap`, sorted `Vec`s, `String` building with `format!`/`write!` and parsing
//! back. Allocation, hashing, string handling and formatting rather than arithmetic.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::fmt::Write;

const WORDS: usize = 400_000;
const ROUNDS: usize = 8;

/// xorshift64*: deterministic everywhere (no `RandomState` in the output path).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

const SYLLABLES: [&str; 16] = [
    "ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "zen", "qua", "bro", "fli", "dax", "or",
    "um", "pe",
];

fn text(rng: &mut Rng) -> String {
    let mut out = String::new();
    for i in 0..WORDS {
        // A skewed distribution: a few common words, a long tail of rare ones.
        let r = rng.next();
        let len = 1 + (r % 4) as usize;
        let spread = if r >> 60 < 12 { 64 } else { 4096 };
        let mut id = (r >> 8) % spread;
        for _ in 0..len {
            out.push_str(SYLLABLES[(id % 16) as usize]);
            id /= 16;
        }
        out.push(if i % 17 == 16 { '\n' } else { ' ' });
        if i % 97 == 0 {
            write!(out, "{} ", r % 1000).unwrap();
        }
    }
    out
}

fn round(rng: &mut Rng) -> String {
    let text = text(rng);
    let mut counts: HashMap<&str, usize> = HashMap::new();
    let mut numbers: Vec<u32> = Vec::new();
    for word in text.split_whitespace() {
        match word.parse::<u32>() {
            Ok(n) => numbers.push(n),
            Err(_) => *counts.entry(word).or_default() += 1,
        }
    }
    let mut by_count: Vec<(&str, usize)> = counts.iter().map(|(w, c)| (*w, *c)).collect();
    by_count.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));

    let mut by_letter: BTreeMap<char, Vec<&str>> = BTreeMap::new();
    for (word, _) in &by_count {
        by_letter
            .entry(word.chars().next().unwrap())
            .or_default()
            .push(word);
    }
    let longest: HashSet<usize> = counts.keys().map(|w| w.len()).collect();

    let mut lines: VecDeque<String> = text.lines().map(str::to_uppercase).collect();
    lines.rotate_left(lines.len() / 3);
    let line_hash = lines.iter().fold(0u64, |h, l| {
        l.bytes()
            .fold(h, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
    });

    numbers.sort_unstable();
    numbers.dedup();
    let mut summary = String::new();
    write!(
        summary,
        "{} words, {} distinct, {} lengths, {} numbers; top:",
        text.split_whitespace().count(),
        counts.len(),
        longest.len(),
        numbers.len()
    )
    .unwrap();
    for (word, count) in by_count.iter().take(3) {
        write!(summary, " {word}={count}").unwrap();
    }
    let letters: String = by_letter
        .iter()
        .map(|(letter, words)| format!("{letter}{}", words.len()))
        .collect::<Vec<_>>()
        .join(",");
    write!(summary, "; letters {letters}; lines {line_hash:016x}").unwrap();
    summary
}

fn main() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for i in 0..ROUNDS {
        println!("collections {i}: {}", round(&mut rng));
    }
}
