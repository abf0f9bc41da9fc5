//! Links objects built in memory with `object::write`, so every rule and every error
//! path can be tested without a C compiler: symbol resolution, archive loading, GC,
//! layout, and the messages for bad input.

use object::elf;
use object::read::elf::{FileHeader, ProgramHeader};
use object::write::{StandardSection, Symbol, SymbolSection};
use object::{
    Architecture, Object as _, ObjectSection as _, ObjectSymbol as _, SectionKind, SymbolFlags,
    SymbolKind, SymbolScope,
};
use wafer_link::{Arch, Input, LinkError, LinkErrorKind, LinkOptions, LinuxLayout, link};

/// `call rel32; ret` with the call's field at offset 1.
const CALL_RET: &[u8] = &[0xe8, 0, 0, 0, 0, 0xc3];

mod common;

use common::Obj;

impl Obj {
    fn x86() -> Self {
        Self::new(Architecture::X86_64)
    }

    /// A `.text` with `_start` calling `target` (PLT32).
    fn start_calling(target: &str) -> Self {
        let mut o = Self::x86();
        let text = o.section(".text", SectionKind::Text, CALL_RET);
        o.define("_start", text, 0, false);
        let sym = o.undefined(target);
        o.reloc(text, 1, sym, elf::R_X86_64_PLT32, -4);
        o
    }
}

/// A function `name` (`ret`) in its own section.
fn defining(name: &str, weak: bool) -> Obj {
    let mut o = Obj::x86();
    let text = o.section(&format!(".text.{name}"), SectionKind::Text, &[0xc3]);
    o.define(name, text, 0, weak);
    o
}

/// A GNU `ar` archive; with `index`, a symbol table naming each member's symbols.
fn archive(members: &[(&str, &[u8], &[&str])], index: bool) -> Vec<u8> {
    fn header(out: &mut Vec<u8>, name: &str, size: usize) {
        out.extend_from_slice(
            format!("{name:<16}{:<12}{:<6}{:<6}{:<8}{size:<10}`\n", 0, 0, 0, 644).as_bytes(),
        );
    }
    let mut out = b"!<arch>\n".to_vec();
    let symbol_count: usize = members.iter().map(|m| m.2.len()).sum();
    let names_size: usize = members.iter().flat_map(|m| m.2).map(|s| s.len() + 1).sum();
    let table_size = 4 + 4 * symbol_count + names_size;
    let mut offset = 8 + if index {
        60 + table_size.next_multiple_of(2)
    } else {
        0
    };
    let mut offsets = Vec::new();
    for (_, data, _) in members {
        offsets.push(offset);
        offset += 60 + data.len().next_multiple_of(2);
    }
    if index {
        header(&mut out, "/", table_size);
        out.extend_from_slice(&(symbol_count as u32).to_be_bytes());
        for (member, (_, _, symbols)) in members.iter().enumerate() {
            for _ in *symbols {
                out.extend_from_slice(&(offsets[member] as u32).to_be_bytes());
            }
        }
        for symbol in members.iter().flat_map(|m| m.2) {
            out.extend_from_slice(symbol.as_bytes());
            out.push(0);
        }
        if table_size % 2 == 1 {
            out.push(b'\n');
        }
    }
    for (name, data, _) in members {
        header(&mut out, &format!("{name}/"), data.len());
        out.extend_from_slice(data);
        if data.len() % 2 == 1 {
            out.push(b'\n');
        }
    }
    out
}

fn linux(arch: Arch) -> wafer_link::Layout {
    wafer_link::Layout::LinuxExecutable(LinuxLayout::for_arch(arch))
}

fn options() -> LinkOptions {
    LinkOptions {
        entry: "_start".into(),
        keep_symbols: true,
        section_headers: true,
        keep_debug: false,
    }
}

fn try_link(inputs: &[(&str, &[u8])]) -> Result<Vec<u8>, LinkError> {
    let inputs: Vec<Input<'_>> = inputs
        .iter()
        .map(|&(name, data)| Input { name, data })
        .collect();
    link(Arch::X86_64, &linux(Arch::X86_64), &inputs, &options())
}

fn link_ok(inputs: &[(&str, &[u8])]) -> Vec<u8> {
    try_link(inputs).unwrap_or_else(|e| panic!("link failed: {e}"))
}

fn link_err(inputs: &[(&str, &[u8])]) -> LinkError {
    match try_link(inputs) {
        Ok(_) => panic!("link succeeded"),
        Err(e) => e,
    }
}

fn symbol_address(image: &[u8], name: &str) -> Option<u64> {
    let file = object::File::parse(image).unwrap();
    file.symbols()
        .find(|s| s.name() == Ok(name))
        .map(|s| s.address())
}

/// The 4-byte little-endian value at virtual address `address` of the image.
fn read_u32_at(image: &[u8], address: u64) -> u32 {
    let file = object::File::parse(image).unwrap();
    for section in file.sections() {
        if address >= section.address() && address + 4 <= section.address() + section.size() {
            let data = section.data().unwrap();
            let at = (address - section.address()) as usize;
            return u32::from_le_bytes(data[at..at + 4].try_into().unwrap());
        }
    }
    panic!("no section at {address:#x}");
}

#[test]
fn garbage_is_an_error_naming_the_input() {
    let error = link_err(&[("junk.o", b"this is not an object at all")]);
    assert_eq!(error.kind(), LinkErrorKind::Malformed);
    assert_eq!(
        error.to_string(),
        "junk.o: malformed input: not an ELF object or archive"
    );
    let error = link_err(&[("empty.o", b"")]);
    assert_eq!(error.kind(), LinkErrorKind::Malformed);
    let error = link_err(&[("lib.a", b"!<arch>\nnonsense")]);
    assert!(
        error.to_string().starts_with("lib.a: malformed input"),
        "{error}"
    );
}

#[test]
fn every_truncation_and_many_corruptions_fail_cleanly() {
    let app = Obj::start_calling("helper").bytes();
    let helper = defining("helper", false).bytes();
    let lib = archive(&[("helper.o", &helper, &["helper"])], true);
    link_ok(&[("app.o", &app), ("lib.a", &lib)]);
    for len in 0..app.len() {
        let error = link_err(&[("app.o", &app[..len]), ("lib.a", &lib)]);
        assert!(error.to_string().contains("app.o"), "{error}");
    }
    for len in 0..lib.len() {
        // Some prefixes are still valid archives (missing the member the index names
        // fails; a truncated member fails): never a panic, and never success.
        assert!(try_link(&[("app.o", &app), ("lib.a", &lib[..len])]).is_err());
    }
    // Deterministic corruption: change one byte at a time to a pseudo-random value.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..4000 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let mut bad = app.clone();
        let at = (state % bad.len() as u64) as usize;
        bad[at] = (state >> 32) as u8;
        let _ = try_link(&[("app.o", &bad), ("lib.a", &lib)]);
        let mut bad = lib.clone();
        let at = (state % bad.len() as u64) as usize;
        bad[at] = (state >> 40) as u8;
        let _ = try_link(&[("app.o", &app), ("lib.a", &bad)]);
    }
}

#[test]
fn undefined_symbols_are_reported_from_live_sections_only() {
    let app = Obj::start_calling("foo").bytes();
    let error = link_err(&[("app.o", &app)]);
    assert_eq!(error.kind(), LinkErrorKind::UndefinedSymbol);
    assert_eq!(
        error.to_string(),
        "undefined symbol `foo` referenced from app.o(.text)"
    );

    // The same reference from a section nothing uses is fine.
    let mut o = Obj::x86();
    let text = o.section(".text", SectionKind::Text, &[0xc3]);
    o.define("_start", text, 0, false);
    let dead = o.section(".text.dead", SectionKind::Text, CALL_RET);
    let foo = o.undefined("foo");
    o.reloc(dead, 1, foo, elf::R_X86_64_PLT32, -4);
    link_ok(&[("app.o", &o.bytes())]);

    let error = link_err(&[("app.o", &defining("main", false).bytes())]);
    assert_eq!(error.to_string(), "entry symbol `_start` is undefined");
}

#[test]
fn duplicate_strong_definitions_fail_and_weak_ones_yield() {
    let app = Obj::start_calling("foo").bytes();
    let a = defining("foo", false).bytes();
    let b = defining("foo", false).bytes();
    let error = link_err(&[("app.o", &app), ("a.o", &a), ("b.o", &b)]);
    assert_eq!(error.kind(), LinkErrorKind::DuplicateSymbol);
    assert_eq!(
        error.to_string(),
        "duplicate symbol `foo`: defined in a.o and b.o"
    );

    // Weak then strong, and strong then weak: the strong one wins either way.
    let mut weak = Obj::x86();
    let text = weak.section(".text.foo", SectionKind::Text, &[0x90, 0x90, 0xc3]);
    weak.define("foo", text, 2, true);
    let weak = weak.bytes();
    for inputs in [
        [("app.o", &app[..]), ("w.o", &weak[..]), ("s.o", &a[..])],
        [("app.o", &app[..]), ("s.o", &a[..]), ("w.o", &weak[..])],
    ] {
        let image = link_ok(&inputs);
        let foo = symbol_address(&image, "foo").unwrap();
        // The strong definition is at the start of a 16-byte aligned section; the weak
        // one would be at offset 2.
        assert_eq!(foo % 16, 0, "strong foo chosen");
    }
}

#[test]
fn duplicate_within_one_object() {
    let mut o = Obj::start_calling("foo");
    let text = o.section(".text.foo", SectionKind::Text, &[0xc3, 0xc3]);
    o.define("foo", text, 0, false);
    o.define("foo", text, 1, false);
    let error = link_err(&[("app.o", &o.bytes())]);
    assert_eq!(
        error.to_string(),
        "duplicate symbol `foo`: defined in app.o and app.o"
    );
}

#[test]
fn undefined_weak_is_zero() {
    let mut o = Obj::x86();
    // movabs $weak_fn, %rax; ret
    let text = o.section(
        ".text",
        SectionKind::Text,
        &[0x48, 0xb8, 1, 1, 1, 1, 1, 1, 1, 1, 0xc3],
    );
    o.define("_start", text, 0, false);
    let weak_fn = o.symbol("weak_fn", SymbolSection::Undefined, 0, true);
    o.reloc(text, 2, weak_fn, elf::R_X86_64_64, 0);
    let image = link_ok(&[("app.o", &o.bytes())]);
    let start = symbol_address(&image, "_start").unwrap();
    assert_eq!(read_u32_at(&image, start + 2), 0);
    assert_eq!(read_u32_at(&image, start + 6), 0);
}

/// An object defining `name` whose code calls `callee`.
fn calling(name: &str, callee: &str) -> Vec<u8> {
    let mut o = Obj::x86();
    let text = o.section(&format!(".text.{name}"), SectionKind::Text, CALL_RET);
    o.define(name, text, 0, false);
    let callee = o.undefined(callee);
    o.reloc(text, 1, callee, elf::R_X86_64_PLT32, -4);
    o.bytes()
}

#[test]
fn archive_members_load_on_demand_to_a_fixed_point() {
    let app = Obj::start_calling("first").bytes();
    // first -> second -> third, each in its own member, listed in reverse order.
    let first = calling("first", "second");
    let second = calling("second", "third");
    let third = defining("third", false).bytes();
    // A later member that also defines `first`: never loaded, so no clash.
    let clash = defining("first", false).bytes();
    for index in [true, false] {
        let lib = archive(
            &[
                ("third.o", &third, &["third"]),
                ("second.o", &second, &["second"]),
                ("first.o", &first, &["first"]),
                ("clash.o", &clash, &["first"]),
            ],
            index,
        );
        let image = link_ok(&[("app.o", &app), ("lib.a", &lib)]);
        for name in ["first", "second", "third"] {
            assert!(
                symbol_address(&image, name).is_some(),
                "{name} missing (index: {index})"
            );
        }
    }
    // An object that defines the name keeps the member out.
    let lib = archive(
        &[
            ("first.o", &first, &["first"]),
            ("second.o", &second, &["second"]),
        ],
        true,
    );
    let image = link_ok(&[("app.o", &app), ("mine.o", &clash), ("lib.a", &lib)]);
    assert!(symbol_address(&image, "second").is_none());
    // A weak reference does not load a member.
    let mut weak_app = Obj::x86();
    let text = weak_app.section(".text", SectionKind::Text, &[0; 8]);
    weak_app.define("_start", text, 0, false);
    let weak = weak_app.symbol("third", SymbolSection::Undefined, 0, true);
    weak_app.reloc(text, 0, weak, elf::R_X86_64_64, 0);
    let lib = archive(&[("third.o", &third, &["third"])], true);
    let image = link_ok(&[("app.o", &weak_app.bytes()), ("lib.a", &lib)]);
    assert!(symbol_address(&image, "third").is_none());
}

#[test]
fn member_duplicate_is_named() {
    let mut app = Obj::start_calling("first");
    let text = app.section(".text.more", SectionKind::Text, CALL_RET);
    let second = app.undefined("second");
    app.reloc(text, 1, second, elf::R_X86_64_PLT32, -4);
    app.define("first", text, 0, false);
    let mut both = Obj::x86();
    let t = both.section(".text.x", SectionKind::Text, &[0xc3]);
    both.define("first", t, 0, false);
    both.define("second", t, 0, false);
    let lib = archive(&[("both.o", &both.bytes(), &["first", "second"])], true);
    let error = link_err(&[("app.o", &app.bytes()), ("lib.a", &lib)]);
    assert_eq!(
        error.to_string(),
        "duplicate symbol `first`: defined in app.o and lib.a(both.o)"
    );
}

#[test]
fn gc_keeps_what_is_reachable_and_wafer_sections() {
    let mut o = Obj::start_calling("used");
    let used = o.section(".text.used", SectionKind::Text, &[0xc3]);
    o.define("used", used, 0, false);
    let unused = o.section(".text.unused", SectionKind::Text, &[0xcc; 4096]);
    o.define("unused", unused, 0, false);
    let meta = o.section(".wafer.meta", SectionKind::Metadata, b"META");
    let _ = meta;
    let rodata = o.section(".wafer.trap", SectionKind::ReadOnlyData, b"TRAPS");
    let _ = rodata;
    let descriptor = o.section(".wafer.image", SectionKind::ReadOnlyData, b"DESC");
    let _ = descriptor;
    o.section(".eh_frame", SectionKind::ReadOnlyData, &[0; 64]);
    o.section(".comment", SectionKind::OtherString, b"compiler\0");
    let image = link_ok(&[("app.o", &o.bytes())]);
    assert!(image.len() < 2048, "{} bytes", image.len());
    let file = object::File::parse(&*image).unwrap();
    // Every `.wafer*` section is kept, in one `.wafer` led by the image descriptor.
    let wafer = file.section_by_name(".wafer").unwrap().data().unwrap();
    let at = |needle: &[u8]| wafer.windows(needle.len()).position(|w| w == needle);
    assert_eq!(at(b"DESC"), Some(0), "{wafer:?}");
    assert!(at(b"META").unwrap() < at(b"TRAPS").unwrap(), "{wafer:?}");
    assert!(file.section_by_name(".wafer.meta").is_none());
    assert!(file.section_by_name(".eh_frame").is_none());
    assert!(file.section_by_name(".comment").is_none());
    assert!(symbol_address(&image, "unused").is_none());
    assert!(symbol_address(&image, "used").is_some());
}

#[test]
fn unsupported_inputs_are_errors() {
    let mut o = Obj::start_calling("f");
    let text = o.section(".text.f", SectionKind::Text, &[0xc3]);
    o.define("f", text, 0, false);
    o.section(".tdata", SectionKind::Tls, &[1, 2, 3, 4]);
    let error = link_err(&[("app.o", &o.bytes())]);
    assert_eq!(error.kind(), LinkErrorKind::Unsupported);
    assert!(
        error
            .to_string()
            .starts_with("unsupported: thread-local storage in app.o"),
        "{error}"
    );

    let mut o = Obj::start_calling("f");
    let text = o.section(".text.f", SectionKind::Text, &[0xc3]);
    o.define("f", text, 0, false);
    let init = o.section(
        ".init_array",
        SectionKind::Elf(elf::SHT_INIT_ARRAY),
        &[0; 8],
    );
    o.obj.section_mut(init).flags = object::SectionFlags::Elf {
        sh_flags: u64::from(elf::SHF_ALLOC | elf::SHF_WRITE),
    };
    let error = link_err(&[("app.o", &o.bytes())]);
    assert!(error.to_string().contains("constructors"), "{error}");

    let arm = {
        let mut o = Obj::new(Architecture::Aarch64);
        let text = o.section(".text", SectionKind::Text, &[0xc0, 0x03, 0x5f, 0xd6]);
        o.define("_start", text, 0, false);
        o.bytes()
    };
    let error = link_err(&[("arm.o", &arm)]);
    assert!(
        error.to_string().starts_with("arm.o: wrong architecture"),
        "{error}"
    );
}

#[test]
fn unknown_relocations_fail_only_in_kept_sections() {
    let mut o = Obj::x86();
    let text = o.section(".text", SectionKind::Text, CALL_RET);
    o.define("_start", text, 0, false);
    let dead = o.section(".text.dead", SectionKind::Text, CALL_RET);
    let debug = o.section(".debug_info", SectionKind::Debug, &[0; 8]);
    let start = o.undefined("_start");
    o.reloc(dead, 1, start, 99, 0);
    o.reloc(debug, 0, start, 99, 0);
    link_ok(&[("app.o", &o.bytes())]);

    o.reloc(text, 1, start, 99, 0);
    let error = link_err(&[("app.o", &o.bytes())]);
    assert_eq!(error.kind(), LinkErrorKind::Unsupported);
    assert_eq!(
        error.to_string(),
        "unsupported relocation type 99 against `_start` in app.o(.text)+0x1"
    );
}

#[test]
fn overflow_is_an_error_not_truncation() {
    let mut o = Obj::x86();
    let text = o.section(".text", SectionKind::Text, CALL_RET);
    o.define("_start", text, 0, false);
    let far = o.symbol("far_away", SymbolSection::Absolute, 0x7fff_0000_0000, false);
    o.reloc(text, 1, far, elf::R_X86_64_PC32, -4);
    let error = link_err(&[("app.o", &o.bytes())]);
    assert_eq!(error.kind(), LinkErrorKind::RelocationOutOfRange);
    assert!(
        error.to_string().starts_with(
            "relocation R_X86_64_PC32 against `far_away` in app.o(.text)+0x1 out of range"
        ),
        "{error}"
    );
}

#[test]
fn got_slots_hold_addresses_and_undefined_weak_gets_zero() {
    let mut o = Obj::x86();
    // mov foo@GOTPCREL(%rip), %rax (relaxable) ; add weak@GOTPCREL(%rip), %rax ; ret
    let code = [
        0x48, 0x8b, 0x05, 0, 0, 0, 0, 0x48, 0x03, 0x05, 0, 0, 0, 0, 0xc3,
    ];
    let text = o.section(".text", SectionKind::Text, &code);
    o.define("_start", text, 0, false);
    let data = o.section(".data", SectionKind::Data, &[0; 8]);
    let foo = o.define("foo", data, 0, false);
    let weak = o.symbol("weak_thing", SymbolSection::Undefined, 0, true);
    o.reloc(text, 3, foo, elf::R_X86_64_REX_GOTPCRELX, -4);
    o.reloc(text, 10, weak, elf::R_X86_64_REX_GOTPCRELX, -4);
    let image = link_ok(&[("app.o", &o.bytes())]);
    let file = object::File::parse(&*image).unwrap();
    let got = file.section_by_name(".got").unwrap();
    // One slot: foo's load was relaxed to lea, the weak one cannot be.
    assert_eq!(got.data().unwrap(), &[0; 8]);
    let start = symbol_address(&image, "_start").unwrap();
    let foo = symbol_address(&image, "foo").unwrap();
    let text = file
        .section_by_name(".text")
        .unwrap()
        .data()
        .unwrap()
        .to_vec();
    assert_eq!(text[1], 0x8d, "mov became lea");
    let rel = i32::from_le_bytes(text[3..7].try_into().unwrap());
    assert_eq!(start as i64 + 7 + i64::from(rel), foo as i64);
    let rel = i32::from_le_bytes(text[10..14].try_into().unwrap());
    assert_eq!(start as i64 + 14 + i64::from(rel), got.address() as i64);
}

#[test]
fn bss_with_relocations_is_rejected() {
    let mut o = Obj::x86();
    let text = o.section(".text", SectionKind::Text, &[0xc3]);
    let start = o.define("_start", text, 0, false);
    let bss = o.obj.section_id(StandardSection::UninitializedData);
    o.obj.append_section_bss(bss, 8, 8);
    let table = o.define("table", bss, 0, false);
    o.reloc(bss, 0, start, elf::R_X86_64_64, 0);
    // Keep the table alive.
    let use_ = o.section(".text.use", SectionKind::Text, &[0; 8]);
    o.reloc(use_, 0, table, elf::R_X86_64_64, 0);
    o.reloc(text, 0, table, elf::R_X86_64_NONE, 0);
    let error = link_err(&[("app.o", &o.bytes())]);
    assert!(error.to_string().contains("zero-initialised"), "{error}");
}

#[test]
fn layout_options_are_checked() {
    let app = defining("_start", false).bytes();
    let inputs = [Input {
        name: "app.o",
        data: &app,
    }];
    for (base, page) in [(0x40_0100, 0x1000), (0x40_0000, 0x1800), (0x40_0000, 0x800)] {
        let layout = wafer_link::Layout::LinuxExecutable(LinuxLayout {
            base_address: base,
            page_size: page,
            end_limit: None,
        });
        let error = link(Arch::X86_64, &layout, &inputs, &options()).unwrap_err();
        assert_eq!(error.kind(), LinkErrorKind::InvalidOptions, "{error}");
    }
}

#[test]
fn an_image_must_end_below_its_end_limit() {
    let mut o = Obj::x86();
    let text = o.section(".text", SectionKind::Text, &[0xc3]);
    o.define("_start", text, 0, false);
    let bss = o.obj.section_id(StandardSection::UninitializedData);
    o.obj.append_section_bss(bss, 0x10_0000, 64);
    let zeroed = o.define("zeroed", bss, 0, false);
    o.reloc(text, 0, zeroed, elf::R_X86_64_NONE, 0);
    let app = o.bytes();
    let inputs = [Input {
        name: "app.o",
        data: &app,
    }];
    let layout = |end_limit| {
        wafer_link::Layout::LinuxExecutable(LinuxLayout {
            base_address: 0x40_0000,
            page_size: 0x1000,
            end_limit: Some(end_limit),
        })
    };
    // The 1 MiB of zeroed data alone reaches past 0x50_0000.
    let error = link(Arch::X86_64, &layout(0x50_0000), &inputs, &options()).unwrap_err();
    assert_eq!(error.kind(), LinkErrorKind::InvalidOptions, "{error}");
    assert!(error.to_string().contains("past 0x500000"), "{error}");
    link(Arch::X86_64, &layout(0x60_0000), &inputs, &options()).unwrap();
}

#[test]
fn segments_are_compact_and_congruent() {
    let mut o = Obj::x86();
    // Two absolute pointers (to rodata and data), then `call f; ret`.
    let text = o.section(
        ".text",
        SectionKind::Text,
        &[&[0; 16][..], CALL_RET].concat(),
    );
    o.define("_start", text, 16, false);
    let f_text = o.section(".text.f", SectionKind::Text, &[0xc3; 100]);
    o.define("f", f_text, 0, false);
    let rodata = o.section(".rodata.x", SectionKind::ReadOnlyData, &[1; 100]);
    let ro = o.define("ro", rodata, 0, false);
    let data = o.section(".data.x", SectionKind::Data, &[2; 100]);
    let rw = o.define("rw", data, 0, false);
    let bss = o.obj.section_id(StandardSection::UninitializedData);
    o.obj.append_section_bss(bss, 0x3000, 64);
    let zeroed = o.define("zeroed", bss, 0, false);
    let f = o.undefined("f");
    o.reloc(text, 0, ro, elf::R_X86_64_64, 0);
    o.reloc(text, 8, rw, elf::R_X86_64_64, 0);
    o.reloc(text, 17, f, elf::R_X86_64_PLT32, -4);
    o.reloc(f_text, 0, zeroed, elf::R_X86_64_NONE, 0);
    for arch_page in [0x1000u64, 0x1_0000] {
        let inputs = [Input {
            name: "app.o",
            data: &o.bytes(),
        }];
        let layout = wafer_link::Layout::LinuxExecutable(LinuxLayout {
            base_address: 0x40_0000,
            page_size: arch_page,
            end_limit: None,
        });
        let image = link(Arch::X86_64, &layout, &inputs, &options()).unwrap();
        assert!(
            image.len() < 4096,
            "no page padding in the file: {} bytes",
            image.len()
        );
        let header = elf::FileHeader64::<object::LittleEndian>::parse(&*image).unwrap();
        let e = object::LittleEndian;
        let loads: Vec<_> = header
            .program_headers(e, &*image)
            .unwrap()
            .iter()
            .filter(|p| p.p_type(e) == elf::PT_LOAD)
            .collect();
        assert_eq!(loads.len(), 3);
        let mut previous_end = 0u64;
        for p in &loads {
            assert_eq!(p.p_offset(e) % arch_page, p.p_vaddr(e) % arch_page);
            assert!(
                p.p_vaddr(e) >= previous_end.next_multiple_of(arch_page),
                "segments share no page"
            );
            previous_end = p.p_vaddr(e) + p.p_memsz(e);
        }
        assert_eq!(loads[0].p_flags(e), elf::PF_R);
        assert_eq!(loads[1].p_flags(e), elf::PF_R | elf::PF_X);
        assert_eq!(loads[2].p_flags(e), elf::PF_R | elf::PF_W);
        assert!(loads[2].p_memsz(e) >= loads[2].p_filesz(e) + 0x3000);
    }
}

#[test]
fn riscv_pcrel_lo12_needs_its_hi20() {
    let mut o = Obj::new(Architecture::Riscv64);
    // auipc a0, 0 ; addi a0, a0, 0 ; ret
    let code = [0x17, 0x05, 0, 0, 0x13, 0x05, 0x05, 0, 0x67, 0x80, 0, 0];
    let text = o.section(".text", SectionKind::Text, &code);
    o.define("_start", text, 0, false);
    let data = o.section(".data", SectionKind::Data, &[0; 8]);
    let target = o.define("target", data, 4, false);
    let label = o.obj.add_symbol(Symbol {
        name: b".Lpcrel_hi0".to_vec(),
        value: 0,
        size: 0,
        kind: SymbolKind::Label,
        scope: SymbolScope::Compilation,
        weak: false,
        section: SymbolSection::Section(text),
        flags: SymbolFlags::None,
    });
    o.reloc(text, 0, target, elf::R_RISCV_PCREL_HI20, 0);
    o.reloc(text, 4, label, elf::R_RISCV_PCREL_LO12_I, 0);
    let bytes = o.bytes();
    let inputs = [Input {
        name: "app.o",
        data: &bytes,
    }];
    let image = link(Arch::Riscv64, &linux(Arch::Riscv64), &inputs, &options()).unwrap();
    let start = symbol_address(&image, "_start").unwrap();
    let target = symbol_address(&image, "target").unwrap();
    let auipc = read_u32_at(&image, start);
    let addi = read_u32_at(&image, start + 4);
    let hi = i64::from((auipc & 0xffff_f000) as i32);
    let lo = i64::from((addi as i32) >> 20);
    assert_eq!(start as i64 + hi + lo, target as i64);

    // A LO12 whose label has no HI20.
    let mut o = Obj::new(Architecture::Riscv64);
    let text = o.section(".text", SectionKind::Text, &code);
    o.define("_start", text, 0, false);
    let label = o.obj.add_symbol(Symbol {
        name: b".Lnowhere".to_vec(),
        value: 8,
        size: 0,
        kind: SymbolKind::Label,
        scope: SymbolScope::Compilation,
        weak: false,
        section: SymbolSection::Section(text),
        flags: SymbolFlags::None,
    });
    o.reloc(text, 4, label, elf::R_RISCV_PCREL_LO12_I, 0);
    let bytes = o.bytes();
    let inputs = [Input {
        name: "app.o",
        data: &bytes,
    }];
    let error = link(Arch::Riscv64, &linux(Arch::Riscv64), &inputs, &options()).unwrap_err();
    assert!(
        error.to_string().contains("no R_RISCV_PCREL_HI20"),
        "{error}"
    );
}

#[test]
fn riscv_float_abi_is_copied_and_must_agree() {
    let make = |flags: u32| {
        let mut o = Obj::new(Architecture::Riscv64);
        o.obj.flags = object::FileFlags::Elf {
            os_abi: 0,
            abi_version: 0,
            e_flags: flags,
        };
        let text = o.section(".text", SectionKind::Text, &[0x67, 0x80, 0, 0]);
        o.define("_start", text, 0, false);
        o.bytes()
    };
    let double = make(elf::EF_RISCV_FLOAT_ABI_DOUBLE | elf::EF_RISCV_RVC);
    let inputs = [Input {
        name: "app.o",
        data: &double,
    }];
    let image = link(Arch::Riscv64, &linux(Arch::Riscv64), &inputs, &options()).unwrap();
    let header = elf::FileHeader64::<object::LittleEndian>::parse(&*image).unwrap();
    assert_eq!(
        header.e_flags(object::LittleEndian),
        elf::EF_RISCV_FLOAT_ABI_DOUBLE | elf::EF_RISCV_RVC
    );

    let soft = {
        let mut o = Obj::new(Architecture::Riscv64);
        o.obj.flags = object::FileFlags::Elf {
            os_abi: 0,
            abi_version: 0,
            e_flags: elf::EF_RISCV_FLOAT_ABI_SOFT,
        };
        o.section(".text.x", SectionKind::Text, &[0x67, 0x80, 0, 0]);
        o.bytes()
    };
    let inputs = [
        Input {
            name: "app.o",
            data: &double,
        },
        Input {
            name: "soft.o",
            data: &soft,
        },
    ];
    let error = link(Arch::Riscv64, &linux(Arch::Riscv64), &inputs, &options()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "soft.o: soft-float ABI, but app.o uses the double-float ABI"
    );
}

#[test]
fn commons_merge_to_the_largest() {
    let common = |size: u64| {
        let mut o = Obj::x86();
        let id = o.symbol("shared", SymbolSection::Common, 0, false);
        let symbol = o.obj.symbol_mut(id);
        symbol.size = size;
        symbol.value = 8;
        (o, id)
    };
    let (mut a, shared) = common(16);
    let text = a.section(".text", SectionKind::Text, &[0; 8]);
    a.define("_start", text, 0, false);
    a.reloc(text, 0, shared, elf::R_X86_64_64, 0);
    let (b, _) = common(256);
    let image = link_ok(&[("a.o", &a.bytes()), ("b.o", &b.bytes())]);
    let file = object::File::parse(&*image).unwrap();
    let bss = file.section_by_name(".bss").unwrap();
    assert!(bss.size() >= 256);
    let shared = symbol_address(&image, "shared").unwrap();
    assert_eq!(shared % 8, 0);
    assert!(shared >= bss.address() && shared + 256 <= bss.address() + bss.size());
}
