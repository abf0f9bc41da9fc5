//! AArch64 relocations (ELF for the Arm 64-bit Architecture).

use object::elf::*;

use super::{
    GotUse, RelocError, Values, check_aligned, check_signed, check_signed_or_unsigned, read_u32,
    write,
};

pub(crate) fn name(r_type: u32) -> Option<&'static str> {
    Some(match r_type {
        R_AARCH64_NONE => "R_AARCH64_NONE",
        R_AARCH64_ABS64 => "R_AARCH64_ABS64",
        R_AARCH64_ABS32 => "R_AARCH64_ABS32",
        R_AARCH64_ABS16 => "R_AARCH64_ABS16",
        R_AARCH64_PREL64 => "R_AARCH64_PREL64",
        R_AARCH64_PREL32 => "R_AARCH64_PREL32",
        R_AARCH64_PREL16 => "R_AARCH64_PREL16",
        R_AARCH64_ADR_PREL_LO21 => "R_AARCH64_ADR_PREL_LO21",
        R_AARCH64_ADR_PREL_PG_HI21 => "R_AARCH64_ADR_PREL_PG_HI21",
        R_AARCH64_ADR_PREL_PG_HI21_NC => "R_AARCH64_ADR_PREL_PG_HI21_NC",
        R_AARCH64_ADD_ABS_LO12_NC => "R_AARCH64_ADD_ABS_LO12_NC",
        R_AARCH64_LDST8_ABS_LO12_NC => "R_AARCH64_LDST8_ABS_LO12_NC",
        R_AARCH64_LDST16_ABS_LO12_NC => "R_AARCH64_LDST16_ABS_LO12_NC",
        R_AARCH64_LDST32_ABS_LO12_NC => "R_AARCH64_LDST32_ABS_LO12_NC",
        R_AARCH64_LDST64_ABS_LO12_NC => "R_AARCH64_LDST64_ABS_LO12_NC",
        R_AARCH64_LDST128_ABS_LO12_NC => "R_AARCH64_LDST128_ABS_LO12_NC",
        R_AARCH64_TSTBR14 => "R_AARCH64_TSTBR14",
        R_AARCH64_CONDBR19 => "R_AARCH64_CONDBR19",
        R_AARCH64_JUMP26 => "R_AARCH64_JUMP26",
        R_AARCH64_CALL26 => "R_AARCH64_CALL26",
        R_AARCH64_ADR_GOT_PAGE => "R_AARCH64_ADR_GOT_PAGE",
        R_AARCH64_LD64_GOT_LO12_NC => "R_AARCH64_LD64_GOT_LO12_NC",
        R_AARCH64_TLSDESC_ADR_PAGE21 => "R_AARCH64_TLSDESC_ADR_PAGE21",
        R_AARCH64_TLSLE_ADD_TPREL_HI12 => "R_AARCH64_TLSLE_ADD_TPREL_HI12",
        _ => return None,
    })
}

pub(crate) fn got_use(r_type: u32) -> GotUse {
    match r_type {
        R_AARCH64_ADR_GOT_PAGE | R_AARCH64_LD64_GOT_LO12_NC => GotUse::Slot,
        _ => GotUse::None,
    }
}

fn page(address: u64) -> u64 {
    address & !0xfff
}

/// Patches the 32-bit instruction at `offset`: keeps the bits of `keep`, ORs in `bits`.
fn patch(data: &mut [u8], offset: usize, keep: u32, bits: u32) -> Result<(), RelocError> {
    let insn = read_u32(data, offset)?;
    write(data, offset, &((insn & keep) | bits).to_le_bytes())
}

/// ADR/ADRP: a 21-bit immediate split into immlo (bits 29-30) and immhi (bits 5-23).
fn patch_adr(data: &mut [u8], offset: usize, imm: i64) -> Result<(), RelocError> {
    let imm = imm as u32;
    let bits = ((imm & 3) << 29) | (((imm >> 2) & 0x7ffff) << 5);
    patch(data, offset, !((3 << 29) | (0x7ffff << 5)), bits)
}

/// ADD/LDR/STR (unsigned immediate): a 12-bit immediate at bits 10-21.
fn patch_imm12(data: &mut [u8], offset: usize, imm: u64) -> Result<(), RelocError> {
    patch(data, offset, !(0xfff << 10), ((imm & 0xfff) as u32) << 10)
}

/// The low 12 bits of `value` scaled for a load/store of `size` bytes.
fn lo12_scaled(value: u64, size: u64) -> Result<u64, RelocError> {
    let lo = value & 0xfff;
    check_aligned(lo as i64, size)?;
    Ok(lo / size)
}

/// A branch of `bits` immediate bits (scaled by 4) at bit `shift`.
fn patch_branch(
    data: &mut [u8],
    offset: usize,
    value: i64,
    bits: u32,
    shift: u32,
    range: &'static str,
) -> Result<(), RelocError> {
    check_signed(value, bits + 2, range)?;
    check_aligned(value, 4)?;
    let mask = ((1u32 << bits) - 1) << shift;
    patch(data, offset, !mask, (((value >> 2) as u32) << shift) & mask)
}

pub(crate) fn apply(
    r_type: u32,
    data: &mut [u8],
    offset: usize,
    v: &Values,
) -> Result<(), RelocError> {
    match r_type {
        R_AARCH64_NONE => Ok(()),
        R_AARCH64_ABS64 => write(data, offset, &v.sa().to_le_bytes()),
        R_AARCH64_PREL64 => write(data, offset, &v.pcrel().to_le_bytes()),
        R_AARCH64_ABS32 => {
            let value = check_signed_or_unsigned(v.sa() as i64, 32, "[-2^31, 2^32)")?;
            write(data, offset, &(value as u32).to_le_bytes())
        }
        R_AARCH64_PREL32 => {
            let value = check_signed_or_unsigned(v.pcrel(), 32, "[-2^31, 2^32)")?;
            write(data, offset, &(value as u32).to_le_bytes())
        }
        R_AARCH64_ABS16 => {
            let value = check_signed_or_unsigned(v.sa() as i64, 16, "[-2^15, 2^16)")?;
            write(data, offset, &(value as u16).to_le_bytes())
        }
        R_AARCH64_PREL16 => {
            let value = check_signed_or_unsigned(v.pcrel(), 16, "[-2^15, 2^16)")?;
            write(data, offset, &(value as u16).to_le_bytes())
        }
        R_AARCH64_ADR_PREL_LO21 => {
            let value = check_signed(v.pcrel(), 21, "±1 MiB")?;
            patch_adr(data, offset, value)
        }
        R_AARCH64_ADR_PREL_PG_HI21 | R_AARCH64_ADR_PREL_PG_HI21_NC => {
            let delta = page(v.sa()).wrapping_sub(page(v.p)) as i64;
            if r_type == R_AARCH64_ADR_PREL_PG_HI21 {
                check_signed(delta, 33, "±4 GiB")?;
            }
            patch_adr(data, offset, delta >> 12)
        }
        R_AARCH64_ADR_GOT_PAGE => {
            let g = v.g.ok_or(RelocError::Unsupported)?;
            let delta = check_signed(page(g).wrapping_sub(page(v.p)) as i64, 33, "±4 GiB")?;
            patch_adr(data, offset, delta >> 12)
        }
        R_AARCH64_ADD_ABS_LO12_NC => patch_imm12(data, offset, v.sa()),
        R_AARCH64_LDST8_ABS_LO12_NC => patch_imm12(data, offset, lo12_scaled(v.sa(), 1)?),
        R_AARCH64_LDST16_ABS_LO12_NC => patch_imm12(data, offset, lo12_scaled(v.sa(), 2)?),
        R_AARCH64_LDST32_ABS_LO12_NC => patch_imm12(data, offset, lo12_scaled(v.sa(), 4)?),
        R_AARCH64_LDST64_ABS_LO12_NC => patch_imm12(data, offset, lo12_scaled(v.sa(), 8)?),
        R_AARCH64_LDST128_ABS_LO12_NC => patch_imm12(data, offset, lo12_scaled(v.sa(), 16)?),
        R_AARCH64_LD64_GOT_LO12_NC => {
            let g = v.g.ok_or(RelocError::Unsupported)?;
            patch_imm12(data, offset, lo12_scaled(g.wrapping_add_signed(v.a), 8)?)
        }
        R_AARCH64_CALL26 | R_AARCH64_JUMP26 => {
            // A call to an undefined weak function becomes a branch to the next
            // instruction (as lld does) rather than a jump to address 0.
            let value = if v.undefined_weak { 4 } else { v.pcrel() };
            patch_branch(data, offset, value, 26, 0, "±128 MiB")
        }
        R_AARCH64_CONDBR19 => patch_branch(data, offset, v.pcrel(), 19, 5, "±1 MiB"),
        R_AARCH64_TSTBR14 => patch_branch(data, offset, v.pcrel(), 14, 5, "±32 KiB"),
        _ => Err(RelocError::Unsupported),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(s: u64, a: i64, p: u64) -> Values {
        Values {
            s,
            a,
            p,
            ..Values::default()
        }
    }

    /// Applies to one instruction word and returns the patched word.
    fn insn(r_type: u32, word: u32, v: &Values) -> Result<u32, RelocError> {
        let mut data = word.to_le_bytes();
        apply(r_type, &mut data, 0, v)?;
        Ok(u32::from_le_bytes(data))
    }

    const BL: u32 = 0x9400_0000;
    const B: u32 = 0x1400_0000;
    const ADRP_X0: u32 = 0x9000_0000;
    const ADD_X0_X0: u32 = 0x9100_0000;
    const LDR_X0_X0: u32 = 0xf940_0000;
    const LDR_W0_X0: u32 = 0xb940_0000;
    const LDRB_W0_X0: u32 = 0x3940_0000;
    const LDR_Q0_X0: u32 = 0x3dc0_0000;
    const CBZ_X0: u32 = 0xb400_0000;
    const TBZ_X0_0: u32 = 0x3600_0000;

    #[test]
    fn calls_and_branches() {
        assert_eq!(
            insn(R_AARCH64_CALL26, BL, &values(0x1008, 0, 0x1000)),
            Ok(BL | 2)
        );
        assert_eq!(
            insn(R_AARCH64_JUMP26, B, &values(0x1000, 0, 0x1008)),
            Ok(B | 0x3ff_fffe)
        );
        // ±128 MiB edges.
        assert_eq!(
            insn(R_AARCH64_CALL26, BL, &values(0x800_0000 - 4, 0, 0)),
            Ok(BL | 0x1ff_ffff)
        );
        assert!(matches!(
            insn(R_AARCH64_CALL26, BL, &values(0x800_0000, 0, 0)),
            Err(RelocError::OutOfRange { .. })
        ));
        assert_eq!(
            insn(R_AARCH64_CALL26, BL, &values(0, 0, 0x800_0000)),
            Ok(BL | 0x200_0000)
        );
        assert!(insn(R_AARCH64_CALL26, BL, &values(0, 0, 0x800_0004)).is_err());
        assert!(matches!(
            insn(R_AARCH64_CALL26, BL, &values(2, 0, 0)),
            Err(RelocError::Misaligned { .. })
        ));
        let weak = Values {
            undefined_weak: true,
            ..values(0, 0, 0x4000_0000)
        };
        assert_eq!(insn(R_AARCH64_CALL26, BL, &weak), Ok(BL | 1));

        assert_eq!(
            insn(R_AARCH64_CONDBR19, CBZ_X0, &values(0x1010, 0, 0x1000)),
            Ok(CBZ_X0 | (4 << 5))
        );
        assert_eq!(
            insn(R_AARCH64_CONDBR19, CBZ_X0, &values(0, 0, 4)),
            Ok(CBZ_X0 | (0x7ffff << 5))
        );
        assert!(insn(R_AARCH64_CONDBR19, CBZ_X0, &values(0x10_0000, 0, 0)).is_err());
        assert_eq!(
            insn(R_AARCH64_CONDBR19, CBZ_X0, &values(0xf_fffc, 0, 0)),
            Ok(CBZ_X0 | (0x3ffff << 5))
        );
        assert_eq!(
            insn(R_AARCH64_TSTBR14, TBZ_X0_0, &values(0x7ffc, 0, 0)),
            Ok(TBZ_X0_0 | (0x1fff << 5))
        );
        assert!(insn(R_AARCH64_TSTBR14, TBZ_X0_0, &values(0x8000, 0, 0)).is_err());
        assert_eq!(
            insn(R_AARCH64_TSTBR14, TBZ_X0_0, &values(0, 0, 0x8000)),
            Ok(TBZ_X0_0 | (0x2000 << 5))
        );
    }

    #[test]
    fn page_and_low_twelve() {
        // adrp x0, 0x412000 from 0x400abc: 0x12 pages up; immlo = 2, immhi = 4.
        let v = values(0x41_2345, 0, 0x40_0abc);
        assert_eq!(
            insn(R_AARCH64_ADR_PREL_PG_HI21, ADRP_X0, &v),
            Ok(ADRP_X0 | (2 << 29) | (4 << 5))
        );
        // Backwards by one page: -1 = all ones in 21 bits.
        let back = values(0x40_0000, 0, 0x40_1000);
        assert_eq!(
            insn(R_AARCH64_ADR_PREL_PG_HI21, ADRP_X0, &back),
            Ok(ADRP_X0 | (3 << 29) | (0x7ffff << 5))
        );
        // ±4 GiB: the checked form fails, the _NC form wraps.
        let far = values(0x1_0000_0000, 0, 0);
        assert!(insn(R_AARCH64_ADR_PREL_PG_HI21, ADRP_X0, &far).is_err());
        assert_eq!(
            insn(R_AARCH64_ADR_PREL_PG_HI21_NC, ADRP_X0, &far),
            Ok(ADRP_X0 | (0x40000 << 5))
        );
        let farther = values(0x2_0000_0000, 0, 0);
        assert_eq!(
            insn(R_AARCH64_ADR_PREL_PG_HI21_NC, ADRP_X0, &farther),
            Ok(ADRP_X0)
        );
        let edge = values(0xffff_f000, 0, 0);
        assert_eq!(
            insn(R_AARCH64_ADR_PREL_PG_HI21, ADRP_X0, &edge),
            Ok(ADRP_X0 | (3 << 29) | (0x3ffff << 5))
        );

        assert_eq!(
            insn(R_AARCH64_ADD_ABS_LO12_NC, ADD_X0_X0, &v),
            Ok(ADD_X0_X0 | (0x345 << 10))
        );
        let aligned = values(0x41_2340, 8, 0);
        assert_eq!(
            insn(R_AARCH64_LDST64_ABS_LO12_NC, LDR_X0_X0, &aligned),
            Ok(LDR_X0_X0 | (0x69 << 10))
        );
        assert_eq!(
            insn(R_AARCH64_LDST32_ABS_LO12_NC, LDR_W0_X0, &aligned),
            Ok(LDR_W0_X0 | (0xd2 << 10))
        );
        assert_eq!(
            insn(R_AARCH64_LDST8_ABS_LO12_NC, LDRB_W0_X0, &v),
            Ok(LDRB_W0_X0 | (0x345 << 10))
        );
        assert_eq!(
            insn(
                R_AARCH64_LDST128_ABS_LO12_NC,
                LDR_Q0_X0,
                &values(0xff0, 0, 0)
            ),
            Ok(LDR_Q0_X0 | (0xff << 10))
        );
        assert_eq!(
            insn(R_AARCH64_LDST64_ABS_LO12_NC, LDR_X0_X0, &v),
            Err(RelocError::Misaligned {
                value: 0x345,
                align: 8
            })
        );
        assert!(
            insn(
                R_AARCH64_LDST16_ABS_LO12_NC,
                LDR_W0_X0,
                &values(0x1001, 0, 0)
            )
            .is_err()
        );
    }

    #[test]
    fn got_relocations() {
        let v = Values {
            g: Some(0x42_0010),
            ..values(0, 0, 0x40_0000)
        };
        assert_eq!(
            insn(R_AARCH64_ADR_GOT_PAGE, ADRP_X0, &v),
            Ok(ADRP_X0 | (0x20 >> 2 << 5))
        );
        assert_eq!(
            insn(R_AARCH64_LD64_GOT_LO12_NC, LDR_X0_X0, &v),
            Ok(LDR_X0_X0 | (2 << 10))
        );
        assert_eq!(got_use(R_AARCH64_ADR_GOT_PAGE), GotUse::Slot);
        assert_eq!(got_use(R_AARCH64_CALL26), GotUse::None);
    }

    #[test]
    fn data_relocations() {
        let mut data = [0u8; 8];
        apply(
            R_AARCH64_ABS64,
            &mut data,
            0,
            &values(0x1234_5678_9abc, 4, 0),
        )
        .unwrap();
        assert_eq!(u64::from_le_bytes(data), 0x1234_5678_9ac0);
        apply(R_AARCH64_PREL64, &mut data, 0, &values(0, 0, 8)).unwrap();
        assert_eq!(i64::from_le_bytes(data), -8);

        let mut word = [0u8; 4];
        apply(R_AARCH64_PREL32, &mut word, 0, &values(0x1000, 0, 0x2000)).unwrap();
        assert_eq!(i32::from_le_bytes(word), -0x1000);
        apply(R_AARCH64_ABS32, &mut word, 0, &values(0xffff_ffff, 0, 0)).unwrap();
        assert_eq!(u32::from_le_bytes(word), 0xffff_ffff);
        assert!(apply(R_AARCH64_ABS32, &mut word, 0, &values(0x1_0000_0000, 0, 0)).is_err());
        assert!(apply(R_AARCH64_PREL32, &mut word, 0, &values(0, 0, 0x8000_0001)).is_err());
        assert!(apply(R_AARCH64_ABS16, &mut word, 0, &values(0x1_0000, 0, 0)).is_err());
        assert_eq!(
            apply(R_AARCH64_ABS64, &mut word, 0, &values(0, 0, 0)),
            Err(RelocError::OutOfBounds)
        );
        assert_eq!(
            apply(R_AARCH64_TLSDESC_ADR_PAGE21, &mut word, 0, &values(0, 0, 0)),
            Err(RelocError::Unsupported)
        );
    }
}
