//! `wafer inspect`: what an image contains and what it may access.

use std::fmt::Write as _;

use object::{Object, ObjectSection};
use wafer_abi::image::{ImageField, flags};
use wafer_abi::trap::TrapTable;

/// Describes the image in `bytes` (an executable or an object from `--emit obj`).
pub fn describe(bytes: &[u8]) -> Result<String, String> {
    let file = object::File::parse(bytes).map_err(|e| format!("not an ELF file: {e}"))?;
    let section = |name: &str| {
        file.section_by_name(name)
            .and_then(|s| s.data().ok())
            .map(<[u8]>::to_vec)
    };
    // An object has one section per table; a linked image one `.wafer` that starts with
    // the descriptor, whose fields locate the rest. An image without section headers
    // has it right after its program headers.
    let linked = file
        .section_by_name(wafer_link::WAFER_SECTION)
        .and_then(|s| {
            let data = s.data().ok()?;
            Some((s.address(), data))
        })
        .or_else(|| wafer_after_program_headers(&file, bytes));
    let descriptor = match (section(".wafer.image"), linked) {
        (Some(descriptor), _) => descriptor,
        (None, Some((_, data))) => data.to_vec(),
        (None, None) => return Err("not a wafer image: it has no .wafer section".into()),
    };
    let pointer = if file.is_64() { 8 } else { 4 };
    let field = |f: ImageField| {
        let at = f.offset(pointer as u8) as usize;
        descriptor
            .get(at..at + pointer)
            .map(|b| {
                b.iter()
                    .rev()
                    .fold(0u64, |acc, byte| (acc << 8) | *byte as u64)
            })
            .unwrap_or(0)
    };
    // A table: its own section in an object, or where the descriptor points in `.wafer`.
    let table = |name: &str, address: ImageField, len: ImageField| {
        section(name).or_else(|| {
            let (base, data) = linked?;
            let start = usize::try_from(field(address).checked_sub(base)?).ok()?;
            let end = start.checked_add(usize::try_from(field(len)).ok()?)?;
            data.get(start..end).map(<[u8]>::to_vec)
        })
    };
    let mut out = String::new();
    let kind = match file.kind() {
        object::ObjectKind::Executable => "static executable",
        object::ObjectKind::Relocatable => "relocatable object",
        _ => "image",
    };
    writeln!(out, "format:      ELF {kind}, {:?}", file.architecture()).unwrap();
    writeln!(out, "size:        {} bytes", bytes.len()).unwrap();
    if file.kind() == object::ObjectKind::Executable {
        writeln!(out, "entry:       {:#x}", file.entry()).unwrap();
    }
    writeln!(
        out,
        "code:        {} bytes of compiled wasm",
        field(ImageField::CodeLen)
    )
    .unwrap();
    if let Some(table) = table(
        ".wafer.traps",
        ImageField::TrapTable,
        ImageField::TrapTableLen,
    ) && let Some(table) = TrapTable::parse(&table)
    {
        writeln!(
            out,
            "functions:   {} ({} trap sites)",
            table.function_count(),
            table.trap_count()
        )
        .unwrap();
    }
    writeln!(out, "stack:       {} bytes", field(ImageField::StackSize)).unwrap();
    let main = field(ImageField::Flags) & flags::HAS_MAIN != 0;
    let component = field(ImageField::WorldLen) != 0;
    // A component without `wasi:cli/run` that exports `wasi:http/handler` is a service.
    let serves = component
        && table(".wafer.world", ImageField::World, ImageField::WorldLen).is_some_and(|world| {
            let entries = crate::component::world::decode(&world);
            let exports = |prefix: &str| {
                entries
                    .iter()
                    .any(|e| !e.import && e.name.starts_with(prefix))
            };
            exports("wasi:http/handler@") && !exports("wasi:cli/run@")
        });
    writeln!(
        out,
        "entry point: {}",
        match (main, component, serves) {
            (true, true, true) =>
                "the wasi:http/handler export: an HTTP service on the granted --listen addresses",
            (true, true, false) => "the wasi:cli/run export",
            (true, false, _) => "_start",
            (false, ..) => "start function only",
        }
    )
    .unwrap();
    let (fuel, deadline) = (field(ImageField::Fuel), field(ImageField::DeadlineNanos));
    let metering = match (fuel, deadline) {
        (0, 0) => "none".to_string(),
        (fuel, 0) => format!("fuel {}", grouped(fuel)),
        (0, nanos) => format!("deadline {:?}", std::time::Duration::from_nanos(nanos)),
        (fuel, nanos) => format!(
            "fuel {}, deadline {:?}",
            grouped(fuel),
            std::time::Duration::from_nanos(nanos)
        ),
    };
    writeln!(out, "metering:    {metering}").unwrap();
    if let Ok(Some(report)) = wafer_link::memory_report(bytes) {
        let files = table(".wafer.files", ImageField::Files, ImageField::FilesLen);
        describe_firmware(
            &mut out,
            &report,
            field(ImageField::Flags),
            files.as_deref(),
        );
    }
    writeln!(out, "grants:").unwrap();
    let blob =
        table(".wafer.grants", ImageField::Grants, ImageField::GrantsLen).unwrap_or_default();
    write!(out, "{}", crate::grants::describe(&blob)?).unwrap();
    if let Some(world) = table(".wafer.world", ImageField::World, ImageField::WorldLen)
        .filter(|world| !world.is_empty())
    {
        describe_world(&mut out, &world, &blob);
    }
    Ok(out)
}

/// `n` with thousands separators.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// A firmware image: its board, its use of the board's memory, how it ends, its
/// devices and the files baked into it.
fn describe_firmware(
    out: &mut String,
    report: &wafer_link::MemoryReport,
    flags: u64,
    files: Option<&[u8]>,
) {
    let board = report.regions.first().and_then(|region| {
        let name = region
            .name
            .rsplit_once(' ')
            .map_or(&*region.name, |(n, _)| n);
        crate::target::all().into_iter().find(|t| t.name == name)
    });
    if let Some(target) = &board {
        writeln!(out, "board:       {} ({})", target.name, target.description).unwrap();
    }
    for region in &report.regions {
        let used = region.text
            + region.rodata
            + region.metadata
            + region.data
            + region.bss
            + region.stack
            + region.heap;
        writeln!(
            out,
            "memory:      {} {:#x}..{:#x}: {} of {} bytes used by the image, {} free",
            region.name,
            region.origin,
            region.origin + region.length,
            grouped(used),
            grouped(region.length),
            grouped(region.free),
        )
        .unwrap();
        writeln!(
            out,
            "             text {}, rodata {}, metadata {}, data {}, bss {}, stack {}, heap {}; \
             the free part is linear memory",
            grouped(region.text),
            grouped(region.rodata),
            grouped(region.metadata),
            grouped(region.data),
            grouped(region.bss),
            grouped(region.stack),
            grouped(region.heap),
        )
        .unwrap();
    }
    let exit = wafer_abi::image::ExitMethod::from_flags(flags);
    let how = match exit {
        wafer_abi::image::ExitMethod::Semihosting => {
            "semihosting (QEMU or a debugger ends with the exit code; real hardware without \
             a debugger traps: build with --on-exit halt or reset)"
        }
        wafer_abi::image::ExitMethod::Halt => "halt (every core parks)",
        wafer_abi::image::ExitMethod::Reset => "reset (the board restarts)",
    };
    writeln!(out, "on exit:     {how}").unwrap();
    if let Some(info) = board.as_ref().and_then(|t| t.board.as_ref()) {
        writeln!(out, "console:     {} (stdin, stdout, stderr)", info.console).unwrap();
        writeln!(out, "clock:       {}", info.clock).unwrap();
        let random = if info.hardware_random {
            format!("random_get from the {}", info.random)
        } else {
            format!(
                "no hardware source ({}): random_get uses ChaCha20 seeded at boot from the \
                 image's seed, the clock and timing jitter",
                info.random
            )
        };
        writeln!(out, "random:      {random}").unwrap();
    }
    if let Some(tree) = files.and_then(wafer_abi::files::FileTree::parse) {
        for index in 0..tree.root_count() {
            let Some(root) = tree.root(index) else {
                continue;
            };
            let (mut count, mut bytes) = (0u64, 0u64);
            let mut stack = vec![root];
            while let Some(node) = stack.pop() {
                for child in tree.children(&node) {
                    match child.kind {
                        wafer_abi::files::NodeKind::File => {
                            count += 1;
                            bytes += child.size();
                        }
                        wafer_abi::files::NodeKind::Directory => stack.push(child),
                    }
                }
            }
            writeln!(
                out,
                "files:       tree {index}: {count} files, {} bytes, read-only",
                grouped(bytes)
            )
            .unwrap();
        }
    }
}

/// The component's world: each imported interface with what the grants let it reach,
/// then the exports.
fn describe_world(out: &mut String, world: &[u8], grants: &[u8]) {
    use wafer_abi::grants::Grant;
    let records: Vec<Grant<'_>> = wafer_abi::grants::parse(grants)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .collect();
    let has = |f: fn(&Grant<'_>) -> bool| records.iter().any(f);
    writeln!(out, "world:").unwrap();
    for entry in crate::component::world::decode(world) {
        let keyword = if entry.import { "import" } else { "export" };
        let access = if !entry.import {
            String::new()
        } else if entry.funcs.iter().all(|(_, provided)| !provided) && !entry.funcs.is_empty() {
            " (not provided: its functions trap)".to_string()
        } else {
            let (interface, _) = wafer_abi::wasi_p2::split_version(&entry.name);
            let allowed = match interface {
                "wasi:cli/environment" => {
                    if has(|g| {
                        matches!(
                            g,
                            Grant::Env(_) | Grant::InheritEnvVar(_) | Grant::InheritEnv
                        )
                    }) {
                        "arguments and the granted environment"
                    } else {
                        "arguments; no environment variable is granted"
                    }
                }
                i if i.starts_with("wasi:filesystem/") => {
                    if has(|g| matches!(g, Grant::Preopen { .. })) {
                        "the granted directories"
                    } else {
                        "denied: no directory is granted"
                    }
                }
                i if i.starts_with("wasi:sockets/") => {
                    if has(|g| matches!(g, Grant::InheritNetwork)) {
                        "the host's network"
                    } else if i == "wasi:sockets/ip-name-lookup" {
                        "denied: name lookup needs --inherit-network"
                    } else if has(|g| matches!(g, Grant::Listen(_) | Grant::Connect(_))) {
                        "the granted addresses"
                    } else {
                        "denied: no address is granted"
                    }
                }
                _ => "allowed",
            };
            format!(" ({allowed})")
        };
        writeln!(out, "  {keyword} {}{access}", entry.name).unwrap();
        for (func, provided) in &entry.funcs {
            let note = if *provided {
                ""
            } else {
                " (not provided: traps)"
            };
            writeln!(out, "    {func}{note}").unwrap();
        }
    }
}

/// Where wafer's linker puts `.wafer` in an image without section headers: opening the
/// first segment, right after the program headers, 16-byte aligned. Checked by the
/// descriptor's magic number.
fn wafer_after_program_headers<'data>(
    file: &object::File<'data>,
    bytes: &'data [u8],
) -> Option<(u64, &'data [u8])> {
    use object::ObjectSegment;
    let read_u64 = |at: usize| Some(u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?));
    let read_u16 = |at: usize| Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?));
    // ELF64 header fields: e_phoff, e_phentsize and e_phnum.
    let headers_end =
        read_u64(0x20)?.checked_add(u64::from(read_u16(0x36)?) * u64::from(read_u16(0x38)?))?;
    let start = headers_end.checked_next_multiple_of(16)?;
    let segment = file.segments().find(|s| s.file_range().0 == 0)?;
    let (_, file_len) = segment.file_range();
    let data = bytes.get(usize::try_from(start).ok()?..usize::try_from(file_len).ok()?)?;
    data.starts_with(&wafer_abi::image::IMAGE_MAGIC.to_le_bytes())
        .then_some((segment.address() + start, data))
}
