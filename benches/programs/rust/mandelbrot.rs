//! Mandelbrot set as a 1-bit bitmap (after the Computer Language Benchmarks Game),
//! folded into an FNV-1a checksum: scalar f64 arithmetic and branches.

const SIZE: usize = 2400;
const ITER: usize = 50;

fn main() {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut inside = 0u64;
    for y in 0..SIZE {
        let ci = 2.0 * y as f64 / SIZE as f64 - 1.0;
        let mut bits = 0u64;
        for x in 0..SIZE {
            let cr = 2.0 * x as f64 / SIZE as f64 - 1.5;
            let (mut zr, mut zi, mut tr, mut ti) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
            let mut i = 0;
            while i < ITER && tr + ti <= 4.0 {
                zi = 2.0 * zr * zi + ci;
                zr = tr - ti + cr;
                tr = zr * zr;
                ti = zi * zi;
                i += 1;
            }
            bits = bits << 1 | u64::from(i == ITER);
            inside += u64::from(i == ITER);
            if x & 7 == 7 || x == SIZE - 1 {
                hash = (hash ^ bits).wrapping_mul(0x100_0000_01b3);
                bits = 0;
            }
        }
    }
    println!("mandelbrot: {SIZE}x{SIZE} inside {inside} hash {hash:016x}");
}
