//! fannkuch-redux: flip prefixes of every permutation of 1..N (after the Computer
//! Language Benchmarks Game). Small arrays, data-dependent branches, bounds checks.

const N: usize = 10;
const REPEAT: usize = 3;

fn fannkuch(n: usize) -> (i32, i32) {
    let mut perm = [0usize; 16];
    let mut perm1: [usize; 16] = std::array::from_fn(|i| i);
    let mut count = [0usize; 16];
    let (mut r, mut sign, mut checksum, mut max_flips) = (n, 1i32, 0i32, 0i32);
    loop {
        while r != 1 {
            count[r - 1] = r;
            r -= 1;
        }
        perm[..n].copy_from_slice(&perm1[..n]);
        let mut flips = 0;
        loop {
            let k = perm[0];
            if k == 0 {
                break;
            }
            perm[..=k].reverse();
            flips += 1;
        }
        max_flips = max_flips.max(flips);
        checksum += sign * flips;
        sign = -sign;
        loop {
            if r == n {
                return (checksum, max_flips);
            }
            perm1[..=r].rotate_left(1);
            count[r] -= 1;
            if count[r] > 0 {
                break;
            }
            r += 1;
        }
    }
}

fn main() {
    let mut total = 0i64;
    let mut last = (0, 0);
    for _ in 0..REPEAT {
        last = fannkuch(N);
        total += i64::from(last.0 + last.1);
    }
    println!(
        "fannkuch: {} Pfannkuchen({N}) = {} (total {total})",
        last.0, last.1
    );
}
