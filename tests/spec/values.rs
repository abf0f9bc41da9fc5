//! Arguments and expected results of spec-script invocations, as the 16-byte value slots
//! of the harness protocol.

use wast::core::{NanPattern, V128Pattern, WastArgCore, WastRetCore};
use wast::{WastArg, WastRet};

/// Host references (`ref.extern N`, `ref.host N`) are opaque non-null pointers to the
/// guest; the runner encodes them with this tag so they never collide with null.
const HOST_REF_TAG: u128 = 1 << 63;

/// The slot value of an argument, or why it cannot be passed.
pub fn argument(arg: &WastArg<'_>) -> Result<u128, String> {
    let WastArg::Core(core) = arg else {
        return Err("component-model arguments".into());
    };
    Ok(match core {
        WastArgCore::I32(v) => *v as u32 as u128,
        WastArgCore::I64(v) => *v as u64 as u128,
        WastArgCore::F32(v) => v.bits as u128,
        WastArgCore::F64(v) => v.bits as u128,
        WastArgCore::V128(v) => u128::from_le_bytes(v.to_le_bytes()),
        WastArgCore::RefNull(_) => 0,
        WastArgCore::RefExtern(n) | WastArgCore::RefHost(n) => HOST_REF_TAG | *n as u128,
    })
}

/// A float result: exact bits, or a NaN class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Float<T> {
    /// These exact bits.
    Bits(T),
    /// A canonical NaN (any sign).
    Canonical,
    /// An arithmetic NaN: quiet bit set, any payload and sign.
    Arithmetic,
}

/// An expected result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    I32(u32),
    I64(u64),
    F32(Float<u32>),
    F64(Float<u64>),
    V128(Vec<Lane>),
    Null,
    NonNull,
    Extern(u32),
    Either(Vec<Expected>),
}

/// One lane of an expected v128, with its width in bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lane {
    Int { bytes: u32, value: u64 },
    F32(Float<u32>),
    F64(Float<u64>),
}

fn float32(pattern: &NanPattern<wast::token::F32>) -> Float<u32> {
    match pattern {
        NanPattern::CanonicalNan => Float::Canonical,
        NanPattern::ArithmeticNan => Float::Arithmetic,
        NanPattern::Value(v) => Float::Bits(v.bits),
    }
}

fn float64(pattern: &NanPattern<wast::token::F64>) -> Float<u64> {
    match pattern {
        NanPattern::CanonicalNan => Float::Canonical,
        NanPattern::ArithmeticNan => Float::Arithmetic,
        NanPattern::Value(v) => Float::Bits(v.bits),
    }
}

fn core(ret: &WastRetCore<'_>) -> Result<Expected, String> {
    Ok(match ret {
        WastRetCore::I32(v) => Expected::I32(*v as u32),
        WastRetCore::I64(v) => Expected::I64(*v as u64),
        WastRetCore::F32(p) => Expected::F32(float32(p)),
        WastRetCore::F64(p) => Expected::F64(float64(p)),
        WastRetCore::V128(pattern) => Expected::V128(match pattern {
            V128Pattern::I8x16(l) => l
                .iter()
                .map(|v| Lane::Int {
                    bytes: 1,
                    value: *v as u8 as u64,
                })
                .collect(),
            V128Pattern::I16x8(l) => l
                .iter()
                .map(|v| Lane::Int {
                    bytes: 2,
                    value: *v as u16 as u64,
                })
                .collect(),
            V128Pattern::I32x4(l) => l
                .iter()
                .map(|v| Lane::Int {
                    bytes: 4,
                    value: *v as u32 as u64,
                })
                .collect(),
            V128Pattern::I64x2(l) => l
                .iter()
                .map(|v| Lane::Int {
                    bytes: 8,
                    value: *v as u64,
                })
                .collect(),
            V128Pattern::F32x4(l) => l.iter().map(|p| Lane::F32(float32(p))).collect(),
            V128Pattern::F64x2(l) => l.iter().map(|p| Lane::F64(float64(p))).collect(),
        }),
        WastRetCore::RefNull(_) => Expected::Null,
        WastRetCore::RefExtern(Some(n)) => Expected::Extern(*n),
        WastRetCore::RefHost(n) => Expected::Extern(*n),
        WastRetCore::RefExtern(None)
        | WastRetCore::RefFunc(_)
        | WastRetCore::RefAny
        | WastRetCore::RefEq
        | WastRetCore::RefArray
        | WastRetCore::RefStruct
        | WastRetCore::RefI31
        | WastRetCore::RefI31Shared => Expected::NonNull,
        WastRetCore::Either(options) => {
            Expected::Either(options.iter().map(core).collect::<Result<_, _>>()?)
        }
    })
}

/// The expectation a `WastRet` describes.
pub fn expected(ret: &WastRet<'_>) -> Result<Expected, String> {
    match ret {
        WastRet::Core(c) => core(c),
        _ => Err("component-model results".into()),
    }
}

fn float_matches<T>(expected: &Float<T>, bits: u64, exponent: u64, quiet: u64) -> bool
where
    T: Copy + Into<u64>,
{
    let is_nan = bits & exponent == exponent && bits & (quiet | (quiet - 1)) != 0;
    match expected {
        Float::Bits(want) => bits == (*want).into(),
        // Canonical: exponent all ones, only the quiet bit of the payload.
        Float::Canonical => is_nan && bits & (quiet | (quiet - 1)) == quiet,
        Float::Arithmetic => is_nan && bits & quiet == quiet,
    }
}

fn f32_matches(expected: &Float<u32>, bits: u32) -> bool {
    float_matches(expected, bits as u64, 0x7f80_0000, 0x0040_0000)
}

fn f64_matches(expected: &Float<u64>, bits: u64) -> bool {
    float_matches(expected, bits, 0x7ff0_0000_0000_0000, 0x0008_0000_0000_0000)
}

/// Whether `value` satisfies `expected`.
pub fn matches(expected: &Expected, value: u128) -> bool {
    match expected {
        Expected::I32(v) => value as u32 == *v,
        Expected::I64(v) => value as u64 == *v,
        Expected::F32(f) => f32_matches(f, value as u32),
        Expected::F64(f) => f64_matches(f, value as u64),
        Expected::V128(lanes) => {
            let bytes = value.to_le_bytes();
            let mut at = 0usize;
            lanes.iter().all(|lane| {
                let width = match lane {
                    Lane::Int { bytes, .. } => *bytes as usize,
                    Lane::F32(_) => 4,
                    Lane::F64(_) => 8,
                };
                let mut raw = [0u8; 8];
                raw[..width].copy_from_slice(&bytes[at..at + width]);
                at += width;
                let lane_value = u64::from_le_bytes(raw);
                match lane {
                    Lane::Int { value, .. } => lane_value == *value,
                    Lane::F32(f) => f32_matches(f, lane_value as u32),
                    Lane::F64(f) => f64_matches(f, lane_value),
                }
            })
        }
        Expected::Null => value == 0,
        Expected::NonNull => value != 0,
        Expected::Extern(n) => value == HOST_REF_TAG | *n as u128,
        Expected::Either(options) => options.iter().any(|option| matches(option, value)),
    }
}
