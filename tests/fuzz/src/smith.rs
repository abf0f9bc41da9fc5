//! Module generation with wasm-smith: the configurations of the two targets, the fuel
//! export the differential target refuels modules through, and the operator scan that
//! tells which NaN bits a module can observe.

use arbitrary::{Arbitrary, Unstructured};
use wasm_smith::{Config, Module};
use wasmparser::{Operator, Parser, Payload};

/// The name under which the differential target exports wasm-smith's fuel global.
pub const FUEL_EXPORT: &str = "wafer-fuzz:fuel";

/// The `spectest` module of the spec interpreter, reduced to what wasmi can provide as
/// host items: the imports differential modules may use (instance 0 of their image).
pub const SPECTEST: &str = r#"(module
  (global (export "global_i32") i32 (i32.const 666))
  (global (export "global_i64") i64 (i64.const 666))
  (global (export "global_f32") f32 (f32.const 666.6))
  (global (export "global_f64") f64 (f64.const 666.6))
  (table (export "table") 10 20 funcref)
  (memory (export "memory") 1 2)
  (func (export "print"))
  (func (export "print_i32") (param i32))
  (func (export "print_i64") (param i64))
  (func (export "print_f32") (param f32))
  (func (export "print_f64") (param f64))
  (func (export "print_i32_f32") (param i32 f32))
  (func (export "print_f64_f64") (param f64 f64)))"#;

/// What wasm-smith may import from `spectest`, with the types `SPECTEST` gives them.
const SPECTEST_IMPORTS: &str = r#"(module
  (import "spectest" "global_i32" (global i32))
  (import "spectest" "global_i64" (global i64))
  (import "spectest" "global_f32" (global f32))
  (import "spectest" "global_f64" (global f64))
  (import "spectest" "table" (table 10 20 funcref))
  (import "spectest" "memory" (memory 1 2))
  (import "spectest" "print" (func))
  (import "spectest" "print_i32" (func (param i32)))
  (import "spectest" "print_i64" (func (param i64)))
  (import "spectest" "print_f32" (func (param f32)))
  (import "spectest" "print_f64" (func (param f64)))
  (import "spectest" "print_i32_f32" (func (param i32 f32)))
  (import "spectest" "print_f64_f64" (func (param f64 f64))))"#;

/// The most bytes a linear memory of a differential module may reach: its declared
/// sizes stay below it, and both engines refuse to grow past it (wafer's
/// `--max-memory`, wasmi's store limits), so memories without a maximum are covered.
pub const MAX_MEMORY_BYTES: u64 = 4 << 20;

/// A configuration for the compile target: every proposal wasm-smith knows that wafer's
/// validator may accept, and some it must reject (threads, GC, wide arithmetic, invalid
/// function bodies), drawn from the input.
pub fn compile_config(u: &mut Unstructured<'_>) -> arbitrary::Result<Config> {
    let mut config = Config::arbitrary(u)?;
    config.custom_page_sizes_enabled = u.arbitrary()?;
    config.wide_arithmetic_enabled = u.ratio(1, 8)?;
    config.export_everything = u.arbitrary()?;
    config.generate_custom_sections = u.ratio(1, 4)?;
    config.allow_invalid_funcs = u.ratio(1, 8)?;
    config.canonicalize_nans = u.ratio(1, 4)?;
    // wasm-smith asserts min <= max.
    config.min_funcs = u.int_in_range(0..=4)?.min(config.max_funcs);
    // Imported globals, memories and tables have no provider: keep most modules
    // buildable.
    if u.ratio(3, 4)? {
        config.max_imports = 0;
        config.min_imports = 0;
    }
    Ok(config)
}

/// How a differential module treats NaNs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NanMode {
    /// wasm-smith canonicalizes every arithmetic NaN: results, memory and globals must be
    /// equal bit for bit (floats still compared NaN-aware).
    Canonical,
    /// Raw NaNs, in a module that cannot observe NaN bits other than through float
    /// values (no SIMD, reinterpretation, float stores or `copysign`): float results are
    /// compared by the spec's NaN rules, everything else exactly.
    Raw,
}

/// A generated differential module.
#[derive(Debug, Clone)]
pub struct DiffModule {
    /// The binary, with the fuel global exported as [`FUEL_EXPORT`].
    pub wasm: Vec<u8>,
    /// How its NaNs are treated.
    pub nans: NanMode,
    /// The fuel each call gets.
    pub fuel: u32,
}

/// The fuel a differential module's calls start with: loop iterations plus calls.
pub const DEFAULT_FUEL: u32 = 1000;

/// A configuration for the differential target: the features both wafer and wasmi
/// implement (Wasm 3.0 without GC, exceptions and relaxed SIMD, plus custom page sizes),
/// everything exported, bounded sizes.
pub fn differential_config(u: &mut Unstructured<'_>, nans: NanMode) -> arbitrary::Result<Config> {
    let imports = u.ratio(1, 3)?;
    Ok(Config {
        available_imports: imports
            .then(|| wat::parse_str(SPECTEST_IMPORTS).expect("the spectest imports parse")),
        export_everything: true,
        allow_start_export: true,
        canonicalize_nans: nans == NanMode::Canonical,
        disallow_traps: false,
        gc_enabled: false,
        exceptions_enabled: false,
        relaxed_simd_enabled: false,
        threads_enabled: false,
        wide_arithmetic_enabled: false,
        shared_everything_threads_enabled: false,
        custom_descriptors_enabled: false,
        // A newer encoding of import sections that wasmi 2.0 cannot read.
        compact_imports_enabled: false,
        simd_enabled: nans == NanMode::Canonical && u.ratio(2, 3)?,
        custom_page_sizes_enabled: u.ratio(1, 4)?,
        memory64_enabled: u.arbitrary()?,
        multi_value_enabled: true,
        bulk_memory_enabled: true,
        reference_types_enabled: true,
        tail_call_enabled: true,
        extended_const_enabled: true,
        saturating_float_to_int_enabled: true,
        sign_extension_ops_enabled: true,
        max_memories: u.int_in_range(1..=3)?,
        max_tables: u.int_in_range(1..=3)?,
        max_memory32_bytes: MAX_MEMORY_BYTES,
        max_memory64_bytes: MAX_MEMORY_BYTES as u128,
        table_max_size_required: true,
        max_table_elements: 1000,
        min_types: 1,
        min_funcs: 1,
        max_funcs: u.int_in_range(1..=40)?,
        max_instructions: u.int_in_range(10..=400)?,
        max_data_segments: 20,
        max_element_segments: 20,
        max_elements: 50,
        max_globals: 30,
        max_types: 40,
        max_imports: if imports { 20 } else { 0 },
        max_nesting_depth: 10,
        ..Config::default()
    })
}

/// A differential module from `u`, or `None` when `u` cannot make one (too little
/// input, or a raw-NaN module whose NaN bits leak and which is then not usable).
pub fn differential_module(u: &mut Unstructured<'_>) -> Option<DiffModule> {
    let nans = if u.ratio(1, 4).ok()? {
        NanMode::Raw
    } else {
        NanMode::Canonical
    };
    let config = differential_config(u, nans).ok()?;
    let mut module = Module::new(config, u).ok()?;
    let fuel_global = module.ensure_termination(DEFAULT_FUEL).ok()?;
    let wasm = export_global(&module.to_bytes(), FUEL_EXPORT, fuel_global)?;
    if nans == NanMode::Raw && scan(&wasm).nan_bits_escape() {
        return None;
    }
    Some(DiffModule {
        wasm,
        nans,
        fuel: DEFAULT_FUEL,
    })
}

/// `wasm` with one more export: global `index` as `name`. Every other byte is kept.
pub fn export_global(wasm: &[u8], name: &str, index: u32) -> Option<Vec<u8>> {
    const EXPORT: u8 = 7;
    // Sections that follow the export section in a module.
    const AFTER_EXPORT: [u8; 5] = [8, 9, 12, 10, 11];
    let mut entry = Vec::new();
    leb(&mut entry, name.len() as u64);
    entry.extend_from_slice(name.as_bytes());
    entry.push(0x03);
    leb(&mut entry, index as u64);
    let section = |out: &mut Vec<u8>, count: u64, rest: &[u8]| {
        let mut contents = Vec::new();
        leb(&mut contents, count);
        contents.extend_from_slice(rest);
        contents.extend_from_slice(&entry);
        out.push(EXPORT);
        leb(out, contents.len() as u64);
        out.extend_from_slice(&contents);
    };
    let mut out = wasm.get(..8)?.to_vec();
    let mut at = 8;
    let mut done = false;
    while at < wasm.len() {
        let id = wasm[at];
        let (size, width) = read_leb(wasm.get(at + 1..)?)?;
        let start = at + 1 + width;
        let end = start.checked_add(usize::try_from(size).ok()?)?;
        let contents = wasm.get(start..end)?;
        if !done && id == EXPORT {
            let (count, width) = read_leb(contents)?;
            section(&mut out, count + 1, &contents[width..]);
            done = true;
        } else {
            if !done && AFTER_EXPORT.contains(&id) {
                section(&mut out, 1, &[]);
                done = true;
            }
            out.extend_from_slice(&wasm[at..end]);
        }
        at = end;
    }
    if !done {
        section(&mut out, 1, &[]);
    }
    Some(out)
}

fn leb(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn read_leb(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, byte) in bytes.iter().enumerate().take(10) {
        value |= ((byte & 0x7f) as u64) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

/// Which operators a module uses, as far as NaN bits are concerned.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scan {
    /// Any SIMD operator (lanes carry float bits into integers freely).
    pub simd: bool,
    /// `i32.reinterpret_f32` / `i64.reinterpret_f64`.
    pub reinterpret: bool,
    /// `f32.store` / `f64.store`.
    pub float_store: bool,
    /// `f32.copysign` / `f64.copysign` (a NaN's sign moves into a number).
    pub copysign: bool,
    /// Float promotion or demotion, scalar or SIMD: RISC-V returns the canonical NaN
    /// where x86 and AArch64 keep the payload (the spec allows both).
    pub promote_demote: bool,
    /// Of those, the SIMD ones ([`canonicalize_conversions`] handles the scalar ones).
    pub vector_promote_demote: bool,
}

impl Scan {
    /// Whether NaN bits can reach something other than a float value.
    pub fn nan_bits_escape(&self) -> bool {
        self.simd || self.reinterpret || self.float_store || self.copysign
    }
}

/// Scans the code of `wasm` (valid, or the scan is partial).
pub fn scan(wasm: &[u8]) -> Scan {
    let mut scan = Scan::default();
    for payload in Parser::new(0).parse_all(wasm) {
        let Ok(Payload::CodeSectionEntry(body)) = payload else {
            continue;
        };
        let Ok(mut reader) = body.get_operators_reader() else {
            continue;
        };
        while let Ok(operator) = reader.read() {
            match operator {
                Operator::I32ReinterpretF32 | Operator::I64ReinterpretF64 => {
                    scan.reinterpret = true
                }
                Operator::F32Store { .. } | Operator::F64Store { .. } => scan.float_store = true,
                Operator::F32Copysign | Operator::F64Copysign => scan.copysign = true,
                Operator::F32DemoteF64
                | Operator::F64PromoteF32
                | Operator::F32x4DemoteF64x2Zero
                | Operator::F64x2PromoteLowF32x4 => {
                    scan.promote_demote = true;
                    let vector = matches!(
                        operator,
                        Operator::F32x4DemoteF64x2Zero | Operator::F64x2PromoteLowF32x4
                    );
                    scan.simd |= vector;
                    scan.vector_promote_demote |= vector;
                }
                other => {
                    if is_simd(&other) {
                        scan.simd = true;
                    }
                }
            }
        }
    }
    scan
}

fn is_simd(operator: &Operator<'_>) -> bool {
    // wasmparser's operator names: every SIMD operator works on v128 or its lanes.
    let name = format!("{operator:?}");
    let name = name.split([' ', '{', '(']).next().unwrap_or("");
    name.starts_with("V128")
        || ["I8x16", "I16x8", "I32x4", "I64x2", "F32x4", "F64x2"]
            .iter()
            .any(|lanes| name.starts_with(lanes))
}

/// `wasm` with the NaN after every `f32.demote_f64` and `f64.promote_f32` made
/// canonical, as wasm-smith's `canonicalize_nans` does for arithmetic but not for these:
/// RISC-V returns the canonical NaN where the host that runs wasmi keeps the payload
/// (the spec allows both). Each function gets two more locals for the check.
pub fn canonicalize_conversions(wasm: &[u8]) -> Option<Vec<u8>> {
    use wasm_encoder::reencode::Reencode;
    use wasm_encoder::{Function, Instruction, ValType};

    /// Parameters of each defined function, in order.
    fn parameter_counts(wasm: &[u8]) -> Option<Vec<u32>> {
        let mut types = Vec::new();
        let mut defined = Vec::new();
        for payload in Parser::new(0).parse_all(wasm) {
            match payload.ok()? {
                Payload::TypeSection(reader) => {
                    for group in reader {
                        for sub in group.ok()?.types() {
                            types.push(match &sub.composite_type.inner {
                                wasmparser::CompositeInnerType::Func(f) => f.params().len() as u32,
                                _ => 0,
                            });
                        }
                    }
                }
                Payload::FunctionSection(reader) => {
                    for ty in reader {
                        defined.push(*types.get(ty.ok()? as usize)?);
                    }
                }
                _ => {}
            }
        }
        Some(defined)
    }

    struct Canonicalize {
        params: std::vec::IntoIter<u32>,
    }

    impl Reencode for Canonicalize {
        type Error = std::convert::Infallible;

        fn parse_function_body(
            &mut self,
            code: &mut wasm_encoder::CodeSection,
            func: wasmparser::FunctionBody<'_>,
        ) -> Result<(), wasm_encoder::reencode::Error<Self::Error>> {
            let params = self.params.next().unwrap_or(0);
            let mut locals = Vec::new();
            let mut declared = 0u32;
            for pair in func.get_locals_reader()? {
                let (count, ty) = pair?;
                declared += count;
                locals.push((count, self.val_type(ty)?));
            }
            let scratch32 = params + declared;
            let scratch64 = scratch32 + 1;
            locals.push((1, ValType::F32));
            locals.push((1, ValType::F64));
            let mut f = Function::new(locals);
            let mut reader = func.get_operators_reader()?;
            while !reader.eof() {
                let operator = reader.read()?;
                let converted = match operator {
                    Operator::F32DemoteF64 => Some(false),
                    Operator::F64PromoteF32 => Some(true),
                    _ => None,
                };
                f.instruction(&self.instruction(operator)?);
                match converted {
                    Some(false) => {
                        f.instruction(&Instruction::LocalTee(scratch32));
                        f.instruction(&Instruction::F32Const(f32::from_bits(0x7fc0_0000).into()));
                        f.instruction(&Instruction::LocalGet(scratch32));
                        f.instruction(&Instruction::LocalGet(scratch32));
                        f.instruction(&Instruction::F32Eq);
                        f.instruction(&Instruction::Select);
                    }
                    Some(true) => {
                        f.instruction(&Instruction::LocalTee(scratch64));
                        f.instruction(&Instruction::F64Const(
                            f64::from_bits(0x7ff8_0000_0000_0000).into(),
                        ));
                        f.instruction(&Instruction::LocalGet(scratch64));
                        f.instruction(&Instruction::LocalGet(scratch64));
                        f.instruction(&Instruction::F64Eq);
                        f.instruction(&Instruction::Select);
                    }
                    None => {}
                }
            }
            code.function(&f);
            Ok(())
        }
    }

    let mut canonicalize = Canonicalize {
        params: parameter_counts(wasm)?.into_iter(),
    };
    let mut module = wasm_encoder::Module::new();
    canonicalize
        .parse_core_module(&mut module, Parser::new(0), wasm)
        .ok()?;
    Some(module.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fuel_export_is_added_with_or_without_an_export_section() {
        for text in [
            "(module (global (mut i32) (i32.const 5)) (func (export \"f\")))",
            "(module (global (mut i32) (i32.const 5)) (func))",
            "(module (global (mut i32) (i32.const 5)))",
        ] {
            let wasm = wat::parse_str(text).unwrap();
            let patched = export_global(&wasm, FUEL_EXPORT, 0).unwrap();
            wasmparser::validate(&patched).unwrap();
            let exports: Vec<String> = Parser::new(0)
                .parse_all(&patched)
                .filter_map(|p| match p.unwrap() {
                    Payload::ExportSection(reader) => Some(
                        reader
                            .into_iter()
                            .map(|e| e.unwrap().name.to_string())
                            .collect::<Vec<_>>(),
                    ),
                    _ => None,
                })
                .flatten()
                .collect();
            assert_eq!(
                exports.last().map(String::as_str),
                Some(FUEL_EXPORT),
                "{text}"
            );
        }
    }

    #[test]
    fn conversions_are_canonicalized_in_every_function() {
        let wasm = wat::parse_str(
            r#"(module
              (func (export "demote") (param f64 i32) (result f32) (local i64)
                (f32.demote_f64 (local.get 0)))
              (func (export "promote") (param f32) (result f64)
                (f64.promote_f32 (local.get 0))))"#,
        )
        .unwrap();
        let rewritten = canonicalize_conversions(&wasm).unwrap();
        wasmparser::validate(&rewritten).unwrap();
        let counts = tees_and_selects(&rewritten);
        assert_eq!(
            counts,
            (2, 2),
            "a tee of a new local and a select after each"
        );
    }

    /// (local.tee count, select count) of a module's code.
    fn tees_and_selects(wasm: &[u8]) -> (usize, usize) {
        let mut counts = (0, 0);
        for payload in Parser::new(0).parse_all(wasm) {
            let Ok(Payload::CodeSectionEntry(body)) = payload else {
                continue;
            };
            let mut reader = body.get_operators_reader().unwrap();
            while !reader.eof() {
                match reader.read().unwrap() {
                    Operator::LocalTee { .. } => counts.0 += 1,
                    Operator::Select => counts.1 += 1,
                    _ => {}
                }
            }
        }
        counts
    }

    #[test]
    fn the_scan_sees_what_exposes_nan_bits() {
        let scan_of = |body: &str| {
            scan(
                &wat::parse_str(format!(
                    "(module (memory 1) (func (param f32 f64 v128) {body}))"
                ))
                .unwrap(),
            )
        };
        assert!(!scan_of("(drop (f32.add (local.get 0) (local.get 0)))").nan_bits_escape());
        assert!(scan_of("(drop (i32.reinterpret_f32 (local.get 0)))").reinterpret);
        assert!(scan_of("(f64.store (i32.const 0) (local.get 1))").float_store);
        assert!(scan_of("(drop (f32.copysign (local.get 0) (local.get 0)))").copysign);
        assert!(scan_of("(drop (i8x16.abs (local.get 2)))").simd);
        assert!(scan_of("(drop (f32.demote_f64 (local.get 1)))").promote_demote);
        assert!(!scan_of("(drop (f32.demote_f64 (local.get 1)))").nan_bits_escape());
    }
}
