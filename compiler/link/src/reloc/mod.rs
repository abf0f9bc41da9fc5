//! Relocation processing: which relocations need a GOT slot, and patching the copied
//! section contents with final addresses.
//!
//! The per-ISA modules only do arithmetic and instruction encoding on a byte slice;
//! this module computes their operands (the ELF psABI names: `S` symbol address, `A`
//! addend, `P` place, `G` GOT slot address) from the resolution and the layout, and
//! turns their failures into messages that name the input, section and symbol.

pub(crate) mod aarch64;
pub(crate) mod riscv64;
pub(crate) mod x86_64;

use object::LittleEndian as Le;
use object::elf::{self, Rela64};
use object::read::elf::Rela;

use crate::Arch;
use crate::error::{LinkError, LinkErrorKind, Result, show};
use crate::layout::Image;
use crate::resolve::{Definition, LOCAL, Resolution};
use crate::util::FastMap;

/// The operands of one relocation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Values {
    /// `S`: the target's address (0 for an undefined weak symbol). For RISC-V
    /// `PCREL_LO12_*` the caller puts the paired `HI20`'s PC-relative value here.
    pub s: u64,
    /// `A`: the addend.
    pub a: i64,
    /// `P`: the address of the place being relocated.
    pub p: u64,
    /// `G`: the address of the target's GOT slot, when the relocation uses one.
    /// `None` for a GOT relocation means "relax to a direct reference" (x86_64 only).
    pub g: Option<u64>,
    /// The target is an undefined weak symbol.
    pub undefined_weak: bool,
}

impl Values {
    /// `S + A` with wrap-around (range checks come afterwards).
    pub fn sa(&self) -> u64 {
        self.s.wrapping_add_signed(self.a)
    }

    /// `S + A - P` as a signed value.
    pub fn pcrel(&self) -> i64 {
        self.sa().wrapping_sub(self.p) as i64
    }
}

/// Why one relocation could not be applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RelocError {
    Unsupported,
    /// The value does not fit in the field.
    OutOfRange {
        value: i64,
        range: &'static str,
    },
    /// The value is not a multiple of the field's scale.
    Misaligned {
        value: i64,
        align: u64,
    },
    /// The field extends past the end of the section.
    OutOfBounds,
    /// The instruction at the place is not one the relocation can be relaxed for.
    BadInstruction,
}

/// How a relocation uses the GOT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GotUse {
    None,
    /// Needs a slot holding the target's address.
    Slot,
    /// A GOT load that will be rewritten into a direct reference (no slot).
    Relax,
}

pub(crate) fn type_name(arch: Arch, r_type: u32) -> Option<&'static str> {
    match arch {
        Arch::X86_64 => x86_64::name(r_type),
        Arch::Aarch64 => aarch64::name(r_type),
        Arch::Riscv64 => riscv64::name(r_type),
    }
}

fn describe_type(arch: Arch, r_type: u32) -> String {
    type_name(arch, r_type).map_or_else(|| format!("type {r_type}"), str::to_owned)
}

/// Decides whether a relocation needs a GOT slot. `defined` says the target has a
/// known, non-absolute address (a section, a common or a linker symbol), which is what
/// relaxing a GOT load into a PC-relative address needs. `data` is the *input*
/// section's contents, so the decision is the same before and after patching.
pub(crate) fn got_use(
    arch: Arch,
    r_type: u32,
    data: &[u8],
    offset: u64,
    addend: i64,
    defined: bool,
) -> GotUse {
    match arch {
        Arch::X86_64 => x86_64::got_use(r_type, data, offset, addend, defined),
        Arch::Aarch64 => aarch64::got_use(r_type),
        Arch::Riscv64 => riscv64::got_use(r_type),
    }
}

fn apply_one(
    arch: Arch,
    r_type: u32,
    data: &mut [u8],
    offset: usize,
    v: &Values,
) -> Result<(), RelocError> {
    match arch {
        Arch::X86_64 => x86_64::apply(r_type, data, offset, v),
        Arch::Aarch64 => aarch64::apply(r_type, data, offset, v),
        Arch::Riscv64 => riscv64::apply(r_type, data, offset, v),
    }
}

/// Identifies a GOT slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum GotKey {
    Global(u32),
    /// A local symbol: object and symbol index.
    Local(u32, u32),
}

/// The GOT key for symbol `sym` of object `object`.
pub(crate) fn got_key(resolution: &Resolution<'_>, object: u32, sym: u32) -> GotKey {
    match resolution.symbol_globals[object as usize][sym as usize] {
        LOCAL => GotKey::Local(object, sym),
        id => GotKey::Global(id),
    }
}

/// Reads the fields of a RELA entry.
pub(crate) fn fields(rela: &Rela64<Le>) -> (u64, u32, u32, i64) {
    (
        rela.r_offset(Le),
        rela.r_type(Le, false),
        rela.r_sym(Le, false),
        rela.r_addend(Le),
    )
}

/// Everything needed to relocate sections: the resolution, the layout and the GOT.
pub(crate) struct Relocator<'r, 'a> {
    pub arch: Arch,
    pub resolution: &'r Resolution<'a>,
    pub image: &'r Image,
    pub got: &'r FastMap<GotKey, u64>,
}

impl Relocator<'_, '_> {
    /// `S` and whether the target is an undefined weak symbol.
    pub fn target(&self, object: u32, sym: u32) -> Result<(u64, bool)> {
        let obj = &self.resolution.objects[object as usize];
        let s = obj.symbols.get(sym as usize).ok_or_else(|| {
            LinkError::malformed(&obj.name, format_args!("bad symbol index {sym}"))
        })?;
        let id = self.resolution.symbol_globals[object as usize][sym as usize];
        if id != LOCAL {
            let global = &self.resolution.globals[id as usize];
            if global.definition == Definition::Undefined {
                return Ok((0, true));
            }
            return self
                .image
                .global_address(self.resolution, id)
                .map(|a| (a, false))
                .ok_or_else(|| {
                    LinkError::new(
                        LinkErrorKind::Malformed,
                        format!("{}: symbol `{}` has no address", obj.name, show(s.name)),
                    )
                });
        }
        if s.shndx == u32::from(elf::SHN_ABS) {
            return Ok((s.value, false));
        }
        match self.image.section_address(object, s.shndx) {
            Some(base) => Ok((base.wrapping_add(s.value), false)),
            None => Err(LinkError::unsupported(format!(
                "{}: relocation against symbol `{}` in discarded section {}",
                obj.name,
                show(s.name),
                obj.describe_section(s.shndx)
            ))),
        }
    }

    /// Computes the operands of one relocation at address `p`.
    fn values(&self, object: u32, section: u32, rela: &Rela64<Le>, p: u64) -> Result<Values> {
        let (offset, r_type, sym, addend) = fields(rela);
        let (s, undefined_weak) = if sym == 0 {
            (0, false)
        } else {
            self.target(object, sym)?
        };
        let data = self.resolution.objects[object as usize].sections[section as usize].data;
        let defined = !undefined_weak && self.has_relative_address(object, sym);
        let g = match got_use(self.arch, r_type, data, offset, addend, defined) {
            GotUse::Slot => {
                let key = got_key(self.resolution, object, sym);
                Some(*self.got.get(&key).ok_or_else(|| {
                    LinkError::new(LinkErrorKind::Malformed, "internal error: missing GOT slot")
                })?)
            }
            GotUse::None | GotUse::Relax => None,
        };
        Ok(Values {
            s,
            a: addend,
            p,
            g,
            undefined_weak,
        })
    }

    /// Whether the target lives in the image (not absolute, not undefined), so a
    /// PC-relative reference to it is always possible.
    pub fn has_relative_address(&self, object: u32, sym: u32) -> bool {
        has_relative_address(self.resolution, object, sym)
    }

    /// Patches `out` (the section's bytes, already copied into the image) for every
    /// relocation of section `section` of object `object`, placed at address `base`.
    pub fn relocate_section(
        &self,
        object: u32,
        section: u32,
        base: u64,
        out: &mut [u8],
    ) -> Result<()> {
        let obj = &self.resolution.objects[object as usize];
        let relocs = obj.sections[section as usize].relocs;
        // RISC-V PCREL_LO12 relocations name the label of their AUIPC; find that
        // instruction's HI20 relocation by offset (built on first use).
        let mut hi20: Option<FastMap<u64, usize>> = None;
        for rela in relocs {
            let (offset, r_type, sym, _) = fields(rela);
            if r_type == 0 || (self.arch == Arch::Riscv64 && riscv64::is_ignored(r_type)) {
                continue;
            }
            let p = base.wrapping_add(offset);
            let mut v = self.values(object, section, rela, p)?;
            if self.arch == Arch::Riscv64 && riscv64::is_pcrel_lo12(r_type) {
                let map = hi20.get_or_insert_with(|| {
                    relocs
                        .iter()
                        .enumerate()
                        .filter(|(_, r)| riscv64::is_pcrel_hi20(fields(r).1))
                        .map(|(i, r)| (fields(r).0, i))
                        .collect()
                });
                v = self.pcrel_lo12_values(object, section, sym, base, map, rela)?;
            }
            let field = usize::try_from(offset).unwrap_or(usize::MAX);
            apply_one(self.arch, r_type, out, field, &v)
                .map_err(|e| self.describe_error(e, object, section, offset, r_type, sym, &v))?;
        }
        Ok(())
    }

    /// For a `PCREL_LO12_*` whose symbol labels an AUIPC: the values of the HI20 there.
    fn pcrel_lo12_values(
        &self,
        object: u32,
        section: u32,
        label: u32,
        base: u64,
        hi20: &FastMap<u64, usize>,
        rela: &Rela64<Le>,
    ) -> Result<Values> {
        let obj = &self.resolution.objects[object as usize];
        let sec = &obj.sections[section as usize];
        let where_ = || format!("{}+{:#x}", obj.describe_section(section), rela.r_offset(Le));
        let label_sym = obj
            .symbols
            .get(label as usize)
            .filter(|s| s.shndx == section);
        let Some(label_sym) = label_sym else {
            return Err(LinkError::unsupported(format!(
                "{}: R_RISCV_PCREL_LO12 does not point at a label in the same section",
                where_()
            )));
        };
        // The label is normally a local symbol on the AUIPC; a section symbol plus
        // addend names the same place.
        let mut at = label_sym.value;
        if label_sym.typ == elf::STT_SECTION {
            at = at.wrapping_add_signed(rela.r_addend(Le));
        }
        let Some(&hi_index) = hi20.get(&at) else {
            return Err(LinkError::unsupported(format!(
                "{}: no R_RISCV_PCREL_HI20/GOT_HI20 at the label `{}` of R_RISCV_PCREL_LO12",
                where_(),
                show(label_sym.name)
            )));
        };
        let hi = &sec.relocs[hi_index];
        let hi_p = base.wrapping_add(hi.r_offset(Le));
        let hv = self.values(object, section, hi, hi_p)?;
        let value = match hv.g {
            Some(g) => g.wrapping_add_signed(hv.a).wrapping_sub(hv.p),
            None => hv.pcrel() as u64,
        };
        Ok(Values {
            s: value,
            ..Values::default()
        })
    }

    #[expect(clippy::too_many_arguments, reason = "all of it goes into the message")]
    fn describe_error(
        &self,
        error: RelocError,
        object: u32,
        section: u32,
        offset: u64,
        r_type: u32,
        sym: u32,
        v: &Values,
    ) -> LinkError {
        let obj = &self.resolution.objects[object as usize];
        let name = describe_type(self.arch, r_type);
        let target = match obj.symbols.get(sym as usize) {
            Some(s) if s.typ == elf::STT_SECTION => obj.describe_section(s.shndx),
            Some(s) => show(s.name),
            None => String::from("?"),
        };
        let place = format!("{}+{offset:#x}", obj.describe_section(section));
        match error {
            RelocError::Unsupported => LinkError::unsupported(format!(
                "unsupported relocation {name} against `{target}` in {place}"
            )),
            RelocError::OutOfRange { value, range } => LinkError::new(
                LinkErrorKind::RelocationOutOfRange,
                format!(
                    "relocation {name} against `{target}` in {place} out of range: \
                     {value:#x} is not in {range} (S={:#x} A={:#x} P={:#x})",
                    v.s, v.a, v.p
                ),
            ),
            RelocError::Misaligned { value, align } => LinkError::new(
                LinkErrorKind::RelocationOutOfRange,
                format!(
                    "relocation {name} against `{target}` in {place}: {value:#x} is not a multiple of {align}"
                ),
            ),
            RelocError::OutOfBounds => LinkError::malformed(
                &obj.name,
                format_args!("relocation {name} at {place} is past the end of the section"),
            ),
            RelocError::BadInstruction => LinkError::malformed(
                &obj.name,
                format_args!("relocation {name} at {place} is not on a relaxable instruction"),
            ),
        }
    }
}

/// See [`Relocator::has_relative_address`].
pub(crate) fn has_relative_address(resolution: &Resolution<'_>, object: u32, sym: u32) -> bool {
    let Some(s) = resolution.objects[object as usize]
        .symbols
        .get(sym as usize)
    else {
        return false;
    };
    match resolution.symbol_globals[object as usize][sym as usize] {
        LOCAL => s.shndx != u32::from(elf::SHN_ABS) && s.shndx != u32::from(elf::SHN_UNDEF),
        id => matches!(
            resolution.globals[id as usize].definition,
            Definition::Section { .. } | Definition::Common { .. } | Definition::Linker(_)
        ),
    }
}

// Field access and range checks shared by the ISA modules.

pub(crate) fn read<const N: usize>(data: &[u8], offset: usize) -> Result<[u8; N], RelocError> {
    let end = offset.checked_add(N).ok_or(RelocError::OutOfBounds)?;
    let bytes = data.get(offset..end).ok_or(RelocError::OutOfBounds)?;
    let mut out = [0; N];
    out.copy_from_slice(bytes);
    Ok(out)
}

pub(crate) fn write(data: &mut [u8], offset: usize, bytes: &[u8]) -> Result<(), RelocError> {
    let end = offset
        .checked_add(bytes.len())
        .ok_or(RelocError::OutOfBounds)?;
    data.get_mut(offset..end)
        .ok_or(RelocError::OutOfBounds)?
        .copy_from_slice(bytes);
    Ok(())
}

pub(crate) fn read_u16(data: &[u8], offset: usize) -> Result<u16, RelocError> {
    read(data, offset).map(u16::from_le_bytes)
}

pub(crate) fn read_u32(data: &[u8], offset: usize) -> Result<u32, RelocError> {
    read(data, offset).map(u32::from_le_bytes)
}

#[cfg(test)]
pub(crate) fn read_u64(data: &[u8], offset: usize) -> Result<u64, RelocError> {
    read(data, offset).map(u64::from_le_bytes)
}

/// Checks that `value` fits in a `bits`-wide two's-complement field.
pub(crate) fn check_signed(value: i64, bits: u32, range: &'static str) -> Result<i64, RelocError> {
    let min = -(1i64 << (bits - 1));
    let max = (1i64 << (bits - 1)) - 1;
    if value < min || value > max {
        return Err(RelocError::OutOfRange { value, range });
    }
    Ok(value)
}

/// Checks that `value` fits in a `bits`-wide field read either as signed or as unsigned
/// (the rule for data relocations such as `R_AARCH64_ABS32`).
pub(crate) fn check_signed_or_unsigned(
    value: i64,
    bits: u32,
    range: &'static str,
) -> Result<i64, RelocError> {
    let min = -(1i64 << (bits - 1));
    let max = (1i64 << bits) - 1;
    if value < min || value > max {
        return Err(RelocError::OutOfRange { value, range });
    }
    Ok(value)
}

/// Checks that `value` is a multiple of `align` (a power of two).
pub(crate) fn check_aligned(value: i64, align: u64) -> Result<i64, RelocError> {
    if (value as u64) & (align - 1) != 0 {
        return Err(RelocError::Misaligned { value, align });
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_checks() {
        assert!(check_signed(i32::MAX.into(), 32, "").is_ok());
        assert!(check_signed(i32::MIN.into(), 32, "").is_ok());
        assert!(check_signed(i64::from(i32::MAX) + 1, 32, "").is_err());
        assert!(check_signed(i64::from(i32::MIN) - 1, 32, "").is_err());
        assert!(check_signed_or_unsigned(u32::MAX.into(), 32, "").is_ok());
        assert!(check_signed_or_unsigned(i32::MIN.into(), 32, "").is_ok());
        assert!(check_signed_or_unsigned(1 << 32, 32, "").is_err());
        assert!(check_aligned(8, 4).is_ok());
        assert_eq!(
            check_aligned(6, 4),
            Err(RelocError::Misaligned { value: 6, align: 4 })
        );
    }

    #[test]
    fn field_access_is_bounds_checked() {
        let mut data = [1, 2, 3, 4, 5];
        assert_eq!(read_u32(&data, 1), Ok(0x0504_0302));
        assert_eq!(read_u32(&data, 2), Err(RelocError::OutOfBounds));
        assert_eq!(read_u16(&data, usize::MAX), Err(RelocError::OutOfBounds));
        assert_eq!(write(&mut data, 4, &[9, 9]), Err(RelocError::OutOfBounds));
        assert_eq!(write(&mut data, 3, &[9, 9]), Ok(()));
        assert_eq!(data, [1, 2, 3, 9, 9]);
    }

    #[test]
    fn values_wrap_then_check() {
        let v = Values {
            s: 0x1000,
            a: -4,
            p: 0x2000,
            ..Values::default()
        };
        assert_eq!(v.sa(), 0xffc);
        assert_eq!(v.pcrel(), -0x1004);
    }
}
