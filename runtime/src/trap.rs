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
    /// The frame pointer at the fault (0 when unknown): a trap in generated code with no
    /// wasm offset (a component's trampoline) is reported at its caller's call.
    pub fp: usize,
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
    /// For a trap in generated code (a trampoline), the wasm function that called it;
    /// `wasm_offset` is then the call's.
    pub caller: Option<&'a [u8]>,
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
            caller: None,
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
        caller: None,
    })
}

/// For a trap at a site with no wasm offset (generated code, such as a component's
/// trampoline), the wasm offset and function of the call into it: the call site the
/// compiler recorded at the return address in the faulting frame's record, less one.
pub fn caller_site<'a>(
    fault: &Fault,
    code_start: usize,
    code_len: usize,
    table: Option<TrapTable<'a>>,
    read_frame: impl FnOnce(usize) -> (usize, usize),
) -> Option<(u32, &'a [u8])> {
    if fault.fp == 0 || !fault.fp.is_multiple_of(core::mem::size_of::<usize>()) {
        return None;
    }
    let (_, ret) = read_frame(fault.fp);
    let offset = ret
        .checked_sub(code_start + 1)
        .filter(|offset| *offset < code_len)?;
    let found = table?.lookup(u32::try_from(offset).ok()?)?;
    let site = found.site?;
    (site.wasm_offset != 0).then_some((site.wasm_offset, found.name))
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
    if let Some(caller) = report.caller {
        line.str(b" called from ").str(caller);
    }
    if let Some(offset) = report.wasm_offset {
        line.str(b" (wasm offset ").hex(offset as u64).str(b")");
    }
    line.str(b"\n");
}

/// The full report of a fault in this image, if it is a guest trap: the trap site, the
/// handle a component trap names, and for a trap in generated code the call into it.
pub fn report(fault: &Fault) -> Option<TrapReport<'static>> {
    let image = crate::image::descriptor();
    let table = TrapTable::parse(image.trap_table);
    let mut report = classify(fault, image.code_start, image.code_len, table)?;
    report.detail = crate::component::trap_detail();
    if report.wasm_offset == Some(0) {
        let caller = caller_site(fault, image.code_start, image.code_len, table, |fp| {
            // SAFETY: the fault is at a trap site of compiled code, which keeps frame
            // pointers: `fp` is the frame pointer of its live frame.
            unsafe { crate::exceptions::frame_record(fp) }
        });
        if let Some((offset, function)) = caller {
            report.wasm_offset = Some(offset);
            report.caller = Some(function);
        }
    }
    Some(report)
}

/// Handles a fault: reports the trap and exits with [`wafer_abi::TRAP_EXIT_CODE`], or
/// reports an internal error when the fault did not come from a trap site.
pub fn on_fault(fault: Fault) -> ! {
    let mut line = crate::out::Line::new();
    match report(&fault) {
        Some(report) => {
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
            fp: 0,
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
    fn traps_in_generated_code_report_the_call_into_it() {
        let mut builder = TrapTableBuilder::default();
        builder.function(0, 50, "run");
        // The call into the trampoline returns to 24: its site is at 23.
        builder.trap(23, 0x1a2, TrapKind::Unreachable);
        builder.function(50, 50, "[resource-drop]R");
        builder.trap(70, 0, TrapKind::InvalidHandle);
        let bytes = builder.finish();
        let table = TrapTable::parse(&bytes);
        let mut at = fault(0x1000 + 70, false);
        let report = classify(&at, 0x1000, 100, table).unwrap();
        assert_eq!(report.wasm_offset, Some(0));
        at.fp = 0x8000;
        let frame = |fp| {
            assert_eq!(fp, 0x8000);
            (0x9000, 0x1000 + 24)
        };
        let (offset, caller) = caller_site(&at, 0x1000, 100, table, frame).unwrap();
        assert_eq!((offset, caller), (0x1a2, &b"run"[..]));
        let mut report = report;
        report.wasm_offset = Some(offset);
        report.caller = Some(caller);
        report.detail = Some(3);
        let mut line = crate::out::Line::new();
        format(&report, &mut line);
        assert_eq!(
            line.as_bytes(),
            b"wafer: trap: unknown handle index 3 in [resource-drop]R called from run (wasm offset 0x1a2)\n"
        );
        // No frame pointer, or a return address that is no recorded call: no caller.
        at.fp = 0;
        assert!(caller_site(&at, 0x1000, 100, table, frame).is_none());
        at.fp = 0x8000;
        assert!(caller_site(&at, 0x1000, 100, table, |_| (0, 0x1000 + 30)).is_none());
    }

    #[test]
    fn faults_off_a_trap_site_are_not_traps() {
        let bytes = table_bytes();
        let table = TrapTable::parse(&bytes);
        assert!(classify(&fault(0x1000 + 41, false), 0x1000, 100, table).is_none());
        assert!(classify(&fault(0x500, false), 0x1000, 100, table).is_none());
    }
}
