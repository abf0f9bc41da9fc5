//! Firmware file formats made from a linked ELF image: a raw binary and Intel HEX.
//!
//! Both are built from the `PT_LOAD` program headers, at their load addresses
//! (`p_paddr`), taking `p_filesz` bytes of each: what a loader would write to memory.
//! Zero-filled tails (`p_memsz` past `p_filesz`) and sections outside every segment
//! (`.bss`, the stack, the heap, symbol tables) are not part of either. For the images
//! this crate writes with [`crate::Layout::BareMetal`], whose segments hold exactly the
//! sections with contents, the raw binary is byte for byte what
//! `llvm-objcopy -O binary` makes of the ELF.

use std::fmt::Write as _;

use object::LittleEndian as Le;
use object::elf::{self, FileHeader64};
use object::read::elf::{FileHeader, ProgramHeader};

use crate::error::{LinkError, LinkErrorKind, Result};

/// Largest raw binary [`to_binary`] makes: as much as the largest board's RAM (a
/// Raspberry Pi 3's 1 GiB). Anything larger comes from a layout mistake or a corrupt
/// file, and is refused before memory is allocated for it.
const MAX_BINARY_SIZE: u64 = 1 << 30;

/// One loaded segment's file bytes and load address.
struct Loaded<'a> {
    paddr: u64,
    bytes: &'a [u8],
}

fn malformed(what: impl std::fmt::Display) -> LinkError {
    LinkError::new(
        LinkErrorKind::Malformed,
        format!("not a linked ELF image: {what}"),
    )
}

/// The loaded segments of `image` with file contents, sorted by load address, checked
/// not to overlap; and the entry point.
fn loaded_segments(image: &[u8]) -> Result<(Vec<Loaded<'_>>, u64)> {
    let header = FileHeader64::<Le>::parse(image).map_err(malformed)?;
    if !header.is_class_64() || !header.is_little_endian() {
        return Err(malformed("not little-endian ELF64"));
    }
    if header.e_type(Le) != elf::ET_EXEC {
        return Err(malformed(format_args!(
            "not an executable (e_type {})",
            header.e_type(Le)
        )));
    }
    let mut segments = Vec::new();
    for phdr in header.program_headers(Le, image).map_err(malformed)? {
        if phdr.p_type(Le) != elf::PT_LOAD || phdr.p_filesz(Le) == 0 {
            continue;
        }
        let bytes = phdr
            .data(Le, image)
            .map_err(|()| malformed("a segment's contents are past the end of the file"))?;
        let paddr = phdr.p_paddr(Le);
        if paddr.checked_add(bytes.len() as u64).is_none() {
            return Err(malformed(format_args!(
                "the segment at {paddr:#x} runs past the end of the address space"
            )));
        }
        segments.push(Loaded { paddr, bytes });
    }
    segments.sort_by_key(|s| s.paddr);
    for pair in segments.windows(2) {
        let end = pair[0].paddr + pair[0].bytes.len() as u64;
        if end > pair[1].paddr {
            return Err(malformed(format_args!(
                "the segments loaded at {:#x} and {:#x} overlap",
                pair[0].paddr, pair[1].paddr
            )));
        }
    }
    Ok((segments, header.e_entry(Le)))
}

/// The raw binary of a linked image: the file bytes of its loaded segments placed at
/// their load addresses, from the lowest one to the last byte with contents, gaps
/// filled with zeros. Boards load it at the image's origin (its first byte is the
/// entry point of a [`crate::Layout::BareMetal`] image).
///
/// Fails on anything but a little-endian ELF64 executable, on overlapping segments,
/// and when the result would be larger than 1 GiB.
pub fn to_binary(image: &[u8]) -> Result<Vec<u8>, LinkError> {
    let (segments, _) = loaded_segments(image)?;
    let Some(first) = segments.first() else {
        return Ok(Vec::new());
    };
    let base = first.paddr;
    let end = segments
        .iter()
        .map(|s| s.paddr + s.bytes.len() as u64)
        .max()
        .unwrap_or(base);
    if end - base > MAX_BINARY_SIZE {
        return Err(LinkError::unsupported(format!(
            "a raw binary of this image would be {} bytes, from {base:#x} to {end:#x}; \
             its segments are too far apart",
            end - base
        )));
    }
    let mut out = vec![0u8; (end - base) as usize];
    for segment in &segments {
        let at = (segment.paddr - base) as usize;
        out[at..at + segment.bytes.len()].copy_from_slice(segment.bytes);
    }
    Ok(out)
}

/// Appends one Intel HEX record: `:`, byte count, 16-bit address, type, data, checksum
/// (the two's complement of the sum of the other bytes), CR LF. Uppercase hex, as
/// `llvm-objcopy` writes it.
fn record(out: &mut String, address: u16, kind: u8, data: &[u8]) {
    let [high, low] = address.to_be_bytes();
    let head = [data.len() as u8, high, low, kind];
    let sum = head
        .iter()
        .chain(data)
        .fold(0u8, |sum, &b| sum.wrapping_add(b));
    out.push(':');
    for byte in head.iter().chain(data) {
        let _ = write!(out, "{byte:02X}");
    }
    let _ = write!(out, "{:02X}\r\n", sum.wrapping_neg());
}

/// Bytes of data per Intel HEX data record.
const IHEX_RECORD_DATA: usize = 16;

/// The Intel HEX text of a linked image: for each loaded segment (by load address),
/// data records (type 00) of 16 bytes, none crossing a 64 KiB boundary, preceded by an
/// extended linear address record (04) whenever the upper 16 address bits change
/// (addresses start with upper bits 0); then a start linear address record (05) with
/// the entry point and the end-of-file record (01). Gaps between segments are left
/// out, not filled.
///
/// Fails on what [`to_binary`] fails on, and when an address or the entry point does
/// not fit in 32 bits.
pub fn to_ihex(image: &[u8]) -> Result<String, LinkError> {
    let (segments, entry) = loaded_segments(image)?;
    let too_high = |what: String| {
        LinkError::unsupported(format!(
            "{what} is above 4 GiB, which Intel HEX cannot address"
        ))
    };
    let entry = u32::try_from(entry).map_err(|_| too_high(format!("the entry {entry:#x}")))?;
    let mut out = String::new();
    let mut upper = 0u16;
    for segment in &segments {
        let end = segment.paddr + segment.bytes.len() as u64;
        if end > 1 << 32 {
            return Err(too_high(format!(
                "the segment loaded at {:#x}..{end:#x}",
                segment.paddr
            )));
        }
        let mut address = segment.paddr;
        let mut rest = segment.bytes;
        while !rest.is_empty() {
            let segment_upper = (address >> 16) as u16;
            if segment_upper != upper {
                upper = segment_upper;
                record(&mut out, 0, 0x04, &upper.to_be_bytes());
            }
            let to_boundary = 0x1_0000 - (address & 0xffff) as usize;
            let take = rest.len().min(IHEX_RECORD_DATA).min(to_boundary);
            record(&mut out, address as u16, 0x00, &rest[..take]);
            rest = &rest[take..];
            address += take as u64;
        }
    }
    record(&mut out, 0, 0x05, &entry.to_be_bytes());
    record(&mut out, 0, 0x01, &[]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_have_their_checksums() {
        let mut out = String::new();
        record(&mut out, 0, 0x01, &[]);
        record(&mut out, 0, 0x04, &[0x40, 0x08]);
        record(&mut out, 0x0038, 0x00, &[0xbb; 4]);
        record(&mut out, 0, 0x05, &0x4008_0000u32.to_be_bytes());
        // As llvm-objcopy 14 writes them.
        assert_eq!(
            out,
            ":00000001FF\r\n:020000044008B2\r\n:04003800BBBBBBBBD8\r\n:0400000540080000AF\r\n"
        );
    }
}
