//! Garbage collection of sections (`--gc-sections`), and the GOT slots the surviving
//! relocations need.
//!
//! Roots are the section of the entry symbol, every `.wafer*` section (image metadata
//! that nothing references but tools and the runtime find by name) and every section
//! flagged `SHF_GNU_RETAIN`. Everything a live section's relocations reach is live.
//! Undefined symbols are reported here, and only when a live section references them.

use object::elf;

use crate::Arch;
use crate::error::{LinkError, LinkErrorKind, Result, show};
use crate::input::SectionKind;
use crate::reloc::{self, GotKey, GotUse};
use crate::resolve::{Definition, LOCAL, Resolution};
use crate::util::FastMap;

/// The result of marking.
#[derive(Debug, Default)]
pub(crate) struct Live {
    /// For each object, each section: kept.
    pub sections: Vec<Vec<bool>>,
    /// Common symbols referenced from live sections, in first-reference order.
    pub commons: Vec<u32>,
    /// GOT slots in allocation order (slot `i` is at `.got + 8 * i`).
    pub got: Vec<GotKey>,
}

struct Marker<'r, 'a> {
    arch: Arch,
    resolution: &'r Resolution<'a>,
    live: Live,
    common_seen: Vec<bool>,
    got_index: FastMap<GotKey, u32>,
    stack: Vec<(u32, u32)>,
}

impl Marker<'_, '_> {
    fn mark(&mut self, object: u32, section: u32) {
        let kind = self.resolution.objects[object as usize].sections[section as usize].kind;
        let flag = &mut self.live.sections[object as usize][section as usize];
        if kind != SectionKind::Ignore && !*flag {
            *flag = true;
            self.stack.push((object, section));
        }
    }

    fn mark_definition(&mut self, id: u32) {
        match self.resolution.globals[id as usize].definition {
            Definition::Section {
                object, section, ..
            } => self.mark(object, section),
            Definition::Common { .. } => {
                if !self.common_seen[id as usize] {
                    self.common_seen[id as usize] = true;
                    self.live.commons.push(id);
                }
            }
            Definition::Undefined | Definition::Absolute { .. } | Definition::Linker(_) => {}
        }
    }

    /// Marks what the relocations of one live section reach.
    fn scan(&mut self, object: u32, section: u32) -> Result<()> {
        let resolution = self.resolution;
        let obj = &resolution.objects[object as usize];
        let sec = &obj.sections[section as usize];
        for rela in sec.relocs {
            let (offset, r_type, sym, addend) = reloc::fields(rela);
            if sym == 0 {
                continue;
            }
            let Some(s) = obj.symbols.get(sym as usize) else {
                return Err(LinkError::malformed(
                    &obj.name,
                    format_args!(
                        "relocation in {} uses bad symbol index {sym}",
                        obj.describe_section(section)
                    ),
                ));
            };
            match resolution.symbol_globals[object as usize][sym as usize] {
                LOCAL => {
                    let shndx = s.shndx;
                    if shndx != u32::from(elf::SHN_ABS) && shndx != u32::from(elf::SHN_UNDEF) {
                        if shndx as usize >= obj.sections.len() {
                            return Err(LinkError::malformed(
                                &obj.name,
                                format_args!("symbol `{}` has a bad section index", show(s.name)),
                            ));
                        }
                        self.mark(object, shndx);
                    }
                }
                id => {
                    let global = &resolution.globals[id as usize];
                    if global.definition == Definition::Undefined && !s.is_weak() {
                        return Err(LinkError::new(
                            LinkErrorKind::UndefinedSymbol,
                            format!(
                                "undefined symbol `{}` referenced from {}",
                                show(global.name),
                                obj.describe_section(section)
                            ),
                        ));
                    }
                    self.mark_definition(id);
                }
            }
            let defined = reloc::has_relative_address(resolution, object, sym);
            if reloc::got_use(self.arch, r_type, sec.data, offset, addend, defined) == GotUse::Slot
            {
                let key = reloc::got_key(resolution, object, sym);
                if !self.got_index.contains_key(&key) {
                    let slot = u32::try_from(self.live.got.len()).unwrap_or(u32::MAX);
                    self.got_index.insert(key, slot);
                    self.live.got.push(key);
                }
            }
        }
        Ok(())
    }
}

/// Marks the live sections starting from the entry symbol `entry` (a global id).
pub(crate) fn mark(arch: Arch, resolution: &Resolution<'_>, entry: u32) -> Result<Live> {
    let mut marker = Marker {
        arch,
        resolution,
        live: Live {
            sections: resolution
                .objects
                .iter()
                .map(|o| vec![false; o.sections.len()])
                .collect(),
            ..Live::default()
        },
        common_seen: vec![false; resolution.globals.len()],
        got_index: FastMap::default(),
        stack: Vec::new(),
    };
    marker.mark_definition(entry);
    let retain = u64::from(elf::SHF_GNU_RETAIN);
    for (o, object) in resolution.objects.iter().enumerate() {
        for (s, section) in object.sections.iter().enumerate() {
            if section.kind == SectionKind::Wafer
                || (section.kind != SectionKind::Ignore && section.flags & retain != 0)
            {
                marker.mark(o as u32, s as u32);
            }
        }
    }
    while let Some((object, section)) = marker.stack.pop() {
        marker.scan(object, section)?;
    }
    Ok(marker.live)
}
