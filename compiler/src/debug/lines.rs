//! Source positions for trap reports: which wasm code came from which file and line.
//!
//! The trap table already names ranges of a function's wasm code (the bodies inlined
//! into it); with debug info each source line's code becomes such a range, named
//! `function at file:line`, so a trap report says where in the source it happened
//! with no change to the runtime, and images built without `-g` carry nothing.

use gimli::LittleEndian;
use gimli::read::{self, EndianSlice};

type Slice<'a> = EndianSlice<'a, LittleEndian>;

/// Wasm code that came from one source line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineRange {
    /// Module offsets, `[start, end)`.
    pub start: u32,
    pub end: u32,
    /// Index in the file names.
    pub file: u32,
    pub line: u64,
}

/// The line ranges of every line program in `sections` (DWARF addresses are offsets
/// from `code_start` in the module), sorted by start, and the file names they use. A
/// malformed program ends its unit's contribution; it never fails the build.
pub(super) fn read_lines(
    sections: &std::collections::HashMap<String, Vec<u8>>,
    code_start: u32,
) -> (Vec<LineRange>, Vec<String>) {
    let load = |id: gimli::SectionId| -> Result<Slice<'_>, gimli::Error> {
        let bytes = sections.get(id.name()).map_or(&[][..], Vec::as_slice);
        Ok(EndianSlice::new(bytes, LittleEndian))
    };
    let mut ranges = Vec::new();
    let mut files: Vec<String> = Vec::new();
    let Ok(dwarf) = read::Dwarf::load(load) else {
        return (ranges, files);
    };
    let mut units = dwarf.units();
    while let Ok(Some(header)) = units.next() {
        let Ok(unit) = dwarf.unit(header) else {
            continue;
        };
        let Some(program) = unit.line_program.clone() else {
            continue;
        };
        // The unit's file indices, numbered into `files` as they are first used.
        let mut file_ids: std::collections::HashMap<u64, u32> = Default::default();
        let mut rows = program.rows();
        let mut previous: Option<(u64, u64, u64)> = None;
        while let Ok(Some((header, row))) = rows.next_row() {
            let address = row.address();
            if let Some((start, file_index, line)) = previous.take()
                && address > start
                && line != 0
            {
                let file = match file_ids.get(&file_index) {
                    Some(&file) => file,
                    None => {
                        let name = file_name(&dwarf, &unit, header, file_index);
                        files.push(name);
                        let file = files.len() as u32 - 1;
                        file_ids.insert(file_index, file);
                        file
                    }
                };
                let offset = |address: u64| {
                    u32::try_from(address)
                        .ok()
                        .and_then(|a| a.checked_add(code_start))
                };
                if let (Some(start), Some(end)) = (offset(start), offset(address)) {
                    ranges.push(LineRange {
                        start,
                        end,
                        file,
                        line,
                    });
                }
            }
            if !row.end_sequence() {
                let line = row.line().map_or(0, |line| line.get());
                previous = Some((address, row.file_index(), line));
            }
        }
    }
    ranges.sort_unstable_by_key(|range| range.start);
    (ranges, files)
}

/// A file's name as the program records it: with its directory when that is not the
/// compilation directory.
fn file_name(
    dwarf: &read::Dwarf<Slice<'_>>,
    unit: &read::Unit<Slice<'_>>,
    header: &read::LineProgramHeader<Slice<'_>>,
    index: u64,
) -> String {
    let Some(file) = header.file(index) else {
        return "?".into();
    };
    let text = |value| {
        dwarf
            .attr_string(unit, value)
            .ok()
            .map(|s| s.to_string_lossy().into_owned())
    };
    let name = text(file.path_name()).unwrap_or_else(|| "?".into());
    let directory = file
        .directory(header)
        .filter(|_| file.directory_index() != 0 || header.version() >= 5)
        .and_then(text);
    match directory {
        Some(directory) if !name.starts_with('/') && !directory.is_empty() => {
            // DWARF 5 numbers the compilation directory 0 too.
            if header.version() >= 5 && file.directory_index() == 0 {
                name
            } else {
                format!("{}/{name}", directory.trim_end_matches('/'))
            }
        }
        _ => name,
    }
}
