//! RISC-V (RV64) relocations (RISC-V ELF psABI).
//!
//! `R_RISCV_RELAX` and `R_RISCV_ALIGN` are ignored: this linker never deletes bytes,
//! and code assembled for relaxation is correct as written. `PCREL_LO12_I/S` name the
//! label of their `AUIPC`; the caller resolves that pairing and passes the `HI20`'s
//! PC-relative value as `S` (with `A` and `P` zero).

use object::elf::*;

use super::{
    GotUse, RelocError, Values, check_aligned, check_signed, check_signed_or_unsigned, read,
    read_u16, read_u32, write,
};

pub(crate) fn name(r_type: u32) -> Option<&'static str> {
    Some(match r_type {
        R_RISCV_NONE => "R_RISCV_NONE",
        R_RISCV_32 => "R_RISCV_32",
        R_RISCV_64 => "R_RISCV_64",
        R_RISCV_BRANCH => "R_RISCV_BRANCH",
        R_RISCV_JAL => "R_RISCV_JAL",
        R_RISCV_CALL => "R_RISCV_CALL",
        R_RISCV_CALL_PLT => "R_RISCV_CALL_PLT",
        R_RISCV_GOT_HI20 => "R_RISCV_GOT_HI20",
        R_RISCV_PCREL_HI20 => "R_RISCV_PCREL_HI20",
        R_RISCV_PCREL_LO12_I => "R_RISCV_PCREL_LO12_I",
        R_RISCV_PCREL_LO12_S => "R_RISCV_PCREL_LO12_S",
        R_RISCV_HI20 => "R_RISCV_HI20",
        R_RISCV_LO12_I => "R_RISCV_LO12_I",
        R_RISCV_LO12_S => "R_RISCV_LO12_S",
        R_RISCV_ADD8 => "R_RISCV_ADD8",
        R_RISCV_ADD16 => "R_RISCV_ADD16",
        R_RISCV_ADD32 => "R_RISCV_ADD32",
        R_RISCV_ADD64 => "R_RISCV_ADD64",
        R_RISCV_SUB8 => "R_RISCV_SUB8",
        R_RISCV_SUB16 => "R_RISCV_SUB16",
        R_RISCV_SUB32 => "R_RISCV_SUB32",
        R_RISCV_SUB64 => "R_RISCV_SUB64",
        R_RISCV_ALIGN => "R_RISCV_ALIGN",
        R_RISCV_RVC_BRANCH => "R_RISCV_RVC_BRANCH",
        R_RISCV_RVC_JUMP => "R_RISCV_RVC_JUMP",
        R_RISCV_RELAX => "R_RISCV_RELAX",
        R_RISCV_SUB6 => "R_RISCV_SUB6",
        R_RISCV_SET6 => "R_RISCV_SET6",
        R_RISCV_SET8 => "R_RISCV_SET8",
        R_RISCV_SET16 => "R_RISCV_SET16",
        R_RISCV_SET32 => "R_RISCV_SET32",
        R_RISCV_32_PCREL => "R_RISCV_32_PCREL",
        R_RISCV_PLT32 => "R_RISCV_PLT32",
        R_RISCV_SET_ULEB128 => "R_RISCV_SET_ULEB128",
        R_RISCV_SUB_ULEB128 => "R_RISCV_SUB_ULEB128",
        R_RISCV_TPREL_HI20 => "R_RISCV_TPREL_HI20",
        R_RISCV_TLS_GD_HI20 => "R_RISCV_TLS_GD_HI20",
        R_RISCV_TLS_GOT_HI20 => "R_RISCV_TLS_GOT_HI20",
        _ => return None,
    })
}

/// Relocations that are markers only.
pub(crate) fn is_ignored(r_type: u32) -> bool {
    matches!(r_type, R_RISCV_NONE | R_RISCV_RELAX | R_RISCV_ALIGN)
}

pub(crate) fn is_pcrel_hi20(r_type: u32) -> bool {
    matches!(r_type, R_RISCV_PCREL_HI20 | R_RISCV_GOT_HI20)
}

pub(crate) fn is_pcrel_lo12(r_type: u32) -> bool {
    matches!(r_type, R_RISCV_PCREL_LO12_I | R_RISCV_PCREL_LO12_S)
}

pub(crate) fn got_use(r_type: u32) -> GotUse {
    match r_type {
        R_RISCV_GOT_HI20 => GotUse::Slot,
        _ => GotUse::None,
    }
}

fn patch32(data: &mut [u8], offset: usize, keep: u32, bits: u32) -> Result<(), RelocError> {
    let insn = read_u32(data, offset)?;
    write(data, offset, &((insn & keep) | bits).to_le_bytes())
}

fn patch16(data: &mut [u8], offset: usize, keep: u16, bits: u16) -> Result<(), RelocError> {
    let insn = read_u16(data, offset)?;
    write(data, offset, &((insn & keep) | bits).to_le_bytes())
}

/// The upper 20 bits for `LUI`/`AUIPC`, rounded so that adding the sign-extended low
/// 12 bits gives `value` back. The pair reaches `[-2^31 - 2^11, 2^31 - 2^11)`.
fn hi20(value: i64) -> Result<u32, RelocError> {
    let rounded = check_signed(value.wrapping_add(0x800), 32, "±2 GiB")?;
    Ok((rounded as u32) & 0xffff_f000)
}

/// U-type (`LUI`, `AUIPC`): immediate in bits 12-31.
fn patch_u(data: &mut [u8], offset: usize, value: i64) -> Result<(), RelocError> {
    patch32(data, offset, 0xfff, hi20(value)?)
}

/// I-type: 12-bit immediate in bits 20-31.
fn patch_i(data: &mut [u8], offset: usize, value: i64) -> Result<(), RelocError> {
    patch32(data, offset, 0x000f_ffff, ((value as u32) & 0xfff) << 20)
}

/// S-type: `imm[11:5]` in bits 25-31, `imm[4:0]` in bits 7-11.
fn patch_s(data: &mut [u8], offset: usize, value: i64) -> Result<(), RelocError> {
    let v = value as u32;
    patch32(
        data,
        offset,
        0x01ff_f07f,
        ((v & 0xfe0) << 20) | ((v & 0x1f) << 7),
    )
}

/// B-type (conditional branches): ±4 KiB.
fn patch_b(data: &mut [u8], offset: usize, value: i64) -> Result<(), RelocError> {
    check_signed(value, 13, "±4 KiB")?;
    check_aligned(value, 2)?;
    let v = value as u32;
    let bits = ((v >> 12 & 1) << 31)
        | ((v >> 5 & 0x3f) << 25)
        | ((v >> 1 & 0xf) << 8)
        | ((v >> 11 & 1) << 7);
    patch32(data, offset, 0x01ff_f07f, bits)
}

/// J-type (`JAL`): ±1 MiB.
fn patch_j(data: &mut [u8], offset: usize, value: i64) -> Result<(), RelocError> {
    check_signed(value, 21, "±1 MiB")?;
    check_aligned(value, 2)?;
    let v = value as u32;
    let bits = ((v >> 20 & 1) << 31)
        | ((v >> 1 & 0x3ff) << 21)
        | ((v >> 11 & 1) << 20)
        | ((v >> 12 & 0xff) << 12);
    patch32(data, offset, 0xfff, bits)
}

/// CB-type (`C.BEQZ`, `C.BNEZ`): ±256 bytes.
fn patch_cb(data: &mut [u8], offset: usize, value: i64) -> Result<(), RelocError> {
    check_signed(value, 9, "±256 B")?;
    check_aligned(value, 2)?;
    let v = value as u16;
    let bits = ((v >> 8 & 1) << 12)
        | ((v >> 3 & 3) << 10)
        | ((v >> 6 & 3) << 5)
        | ((v >> 1 & 3) << 3)
        | ((v >> 5 & 1) << 2);
    patch16(data, offset, 0xe383, bits)
}

/// CJ-type (`C.J`): ±2 KiB.
fn patch_cj(data: &mut [u8], offset: usize, value: i64) -> Result<(), RelocError> {
    check_signed(value, 12, "±2 KiB")?;
    check_aligned(value, 2)?;
    let v = value as u16;
    let bits = ((v >> 11 & 1) << 12)
        | ((v >> 4 & 1) << 11)
        | ((v >> 8 & 3) << 9)
        | ((v >> 10 & 1) << 8)
        | ((v >> 6 & 1) << 7)
        | ((v >> 7 & 1) << 6)
        | ((v >> 1 & 7) << 3)
        | ((v >> 5 & 1) << 2);
    patch16(data, offset, 0xe003, bits)
}

/// Adds `delta` (wrapping) to the little-endian `N`-byte value at `offset`.
fn add<const N: usize>(data: &mut [u8], offset: usize, delta: u64) -> Result<(), RelocError> {
    let mut bytes = [0u8; 8];
    bytes[..N].copy_from_slice(&read::<N>(data, offset)?);
    let sum = u64::from_le_bytes(bytes).wrapping_add(delta).to_le_bytes();
    write(data, offset, &sum[..N])
}

pub(crate) fn apply(
    r_type: u32,
    data: &mut [u8],
    offset: usize,
    v: &Values,
) -> Result<(), RelocError> {
    let sa = v.sa();
    match r_type {
        R_RISCV_NONE | R_RISCV_RELAX | R_RISCV_ALIGN => Ok(()),
        R_RISCV_64 => write(data, offset, &sa.to_le_bytes()),
        R_RISCV_32 => {
            let value = check_signed_or_unsigned(sa as i64, 32, "[-2^31, 2^32)")?;
            write(data, offset, &(value as u32).to_le_bytes())
        }
        R_RISCV_32_PCREL | R_RISCV_PLT32 => {
            let value = check_signed(v.pcrel(), 32, "±2 GiB")?;
            write(data, offset, &(value as i32).to_le_bytes())
        }
        R_RISCV_CALL | R_RISCV_CALL_PLT => {
            // AUIPC ra, hi; JALR ra, lo(ra)
            let value = v.pcrel();
            let _: [u8; 8] = read(data, offset)?;
            patch_u(data, offset, value)?;
            patch_i(data, offset + 4, value)
        }
        R_RISCV_PCREL_HI20 => patch_u(data, offset, v.pcrel()),
        R_RISCV_GOT_HI20 => {
            let g = v.g.ok_or(RelocError::Unsupported)?;
            patch_u(
                data,
                offset,
                g.wrapping_add_signed(v.a).wrapping_sub(v.p) as i64,
            )
        }
        R_RISCV_PCREL_LO12_I => patch_i(data, offset, v.s as i64),
        R_RISCV_PCREL_LO12_S => patch_s(data, offset, v.s as i64),
        R_RISCV_HI20 => patch_u(data, offset, sa as i64),
        R_RISCV_LO12_I => patch_i(data, offset, sa as i64),
        R_RISCV_LO12_S => patch_s(data, offset, sa as i64),
        R_RISCV_BRANCH => patch_b(data, offset, v.pcrel()),
        R_RISCV_JAL => patch_j(data, offset, v.pcrel()),
        R_RISCV_RVC_BRANCH => patch_cb(data, offset, v.pcrel()),
        R_RISCV_RVC_JUMP => patch_cj(data, offset, v.pcrel()),
        R_RISCV_ADD8 => add::<1>(data, offset, sa),
        R_RISCV_ADD16 => add::<2>(data, offset, sa),
        R_RISCV_ADD32 => add::<4>(data, offset, sa),
        R_RISCV_ADD64 => add::<8>(data, offset, sa),
        R_RISCV_SUB8 => add::<1>(data, offset, sa.wrapping_neg()),
        R_RISCV_SUB16 => add::<2>(data, offset, sa.wrapping_neg()),
        R_RISCV_SUB32 => add::<4>(data, offset, sa.wrapping_neg()),
        R_RISCV_SUB64 => add::<8>(data, offset, sa.wrapping_neg()),
        R_RISCV_SET6 | R_RISCV_SUB6 => {
            let [old] = read::<1>(data, offset)?;
            let low = if r_type == R_RISCV_SET6 {
                sa as u8
            } else {
                old.wrapping_sub(sa as u8)
            };
            write(data, offset, &[(old & 0xc0) | (low & 0x3f)])
        }
        R_RISCV_SET8 => write(data, offset, &[sa as u8]),
        R_RISCV_SET16 => write(data, offset, &(sa as u16).to_le_bytes()),
        R_RISCV_SET32 => write(data, offset, &(sa as u32).to_le_bytes()),
        _ => Err(RelocError::Unsupported),
    }
}

#[cfg(test)]
mod tests {
    use super::super::read_u64;
    use super::*;

    fn value_at(data: &[u8], offset: usize) -> u64 {
        read_u64(data, offset).unwrap()
    }

    fn values(s: u64, a: i64, p: u64) -> Values {
        Values {
            s,
            a,
            p,
            ..Values::default()
        }
    }

    fn insn(r_type: u32, word: u32, v: &Values) -> Result<u32, RelocError> {
        let mut data = word.to_le_bytes();
        apply(r_type, &mut data, 0, v)?;
        Ok(u32::from_le_bytes(data))
    }

    fn insn16(r_type: u32, word: u16, v: &Values) -> Result<u16, RelocError> {
        let mut data = word.to_le_bytes();
        apply(r_type, &mut data, 0, v)?;
        Ok(u16::from_le_bytes(data))
    }

    const AUIPC_RA: u32 = 0x0000_0097;
    const JALR_RA_RA: u32 = 0x0000_80e7;
    const LUI_A0: u32 = 0x0000_0537;
    const ADDI_A0_A0: u32 = 0x0005_0513;
    const SD_A1_A0: u32 = 0x00b5_3023;
    const BEQ_A0_A1: u32 = 0x00b5_0063;
    const JAL_RA: u32 = 0x0000_00ef;
    const C_BEQZ_A0: u16 = 0xc101;
    const C_J: u16 = 0xa001;

    #[test]
    fn hi20_rounds_for_negative_low_part() {
        assert_eq!(hi20(0x1234_5678), Ok(0x1234_5000));
        assert_eq!(hi20(0x1234_5800), Ok(0x1234_6000));
        assert_eq!(hi20(-1), Ok(0));
        assert_eq!(hi20(-0x801), Ok(0xffff_f000));
        // Range: [-2^31 - 0x800, 2^31 - 0x800).
        assert!(hi20(0x7fff_f7ff).is_ok());
        assert!(hi20(0x7fff_f800).is_err());
        assert!(hi20(-0x8000_0800).is_ok());
        assert!(hi20(-0x8000_0801).is_err());
    }

    #[test]
    fn call_pair() {
        let mut data = [AUIPC_RA.to_le_bytes(), JALR_RA_RA.to_le_bytes()].concat();
        // 0x12345_fff0 bytes ahead: lo = -16, hi rounds up.
        apply(
            R_RISCV_CALL_PLT,
            &mut data,
            0,
            &values(0x1_2345_fff0 + 0x1000, 0, 0x1000),
        )
        .unwrap_err();
        apply(
            R_RISCV_CALL_PLT,
            &mut data,
            0,
            &values(0x2345_fff0 + 0x1000, 0, 0x1000),
        )
        .unwrap();
        let auipc = u32::from_le_bytes(data[0..4].try_into().unwrap());
        let jalr = u32::from_le_bytes(data[4..8].try_into().unwrap());
        assert_eq!(auipc, AUIPC_RA | 0x2346_0000);
        assert_eq!(jalr, JALR_RA_RA | (0xff0 << 20));
        // Backwards.
        let mut data = [AUIPC_RA.to_le_bytes(), JALR_RA_RA.to_le_bytes()].concat();
        apply(R_RISCV_CALL, &mut data, 0, &values(0x1000, 0, 0x1010)).unwrap();
        assert_eq!(u32::from_le_bytes(data[0..4].try_into().unwrap()), AUIPC_RA);
        assert_eq!(
            u32::from_le_bytes(data[4..8].try_into().unwrap()),
            JALR_RA_RA | (0xff0 << 20)
        );
        // The JALR must be inside the section.
        let mut short = AUIPC_RA.to_le_bytes();
        assert_eq!(
            apply(R_RISCV_CALL, &mut short, 0, &values(0, 0, 0)),
            Err(RelocError::OutOfBounds)
        );
    }

    #[test]
    fn absolute_and_pcrel_pairs() {
        let v = values(0x8000_1234, 0, 0);
        assert!(
            insn(R_RISCV_HI20, LUI_A0, &v).is_err(),
            "0x80001234 is not reachable by LUI on RV64"
        );
        let v = values(0x1_1ffc, 8, 0);
        assert_eq!(insn(R_RISCV_HI20, LUI_A0, &v), Ok(LUI_A0 | 0x12000));
        assert_eq!(
            insn(R_RISCV_LO12_I, ADDI_A0_A0, &v),
            Ok(ADDI_A0_A0 | (0x004 << 20))
        );
        let v = values(0x1_17ff + 1, 0, 0);
        // 0x11800: lo = -0x800, hi = 0x12000.
        assert_eq!(insn(R_RISCV_HI20, LUI_A0, &v), Ok(LUI_A0 | 0x12000));
        assert_eq!(
            insn(R_RISCV_LO12_I, ADDI_A0_A0, &v),
            Ok(ADDI_A0_A0 | (0x800 << 20))
        );
        assert_eq!(
            insn(R_RISCV_LO12_S, SD_A1_A0, &v),
            Ok(SD_A1_A0 | (0x40 << 25))
        );
        // sd with lo = 0x7ff + ... : imm[11:5] = 0x3f, imm[4:0] = 0x1f.
        assert_eq!(
            insn(R_RISCV_LO12_S, SD_A1_A0, &values(0x7ff, 0, 0)),
            Ok(SD_A1_A0 | (0x3f << 25) | (0x1f << 7))
        );

        // PCREL_HI20 at 0x1000 to 0x3004; the LO12 gets the HI20's value in S.
        let hi = values(0x3004, 0, 0x1000);
        assert_eq!(
            insn(R_RISCV_PCREL_HI20, AUIPC_RA, &hi),
            Ok(AUIPC_RA | 0x2000)
        );
        assert_eq!(
            insn(R_RISCV_PCREL_LO12_I, ADDI_A0_A0, &values(0x2004, 0, 0)),
            Ok(ADDI_A0_A0 | (4 << 20))
        );
        assert_eq!(
            insn(R_RISCV_PCREL_LO12_S, SD_A1_A0, &values(0x2004, 0, 0)),
            Ok(SD_A1_A0 | (4 << 7))
        );

        let got = Values {
            g: Some(0x5008),
            ..values(0, 0, 0x1000)
        };
        assert_eq!(
            insn(R_RISCV_GOT_HI20, AUIPC_RA, &got),
            Ok(AUIPC_RA | 0x4000)
        );
        assert_eq!(got_use(R_RISCV_GOT_HI20), GotUse::Slot);
        assert_eq!(got_use(R_RISCV_PCREL_HI20), GotUse::None);
    }

    #[test]
    fn branches_and_jumps() {
        // beq +0x10: imm[4:1] = 8 at bits 8-11.
        assert_eq!(
            insn(R_RISCV_BRANCH, BEQ_A0_A1, &values(0x1010, 0, 0x1000)),
            Ok(BEQ_A0_A1 | (8 << 8))
        );
        // beq -2: every immediate bit set.
        assert_eq!(
            insn(R_RISCV_BRANCH, BEQ_A0_A1, &values(0x1000, 0, 0x1002)),
            Ok(BEQ_A0_A1 | 0xfe00_0f80)
        );
        assert!(insn(R_RISCV_BRANCH, BEQ_A0_A1, &values(0x1000, 0, 0)).is_err());
        assert!(insn(R_RISCV_BRANCH, BEQ_A0_A1, &values(0xffe, 0, 0)).is_ok());
        assert!(insn(R_RISCV_BRANCH, BEQ_A0_A1, &values(0, 0, 0x1000)).is_ok());
        assert!(insn(R_RISCV_BRANCH, BEQ_A0_A1, &values(0, 0, 0x1002)).is_err());
        assert!(matches!(
            insn(R_RISCV_BRANCH, BEQ_A0_A1, &values(1, 0, 0)),
            Err(RelocError::Misaligned { .. })
        ));

        // jal +0x800: imm[11] is bit 20.
        assert_eq!(
            insn(R_RISCV_JAL, JAL_RA, &values(0x800, 0, 0)),
            Ok(JAL_RA | (1 << 20))
        );
        // jal +0x1000: imm[19:12] = 1.
        assert_eq!(
            insn(R_RISCV_JAL, JAL_RA, &values(0x1000, 0, 0)),
            Ok(JAL_RA | (1 << 12))
        );
        assert_eq!(
            insn(R_RISCV_JAL, JAL_RA, &values(0, 0, 2)),
            Ok(JAL_RA | 0xffff_f000)
        );
        assert!(insn(R_RISCV_JAL, JAL_RA, &values(0xf_fffe, 0, 0)).is_ok());
        assert!(insn(R_RISCV_JAL, JAL_RA, &values(0x10_0000, 0, 0)).is_err());

        // c.beqz +0x10: offset[4:3] = 2 at bits 10-11.
        assert_eq!(
            insn16(R_RISCV_RVC_BRANCH, C_BEQZ_A0, &values(0x10, 0, 0)),
            Ok(C_BEQZ_A0 | (2 << 10))
        );
        assert_eq!(
            insn16(R_RISCV_RVC_BRANCH, C_BEQZ_A0, &values(0, 0, 2)),
            Ok(C_BEQZ_A0 | 0x1c7c)
        );
        assert!(insn16(R_RISCV_RVC_BRANCH, C_BEQZ_A0, &values(0x100, 0, 0)).is_err());
        // c.j +0x20: offset[5] is bit 2.
        assert_eq!(
            insn16(R_RISCV_RVC_JUMP, C_J, &values(0x20, 0, 0)),
            Ok(C_J | (1 << 2))
        );
        assert_eq!(
            insn16(R_RISCV_RVC_JUMP, C_J, &values(0, 0, 2)),
            Ok(C_J | 0x1ffc)
        );
        assert!(insn16(R_RISCV_RVC_JUMP, C_J, &values(0x800, 0, 0)).is_err());
        assert!(insn16(R_RISCV_RVC_JUMP, C_J, &values(0x7fe, 0, 0)).is_ok());
    }

    #[test]
    fn data_relocations() {
        let mut data = [0u8; 8];
        apply(R_RISCV_64, &mut data, 0, &values(0x8000_0000, 0x10, 0)).unwrap();
        assert_eq!(value_at(&data, 0), 0x8000_0010);
        // ADD/SUB pairs compute label differences in place.
        let mut data = [0u8; 8];
        apply(R_RISCV_ADD64, &mut data, 0, &values(0x1050, 0, 0)).unwrap();
        apply(R_RISCV_SUB64, &mut data, 0, &values(0x1000, 0, 0)).unwrap();
        assert_eq!(value_at(&data, 0), 0x50);
        apply(R_RISCV_ADD32, &mut data, 0, &values(0x10, 0, 0)).unwrap();
        apply(R_RISCV_SUB16, &mut data, 0, &values(0x70, 0, 0)).unwrap();
        apply(R_RISCV_ADD8, &mut data, 0, &values(0x3, 0, 0)).unwrap();
        apply(R_RISCV_SUB8, &mut data, 0, &values(0x1, 0, 0)).unwrap();
        // 0x50 + 0x10 = 0x60; minus 0x70 wraps in 16 bits to 0xfff0; + 3 - 1 in 8 bits.
        assert_eq!(value_at(&data, 0), 0xfff2);
        let mut data = [0xc5u8, 0, 0, 0, 0, 0, 0, 0];
        apply(R_RISCV_SET6, &mut data, 0, &values(0x7f, 0, 0)).unwrap();
        assert_eq!(data[0], 0xff);
        apply(R_RISCV_SUB6, &mut data, 0, &values(0x3f, 0, 0)).unwrap();
        assert_eq!(data[0], 0xc0);
        apply(R_RISCV_SET8, &mut data, 1, &values(0x1ab, 0, 0)).unwrap();
        apply(R_RISCV_SET16, &mut data, 2, &values(0x1_cdef, 0, 0)).unwrap();
        assert_eq!(&data[..4], &[0xc0, 0xab, 0xef, 0xcd]);
        apply(R_RISCV_SET32, &mut data, 4, &values(0x1234_5678, 0, 0)).unwrap();
        assert_eq!(&data[4..], &[0x78, 0x56, 0x34, 0x12]);

        let mut word = [0u8; 4];
        apply(R_RISCV_32_PCREL, &mut word, 0, &values(0x1000, 0, 0x1010)).unwrap();
        assert_eq!(i32::from_le_bytes(word), -0x10);
        assert!(apply(R_RISCV_32_PCREL, &mut word, 0, &values(0x8000_0000, 0, 0)).is_err());
        assert!(apply(R_RISCV_32, &mut word, 0, &values(0x1_0000_0000, 0, 0)).is_err());
        assert_eq!(apply(R_RISCV_RELAX, &mut word, 0, &values(0, 0, 0)), Ok(()));
        assert_eq!(
            apply(R_RISCV_TPREL_HI20, &mut word, 0, &values(0, 0, 0)),
            Err(RelocError::Unsupported)
        );
    }
}
