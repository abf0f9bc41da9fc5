//! Symbol resolution: loading objects, pulling archive members on demand, and deciding
//! which definition each global name refers to.
//!
//! Objects are always loaded. An archive member is loaded only when it defines a name
//! that is currently undefined and referenced strongly (a weak reference never pulls a
//! member, as in GNU ld and lld); loading repeats until nothing changes. Two strong
//! definitions of a name are an error; a strong definition beats a weak one and a
//! common one; the first weak definition beats later weak ones. COMDAT groups are
//! kept from the first object that has them.

use std::collections::HashSet;

use object::elf;

use crate::error::{LinkError, LinkErrorKind, Result, show};
use crate::input::{self, ARCHIVE_MAGIC, Archive, Object, SectionKind};
use crate::util::FastMap;
use crate::{Arch, Input};

/// Symbols the linker defines when an input references them and nothing defines them.
/// Their values are absolute addresses (`SHN_ABS` in the output's symbol table), usable
/// with every relocation an input may use on any symbol: absolute, PC-relative and
/// GOT-indirect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LinkerSymbol {
    /// Start of the image: its first byte (the ELF header on Linux, the entry point on
    /// bare metal).
    ExecutableStart,
    /// End of `.text`.
    Etext,
    /// End of the initialised data (`.data`).
    Edata,
    /// Start of `.bss`.
    BssStart,
    /// End of the image in memory (after `.bss`).
    End,
    /// RISC-V `gp`: start of small data plus 0x800.
    GlobalPointer,
    /// Where the initial contents of `.data` are: in flash when the code executes in
    /// place, else `.data` itself.
    DataLoad,
    /// Start of `.data` (where it runs).
    DataStart,
    /// End of `.bss`.
    BssEnd,
    /// Bare metal: the lowest address of the stack (`.stack`).
    StackBottom,
    /// Bare metal: the initial stack pointer, just past the stack.
    StackTop,
    /// Bare metal: start of the heap (`.heap`).
    HeapStart,
    /// Bare metal: end of the heap.
    HeapEnd,
    /// Bare metal: the first byte after the heap that nothing uses, 16-byte aligned:
    /// linear memory goes from here to `RamEnd`.
    FreeStart,
    /// Bare metal: the end of the RAM region holding the stack.
    RamEnd,
}

impl LinkerSymbol {
    /// Whether only a bare-metal layout defines the symbol (a Linux process gets its
    /// stack and memory from the kernel).
    fn bare_metal_only(self) -> bool {
        use LinkerSymbol::*;
        matches!(
            self,
            StackBottom | StackTop | HeapStart | HeapEnd | FreeStart | RamEnd
        )
    }
}

/// Names the linker defines. The `__wafer_*` ones are the contract with the runtime's
/// boot code (see the crate documentation); the rest are the GNU ones.
const LINKER_SYMBOLS: &[(&[u8], LinkerSymbol)] = &[
    (b"__executable_start", LinkerSymbol::ExecutableStart),
    (b"__etext", LinkerSymbol::Etext),
    (b"_etext", LinkerSymbol::Etext),
    (b"etext", LinkerSymbol::Etext),
    (b"_edata", LinkerSymbol::Edata),
    (b"edata", LinkerSymbol::Edata),
    (b"__bss_start", LinkerSymbol::BssStart),
    (b"_end", LinkerSymbol::End),
    (b"end", LinkerSymbol::End),
    (b"__global_pointer$", LinkerSymbol::GlobalPointer),
    (b"__wafer_image_start", LinkerSymbol::ExecutableStart),
    (b"__wafer_data_load", LinkerSymbol::DataLoad),
    (b"__wafer_data_start", LinkerSymbol::DataStart),
    (b"__wafer_data_end", LinkerSymbol::Edata),
    (b"__wafer_bss_start", LinkerSymbol::BssStart),
    (b"__wafer_bss_end", LinkerSymbol::BssEnd),
    (b"__wafer_stack_bottom", LinkerSymbol::StackBottom),
    (b"__wafer_stack_top", LinkerSymbol::StackTop),
    (b"__wafer_heap_start", LinkerSymbol::HeapStart),
    (b"__wafer_heap_end", LinkerSymbol::HeapEnd),
    (b"__wafer_free_start", LinkerSymbol::FreeStart),
    (b"__wafer_ram_end", LinkerSymbol::RamEnd),
];

/// What a global name resolved to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Definition {
    /// Nothing defines it (yet). If only weak references remain, its value is 0.
    Undefined,
    /// At `value` within section `section` of object `object`.
    Section {
        object: u32,
        section: u32,
        value: u64,
        weak: bool,
    },
    /// `SHN_ABS`.
    Absolute { object: u32, value: u64, weak: bool },
    /// `SHN_COMMON`: zero-filled storage allocated in `.bss` if live.
    Common { object: u32, size: u64, align: u64 },
    /// Defined by the linker from the layout.
    Linker(LinkerSymbol),
}

/// A global (or weak) name.
#[derive(Debug)]
pub(crate) struct Global<'a> {
    pub name: &'a [u8],
    pub definition: Definition,
    /// Some loaded object references the name with a non-weak undefined symbol.
    pub strong_reference: bool,
    /// `st_type` and `st_size` of the definition, for the output symbol table.
    pub typ: u8,
    pub size: u64,
}

/// Marks a symbol-table slot that is local (no global entry).
pub(crate) const LOCAL: u32 = u32::MAX;

/// All loaded objects and the global symbol table.
#[derive(Debug)]
pub(crate) struct Resolution<'a> {
    pub objects: Vec<Object<'a>>,
    /// For each object, each symbol index: the global id, or [`LOCAL`].
    pub symbol_globals: Vec<Vec<u32>>,
    pub globals: Vec<Global<'a>>,
    pub names: FastMap<&'a [u8], u32>,
}

impl<'a> Resolution<'a> {
    pub fn lookup(&self, name: &[u8]) -> Option<u32> {
        self.names.get(name).copied()
    }

    fn intern(&mut self, name: &'a [u8]) -> Result<u32> {
        if let Some(&id) = self.names.get(name) {
            return Ok(id);
        }
        let id = u32::try_from(self.globals.len())
            .ok()
            .filter(|&id| id != LOCAL)
            .ok_or_else(|| LinkError::unsupported("too many symbols"))?;
        self.globals.push(Global {
            name,
            definition: Definition::Undefined,
            strong_reference: false,
            typ: elf::STT_NOTYPE,
            size: 0,
        });
        self.names.insert(name, id);
        Ok(id)
    }

    /// Adds an object's symbols; pushes names that became strongly undefined onto
    /// `wanted` so the caller can look for them in archives.
    fn add_object(
        &mut self,
        mut object: Object<'a>,
        comdats: &mut HashSet<&'a [u8]>,
        wanted: &mut Vec<u32>,
    ) -> Result<()> {
        for group in &object.groups {
            if !comdats.insert(group.signature) {
                for &section in &group.sections {
                    object.sections[section as usize].kind = SectionKind::Ignore;
                }
            }
        }
        let object_id = u32::try_from(self.objects.len())
            .map_err(|_| LinkError::unsupported("too many input objects"))?;
        let mut slots = Vec::with_capacity(object.symbols.len());
        for (index, sym) in object.symbols.iter().enumerate() {
            if index == 0 || sym.is_local() {
                slots.push(LOCAL);
                continue;
            }
            if sym.typ == elf::STT_TLS {
                return Err(LinkError::unsupported(format!(
                    "unsupported: thread-local storage in {} (symbol `{}`)",
                    object.name,
                    show(sym.name)
                )));
            }
            let id = self.intern(sym.name)?;
            slots.push(id);
            let weak = sym.is_weak();
            let new = if sym.shndx == u32::from(elf::SHN_UNDEF) {
                None
            } else if sym.shndx == u32::from(elf::SHN_ABS) {
                Some(Definition::Absolute {
                    object: object_id,
                    value: sym.value,
                    weak,
                })
            } else if sym.shndx == u32::from(elf::SHN_COMMON) {
                let align = if sym.value == 0 { 1 } else { sym.value };
                if !align.is_power_of_two() {
                    return Err(LinkError::malformed(
                        &object.name,
                        format_args!("common symbol `{}` has alignment {align}", show(sym.name)),
                    ));
                }
                Some(Definition::Common {
                    object: object_id,
                    size: sym.size,
                    align,
                })
            } else if object.sections[sym.shndx as usize].kind == SectionKind::Ignore {
                // Defined in a discarded COMDAT copy (or a section we never load):
                // behaves as a reference to the kept definition.
                None
            } else {
                Some(Definition::Section {
                    object: object_id,
                    section: sym.shndx,
                    value: sym.value,
                    weak,
                })
            };
            let global = &mut self.globals[id as usize];
            let Some(new) = new else {
                if !weak && !global.strong_reference {
                    global.strong_reference = true;
                    if global.definition == Definition::Undefined {
                        wanted.push(id);
                    }
                }
                continue;
            };
            if let Some(keep_new) = prefer(&global.definition, &new) {
                if keep_new {
                    global.definition = new;
                    global.typ = sym.typ;
                    global.size = sym.size;
                }
                if let (
                    Definition::Common { size, align, .. },
                    Definition::Common {
                        size: new_size,
                        align: new_align,
                        ..
                    },
                ) = (&mut global.definition, new)
                {
                    *size = (*size).max(new_size);
                    *align = (*align).max(new_align);
                }
            } else {
                let first = match global.definition {
                    Definition::Section { object: first, .. }
                    | Definition::Absolute { object: first, .. }
                    | Definition::Common { object: first, .. } => self
                        .objects
                        .get(first as usize)
                        // Not pushed yet: defined twice in the object being added.
                        .map_or(object.name.as_str(), |o| o.name.as_str()),
                    Definition::Undefined | Definition::Linker(_) => "the linker",
                };
                return Err(LinkError::new(
                    LinkErrorKind::DuplicateSymbol,
                    format!(
                        "duplicate symbol `{}`: defined in {first} and {}",
                        show(sym.name),
                        object.name
                    ),
                ));
            }
        }
        self.objects.push(object);
        self.symbol_globals.push(slots);
        Ok(())
    }
}

fn is_weak(definition: &Definition) -> bool {
    matches!(
        definition,
        Definition::Section { weak: true, .. } | Definition::Absolute { weak: true, .. }
    )
}

/// Decides between an existing definition and a new one: `Some(true)` to take the new
/// one, `Some(false)` to keep the old, `None` for a duplicate-definition error.
fn prefer(old: &Definition, new: &Definition) -> Option<bool> {
    use Definition::*;
    Some(match (old, new) {
        (Undefined, _) => true,
        // Common symbols merge (the caller keeps the larger size and alignment).
        (Common { .. }, Common { .. }) => false,
        (Common { .. }, n) => !is_weak(n),
        (o, Common { .. }) => is_weak(o),
        (_, n) if is_weak(n) => false,
        (o, _) if is_weak(o) => true,
        _ => return None,
    })
}

/// Loads every input, pulls the archive members that are needed, and defines the
/// linker symbols that remain undefined (those of [`LinkerSymbol::bare_metal_only`]
/// only if `bare_metal`; elsewhere they stay undefined, and a use is the usual error).
/// `entry` counts as a strong reference (as `-e` does for GNU ld and lld), so an
/// archive can supply it.
pub(crate) fn resolve<'a>(
    arch: Arch,
    inputs: &[Input<'a>],
    entry: &'a [u8],
    bare_metal: bool,
) -> Result<Resolution<'a>> {
    let mut resolution = Resolution {
        objects: Vec::new(),
        symbol_globals: Vec::new(),
        globals: Vec::new(),
        names: FastMap::default(),
    };
    let mut comdats = HashSet::new();
    let mut wanted = Vec::new();
    let mut archives: Vec<Archive<'a>> = Vec::new();
    for input in inputs {
        if input.data.starts_with(ARCHIVE_MAGIC) {
            archives.push(input::parse_archive(arch, input.name, input.data)?);
        } else {
            let object = input::parse_object(arch, input.name.to_owned(), input.data)?;
            resolution.add_object(object, &mut comdats, &mut wanted)?;
        }
    }

    let entry = resolution.intern(entry)?;
    let global = &mut resolution.globals[entry as usize];
    if !global.strong_reference {
        global.strong_reference = true;
        if global.definition == Definition::Undefined {
            wanted.push(entry);
        }
    }

    // Which archive member defines each name: the first archive, first member wins.
    let mut lazy: FastMap<&[u8], (usize, usize)> = FastMap::default();
    for (a, archive) in archives.iter().enumerate() {
        for &(name, member) in &archive.index {
            lazy.entry(name).or_insert((a, member));
        }
    }
    while let Some(id) = wanted.pop() {
        let global = &resolution.globals[id as usize];
        if global.definition != Definition::Undefined {
            continue;
        }
        let Some(&(a, m)) = lazy.get(global.name) else {
            continue;
        };
        let member = &mut archives[a].members[m];
        if member.loaded {
            continue;
        }
        member.loaded = true;
        let mut object = input::parse_object(arch, member.name.clone(), member.data)?;
        object.archive_member = true;
        resolution.add_object(object, &mut comdats, &mut wanted)?;
    }

    for &(name, symbol) in LINKER_SYMBOLS {
        if symbol.bare_metal_only() && !bare_metal {
            continue;
        }
        if let Some(id) = resolution.lookup(name) {
            let global = &mut resolution.globals[id as usize];
            if global.definition == Definition::Undefined {
                global.definition = Definition::Linker(symbol);
            }
        }
    }
    Ok(resolution)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(weak: bool) -> Definition {
        Definition::Section {
            object: 0,
            section: 1,
            value: 0,
            weak,
        }
    }

    const COMMON: Definition = Definition::Common {
        object: 0,
        size: 4,
        align: 4,
    };

    #[test]
    fn strong_beats_weak_and_common_and_duplicates_fail() {
        assert_eq!(prefer(&Definition::Undefined, &section(true)), Some(true));
        assert_eq!(prefer(&section(true), &section(false)), Some(true));
        assert_eq!(prefer(&section(false), &section(true)), Some(false));
        assert_eq!(prefer(&section(true), &section(true)), Some(false));
        assert_eq!(prefer(&section(false), &section(false)), None);
        assert_eq!(prefer(&COMMON, &section(false)), Some(true));
        assert_eq!(prefer(&COMMON, &section(true)), Some(false));
        assert_eq!(prefer(&section(false), &COMMON), Some(false));
        assert_eq!(prefer(&section(true), &COMMON), Some(true));
        assert_eq!(prefer(&COMMON, &COMMON), Some(false));
    }
}
