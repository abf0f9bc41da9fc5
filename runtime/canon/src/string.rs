//! Strings: loading them in any of the three encodings, and storing them with the
//! spec's transcoding algorithms, which choose a first allocation from the string's
//! origin (its encoding and length where it came from) and then grow or shrink it with
//! `realloc` while copying once. The sequence of `realloc` calls, their arguments and
//! the checks on what they return are exactly the spec's, so a guest `realloc` sees the
//! same calls it would under any conforming host.

use alloc::string::String;
use alloc::vec::Vec;

use crate::val::{Str, StrOrigin};
use crate::{
    Cx, MAX_STRING_BYTE_LENGTH, REALLOC_I32_MAX, StringEncoding, Trap, in_bounds, is_aligned,
};

/// `load_string_from_range`: lifts the string at `ptr` whose length, in code units of
/// the memory's string encoding, is `tagged_code_units` (for `latin1+utf16`, with the
/// top bit saying UTF-16).
pub fn load_string_from_range(
    cx: &mut Cx<'_>,
    ptr: u64,
    tagged_code_units: u64,
) -> Result<Str, Trap> {
    let tag = cx.ptr().utf16_tag();
    let (align, byte_len, origin) = match cx.options.string_encoding {
        StringEncoding::Utf8 => (
            1,
            u128::from(tagged_code_units),
            StrOrigin::Utf8(tagged_code_units),
        ),
        StringEncoding::Utf16 => (
            2,
            2 * u128::from(tagged_code_units),
            StrOrigin::Utf16(tagged_code_units),
        ),
        StringEncoding::Latin1Utf16 if tagged_code_units & tag != 0 => {
            let units = tagged_code_units ^ tag;
            (2, 2 * u128::from(units), StrOrigin::CompactUtf16(units))
        }
        StringEncoding::Latin1Utf16 => (
            2,
            u128::from(tagged_code_units),
            StrOrigin::Latin1(tagged_code_units),
        ),
    };
    if byte_len > u128::from(MAX_STRING_BYTE_LENGTH) {
        return Err(Trap::StringTooLong);
    }
    let byte_len = byte_len as u64;
    if !is_aligned(ptr, align) {
        return Err(Trap::UnalignedPointer);
    }
    if !in_bounds(cx.memory.size(), ptr, byte_len) {
        return Err(Trap::StringOutOfBounds);
    }
    let bytes = crate::load::read(cx, ptr, byte_len)?;
    let text = match origin {
        StrOrigin::Utf8(_) => String::from_utf8(bytes).map_err(|_| Trap::InvalidUtf8)?,
        StrOrigin::Utf16(_) | StrOrigin::CompactUtf16(_) => {
            let units = bytes
                .chunks_exact(2)
                .map(|pair| u16::from_le_bytes([pair[0], pair[1]]));
            char::decode_utf16(units)
                .collect::<Result<String, _>>()
                .map_err(|_| Trap::InvalidUtf16)?
        }
        StrOrigin::Latin1(_) => bytes.iter().map(|&byte| char::from(byte)).collect(),
    };
    Ok(Str::lifted(text, origin))
}

/// `store_string_into_range`: stores `string` in the memory's string encoding, in memory
/// `realloc` gives; returns its pointer and tagged length.
pub fn store_string_into_range(cx: &mut Cx<'_>, string: &Str) -> Result<(u64, u64), Trap> {
    let text = string.as_str();
    match (cx.options.string_encoding, string.origin()) {
        (StringEncoding::Utf8, StrOrigin::Utf8(units)) => copy(cx, text.as_bytes(), units, 1, 1),
        (StringEncoding::Utf8, StrOrigin::Utf16(units) | StrOrigin::CompactUtf16(units)) => {
            to_utf8(cx, text, units, 3 * u128::from(units))
        }
        (StringEncoding::Utf8, StrOrigin::Latin1(units)) => {
            to_utf8(cx, text, units, 2 * u128::from(units))
        }
        (StringEncoding::Utf16, StrOrigin::Utf8(units)) => utf8_to_utf16(cx, text, units),
        (
            StringEncoding::Utf16,
            StrOrigin::Utf16(units) | StrOrigin::CompactUtf16(units) | StrOrigin::Latin1(units),
        ) => copy(cx, &utf16_bytes(text), units, 2, 2),
        (StringEncoding::Latin1Utf16, StrOrigin::Utf8(units) | StrOrigin::Utf16(units)) => {
            to_latin1_or_utf16(cx, text, units)
        }
        (StringEncoding::Latin1Utf16, StrOrigin::Latin1(units)) => {
            let latin1: Vec<u8> = text.chars().map(|c| c as u8).collect();
            copy(cx, &latin1, units, 1, 2)
        }
        (StringEncoding::Latin1Utf16, StrOrigin::CompactUtf16(units)) => {
            probably_utf16_to_latin1_or_utf16(cx, text, units)
        }
    }
}

/// The string as UTF-16 little-endian bytes.
fn utf16_bytes(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// A size `realloc` may be asked for. The spec asserts this of strings it lifted; a
/// host string may be longer, and traps.
fn realloc_size(size: u128) -> Result<u64, Trap> {
    if size > u128::from(REALLOC_I32_MAX) {
        return Err(Trap::StringTooLong);
    }
    Ok(size as u64)
}

/// Calls `realloc` and checks what it returns as the string stores do (`align` 1 is
/// never checked).
fn realloc_checked(
    cx: &mut Cx<'_>,
    old_ptr: u64,
    old_size: u64,
    align: u32,
    new_size: u64,
) -> Result<u64, Trap> {
    let ptr = cx.reallocate(old_ptr, old_size, align, new_size)?;
    if !is_aligned(ptr, align) {
        return Err(Trap::ReallocUnaligned);
    }
    if !in_bounds(cx.memory.size(), ptr, new_size) {
        return Err(Trap::ReallocOutOfBounds);
    }
    Ok(ptr)
}

/// `store_string_copy`: the destination size is known up front; `encoded` is the
/// string in the destination encoding, `units` code units of `unit_size` bytes.
fn copy(
    cx: &mut Cx<'_>,
    encoded: &[u8],
    units: u64,
    unit_size: u32,
    align: u32,
) -> Result<(u64, u64), Trap> {
    let byte_len = realloc_size(u128::from(units) * u128::from(unit_size))?;
    let ptr = realloc_checked(cx, 0, 0, align, byte_len)?;
    cx.memory.write(ptr, encoded)?;
    Ok((ptr, units))
}

/// `store_string_to_utf8`: allocates one byte per source code unit, and if a code point
/// is not ASCII, grows to the worst case, finishes, and shrinks to fit.
fn to_utf8(cx: &mut Cx<'_>, text: &str, units: u64, worst_case: u128) -> Result<(u64, u64), Trap> {
    let units = realloc_size(u128::from(units))?;
    let mut ptr = realloc_checked(cx, 0, 0, 1, units)?;
    let ascii = text.bytes().take_while(u8::is_ascii).count();
    cx.memory.write(ptr, &text.as_bytes()[..ascii])?;
    if ascii == text.len() {
        return Ok((ptr, units));
    }
    let worst_case = realloc_size(worst_case)?;
    ptr = realloc_checked(cx, ptr, units, 1, worst_case)?;
    cx.memory
        .write(ptr + ascii as u64, &text.as_bytes()[ascii..])?;
    let len = text.len() as u64;
    if worst_case > len {
        ptr = realloc_checked(cx, ptr, worst_case, 1, len)?;
    }
    Ok((ptr, len))
}

/// `store_utf8_to_utf16`: allocates two bytes per UTF-8 byte and shrinks to fit.
fn utf8_to_utf16(cx: &mut Cx<'_>, text: &str, units: u64) -> Result<(u64, u64), Trap> {
    let worst_case = realloc_size(2 * u128::from(units))?;
    let mut ptr = realloc_checked(cx, 0, 0, 2, worst_case)?;
    let encoded = utf16_bytes(text);
    cx.memory.write(ptr, &encoded)?;
    let len = encoded.len() as u64;
    if len < worst_case {
        ptr = realloc_checked(cx, ptr, worst_case, 2, len)?;
    }
    Ok((ptr, len / 2))
}

/// `store_string_to_latin1_or_utf16`: speculates Latin-1 (one byte per source code
/// unit); at the first code point beyond it, grows to the worst-case UTF-16 size,
/// inflates the Latin-1 bytes already written in place, and finishes in UTF-16. Shrinks
/// to fit either way.
fn to_latin1_or_utf16(cx: &mut Cx<'_>, text: &str, units: u64) -> Result<(u64, u64), Trap> {
    let units = realloc_size(u128::from(units))?;
    let mut ptr = realloc_checked(cx, 0, 0, 2, units)?;
    let latin1: Vec<u8> = text
        .chars()
        .take_while(|&c| u32::from(c) < 0x100)
        .map(|c| c as u8)
        .collect();
    cx.memory.write(ptr, &latin1)?;
    let written = latin1.len() as u64;
    if text.chars().nth(latin1.len()).is_none() {
        if written < units {
            ptr = realloc_checked(cx, ptr, units, 2, written)?;
        }
        return Ok((ptr, written));
    }
    let worst_case = realloc_size(2 * u128::from(units))?;
    ptr = realloc_checked(cx, ptr, units, 2, worst_case)?;
    // Inflate what memory now holds (realloc moved it, if it moved) to UTF-16.
    let mut inflated = crate::load::read(cx, ptr, written)?;
    inflated = inflated.iter().flat_map(|&byte| [byte, 0]).collect();
    cx.memory.write(ptr, &inflated)?;
    let encoded = utf16_bytes(text);
    cx.memory
        .write(ptr + 2 * written, &encoded[2 * written as usize..])?;
    let len = encoded.len() as u64;
    if worst_case > len {
        ptr = realloc_checked(cx, ptr, worst_case, 2, len)?;
    }
    Ok((ptr, (len / 2) | cx.ptr().utf16_tag()))
}

/// `store_probably_utf16_to_latin1_or_utf16`: the source chose UTF-16 over Latin-1, so
/// allocates for UTF-16, and if every code point fits Latin-1 after all, compacts in
/// place and shrinks.
fn probably_utf16_to_latin1_or_utf16(
    cx: &mut Cx<'_>,
    text: &str,
    units: u64,
) -> Result<(u64, u64), Trap> {
    let byte_len = realloc_size(2 * u128::from(units))?;
    let mut ptr = realloc_checked(cx, 0, 0, 2, byte_len)?;
    let encoded = utf16_bytes(text);
    cx.memory.write(ptr, &encoded)?;
    let len = encoded.len() as u64;
    if text.chars().any(|c| u32::from(c) >= 0x100) {
        return Ok((ptr, (len / 2) | cx.ptr().utf16_tag()));
    }
    let latin1: Vec<u8> = encoded.iter().step_by(2).copied().collect();
    cx.memory.write(ptr, &latin1)?;
    let latin1_size = len / 2;
    ptr = realloc_checked(cx, ptr, byte_len, 1, latin1_size)?;
    Ok((ptr, latin1_size))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Host strings long enough to need a `realloc` above 4 GiB cannot be built in a
    /// test; the bound they hit is this one.
    #[test]
    fn allocations_above_realloc_i32_max_trap() {
        assert_eq!(
            realloc_size(u128::from(REALLOC_I32_MAX)),
            Ok(REALLOC_I32_MAX)
        );
        assert_eq!(
            realloc_size(u128::from(REALLOC_I32_MAX) + 1),
            Err(Trap::StringTooLong)
        );
        // The worst case of transcoding 2^31 UTF-16 code units to UTF-8.
        assert_eq!(realloc_size(3 * (1 << 31)), Err(Trap::StringTooLong));
    }
}
