//! A compute kernel with checksums over std: a sieve of primes, a word count in a
//! `HashMap` over generated text, sorting, a `BTreeMap` histogram and float formatting.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write;

/// xorshift64*, deterministic across runs and runtimes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

fn sieve(limit: usize) -> Vec<usize> {
    let mut composite = vec![false; limit + 1];
    let mut primes = Vec::new();
    for n in 2..=limit {
        if !composite[n] {
            primes.push(n);
            // n * n would wrap for large n with a 32-bit usize, so test before squaring.
            let mut multiple = if n <= limit / n { n * n } else { limit + 1 };
            while multiple <= limit {
                composite[multiple] = true;
                multiple += n;
            }
        }
    }
    primes
}

fn main() {
    let primes = sieve(2_000_000);
    let prime_sum: u64 = primes.iter().map(|&p| p as u64).sum();
    println!(
        "primes below 2e6: {}, largest {}, sum {prime_sum}",
        primes.len(),
        primes.last().unwrap()
    );
    let twins = primes.windows(2).filter(|w| w[1] - w[0] == 2).count();
    println!("twin prime pairs: {twins}");

    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let syllables = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "qu"];
    let mut text = String::new();
    for _ in 0..200_000 {
        let length = 1 + rng.next() % 3;
        for _ in 0..length {
            // Skewed towards the first syllables so some words are common.
            let r = rng.next() % 100;
            let index = (r * r / 1000) as usize;
            text.push_str(syllables[index]);
        }
        text.push(' ');
    }
    let mut counts: HashMap<&str, u32> = HashMap::new();
    for word in text.split_whitespace() {
        *counts.entry(word).or_insert(0) += 1;
    }
    let mut ranked: Vec<(&str, u32)> = counts.iter().map(|(w, c)| (*w, *c)).collect();
    ranked.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    println!("distinct words: {}, text bytes: {}", ranked.len(), text.len());
    for (word, count) in ranked.iter().take(5) {
        println!("  {word:<8}{count:>7}");
    }

    let mut histogram: BTreeMap<usize, u32> = BTreeMap::new();
    for (word, count) in &counts {
        *histogram.entry(word.len()).or_default() += count;
    }
    let mut line = String::new();
    for (length, count) in &histogram {
        write!(line, " {length}:{count}").unwrap();
    }
    println!("words by length:{line}");

    let mut numbers: Vec<u64> = (0..300_000).map(|_| rng.next() >> 20).collect();
    numbers.sort_unstable();
    let distinct: HashSet<u64> = numbers.iter().copied().collect();
    let checksum = numbers
        .iter()
        .enumerate()
        .fold(0u64, |h, (i, &n)| h.rotate_left(5) ^ n.wrapping_add(i as u64));
    println!(
        "sorted 3e5: min {:#x}, median {:#x}, max {:#x}, distinct {}, checksum {checksum:016x}",
        numbers[0],
        numbers[numbers.len() / 2],
        numbers[numbers.len() - 1],
        distinct.len()
    );

    let mean = numbers.iter().map(|&n| n as f64).sum::<f64>() / numbers.len() as f64;
    let variance =
        numbers.iter().map(|&n| (n as f64 - mean).powi(2)).sum::<f64>() / numbers.len() as f64;
    println!("mean {mean:.3e}, std dev {:.6e}, ratio {:.9}", variance.sqrt(), variance.sqrt() / mean);
}
