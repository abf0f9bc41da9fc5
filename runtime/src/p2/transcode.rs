//! String transcoding between two component instances' memories, for fused adapters
//! (`wafer_abi::symbols::TRANSCODE`). The adapter has allocated the destination and
//! checked the lengths against the maximum string size; this checks both ranges against
//! their memories, validates what it decodes, and copies. Guest memory is read and
//! written only through checked [`GuestMemory`] accesses.

use wafer_abi::trap::TrapKind;
use wafer_abi::wasi_p2::transcode as op;

use crate::guest::GuestMemory;
use crate::memory::VMMemoryDefinition;

type Transcoded = Result<[u32; 2], TrapKind>;

/// Bytes decoded per chunk: the host buffer a source is read through.
const CHUNK: usize = 1024;

/// See `wafer_abi::symbols::TRANSCODE`.
///
/// # Safety
/// `from` and `to` must point to live memory definitions and `args` to five writable
/// `u32`s.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wafer_p2_transcode(
    from: *const VMMemoryDefinition,
    to: *const VMMemoryDefinition,
    operation: u32,
    args: *mut [u32; 5],
) -> u32 {
    // SAFETY: the trampoline passes the definitions of the adapter's two memories and a
    // stack slot of five `u32`s.
    let (from, to, args) = unsafe {
        (
            GuestMemory::from_definition(from),
            GuestMemory::from_definition(to),
            &mut *args,
        )
    };
    let [src, len, dst, dst_len, latin1] = *args;
    let result = match operation {
        op::COPY_UTF8 => copy(&from, src, len, &to, dst, true),
        op::COPY_LATIN1 => copy(&from, src, len, &to, dst, false),
        op::COPY_UTF16 => match len.checked_mul(2) {
            Some(bytes) => copy(&from, src, bytes, &to, dst, false),
            None => Err(TrapKind::StringOutOfBounds),
        },
        op::LATIN1_TO_UTF16 => latin1_to_utf16(&from, src, len, &to, dst),
        op::UTF8_TO_UTF16 => utf8_to_utf16(&from, src, len, &to, dst),
        op::UTF16_TO_UTF8 => utf16_to_utf8(&from, src, len, &to, dst, dst_len),
        op::LATIN1_TO_UTF8 => latin1_to_utf8(&from, src, len, &to, dst, dst_len),
        op::UTF8_TO_LATIN1 => to_latin1(&from, src, len, Source::Utf8, &to, dst),
        op::UTF16_TO_LATIN1 => to_latin1(&from, src, len, Source::Utf16, &to, dst),
        op::UTF8_TO_COMPACT_UTF16 => {
            to_compact_utf16(&from, src, len, Source::Utf8, &to, dst, dst_len, latin1)
        }
        op::UTF16_TO_COMPACT_UTF16 => {
            to_compact_utf16(&from, src, len, Source::Utf16, &to, dst, dst_len, latin1)
        }
        op::UTF16_TO_COMPACT_PROBABLY_UTF16 => {
            utf16_to_compact_probably_utf16(&from, src, len, &to, dst)
        }
        _ => Err(TrapKind::Unreachable),
    };
    match result {
        Ok(results) => {
            args[0] = results[0];
            args[1] = results[1];
            0
        }
        Err(kind) => kind as u32,
    }
}

/// Checks that `len` bytes at `at` lie in `memory`.
fn check(memory: &GuestMemory, at: u32, len: u32) -> Result<(), TrapKind> {
    memory
        .range(at, len)
        .map(|_| ())
        .map_err(|_| TrapKind::StringOutOfBounds)
}

/// Calls `f` with the bytes at `src..src + len` of `memory`, a chunk at a time, each
/// with its offset.
fn chunks(
    memory: &GuestMemory,
    src: u32,
    len: u32,
    mut f: impl FnMut(u32, &[u8]) -> Result<(), TrapKind>,
) -> Result<(), TrapKind> {
    check(memory, src, len)?;
    let mut buf = [0u8; CHUNK];
    let mut done = 0u32;
    while done < len {
        let n = (len - done).min(CHUNK as u32);
        let part = buf.get_mut(..n as usize).unwrap_or_default();
        memory
            .read_into(src + done, part)
            .map_err(|_| TrapKind::StringOutOfBounds)?;
        f(done, part)?;
        done += n;
    }
    Ok(())
}

fn write(memory: &GuestMemory, at: u32, bytes: &[u8]) -> Result<(), TrapKind> {
    memory
        .write(at, bytes)
        .map_err(|_| TrapKind::StringOutOfBounds)
}

/// The same encoding in both memories; UTF-8 is validated first.
fn copy(
    from: &GuestMemory,
    src: u32,
    len: u32,
    to: &GuestMemory,
    dst: u32,
    utf8: bool,
) -> Transcoded {
    check(to, dst, len)?;
    if utf8 {
        let mut decoder = Utf8Decoder::default();
        chunks(from, src, len, |_, bytes| {
            bytes.iter().try_for_each(|&b| decoder.push(b).map(drop))
        })?;
        decoder.finish()?;
    }
    chunks(from, src, len, |offset, bytes| {
        write(to, dst + offset, bytes)
    })?;
    Ok([0, 0])
}

fn latin1_to_utf16(
    from: &GuestMemory,
    src: u32,
    len: u32,
    to: &GuestMemory,
    dst: u32,
) -> Transcoded {
    check(
        to,
        dst,
        len.checked_mul(2).ok_or(TrapKind::StringOutOfBounds)?,
    )?;
    chunks(from, src, len, |offset, bytes| {
        bytes.iter().enumerate().try_for_each(|(i, &b)| {
            write(
                to,
                dst + 2 * (offset + i as u32),
                &u16::from(b).to_le_bytes(),
            )
        })
    })?;
    Ok([0, 0])
}

fn utf8_to_utf16(from: &GuestMemory, src: u32, len: u32, to: &GuestMemory, dst: u32) -> Transcoded {
    check(
        to,
        dst,
        len.checked_mul(2).ok_or(TrapKind::StringOutOfBounds)?,
    )?;
    let mut units = 0u32;
    decode(from, src, len, Source::Utf8, |c, _| {
        let mut buf = [0u16; 2];
        for unit in c.encode_utf16(&mut buf).iter() {
            write(to, dst + 2 * units, &unit.to_le_bytes())?;
            units += 1;
        }
        Ok(true)
    })?;
    Ok([units, 0])
}

/// Encodes characters into `dst_len` bytes at `dst`, stopping before one that does not
/// fit; returns (source units consumed, bytes written).
struct Utf8Writer<'a> {
    to: &'a GuestMemory,
    dst: u32,
    dst_len: u32,
    written: u32,
    full: bool,
}

impl Utf8Writer<'_> {
    /// Writes `c`; false (and nothing written) when it does not fit.
    fn push(&mut self, c: char) -> Result<bool, TrapKind> {
        let mut buf = [0u8; 4];
        let encoded = c.encode_utf8(&mut buf).as_bytes();
        if self.full || self.written + encoded.len() as u32 > self.dst_len {
            self.full = true;
            return Ok(false);
        }
        write(self.to, self.dst + self.written, encoded)?;
        self.written += encoded.len() as u32;
        Ok(true)
    }
}

/// The source encodings characters are decoded from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    Utf8,
    Utf16,
}

/// Decodes `units` code units at `src` of `memory` in `encoding`, validating them, and
/// calls `f` with each character and the code units it took, until `f` returns false.
fn decode(
    memory: &GuestMemory,
    src: u32,
    units: u32,
    encoding: Source,
    mut f: impl FnMut(char, u32) -> Result<bool, TrapKind>,
) -> Result<(), TrapKind> {
    let width = if encoding == Source::Utf16 { 2 } else { 1 };
    let bytes = units
        .checked_mul(width)
        .ok_or(TrapKind::StringOutOfBounds)?;
    let mut utf8 = Utf8Decoder::default();
    let mut high: Option<u16> = None;
    let mut low_byte: Option<u8> = None;
    let mut done = false;
    chunks(memory, src, bytes, |_, chunk| {
        for &b in chunk {
            if done {
                return Ok(());
            }
            let decoded = match encoding {
                Source::Utf8 => utf8.push(b)?.map(|c| (c, c.len_utf8() as u32)),
                Source::Utf16 => {
                    let Some(first) = low_byte.take() else {
                        low_byte = Some(b);
                        continue;
                    };
                    let unit = u16::from_le_bytes([first, b]);
                    match (high.take(), unit) {
                        (None, 0xd800..=0xdbff) => {
                            high = Some(unit);
                            None
                        }
                        (Some(h), 0xdc00..=0xdfff) => {
                            let scalar = 0x10000
                                + ((u32::from(h) - 0xd800) << 10)
                                + (u32::from(unit) - 0xdc00);
                            Some((char::from_u32(scalar).ok_or(TrapKind::InvalidUtf16)?, 2))
                        }
                        (None, 0xdc00..=0xdfff) | (Some(_), _) => {
                            return Err(TrapKind::InvalidUtf16);
                        }
                        (None, _) => Some((
                            char::from_u32(u32::from(unit)).ok_or(TrapKind::InvalidUtf16)?,
                            1,
                        )),
                    }
                }
            };
            if let Some((c, units)) = decoded {
                done = !f(c, units)?;
            }
        }
        Ok(())
    })?;
    if done {
        return Ok(());
    }
    match encoding {
        Source::Utf8 => utf8.finish(),
        Source::Utf16 if high.is_some() => Err(TrapKind::InvalidUtf16),
        Source::Utf16 => Ok(()),
    }
}

fn utf16_to_utf8(
    from: &GuestMemory,
    src: u32,
    units: u32,
    to: &GuestMemory,
    dst: u32,
    dst_len: u32,
) -> Transcoded {
    check(to, dst, dst_len)?;
    let mut writer = Utf8Writer {
        to,
        dst,
        dst_len,
        written: 0,
        full: false,
    };
    let mut read = 0u32;
    decode(from, src, units, Source::Utf16, |c, units| {
        let fits = writer.push(c)?;
        if fits {
            read += units;
        }
        Ok(fits)
    })?;
    Ok([read, writer.written])
}

/// The first step into latin1+utf16: latin1 for as long as the characters fit it, into
/// `units` bytes at `dst`; returns (source units consumed, bytes written).
fn to_latin1(
    from: &GuestMemory,
    src: u32,
    units: u32,
    encoding: Source,
    to: &GuestMemory,
    dst: u32,
) -> Transcoded {
    check(to, dst, units)?;
    let (mut read, mut written) = (0u32, 0u32);
    decode(from, src, units, encoding, |c, units| {
        let Ok(byte) = u8::try_from(u32::from(c)) else {
            return Ok(false);
        };
        write(to, dst + written, &[byte])?;
        read += units;
        written += 1;
        Ok(true)
    })?;
    Ok([read, written])
}

/// The second step into latin1+utf16, once a character did not fit latin1: the
/// `latin1` bytes already at `dst` are widened to UTF-16 in place, and the rest of the
/// source follows as UTF-16, in `dst_units` units in all; returns the units written.
#[expect(clippy::too_many_arguments, reason = "the operation's flat parameters")]
fn to_compact_utf16(
    from: &GuestMemory,
    src: u32,
    units: u32,
    encoding: Source,
    to: &GuestMemory,
    dst: u32,
    dst_units: u32,
    latin1: u32,
) -> Transcoded {
    let capacity = dst_units
        .checked_mul(2)
        .ok_or(TrapKind::StringOutOfBounds)?;
    check(to, dst, capacity)?;
    if latin1 > dst_units {
        return Err(TrapKind::StringOutOfBounds);
    }
    // Backwards, so no byte is overwritten before it is widened.
    for i in (0..latin1).rev() {
        let [byte] = to
            .read::<1>(dst + i)
            .map_err(|_| TrapKind::StringOutOfBounds)?;
        write(to, dst + 2 * i, &u16::from(byte).to_le_bytes())?;
    }
    let mut written = latin1;
    decode(from, src, units, encoding, |c, _| {
        let mut buf = [0u16; 2];
        for unit in c.encode_utf16(&mut buf).iter() {
            if written >= dst_units {
                return Err(TrapKind::StringOutOfBounds);
            }
            write(to, dst + 2 * written, &unit.to_le_bytes())?;
            written += 1;
        }
        Ok(true)
    })?;
    Ok([written, 0])
}

/// UTF-16 into latin1+utf16 when the source is probably not latin1: copied as UTF-16 into
/// `2 * units` bytes at `dst`, then narrowed to latin1 in place if every unit fits;
/// returns the units, tagged with the top bit when they stay UTF-16.
fn utf16_to_compact_probably_utf16(
    from: &GuestMemory,
    src: u32,
    units: u32,
    to: &GuestMemory,
    dst: u32,
) -> Transcoded {
    let bytes = units.checked_mul(2).ok_or(TrapKind::StringOutOfBounds)?;
    copy(from, src, bytes, to, dst, false)?;
    let mut all_latin1 = true;
    chunks(to, dst, bytes, |_, chunk| {
        all_latin1 &= chunk.chunks(2).all(|unit| unit.get(1) == Some(&0));
        Ok(())
    })?;
    if !all_latin1 {
        return Ok([units | UTF16_TAG, 0]);
    }
    for i in 0..units {
        let [byte, _] = to
            .read::<2>(dst + 2 * i)
            .map_err(|_| TrapKind::StringOutOfBounds)?;
        write(to, dst + i, &[byte])?;
    }
    Ok([units, 0])
}

/// The tag of a latin1+utf16 string's length when it is UTF-16.
const UTF16_TAG: u32 = 1 << 31;

fn latin1_to_utf8(
    from: &GuestMemory,
    src: u32,
    len: u32,
    to: &GuestMemory,
    dst: u32,
    dst_len: u32,
) -> Transcoded {
    check(to, dst, dst_len)?;
    let mut writer = Utf8Writer {
        to,
        dst,
        dst_len,
        written: 0,
        full: false,
    };
    let mut read = 0u32;
    chunks(from, src, len, |_, bytes| {
        for &b in bytes {
            if !writer.push(char::from(b))? {
                return Ok(());
            }
            read += 1;
        }
        Ok(())
    })?;
    Ok([read, writer.written])
}

/// A UTF-8 decoder fed a byte at a time (sources are read in chunks, and a character
/// may straddle two).
#[derive(Default)]
struct Utf8Decoder {
    buf: [u8; 4],
    len: usize,
}

impl Utf8Decoder {
    /// Adds `b`; returns the character it completes, if any.
    fn push(&mut self, b: u8) -> Result<Option<char>, TrapKind> {
        if let Some(slot) = self.buf.get_mut(self.len) {
            *slot = b;
        }
        self.len += 1;
        let want = match self.buf[0] {
            0x00..=0x7f => 1,
            0xc2..=0xdf => 2,
            0xe0..=0xef => 3,
            0xf0..=0xf4 => 4,
            _ => return Err(TrapKind::InvalidUtf8),
        };
        if self.len < want {
            // A continuation byte must follow; `from_utf8` checks ranges at the end.
            return if self.len > 1 && b & 0xc0 != 0x80 {
                Err(TrapKind::InvalidUtf8)
            } else {
                Ok(None)
            };
        }
        let bytes = self.buf.get(..self.len).unwrap_or_default();
        let c = core::str::from_utf8(bytes)
            .ok()
            .and_then(|s| s.chars().next())
            .ok_or(TrapKind::InvalidUtf8)?;
        self.len = 0;
        Ok(Some(c))
    }

    /// Fails if a character was left unfinished.
    fn finish(&self) -> Result<(), TrapKind> {
        if self.len == 0 {
            Ok(())
        } else {
            Err(TrapKind::InvalidUtf8)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> Result<Vec<char>, TrapKind> {
        let mut decoder = Utf8Decoder::default();
        let mut out = Vec::new();
        for &b in bytes {
            out.extend(decoder.push(b)?);
        }
        decoder.finish()?;
        Ok(out)
    }

    #[test]
    fn the_decoder_accepts_utf8_and_nothing_else() {
        let text = "aé€😀";
        assert_eq!(decode(text.as_bytes()), Ok(text.chars().collect()));
        for bad in [
            &b"\xff"[..],
            b"\xc3",
            b"\xc3a",
            b"\xe2\x82",
            b"\xed\xa0\x80", // a surrogate
            b"\xc0\x80",     // overlong
            b"\xf4\x90\x80\x80",
        ] {
            assert_eq!(decode(bad), Err(TrapKind::InvalidUtf8), "{bad:?}");
        }
    }

    #[test]
    fn utf16_becomes_utf8_as_far_as_it_fits() {
        let text = "hé€😀!";
        let units: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let mut src = units.clone();
        src.resize(64, 0);
        let mut dst = [0u8; 64];
        let from = GuestMemory::from_slice(&mut src);
        let to = GuestMemory::from_slice(&mut dst);
        let n = (units.len() / 2) as u32;
        // Room for everything.
        assert_eq!(
            utf16_to_utf8(&from, 0, n, &to, 0, 32),
            Ok([n, text.len() as u32])
        );
        // Room for "hé" and a byte: "€" does not fit, and stops it.
        assert_eq!(utf16_to_utf8(&from, 0, n, &to, 0, 4), Ok([2, 3]));
        // An unpaired surrogate.
        let mut lone = [0x00u8, 0xd8, 0x41, 0x00];
        let from = GuestMemory::from_slice(&mut lone);
        assert_eq!(
            utf16_to_utf8(&from, 0, 2, &to, 0, 32),
            Err(TrapKind::InvalidUtf16)
        );
    }
}
