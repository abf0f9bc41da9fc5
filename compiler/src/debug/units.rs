//! Converting the module's units, DIE by DIE, with gimli's converter: line programs
//! and address attributes are rebuilt for native code, locations translated
//! (`expr.rs`), everything else copied.

use gimli::read::{self, EndianSlice, Operation};
use gimli::write::{
    self, AttributeValue, ConvertLineSequenceEnd, ConvertUnit, ConvertUnitEntry, Dwarf, LineRow,
    Location, LocationList, Range, RangeList, Sections,
};
use gimli::{Encoding, LittleEndian, constants};

use super::PlacedFunction;
use super::addr::AddressMap;
use super::expr::{self, Translated, code_address};
use super::writer::{self, DebugSection, RelocWriter};
use super::{DebugModule, dwarf_error};
use crate::error::Result;

type Slice<'a> = EndianSlice<'a, LittleEndian>;

/// The module's DWARF, translated for native code.
pub(super) fn translate(module: &DebugModule, map: &AddressMap<'_>) -> Result<Vec<DebugSection>> {
    let load = |id: gimli::SectionId| -> std::result::Result<Slice<'_>, gimli::Error> {
        let bytes = module
            .sections
            .get(id.name())
            .map_or(&[][..], Vec::as_slice);
        Ok(EndianSlice::new(bytes, LittleEndian))
    };
    let malformed = |e| module.malformed(e);
    let read = read::Dwarf::load(load).map_err(malformed)?;
    let mut dwarf = Dwarf::new();
    {
        let mut convert = dwarf.convert(&read).map_err(|e| module.malformed(e))?;
        while let Some((mut unit, root)) = convert.read_unit().map_err(|e| module.malformed(e))? {
            convert_unit(&mut unit, root, module, map)?;
        }
    }
    let mut sections = Sections::new(RelocWriter::new());
    dwarf.write(&mut sections).map_err(dwarf_error)?;
    writer::finish(&sections)
}

/// For a module without DWARF: one unit with a subprogram per function (its name and
/// code), so a debugger knows the guest's functions by their own names (`break
/// square`, `square ()` in a backtrace), not only by their symbols (`wasm:square`).
pub(super) fn function_names(functions: &[PlacedFunction<'_>]) -> Result<Vec<DebugSection>> {
    let encoding = Encoding {
        format: gimli::Format::Dwarf32,
        version: 4,
        address_size: 8,
    };
    let mut dwarf = Dwarf::new();
    let unit_id = dwarf
        .units
        .add(write::Unit::new(encoding, write::LineProgram::none()));
    let unit = dwarf.units.get_mut(unit_id);
    let root = unit.root();
    let ranges = RangeList(
        functions
            .iter()
            .map(|f| Range::StartLength {
                begin: code_address(f.start),
                length: f.len,
            })
            .collect(),
    );
    let ranges = unit.ranges.add(ranges);
    let cu = unit.get_mut(root);
    cu.set(
        constants::DW_AT_producer,
        AttributeValue::String(b"wafer".to_vec()),
    );
    cu.set(
        constants::DW_AT_name,
        AttributeValue::String(b"<wasm>".to_vec()),
    );
    cu.set(
        constants::DW_AT_language,
        AttributeValue::Language(constants::DW_LANG_C99),
    );
    cu.set(
        constants::DW_AT_low_pc,
        AttributeValue::Address(write::Address::Constant(0)),
    );
    cu.set(
        constants::DW_AT_ranges,
        AttributeValue::RangeListRef(ranges),
    );
    for function in functions {
        let id = unit.add(root, constants::DW_TAG_subprogram);
        let die = unit.get_mut(id);
        die.set(
            constants::DW_AT_name,
            AttributeValue::String(function.name.as_bytes().to_vec()),
        );
        die.set(
            constants::DW_AT_low_pc,
            AttributeValue::Address(code_address(function.start)),
        );
        die.set(
            constants::DW_AT_high_pc,
            AttributeValue::Udata(function.len),
        );
    }
    let mut sections = Sections::new(RelocWriter::new());
    dwarf.write(&mut sections).map_err(dwarf_error)?;
    writer::finish(&sections)
}

/// The innermost subprogram around a DIE: what its locations are relative to.
struct Scope<'a> {
    depth: isize,
    /// Its frame base, without the final `DW_OP_stack_value`.
    frame_base: Vec<Operation<Slice<'a>>>,
    /// Its function in the address map.
    function: Option<usize>,
}

fn convert_unit<'u, 'a>(
    unit: &mut ConvertUnit<'u, Slice<'a>>,
    root: ConvertUnitEntry<'u, Slice<'a>>,
    module: &DebugModule,
    map: &AddressMap<'_>,
) -> Result<()> {
    let wasm_encoding = unit.read_unit.encoding();
    let encoding = Encoding {
        address_size: 8,
        ..wasm_encoding
    };
    unit.unit.set_encoding(encoding);
    convert_lines(unit, encoding, module, map)?;

    let root_id = unit.unit.root();
    let mut scopes: Vec<Scope<'a>> = Vec::new();
    convert_entry(unit, root_id, &root, None, module, map);
    let mut entry = root;
    while let Some(id) = unit
        .read_entry(&mut entry)
        .map_err(|e| module.malformed(e))?
    {
        let Some(id) = id else {
            continue;
        };
        let id = unit.add_entry(Some(id), &entry);
        while scopes
            .last()
            .is_some_and(|scope| scope.depth >= entry.depth)
        {
            scopes.pop();
        }
        if entry.tag == constants::DW_TAG_subprogram {
            let frame_base = match entry.attr_value(constants::DW_AT_frame_base) {
                Some(read::AttributeValue::Exprloc(expression)) => {
                    let mut ops = expr::operations(expression, unit.read_unit).unwrap_or_default();
                    if matches!(ops.last(), Some(Operation::StackValue)) {
                        ops.pop();
                    }
                    ops
                }
                _ => Vec::new(),
            };
            let function = entry
                .attr_value(constants::DW_AT_low_pc)
                .and_then(|value| unit.read_unit.attr_address(value).ok().flatten())
                .and_then(|address| map.function_at(address));
            scopes.push(Scope {
                depth: entry.depth,
                frame_base,
                function,
            });
        }
        convert_entry(unit, id, &entry, scopes.last(), module, map);
    }
    Ok(())
}

/// A sequence of a wasm line program: its addresses, `[start, end)`, and its rows
/// (addresses relative to `start`).
struct Sequence {
    start: u64,
    end: u64,
    rows: Vec<LineRow>,
}

/// The unit's line program, rebuilt: one sequence per native function whose wasm body
/// the unit's program covers, with a row wherever the source position of the code
/// changes.
fn convert_lines<'u, 'a>(
    unit: &mut ConvertUnit<'u, Slice<'a>>,
    encoding: Encoding,
    module: &DebugModule,
    map: &AddressMap<'_>,
) -> Result<()> {
    let Some(mut program) = unit
        .read_line_program(Some(encoding), None)
        .map_err(|e| module.malformed(e))?
    else {
        return Ok(());
    };
    // Every sequence of the wasm program: its address range and rows.
    let mut sequences: Vec<Sequence> = Vec::new();
    while let Some(sequence) = program.read_sequence().map_err(|e| module.malformed(e))? {
        let Some(start) = sequence.start else {
            continue;
        };
        let end = match sequence.end {
            ConvertLineSequenceEnd::Length(length) => start.saturating_add(length),
            ConvertLineSequenceEnd::Address(address) => address,
        };
        let mut rows = sequence.rows;
        rows.sort_by_key(|row| row.address_offset);
        sequences.push(Sequence { start, end, rows });
    }
    let row_at = |sequence: &Sequence, address: u64| -> Option<LineRow> {
        if address < sequence.start || address >= sequence.end {
            return None;
        }
        let after = sequence
            .rows
            .partition_point(|row| row.address_offset <= address - sequence.start);
        sequence.rows.get(after.checked_sub(1)?).copied()
    };
    // The functions whose body starts in each sequence (both sorted by address).
    let mut placed: Vec<(usize, &Sequence)> = Vec::new();
    for sequence in &sequences {
        let first = map
            .functions
            .partition_point(|f| f.wasm_start < sequence.start);
        placed.extend(
            (first..map.functions.len())
                .take_while(|&i| map.functions[i].wasm_start < sequence.end)
                .map(|i| (i, sequence)),
        );
    }
    placed.sort_unstable_by_key(|&(i, _)| i);
    placed.dedup_by_key(|&mut (i, _)| i);
    for (index, sequence) in placed {
        let function = &map.functions[index];
        program.begin_sequence(Some(code_address(function.native_start)));
        let mut last: Option<LineRow> = None;
        let mut emit = |offset: u64, mut row: LineRow, last: &mut Option<LineRow>| {
            // The first code of a new line is a statement, whichever wasm operator of
            // the line it came from: the one the wasm program marks may have been
            // folded into others, and breakpoints and stepping go by statements.
            let new_line = last.is_none_or(|l| (l.file, l.line) != (row.file, row.line));
            row.is_statement |= new_line;
            let same = last.is_some_and(|l| {
                (l.file, l.line, l.column, l.is_statement)
                    == (row.file, row.line, row.column, row.is_statement)
            });
            if !same {
                program.generate_row(LineRow {
                    address_offset: offset,
                    ..row
                });
                *last = Some(row);
            }
        };
        if let Some(row) = row_at(sequence, function.wasm_start) {
            emit(0, row, &mut last);
        }
        for &(start, _, wasm) in &function.rows {
            if let Some(row) = row_at(sequence, wasm) {
                emit(start, row, &mut last);
            }
        }
        program.end_sequence(function.native_len);
    }
    let (program, files) = program.program();
    unit.set_line_program(program, files);
    Ok(())
}

/// Converts the attributes of one DIE onto `id`. An attribute that cannot be
/// translated is left out, never the whole DIE.
fn convert_entry<'u, 'a>(
    unit: &mut ConvertUnit<'u, Slice<'a>>,
    id: write::UnitEntryId,
    entry: &ConvertUnitEntry<'u, Slice<'a>>,
    scope: Option<&Scope<'a>>,
    module: &DebugModule,
    map: &AddressMap<'_>,
) {
    let read_unit = entry.read_unit;
    let has_range = (entry.attr(constants::DW_AT_low_pc).is_some()
        && entry.attr(constants::DW_AT_high_pc).is_some())
        || entry.attr(constants::DW_AT_ranges).is_some();
    for attr in &entry.attrs {
        match attr.name() {
            constants::DW_AT_low_pc
            | constants::DW_AT_high_pc
            | constants::DW_AT_ranges
            | constants::DW_AT_frame_base
            | constants::DW_AT_GNU_locviews => continue,
            constants::DW_AT_location => {
                if let Some(value) = location(unit, entry, attr, scope, module, map) {
                    unit.unit.get_mut(id).set(attr.name(), value);
                }
                continue;
            }
            _ => {}
        }
        let convert_address = |address: u64| map.address(address).map(code_address);
        if let Ok(value) = unit.convert_attribute_value(read_unit, attr, &convert_address) {
            unit.unit.get_mut(id).set(attr.name(), value);
        }
    }

    // A wasm32 pointer is 4 bytes; its type often says so only through the unit's
    // address size, which is now the native one.
    let is_pointer = matches!(
        entry.tag,
        constants::DW_TAG_pointer_type
            | constants::DW_TAG_reference_type
            | constants::DW_TAG_rvalue_reference_type
            | constants::DW_TAG_ptr_to_member_type
    );
    if is_pointer && entry.attr(constants::DW_AT_byte_size).is_none() {
        unit.unit.get_mut(id).set(
            constants::DW_AT_byte_size,
            AttributeValue::Udata(u64::from(read_unit.encoding().address_size)),
        );
    }
    let is_unit = entry.tag == constants::DW_TAG_compile_unit;
    if is_unit {
        // Ranges and location lists are written with absolute addresses.
        unit.unit.get_mut(id).set(
            constants::DW_AT_low_pc,
            AttributeValue::Address(write::Address::Constant(0)),
        );
    }
    if !has_range {
        return;
    }
    let mut native: Vec<(u64, u64)> = Vec::new();
    if let Ok(mut ranges) = read_unit.die_ranges(&entry.read_entry) {
        while let Ok(Some(range)) = ranges.next() {
            native.extend(map.ranges(range.begin, range.end));
        }
    }
    native.sort_unstable();
    native.dedup();
    match native.as_slice() {
        [] => {}
        [(start, end)] if !is_unit => {
            let die = unit.unit.get_mut(id);
            die.set(
                constants::DW_AT_low_pc,
                AttributeValue::Address(code_address(*start)),
            );
            die.set(constants::DW_AT_high_pc, AttributeValue::Udata(end - start));
        }
        ranges => {
            let list = RangeList(
                ranges
                    .iter()
                    .map(|&(start, end)| Range::StartEnd {
                        begin: code_address(start),
                        end: code_address(end),
                    })
                    .collect(),
            );
            let list = unit.unit.ranges.add(list);
            unit.unit
                .get_mut(id)
                .set(constants::DW_AT_ranges, AttributeValue::RangeListRef(list));
        }
    }
}

/// A `DW_AT_location`, translated: an expression where it holds everywhere, else a
/// location list over native code.
fn location<'u, 'a>(
    unit: &mut ConvertUnit<'u, Slice<'a>>,
    entry: &ConvertUnitEntry<'u, Slice<'a>>,
    attr: &read::Attribute<Slice<'a>>,
    scope: Option<&Scope<'a>>,
    module: &DebugModule,
    map: &AddressMap<'_>,
) -> Option<AttributeValue> {
    let read_unit = entry.read_unit;
    let cx = expr::Context {
        module,
        function: scope
            .and_then(|scope| scope.function)
            .map(|index| &map.functions[index]),
        frame_base: scope.map_or(&[][..], |scope| &scope.frame_base),
    };
    let ranges = match attr.value() {
        read::AttributeValue::Exprloc(expression) => {
            let ops = expr::operations(expression, read_unit)?;
            match expr::translate_location(&cx, &ops, None)? {
                Translated::Everywhere(expression) => {
                    return Some(AttributeValue::Exprloc(expression));
                }
                Translated::Ranges(ranges) => ranges,
            }
        }
        read::AttributeValue::LocationListsRef(offset) => {
            let mut entries = read_unit.locations(offset).ok()?;
            let mut ranges = Vec::new();
            while let Ok(Some(entry)) = entries.next() {
                let Some(ops) = expr::operations(entry.data, read_unit) else {
                    continue;
                };
                let native = map.ranges(entry.range.begin, entry.range.end);
                if let Some(Translated::Ranges(translated)) =
                    expr::translate_location(&cx, &ops, Some(&native))
                {
                    ranges.extend(translated);
                }
            }
            ranges
        }
        _ => return None,
    };
    if ranges.is_empty() {
        return None;
    }
    let list = LocationList(
        ranges
            .into_iter()
            .map(|(start, end, data)| Location::StartEnd {
                begin: code_address(start),
                end: code_address(end),
                data,
            })
            .collect(),
    );
    Some(AttributeValue::LocationListRef(
        unit.unit.locations.add(list),
    ))
}
