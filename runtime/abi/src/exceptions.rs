//! Wasm exceptions: exception objects and the table the runtime unwinder reads.
//!
//! `throw` allocates an exception object through [`crate::symbols::EXCEPTION_NEW`], stores
//! the tag's arguments in it and calls [`crate::symbols::THROW`]. The unwinder walks the
//! frame-pointer chain from there; for each frame it looks the return address up in the
//! exception table, and resumes at the first handler whose tag matches (or that catches
//! all) with the stack pointer of that call site and the exception object in the first
//! exception-payload register. Callee-saved registers are not restored: compiled code
//! treats them as clobbered on exceptional edges.
//!
//! Exception table format (all `u32` little-endian, offsets relative to the code start):
//!
//! ```text
//! magic "WEXC" | call-site count | handler count
//! call sites: return offset, frame offset, first handler, handler count  (sorted)
//! handlers:   tag, handler offset      (in match order; CATCH_ALL matches any tag)
//! ```
//!
//! The frame offset is the distance from the frame pointer down to the stack pointer at
//! the call site.

use crate::bytes::{Reader, read_u32};

/// An exception object: the tag (image-wide number) in the first 8 bytes, then one
/// 16-byte slot per tag parameter from [`PAYLOAD_OFFSET`].
pub const PAYLOAD_OFFSET: u32 = 16;

/// Size of one payload slot.
pub const PAYLOAD_SLOT: u32 = 16;

/// A handler tag that matches every exception (`catch_all`, `catch_all_ref`).
pub const CATCH_ALL: u32 = u32::MAX;

const MAGIC: u32 = u32::from_le_bytes(*b"WEXC");
const SITE_LEN: usize = 16;
const HANDLER_LEN: usize = 8;

/// A call site with handlers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallSite<'a> {
    /// Distance from the frame pointer down to the stack pointer at the call.
    pub frame_offset: u32,
    handlers: &'a [u8],
}

impl<'a> CallSite<'a> {
    /// The handler for an exception with `tag`: its code offset.
    pub fn handler_for(&self, tag: u32) -> Option<u32> {
        self.handlers.chunks_exact(HANDLER_LEN).find_map(|h| {
            let handler_tag = read_u32(h, 0)?;
            (handler_tag == CATCH_ALL || handler_tag == tag).then(|| read_u32(h, 4))?
        })
    }
}

/// A read-only view of an exception table. Never panics, whatever the bytes.
#[derive(Debug, Clone, Copy)]
pub struct ExceptionTable<'a> {
    sites: &'a [u8],
    handlers: &'a [u8],
}

impl<'a> ExceptionTable<'a> {
    /// Parses the table, or `None` if the bytes are not one.
    pub fn parse(bytes: &'a [u8]) -> Option<Self> {
        let mut reader = Reader::new(bytes);
        if reader.u32()? != MAGIC {
            return None;
        }
        let site_count = reader.u32()? as usize;
        let handler_count = reader.u32()? as usize;
        let sites = reader.take(site_count.checked_mul(SITE_LEN)?)?;
        let handlers = reader.take(handler_count.checked_mul(HANDLER_LEN)?)?;
        Some(ExceptionTable { sites, handlers })
    }

    /// The call site whose return address is at `return_offset`.
    pub fn site(&self, return_offset: u32) -> Option<CallSite<'a>> {
        let count = self.sites.len() / SITE_LEN;
        let (mut low, mut high) = (0usize, count);
        while low < high {
            let mid = low + (high - low) / 2;
            let key = read_u32(self.sites, mid * SITE_LEN)?;
            if key < return_offset {
                low = mid + 1;
            } else if key > return_offset {
                high = mid;
            } else {
                let base = mid * SITE_LEN;
                let first = read_u32(self.sites, base + 8)? as usize;
                let len = read_u32(self.sites, base + 12)? as usize;
                let start = first.checked_mul(HANDLER_LEN)?;
                let end = start.checked_add(len.checked_mul(HANDLER_LEN)?)?;
                return Some(CallSite {
                    frame_offset: read_u32(self.sites, base + 4)?,
                    handlers: self.handlers.get(start..end)?,
                });
            }
        }
        None
    }
}

/// A call site with handlers, as a compiler records it.
#[cfg(feature = "alloc")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallSiteRecord {
    /// Offset of the call's return address.
    pub return_offset: u32,
    /// Distance from the frame pointer down to the stack pointer at the call.
    pub frame_offset: u32,
    /// (tag or [`CATCH_ALL`], handler offset), in match order.
    pub handlers: alloc::vec::Vec<(u32, u32)>,
}

/// Builds an exception table.
#[cfg(feature = "alloc")]
#[derive(Debug, Default)]
pub struct ExceptionTableBuilder {
    sites: alloc::vec::Vec<CallSiteRecord>,
}

#[cfg(feature = "alloc")]
impl ExceptionTableBuilder {
    /// Records a call site.
    pub fn site(&mut self, site: CallSiteRecord) {
        self.sites.push(site);
    }

    /// Whether no call site was recorded.
    pub fn is_empty(&self) -> bool {
        self.sites.is_empty()
    }

    /// Encodes the table.
    pub fn finish(mut self) -> alloc::vec::Vec<u8> {
        use crate::bytes::push_u32;
        self.sites.sort_unstable_by_key(|site| site.return_offset);
        let handler_count: usize = self.sites.iter().map(|s| s.handlers.len()).sum();
        let mut out = alloc::vec::Vec::new();
        push_u32(&mut out, MAGIC);
        push_u32(&mut out, self.sites.len() as u32);
        push_u32(&mut out, handler_count as u32);
        let mut first = 0u32;
        for site in &self.sites {
            let count = site.handlers.len() as u32;
            for field in [site.return_offset, site.frame_offset, first, count] {
                push_u32(&mut out, field);
            }
            first += count;
        }
        for site in &self.sites {
            for (tag, offset) in &site.handlers {
                push_u32(&mut out, *tag);
                push_u32(&mut out, *offset);
            }
        }
        out
    }
}

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn sites_are_found_by_return_offset_and_handlers_match_in_order() {
        let mut builder = ExceptionTableBuilder::default();
        builder.site(CallSiteRecord {
            return_offset: 200,
            frame_offset: 32,
            handlers: vec![(7, 250), (CATCH_ALL, 260)],
        });
        builder.site(CallSiteRecord {
            return_offset: 100,
            frame_offset: 16,
            handlers: vec![(3, 150)],
        });
        let bytes = builder.finish();
        let table = ExceptionTable::parse(&bytes).unwrap();
        let site = table.site(100).unwrap();
        assert_eq!(site.frame_offset, 16);
        assert_eq!(site.handler_for(3), Some(150));
        assert_eq!(site.handler_for(4), None);
        let site = table.site(200).unwrap();
        assert_eq!(site.handler_for(7), Some(250));
        assert_eq!(site.handler_for(9), Some(260));
        assert!(table.site(150).is_none());
        assert!(ExceptionTable::parse(&bytes[..bytes.len() - 1]).is_none());
    }
}
