//! Random bytes: the board's hardware generator where it has one, otherwise ChaCha20
//! (RFC 8439's block function used as a stream generator) keyed on first use from the best
//! entropy the board has: a per-image seed chosen at build time, the real-time clock and
//! the jitter of the counter while the console and memory are touched. `wafer build`
//! warns about such boards and `wafer inspect` says which source an image uses.

use super::{Board, ThisBoard};
use crate::global::Global;

struct ChaCha {
    keyed: bool,
    key: [u32; 8],
    counter: u64,
    buffer: [u8; 64],
    used: usize,
}

static GENERATOR: Global<ChaCha> = Global::new(ChaCha {
    keyed: false,
    key: [0; 8],
    counter: 0,
    buffer: [0; 64],
    used: 64,
});

unsafe extern "C" {
    /// 32 fresh random bytes wafer puts into every firmware image it builds.
    static wafer_board_seed: [u8; 32];
}

/// Keys the generator from the image seed, the real time and counter jitter: on first
/// use, so images that never ask for random bytes carry none of this.
fn key() -> [u32; 8] {
    // SAFETY: the compiler defines the seed as 32 read-only bytes.
    let seed = unsafe { wafer_board_seed };
    let mut key = [0u32; 8];
    for (word, bytes) in key.iter_mut().zip(seed.chunks_exact(4)) {
        *word = u32::from_le_bytes(bytes.try_into().unwrap_or_default());
    }
    let realtime = ThisBoard::rtc_now().unwrap_or(0);
    key[0] ^= realtime as u32;
    key[1] ^= (realtime >> 32) as u32;
    // Counter jitter: the time a loop of device and memory accesses takes varies from
    // boot to boot on real hardware (much less under an emulator).
    let mut jitter = 0u64;
    for round in 0..256u64 {
        let before = ThisBoard::ticks();
        let _ = super::console::available();
        jitter = jitter.rotate_left(7) ^ ThisBoard::ticks().wrapping_sub(before) ^ round;
    }
    key[2] ^= jitter as u32;
    key[3] ^= (jitter >> 32) as u32;
    // One block mixes the inputs into the key.
    let mixed = crate::chacha::block(&key, u64::MAX, [0; 3]);
    for (word, bytes) in key.iter_mut().zip(mixed.chunks_exact(4)) {
        *word = u32::from_le_bytes(bytes.try_into().unwrap_or_default());
    }
    key
}

/// Fills `buf` with random bytes.
pub fn fill(buf: &mut [u8]) {
    if ThisBoard::hardware_random(buf) {
        return;
    }
    let fresh_key = (!GENERATOR.with(|generator| generator.keyed)).then(key);
    GENERATOR.with(|generator| {
        if let Some(key) = fresh_key {
            generator.key = key;
            generator.keyed = true;
        }
        for byte in buf.iter_mut() {
            if generator.used == generator.buffer.len() {
                generator.buffer = crate::chacha::block(&generator.key, generator.counter, [0; 3]);
                generator.counter += 1;
                generator.used = 0;
            }
            *byte = generator.buffer.get(generator.used).copied().unwrap_or(0);
            generator.used += 1;
        }
    });
}
