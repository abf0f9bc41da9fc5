//! Little-endian field access shared by the metadata decoders and encoders.

/// Reads the little-endian `u32` at `offset`, or `None` past the end.
pub(crate) fn read_u32(bytes: &[u8], offset: usize) -> Option<u32> {
    let end = offset.checked_add(4)?;
    let field = bytes.get(offset..end)?;
    Some(u32::from_le_bytes([field[0], field[1], field[2], field[3]]))
}

/// A cursor over a byte slice that never panics: every read checks the length.
#[derive(Clone)]
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, pos: 0 }
    }

    pub(crate) fn u32(&mut self) -> Option<u32> {
        let value = read_u32(self.bytes, self.pos)?;
        self.pos += 4;
        Some(value)
    }

    pub(crate) fn u64(&mut self) -> Option<u64> {
        let low = self.u32()? as u64;
        let high = self.u32()? as u64;
        Some(high << 32 | low)
    }

    pub(crate) fn take(&mut self, len: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(len)?;
        let slice = self.bytes.get(self.pos..end)?;
        self.pos = end;
        Some(slice)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.bytes.len()
    }
}

#[cfg(feature = "alloc")]
pub(crate) fn push_u32(out: &mut alloc::vec::Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_le_bytes());
}
