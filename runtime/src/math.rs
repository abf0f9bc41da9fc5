//! Float rounding for targets whose compiled code calls out for it (x86_64 without
//! SSE4.1). Results follow wasm: a NaN input gives a quiet NaN, zeros keep their sign.

macro_rules! rounding {
    ($float:ty, $bits:ty, $mantissa:expr, $bias:expr,
     $ceil:ident, $floor:ident, $trunc:ident, $nearest:ident) => {
        /// Splits `x` for rounding: `Err(result)` when `x` is already the answer
        /// (integral, infinite or NaN), else `Ok(mask of its fraction bits)`; the mask is
        /// all ones when `|x| < 1`.
        fn split(x: $float) -> Result<$bits, $float> {
            let bits = x.to_bits();
            let exponent =
                ((bits >> $mantissa) & ((1 << (<$bits>::BITS - 1 - $mantissa)) - 1)) as i32 - $bias;
            if x.is_nan() {
                return Err(<$float>::from_bits(bits | (1 << ($mantissa - 1))));
            }
            if exponent >= $mantissa {
                return Err(x);
            }
            if exponent < 0 {
                return Ok(<$bits>::MAX >> 1);
            }
            let mask = ((1 as $bits) << ($mantissa - exponent)) - 1;
            if bits & mask == 0 { Err(x) } else { Ok(mask) }
        }

        fn truncate(x: $float, mask: $bits) -> $float {
            <$float>::from_bits(x.to_bits() & !mask)
        }

        /// `trunc` with wasm semantics.
        #[unsafe(no_mangle)]
        pub extern "C" fn $trunc(x: $float) -> $float {
            match split(x) {
                Err(result) => result,
                Ok(mask) => truncate(x, mask),
            }
        }

        /// `ceil` with wasm semantics.
        #[unsafe(no_mangle)]
        pub extern "C" fn $ceil(x: $float) -> $float {
            match split(x) {
                Err(result) => result,
                Ok(mask) => {
                    let t = truncate(x, mask);
                    if x > 0.0 { t + 1.0 } else { t }
                }
            }
        }

        /// `floor` with wasm semantics.
        #[unsafe(no_mangle)]
        pub extern "C" fn $floor(x: $float) -> $float {
            match split(x) {
                Err(result) => result,
                Ok(mask) => {
                    let t = truncate(x, mask);
                    if x < 0.0 { t - 1.0 } else { t }
                }
            }
        }

        /// Round to nearest, ties to even.
        #[unsafe(no_mangle)]
        pub extern "C" fn $nearest(x: $float) -> $float {
            match split(x) {
                Err(result) => result,
                Ok(_) => {
                    // Adding and removing 2^mantissa rounds |x| < 2^mantissa to an
                    // integer in the default round-to-nearest-even mode.
                    let magic = <$float>::from_bits((($bias + $mantissa) as $bits) << $mantissa);
                    let rounded = (x.abs() + magic) - magic;
                    rounded.copysign(x)
                }
            }
        }
    };
}

mod f32_impl {
    rounding!(
        f32,
        u32,
        23,
        127,
        wafer_rt_ceilf,
        wafer_rt_floorf,
        wafer_rt_truncf,
        wafer_rt_nearestf
    );
}
mod f64_impl {
    rounding!(
        f64,
        u64,
        52,
        1023,
        wafer_rt_ceil,
        wafer_rt_floor,
        wafer_rt_trunc,
        wafer_rt_nearest
    );
}

pub use f32_impl::*;
pub use f64_impl::*;

/// `pshufb` for x86_64 CPUs without SSSE3 (Cranelift calls it for `i8x16.swizzle` and
/// shuffles there).
#[cfg(target_arch = "x86_64")]
#[unsafe(no_mangle)]
#[allow(
    improper_ctypes_definitions,
    reason = "__m128i goes in an xmm register, as Cranelift passes it"
)]
pub extern "C" fn wafer_rt_x86_pshufb(
    a: core::arch::x86_64::__m128i,
    b: core::arch::x86_64::__m128i,
) -> core::arch::x86_64::__m128i {
    use core::arch::x86_64::__m128i;
    // SAFETY: __m128i and [u8; 16] have the same size and any bit pattern is valid.
    let (a, b) = unsafe {
        (
            core::mem::transmute::<__m128i, [u8; 16]>(a),
            core::mem::transmute::<__m128i, [u8; 16]>(b),
        )
    };
    let mut out = [0u8; 16];
    for (slot, index) in out.iter_mut().zip(b) {
        if index & 0x80 == 0 {
            *slot = a[(index & 15) as usize];
        }
    }
    // SAFETY: as above.
    unsafe { core::mem::transmute::<[u8; 16], __m128i>(out) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(a: f64, b: f64) -> bool {
        a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
    }

    #[test]
    fn f64_rounding_matches_std() {
        let samples = [
            0.0,
            -0.0,
            0.3,
            -0.3,
            0.5,
            -0.5,
            1.5,
            2.5,
            -2.5,
            3.7,
            -3.7,
            1e300,
            -1e-300,
            4503599627370495.5,
            -4503599627370495.5,
            4503599627370497.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            0.49999999999999994,
            123456.789,
        ];
        for x in samples {
            assert!(same(wafer_rt_ceil(x), x.ceil()), "ceil {x}");
            assert!(same(wafer_rt_floor(x), x.floor()), "floor {x}");
            assert!(same(wafer_rt_trunc(x), x.trunc()), "trunc {x}");
            assert!(
                same(wafer_rt_nearest(x), x.round_ties_even()),
                "nearest {x}"
            );
        }
    }

    #[test]
    fn f32_rounding_matches_std() {
        let samples = [
            0.0f32,
            -0.0,
            0.3,
            -0.3,
            0.5,
            -0.5,
            1.5,
            2.5,
            -2.5,
            8388607.5,
            -8388609.0,
            f32::INFINITY,
            0.49999997,
            3e38,
        ];
        for x in samples {
            assert_eq!(wafer_rt_ceilf(x).to_bits(), x.ceil().to_bits(), "ceil {x}");
            assert_eq!(
                wafer_rt_floorf(x).to_bits(),
                x.floor().to_bits(),
                "floor {x}"
            );
            assert_eq!(
                wafer_rt_truncf(x).to_bits(),
                x.trunc().to_bits(),
                "trunc {x}"
            );
            assert_eq!(
                wafer_rt_nearestf(x).to_bits(),
                x.round_ties_even().to_bits(),
                "nearest {x}"
            );
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn pshufb_selects_lanes_and_zeroes_on_the_top_bit() {
        let a: [u8; 16] = core::array::from_fn(|i| 100 + i as u8);
        let b: [u8; 16] = [0, 15, 16, 0x80, 0x8f, 3, 3, 31, 1, 2, 4, 8, 0xff, 7, 6, 5];
        use core::arch::x86_64::__m128i;
        // SAFETY: same-size plain data.
        let out = unsafe {
            core::mem::transmute::<__m128i, [u8; 16]>(wafer_rt_x86_pshufb(
                core::mem::transmute::<[u8; 16], __m128i>(a),
                core::mem::transmute::<[u8; 16], __m128i>(b),
            ))
        };
        assert_eq!(
            out,
            [
                100, 115, 100, 0, 0, 103, 103, 115, 101, 102, 104, 108, 0, 107, 106, 105
            ]
        );
    }

    #[test]
    fn signalling_nan_comes_back_quiet() {
        let snan = f32::from_bits(0x7f80_0001);
        assert_eq!(wafer_rt_ceilf(snan).to_bits() & 0x0040_0000, 0x0040_0000);
        let snan = f64::from_bits(0x7ff0_0000_0000_0001);
        assert!(wafer_rt_nearest(snan).is_nan());
        assert_ne!(wafer_rt_nearest(snan).to_bits() & (1 << 51), 0);
    }
}
