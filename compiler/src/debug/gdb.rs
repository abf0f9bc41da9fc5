//! The gdb script of a debug build: a `.debug_gdb_scripts` section holding `gdb.py`
//! inline, which gdb runs when it loads the image (once the image's directory is on its
//! auto-load safe path). The guest's DWARF describes wasm32 pointers, offsets into linear
//! memory that gdb would read at those small native addresses; no DWARF construct says
//! "add the memory's base", so the script does: `$wasm(p)` reads what `p` points at
//! (`$wasm(p, n)` an array), and wasm pointers print as offsets, `char` pointers with
//! their string.

use super::MemoryBase;
use super::writer::DebugSection;

/// The script, with placeholders for where the memory's base is.
const SCRIPT: &str = include_str!("gdb.py");

/// `.debug_gdb_scripts` entry kind: a Python script, inline (name line, then text).
const INLINE_PYTHON: u8 = 4;

/// The section for an image whose memory 0 is at `memory`; `vmctx_symbol` names the VM
/// context (where a movable memory's base is stored).
pub fn script_section(memory: MemoryBase, vmctx_symbol: &str) -> DebugSection {
    let (fixed, offset) = match memory {
        MemoryBase::Fixed(base) => (format!("{base:#x}"), 0),
        MemoryBase::InVmContext(offset) => ("None".to_string(), offset),
    };
    let text = SCRIPT
        .replace("@FIXED_BASE@", &fixed)
        .replace("@VMCTX_SYMBOL@", vmctx_symbol)
        .replace("@BASE_OFFSET@", &offset.to_string());
    let mut data = vec![INLINE_PYTHON];
    data.extend_from_slice(b"wafer-wasm-pointers\n");
    data.extend_from_slice(text.as_bytes());
    data.push(0);
    DebugSection {
        name: ".debug_gdb_scripts",
        data,
        relocs: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_names_where_the_memory_is_and_keeps_no_placeholder() {
        let fixed = script_section(MemoryBase::Fixed(0x6000_0000), "wasm:vmctx");
        let text = String::from_utf8(fixed.data[1..fixed.data.len() - 1].to_vec()).unwrap();
        assert!(text.starts_with("wafer-wasm-pointers\n"));
        assert!(text.contains("FIXED_BASE = 0x60000000\n"));
        assert!(!text.contains('@'));
        assert_eq!(fixed.data[0], INLINE_PYTHON);
        assert_eq!(fixed.data.last(), Some(&0));

        let moving = script_section(MemoryBase::InVmContext(0x48), "wasm[1]:vmctx");
        let text = String::from_utf8(moving.data.clone()).unwrap();
        assert!(text.contains("FIXED_BASE = None\n"));
        assert!(text.contains("VMCTX_SYMBOL = \"wasm[1]:vmctx\"\n"));
        assert!(text.contains("BASE_OFFSET = 72\n"));
    }
}
