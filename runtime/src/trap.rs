//! Turning a machine fault into a wasm trap report.

pub use wafer_abi::trap::TrapKind;
use wafer_abi::trap::TrapTable;

/// A fault caught by the platform layer.
#[derive(Debug, Clone, Copy)]
pub struct Fault {
    /// Program counter of the faulting instruction.
    pub pc: usize,
    /// The faulting address lies in the guard region below the guest stack.
    pub stack_overflow: bool,
    /// The platform's signal or exception number, for internal errors.
    pub signal: i32,
}

/// What a fault means for the guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrapReport<'a> {
    /// The trap.
    pub kind: TrapKind,
    /// The wasm function it happened in, if known.
    pub function: Option<&'a [u8]>,
    /// Byte offset of the wasm operator, if known.
    pub wasm_offset: Option<u32>,
    /// The handle index a component handle trap names, if known.
    pub detail: Option<u32>,
}

/// Classifies a fault against the image's code range and trap table. `None` means the
/// fault is not a guest trap (a runtime bug).
pub fn classify<'a>(
    fault: &Fault,
    code_start: usize,
    code_len: usize,
    table: Option<TrapTable<'a>>,
) -> Option<TrapReport<'a>> {
    let code_offset = fault
        .pc
        .checked_sub(code_start)
        .filter(|offset| *offset < code_len)
        .and_then(|offset| u32::try_from(offset).ok());
    let found = code_offset.and_then(|offset| table?.lookup(offset));
    let site = found.and_then(|found| found.site);
    let function = found.map(|found| found.name);
    if fault.stack_overflow {
        return Some(TrapReport {
            kind: TrapKind::StackExhausted,
            function,
            wasm_offset: None,
            detail: None,
        });
    }
    let site = site?;
    Some(TrapReport {
        kind: site.kind,
        function,
        // Stack exhaustion is a property of the call, not of an operator: a stack-limit
        // check sits in the prologue, and a fault in the guard region has no site, so
        // both report the function alone.
        wasm_offset: (site.kind != TrapKind::StackExhausted).then_some(site.wasm_offset),
        detail: None,
    })
}

/// The trap kind of a fault in this image, if it is a guest trap.
pub fn kind_of(fault: &Fault) -> Option<TrapKind> {
    let image = crate::image::descriptor();
    classify(
        fault,
        image.code_start,
        image.code_len,
        TrapTable::parse(image.trap_table),
    )
    .map(|report| report.kind)
}

/// Formats `wafer: trap: <message> in <function> (wasm offset 0x..)`.
pub fn format(report: &TrapReport<'_>, line: &mut crate::out::Line) {
    line.str(b"wafer: trap: ");
    match (report.kind.handle_message(), report.detail) {
        (Some((before, after)), Some(index)) => {
            line.str(before.as_bytes())
                .dec(u64::from(index))
                .str(after.as_bytes());
        }
        _ => {
            line.str(report.kind.message().as_bytes());
        }
    }
    if let Some(function) = report.function {
        line.str(b" in ").str(function);
    }
    if let Some(offset) = report.wasm_offset {
        line.str(b" (wasm offset ").hex(offset as u64).str(b")");
    }
    line.str(b"\n");
}

/// Handles a fault: reports the trap and exits with [`wafer_abi::TRAP_EXIT_CODE`], or
/// reports an internal error when the fault did not come from a trap site.
pub fn on_fault(fault: Fault) -> ! {
    let image = crate::image::descriptor();
    let table = TrapTable::parse(image.trap_table);
    let mut line = crate::out::Line::new();
    match classify(&fault, image.code_start, image.code_len, table) {
        Some(mut report) => {
            report.detail = crate::component::trap_detail();
            format(&report, &mut line);
            line.write_to(2);
            crate::host::exit(wafer_abi::TRAP_EXIT_CODE)
        }
        None => {
            line.str(b"wafer: internal error: signal ")
                .dec(fault.signal as u64)
                .str(b" at pc ")
                .hex(fault.pc as u64)
                .str(b" outside compiled code\n");
            line.write_to(2);
            crate::host::exit(wafer_abi::INTERNAL_ERROR_EXIT_CODE)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wafer_abi::trap::TrapTableBuilder;

    fn table_bytes() -> Vec<u8> {
        let mut builder = TrapTableBuilder::default();
        builder.function(0, 100, "main");
        builder.trap(40, 0x1234, TrapKind::IntegerDivideByZero);
        builder.finish()
    }

    fn fault(pc: usize, stack_overflow: bool) -> Fault {
        Fault {
            pc,
            stack_overflow,
            signal: 8,
        }
    }

    #[test]
    fn trap_site_gives_kind_function_and_offset() {
        let bytes = table_bytes();
        let table = TrapTable::parse(&bytes);
        let report = classify(&fault(0x1000 + 40, false), 0x1000, 100, table).unwrap();
        let mut line = crate::out::Line::new();
        format(&report, &mut line);
        assert_eq!(
            line.as_bytes(),
            b"wafer: trap: integer divide by zero in main (wasm offset 0x1234)\n"
        );
    }

    #[test]
    fn stack_overflow_anywhere_is_a_trap() {
        let bytes = table_bytes();
        let table = TrapTable::parse(&bytes);
        let in_code = classify(&fault(0x1000 + 7, true), 0x1000, 100, table).unwrap();
        assert_eq!(in_code.kind, TrapKind::StackExhausted);
        assert_eq!(in_code.function, Some(&b"main"[..]));
        let in_runtime = classify(&fault(0x9000, true), 0x1000, 100, table).unwrap();
        assert_eq!(in_runtime.function, None);
    }

    #[test]
    fn a_stack_limit_check_reports_like_a_guard_page_fault() {
        let mut builder = TrapTableBuilder::default();
        builder.function(0, 100, "deep");
        builder.trap(12, 0, TrapKind::StackExhausted);
        let bytes = builder.finish();
        let table = TrapTable::parse(&bytes);
        let check = classify(&fault(0x1000 + 12, false), 0x1000, 100, table).unwrap();
        let guard = classify(&fault(0x1000 + 30, true), 0x1000, 100, table).unwrap();
        assert_eq!(check, guard);
        let mut line = crate::out::Line::new();
        format(&check, &mut line);
        assert_eq!(
            line.as_bytes(),
            b"wafer: trap: call stack exhausted in deep\n"
        );
    }

    #[test]
    fn handle_traps_name_the_handle() {
        let mut builder = TrapTableBuilder::default();
        builder.function(0, 100, "[resource-rep]R");
        builder.trap(20, 0x40, TrapKind::InvalidHandle);
        builder.trap(30, 0x40, TrapKind::HandleWrongType);
        let bytes = builder.finish();
        let table = TrapTable::parse(&bytes);
        for (pc, expected) in [
            (20, &b"wafer: trap: unknown handle index 5 in [resource-rep]R (wasm offset 0x40)\n"[..]),
            (30, b"wafer: trap: handle index 5 used with the wrong type in [resource-rep]R (wasm offset 0x40)\n"),
        ] {
            let mut report = classify(&fault(0x1000 + pc, false), 0x1000, 100, table).unwrap();
            report.detail = Some(5);
            let mut line = crate::out::Line::new();
            format(&report, &mut line);
            assert_eq!(line.as_bytes(), expected);
        }
    }

    #[test]
    fn faults_off_a_trap_site_are_not_traps() {
        let bytes = table_bytes();
        let table = TrapTable::parse(&bytes);
        assert!(classify(&fault(0x1000 + 41, false), 0x1000, 100, table).is_none());
        assert!(classify(&fault(0x500, false), 0x1000, 100, table).is_none());
    }
}
