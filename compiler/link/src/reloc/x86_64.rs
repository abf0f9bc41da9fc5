//! x86_64 relocations (System V psABI), including GOTPCRELX relaxation.

use object::elf::*;

use super::{GotUse, RelocError, Values, check_signed, read, write};

pub(crate) fn name(r_type: u32) -> Option<&'static str> {
    Some(match r_type {
        R_X86_64_NONE => "R_X86_64_NONE",
        R_X86_64_64 => "R_X86_64_64",
        R_X86_64_PC32 => "R_X86_64_PC32",
        R_X86_64_PLT32 => "R_X86_64_PLT32",
        R_X86_64_32 => "R_X86_64_32",
        R_X86_64_32S => "R_X86_64_32S",
        R_X86_64_PC64 => "R_X86_64_PC64",
        R_X86_64_GOTPCREL => "R_X86_64_GOTPCREL",
        R_X86_64_GOTPCRELX => "R_X86_64_GOTPCRELX",
        R_X86_64_REX_GOTPCRELX => "R_X86_64_REX_GOTPCRELX",
        R_X86_64_TLSGD => "R_X86_64_TLSGD",
        R_X86_64_TPOFF32 => "R_X86_64_TPOFF32",
        R_X86_64_GOTTPOFF => "R_X86_64_GOTTPOFF",
        _ => return None,
    })
}

/// The instruction a GOTPCRELX relocation sits in, recognised from the bytes before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Relaxable {
    /// `mov foo@GOTPCREL(%rip), %reg` (`8b /r`) → `lea foo(%rip), %reg` (`8d /r`).
    Mov,
    /// `call *foo@GOTPCREL(%rip)` (`ff 15`) → `addr32 call foo` (`67 e8`).
    Call,
    /// `jmp *foo@GOTPCREL(%rip)` (`ff 25`) → `jmp foo; nop` (`e9 .. 90`).
    Jmp,
}

fn relaxable(r_type: u32, data: &[u8], offset: u64) -> Option<Relaxable> {
    let offset = usize::try_from(offset).ok()?;
    let op = *data.get(offset.checked_sub(2)?)?;
    let modrm = *data.get(offset - 1)?;
    match r_type {
        // Plain GOTPCREL promises nothing about the instruction (the psABI lets only the
        // X forms be relaxed), but these exact encodings are checked byte for byte, so
        // rewriting them is as safe: Rust's libcalls (`memset`) come this way.
        R_X86_64_GOTPCRELX | R_X86_64_GOTPCREL => match (op, modrm) {
            (0x8b, m) if m & 0xc7 == 0x05 => Some(Relaxable::Mov),
            (0xff, 0x15) => Some(Relaxable::Call),
            (0xff, 0x25) => Some(Relaxable::Jmp),
            _ => None,
        },
        R_X86_64_REX_GOTPCRELX => {
            let rex = *data.get(offset.checked_sub(3)?)?;
            (rex & 0xf0 == 0x40 && op == 0x8b && modrm & 0xc7 == 0x05).then_some(Relaxable::Mov)
        }
        _ => None,
    }
}

pub(crate) fn got_use(r_type: u32, data: &[u8], offset: u64, addend: i64, defined: bool) -> GotUse {
    match r_type {
        R_X86_64_GOTPCREL | R_X86_64_GOTPCRELX | R_X86_64_REX_GOTPCRELX
            if defined && addend == -4 && relaxable(r_type, data, offset).is_some() =>
        {
            GotUse::Relax
        }
        R_X86_64_GOTPCREL | R_X86_64_GOTPCRELX | R_X86_64_REX_GOTPCRELX => GotUse::Slot,
        _ => GotUse::None,
    }
}

const I32: &str = "[-2^31, 2^31)";

fn write_i32(data: &mut [u8], offset: usize, value: i64) -> Result<(), RelocError> {
    let value = check_signed(value, 32, I32)?;
    write(data, offset, &(value as i32).to_le_bytes())
}

pub(crate) fn apply(
    r_type: u32,
    data: &mut [u8],
    offset: usize,
    v: &Values,
) -> Result<(), RelocError> {
    match r_type {
        R_X86_64_NONE => Ok(()),
        R_X86_64_64 => write(data, offset, &v.sa().to_le_bytes()),
        R_X86_64_PC64 => write(data, offset, &v.pcrel().to_le_bytes()),
        R_X86_64_PC32 | R_X86_64_PLT32 => write_i32(data, offset, v.pcrel()),
        R_X86_64_32 => {
            let value = v.sa();
            let value = u32::try_from(value).map_err(|_| RelocError::OutOfRange {
                value: value as i64,
                range: "[0, 2^32)",
            })?;
            write(data, offset, &value.to_le_bytes())
        }
        R_X86_64_32S => write_i32(data, offset, v.sa() as i64),
        R_X86_64_GOTPCREL | R_X86_64_GOTPCRELX | R_X86_64_REX_GOTPCRELX => match v.g {
            Some(g) => write_i32(
                data,
                offset,
                g.wrapping_add_signed(v.a).wrapping_sub(v.p) as i64,
            ),
            None => relax(r_type, data, offset, v),
        },
        _ => Err(RelocError::Unsupported),
    }
}

/// Rewrites a GOT load into a direct PC-relative reference to the target.
fn relax(r_type: u32, data: &mut [u8], offset: usize, v: &Values) -> Result<(), RelocError> {
    let kind = relaxable(r_type, data, offset as u64).ok_or(RelocError::BadInstruction)?;
    // Both checks passed in `relaxable`, so `offset >= 2` (3 for the REX form).
    let value = v.pcrel();
    match kind {
        Relaxable::Mov => {
            data[offset - 2] = 0x8d;
            write_i32(data, offset, value)
        }
        Relaxable::Call => {
            data[offset - 2] = 0x67;
            data[offset - 1] = 0xe8;
            write_i32(data, offset, value)
        }
        Relaxable::Jmp => {
            // The displacement moves one byte earlier, so it is relative to one byte
            // earlier too; the trailing NOP is never reached.
            let _: [u8; 4] = read(data, offset)?;
            data[offset - 2] = 0xe9;
            write_i32(data, offset - 1, value.wrapping_add(1))?;
            data[offset + 3] = 0x90;
            Ok(())
        }
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

    fn apply_to(
        r_type: u32,
        bytes: &[u8],
        offset: usize,
        v: &Values,
    ) -> Result<Vec<u8>, RelocError> {
        let mut data = bytes.to_vec();
        apply(r_type, &mut data, offset, v)?;
        Ok(data)
    }

    #[test]
    fn absolute_relocations() {
        let v = values(0x40_1000, 8, 0);
        assert_eq!(
            apply_to(R_X86_64_64, &[0; 8], 0, &v).unwrap(),
            0x40_1008u64.to_le_bytes()
        );
        assert_eq!(
            apply_to(R_X86_64_32, &[0; 4], 0, &v).unwrap(),
            0x40_1008u32.to_le_bytes()
        );
        assert_eq!(
            apply_to(R_X86_64_32S, &[0; 4], 0, &v).unwrap(),
            0x40_1008u32.to_le_bytes()
        );
        // 32 zero-extends, 32S sign-extends.
        let high = values(0xffff_ffff, 0, 0);
        assert!(apply_to(R_X86_64_32, &[0; 4], 0, &high).is_ok());
        assert!(matches!(
            apply_to(R_X86_64_32S, &[0; 4], 0, &high),
            Err(RelocError::OutOfRange { .. })
        ));
        let negative = values(0, -8, 0);
        assert!(apply_to(R_X86_64_32S, &[0; 4], 0, &negative).is_ok());
        assert!(apply_to(R_X86_64_32, &[0; 4], 0, &negative).is_err());
        assert!(apply_to(R_X86_64_32, &[0; 4], 0, &values(1 << 32, 0, 0)).is_err());
    }

    #[test]
    fn pc_relative_relocations_and_their_limits() {
        // call at 0x401000: e8 <rel32>, field at 0x401001, target 0x402000.
        let v = values(0x40_2000, -4, 0x40_1001);
        let out = apply_to(R_X86_64_PLT32, &[0xe8, 0, 0, 0, 0], 1, &v).unwrap();
        assert_eq!(out, [0xe8, 0xfb, 0x0f, 0, 0]);
        assert_eq!(
            apply_to(R_X86_64_PC32, &[0; 4], 0, &values(0, 0, 0x10)).unwrap(),
            (-0x10i32).to_le_bytes()
        );
        assert_eq!(
            apply_to(R_X86_64_PC64, &[0; 8], 0, &values(0, 0, 0x10)).unwrap(),
            (-0x10i64).to_le_bytes()
        );
        // Exactly at the edges, then one past.
        assert!(apply_to(R_X86_64_PC32, &[0; 4], 0, &values(0x7fff_ffff, 0, 0)).is_ok());
        assert!(apply_to(R_X86_64_PC32, &[0; 4], 0, &values(0x8000_0000, 0, 0)).is_err());
        assert!(apply_to(R_X86_64_PC32, &[0; 4], 0, &values(0, 0, 0x8000_0000)).is_ok());
        assert!(apply_to(R_X86_64_PC32, &[0; 4], 0, &values(0, 0, 0x8000_0001)).is_err());
        // A field past the end of the section.
        assert_eq!(
            apply_to(R_X86_64_PC32, &[0; 4], 1, &values(0, 0, 0)),
            Err(RelocError::OutOfBounds)
        );
        assert_eq!(
            apply_to(0x7777, &[0; 4], 0, &values(0, 0, 0)),
            Err(RelocError::Unsupported)
        );
    }

    #[test]
    fn got_relocation_uses_the_slot() {
        let v = Values {
            g: Some(0x40_3000),
            ..values(0x40_2000, -4, 0x40_1003)
        };
        // mov 0(%rip), %rax with a slot: 48 8b 05 <rel32>
        let out = apply_to(
            R_X86_64_REX_GOTPCRELX,
            &[0x48, 0x8b, 0x05, 0, 0, 0, 0],
            3,
            &v,
        )
        .unwrap();
        assert_eq!(out, [0x48, 0x8b, 0x05, 0xf9, 0x1f, 0, 0]);
    }

    #[test]
    fn gotpcrelx_relaxation() {
        let mov = [0x48, 0x8b, 0x05, 0, 0, 0, 0];
        assert_eq!(
            got_use(R_X86_64_REX_GOTPCRELX, &mov, 3, -4, true),
            GotUse::Relax
        );
        assert_eq!(
            got_use(R_X86_64_REX_GOTPCRELX, &mov, 3, -4, false),
            GotUse::Slot
        );
        assert_eq!(
            got_use(R_X86_64_REX_GOTPCRELX, &mov, 3, 0, true),
            GotUse::Slot
        );
        // Plain GOTPCREL on a recognised instruction is relaxed as well; on anything
        // else it keeps its slot.
        assert_eq!(got_use(R_X86_64_GOTPCREL, &mov, 3, -4, true), GotUse::Relax);
        assert_eq!(
            got_use(
                R_X86_64_GOTPCREL,
                &[0x48, 0x03, 0x05, 0, 0, 0, 0],
                3,
                -4,
                true
            ),
            GotUse::Slot
        );
        assert_eq!(got_use(R_X86_64_PC32, &mov, 3, -4, true), GotUse::None);
        // `add foo@GOTPCREL(%rip), %rax` (48 03 05) is not relaxed.
        assert_eq!(
            got_use(
                R_X86_64_REX_GOTPCRELX,
                &[0x48, 0x03, 0x05, 0, 0, 0, 0],
                3,
                -4,
                true
            ),
            GotUse::Slot
        );
        // Too close to the start of the section to have an opcode.
        assert_eq!(
            got_use(R_X86_64_GOTPCRELX, &[0, 0, 0, 0], 0, -4, true),
            GotUse::Slot
        );

        let v = values(0x40_2000, -4, 0x40_1003);
        let out = apply_to(R_X86_64_REX_GOTPCRELX, &mov, 3, &v).unwrap();
        assert_eq!(out, [0x48, 0x8d, 0x05, 0xf9, 0x0f, 0, 0]);

        let call = [0xff, 0x15, 0, 0, 0, 0];
        assert_eq!(
            got_use(R_X86_64_GOTPCRELX, &call, 2, -4, true),
            GotUse::Relax
        );
        let v = values(0x40_2000, -4, 0x40_1002);
        let out = apply_to(R_X86_64_GOTPCRELX, &call, 2, &v).unwrap();
        // addr32 call: next instruction at 0x401006, 0x402000 - 0x401006 = 0xffa.
        assert_eq!(out, [0x67, 0xe8, 0xfa, 0x0f, 0, 0]);

        let jmp = [0xff, 0x25, 0, 0, 0, 0];
        let out = apply_to(R_X86_64_GOTPCRELX, &jmp, 2, &v).unwrap();
        // jmp rel32 ends at 0x401005: 0x402000 - 0x401005 = 0xffb, then a nop.
        assert_eq!(out, [0xe9, 0xfb, 0x0f, 0, 0, 0x90]);

        // Relaxing a relocation that is not on a known instruction is an error.
        assert_eq!(
            apply_to(R_X86_64_GOTPCRELX, &[0x90, 0x90, 0, 0, 0, 0], 2, &v),
            Err(RelocError::BadInstruction)
        );
    }
}
