//! From validated modules to a relocatable object.
//!
//! An image holds one or more instances. For each, this declares its symbols with its
//! imports resolved against the instances before it (`link_plan`), compiles every
//! function body of every instance in parallel, generates the instantiation code and the
//! entry points, and emits VM contexts, segments, the trap table, grants and the image
//! descriptor.

mod component;
mod counter_compare;
mod declare;
mod entry;
mod init;
pub mod isa;
mod link_plan;
mod object;

use std::cell::RefCell;
use std::collections::HashMap;

use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir;
use cranelift_codegen::isa::{CallConv, OwnedTargetIsa, TargetIsa};
use cranelift_codegen::{CodegenError, Context};
use cranelift_module::{FuncId, ModuleReloc};
use rayon::prelude::*;
use wafer_abi::exceptions::CallSiteRecord;
use wafer_abi::trap::TrapKind;
use wafer_abi::vmctx::{VmCounts, VmOffsets};

use crate::environ::{ExportKind, FunctionBodyInfo, ModuleInfo};
use crate::error::{CompileError, Result};
use crate::target::{Arch, Target, TargetKind};
use crate::translate::bounds::BoundsStats;
use crate::translate::env::{ModuleEnv, ModuleSymbols, Tunables};
use crate::translate::{FuncTranslator, inline};

pub use component::compile_component;
pub use component::harness::{HarnessComponent, compile_harness as compile_component_harness};
pub use link_plan::{ImportDef, ImportSource, Imports};
pub use object::ObjectWriter;

/// What to build besides the code itself.
#[derive(Debug, Clone)]
pub struct CompileConfig {
    /// Encoded grants to store in the image.
    pub grants: Vec<u8>,
    /// Guest stack size in bytes.
    pub stack_size: u64,
    /// CPU preset name, `None` for the target's baseline.
    pub cpu: Option<String>,
    /// Imported functions nothing provides become stubs that trap when called, instead
    /// of failing the build.
    pub trap_unknown_imports: bool,
    /// Run this export (after `_initialize`, if the module has one) instead of `_start`;
    /// an `i32` result becomes the exit status.
    pub invoke: Option<String>,
    /// Explicit bounds and stack-limit checks.
    pub checks: crate::checks::Checks,
    /// What a firmware image carries besides the code (`None` for other images).
    pub board: Option<BoardConfig>,
    /// The most bytes each linear memory may grow to, below its declared maximum.
    pub max_memory: Option<u64>,
    /// `--fuel` and `--deadline`.
    pub metering: crate::metering::Metering,
    /// Carry DWARF (`wafer build -g`): the guest's Wasm DWARF translated to native code,
    /// CFI, and source lines in the trap table. A debug build: functions are neither
    /// inlined nor folded, so each has its own code and frame, and Cranelift's
    /// optimiser is off, so memory is accessed where the wasm does.
    pub debug_info: bool,
}

/// What a firmware image carries besides the code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardConfig {
    /// How the program ends.
    pub exit_method: wafer_abi::image::ExitMethod,
    /// The read-only file trees (`wafer_abi::files` format; empty for none).
    pub files: Vec<u8>,
    /// Fresh random bytes that seed the generator of boards without a hardware one.
    pub seed: [u8; 32],
    /// When the image was built, in nanoseconds since the epoch.
    pub build_time: u64,
}

/// One instance of an image: a module and where its imports come from.
#[derive(Debug, Clone)]
pub struct InstanceSpec<'a> {
    /// The module, binary.
    pub wasm: &'a [u8],
    /// Providers by import module name.
    pub imports: HashMap<String, ImportSource>,
}

/// One instance of an image, with its imports resolved either way.
#[derive(Debug, Clone)]
pub struct ImageInstance<'a> {
    /// The module, binary.
    pub wasm: &'a [u8],
    /// Where its imports come from.
    pub imports: Imports,
}

impl<'a> From<&InstanceSpec<'a>> for ImageInstance<'a> {
    fn from(spec: &InstanceSpec<'a>) -> Self {
        ImageInstance {
            wasm: spec.wasm,
            imports: Imports::ByModule(spec.imports.clone()),
        }
    }
}

/// How the image is entered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// Instantiate every instance, then run the `_start` export of this instance (or
    /// nothing, when it has only a start function).
    Command(usize),
    /// A test harness drives the instances: the image carries a harness table with
    /// every instance's instantiation function and an entry for each export.
    Harness,
}

/// A failed image build: which instance, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageError {
    /// Position of the instance that failed.
    pub instance: usize,
    /// The error.
    pub error: CompileError,
}

/// A function compiled to machine code, not yet placed.
pub struct CompiledFunction {
    /// Machine code.
    pub code: Vec<u8>,
    /// Required alignment.
    pub alignment: u64,
    /// Relocations in `code`.
    pub relocs: Vec<ModuleReloc>,
    /// Trap sites: code offset, kind, wasm offset.
    pub traps: Vec<(u32, TrapKind, u32)>,
    /// Direct calls: return address (relative to the function), the call's wasm offset
    /// (0 when unknown) and the function called.
    pub calls: Vec<(u32, u32, FuncId)>,
    /// Calls with exception handlers (offsets relative to the function).
    pub call_sites: Vec<CallSiteRecord>,
    /// The functions inlined into this one, for naming traps in their code.
    pub inlined: Vec<InlinedBody>,
    /// Its explicit bounds checks, emitted and left out.
    pub bounds: BoundsStats,
    /// Bytes its frame takes below the frame pointer.
    pub frame_size: u32,
    /// Whether its prologue reads the VM context's stack limit.
    pub reads_stack_limit: bool,
    /// Where its code came from and where locals live, with debug info.
    pub debug: Option<crate::debug::FunctionDebug>,
}

/// A function whose body was inlined into another.
#[derive(Debug, Clone)]
pub struct InlinedBody {
    /// Its body's byte range in the module: trap sites in it belong to this function.
    pub wasm_start: u32,
    /// The body's length in bytes.
    pub wasm_len: u32,
    /// Its name, for trap reports.
    pub name: String,
}

/// Compiles `func` to machine code.
pub fn compile_function(
    isa: &dyn TargetIsa,
    context: &mut Context,
    func: ir::Function,
    func_id: FuncId,
) -> Result<CompiledFunction> {
    optimize(isa, context, func)?;
    lower(isa, context, func_id, false)
}

/// Compiles a translated wasm function of the instance `menv` describes. On riscv64 a
/// function whose frame needs Cranelift's stack-probe loop gets a stack-limit check
/// instead: that loop touches the farthest page first, which may lie past the guard
/// region below the stack (a frame of over three guard regions would then write
/// beneath it rather than trap).
fn compile_wasm_function(
    isa: &dyn TargetIsa,
    context: &mut Context,
    func: ir::Function,
    func_id: FuncId,
    menv: &ModuleEnv<'_>,
) -> Result<CompiledFunction> {
    let has_stack_limit = func.stack_limit.is_some();
    let debug = menv.tunables.debug_info;
    optimize(isa, context, func)?;
    let compiled = lower(isa, context, func_id, debug)?;
    if has_stack_limit || !isa::probe_loop_may_skip_guard(isa, compiled.frame_size) {
        return Ok(compiled);
    }
    crate::translate::set_stack_limit(&mut context.func, menv);
    lower(isa, context, func_id, debug)
}

fn codegen_error(e: CodegenError) -> CompileError {
    CompileError::Codegen(format!("{e:?}"))
}

/// Cranelift's optimisations on `func`, left in `context.func`: `Context::optimize`,
/// then, between the e-graph and lowering, our counter-compare pass.
fn optimize(isa: &dyn TargetIsa, context: &mut Context, func: ir::Function) -> Result<()> {
    context.clear();
    context.func = func;
    let mut control_plane = ControlPlane::default();
    context.verify_if(isa).map_err(codegen_error)?;
    context
        .optimize(isa, &mut control_plane)
        .map_err(codegen_error)?;
    if counter_compare::compare_after_increment(&mut context.func) > 0 {
        context.verify_if(isa).map_err(codegen_error)?;
    }
    Ok(())
}

/// Lowers the optimised `context.func` to machine code; with `debug`, also records its
/// source locations, where its labelled locals live and its unwind information.
fn lower(
    isa: &dyn TargetIsa,
    context: &mut Context,
    func_id: FuncId,
    debug: bool,
) -> Result<CompiledFunction> {
    thread_local! {
        /// The register allocator's buffers, reused from function to function.
        static REGALLOC: RefCell<regalloc2::Ctx> = RefCell::default();
    }
    let mut control_plane = ControlPlane::default();
    let stencil = REGALLOC
        .with_borrow_mut(|regalloc| {
            isa.compile_function(
                &context.func,
                &context.domtree,
                regalloc,
                false,
                &mut control_plane,
            )
        })
        .map_err(codegen_error)?;
    let compiled = stencil.apply_params(&context.func.params);
    let frame_size = compiled
        .buffer
        .frame_layout()
        .map_or(0, |layout| layout.frame_to_fp_offset);
    let code = compiled.code_buffer().to_vec();
    let alignment = compiled.buffer.alignment as u64;
    let srclocs = compiled.buffer.get_srclocs_sorted();
    let traps = compiled
        .buffer
        .traps()
        .iter()
        .filter_map(|trap| {
            let kind = crate::translate::env::trap_kind(trap.code)?;
            // Source locations are sorted and disjoint: a binary search, not a scan per
            // trap (a function of 100,000 traps took 40 s).
            let at = srclocs.partition_point(|loc| loc.end <= trap.offset);
            let wasm_offset = srclocs
                .get(at)
                .filter(|loc| loc.start <= trap.offset && !loc.loc.is_default())
                .map_or(0, |loc| loc.loc.bits());
            Some((trap.offset, kind, wasm_offset))
        })
        .collect();
    let call_sites = compiled
        .buffer
        .call_sites()
        .filter(|site| !site.exception_handlers.is_empty())
        .map(|site| {
            use cranelift_codegen::FinalizedMachExceptionHandler as H;
            let handlers = site
                .exception_handlers
                .iter()
                .filter_map(|handler| match handler {
                    H::Tag(tag, offset) => Some((tag.as_u32(), *offset)),
                    H::Default(offset) => Some((wafer_abi::exceptions::CATCH_ALL, *offset)),
                    H::Context(_) => None,
                })
                .collect();
            CallSiteRecord {
                return_offset: site.ret_addr,
                frame_offset: site.frame_offset.unwrap_or(0),
                handlers,
            }
        })
        .collect();
    let debug = debug
        .then(|| crate::debug::FunctionDebug::new(isa, &compiled, srclocs))
        .transpose()?;
    let mach_relocs = compiled.buffer.relocs().to_vec();
    let relocs: Vec<ModuleReloc> = mach_relocs
        .iter()
        .map(|reloc| ModuleReloc::from_mach_reloc(reloc, &context.func, func_id))
        .collect();
    // A direct call's relocation lies in its call sequence, within the last 12 bytes
    // before the return address (riscv64's `auipc` + `jalr` is the longest). Relocations
    // and source locations are in code order.
    let calls = compiled
        .buffer
        .call_sites()
        .filter_map(|site| {
            let ret = site.ret_addr;
            let before = relocs.partition_point(|reloc| reloc.offset < ret);
            let callee = relocs[..before]
                .iter()
                .rev()
                .take_while(|reloc| reloc.offset + 12 >= ret)
                .find_map(|reloc| match reloc.name {
                    cranelift_module::ModuleRelocTarget::User {
                        namespace: 0,
                        index,
                    } => Some(FuncId::from_u32(index)),
                    _ => None,
                })?;
            let at = srclocs.partition_point(|loc| loc.end < ret);
            let wasm_offset = srclocs
                .get(at)
                .filter(|loc| loc.start < ret && ret <= loc.end && !loc.loc.is_default())
                .map_or(0, |loc| loc.loc.bits());
            Some((ret, wasm_offset, callee))
        })
        .collect();
    Ok(CompiledFunction {
        code,
        alignment,
        relocs,
        traps,
        calls,
        call_sites,
        inlined: Vec::new(),
        bounds: BoundsStats::default(),
        frame_size,
        reads_stack_limit: context.func.stack_limit.is_some(),
        debug,
    })
}

/// The imports of a standalone module: WASI preview1, and on a board its devices
/// (`wafer_abi::devices`), which the runtime provides like WASI.
fn host_imports(target: &Target) -> HashMap<String, ImportSource> {
    let mut imports = HashMap::from([(
        wafer_abi::symbols::WASI_PREVIEW1_MODULE.to_string(),
        ImportSource::Wasi,
    )]);
    if target.kind == TargetKind::Baremetal {
        for module in [wafer_abi::devices::DIGITAL, wafer_abi::devices::DELAY] {
            imports.insert(module.to_string(), ImportSource::Wasi);
        }
    }
    imports
}

/// Compiles a standalone core module (imports from WASI preview1) into a relocatable
/// object for `target`.
pub fn compile_module(wasm: &[u8], target: &Target, config: &CompileConfig) -> Result<Vec<u8>> {
    let spec = ImageInstance {
        wasm,
        imports: Imports::ByModule(host_imports(target)),
    };
    compile_instances(&[spec], target, config, Entry::Command(0), None).map_err(|e| e.error)
}

/// Every instance of an image, parsed and declared.
struct Prepared<'data> {
    modules: Vec<ModuleInfo<'data>>,
    bodies: Vec<Vec<FunctionBodyInfo<'data>>>,
    isa: OwnedTargetIsa,
    writer: ObjectWriter,
    symbols: Vec<ModuleSymbols>,
    offsets: Vec<VmOffsets>,
    resolved: Vec<link_plan::ResolvedImports>,
    host_call_conv: CallConv,
    /// The trampolines of a component image, by position.
    trampolines: Vec<FuncId>,
}

fn prepare<'data>(
    instances: &[ImageInstance<'data>],
    target: &Target,
    config: &CompileConfig,
    component: Option<component::ComponentImage<'_, '_>>,
) -> Result<Prepared<'data>, ImageError> {
    let at = |instance: usize| move |error| ImageError { instance, error };
    if instances.is_empty() {
        return Err(at(0)(CompileError::Link(
            "an image needs at least one instance".into(),
        )));
    }
    // One validator for all modules, so equal types get equal identities everywhere.
    let mut validator = wasmparser::Validator::new_with_features(crate::environ::features());
    let mut modules = Vec::with_capacity(instances.len());
    let mut bodies = Vec::with_capacity(instances.len());
    for (i, spec) in instances.iter().enumerate() {
        let mut module = ModuleInfo::parse_with(&mut validator, spec.wasm).map_err(at(i))?;
        bodies.push(std::mem::take(&mut module.bodies));
        modules.push(module);
    }
    let isa = isa::build_with(target, config.cpu.as_deref(), config.debug_info).map_err(at(0))?;
    if let Some(why) = isa::simd_unavailable(&*isa) {
        for (i, module) in modules.iter().enumerate() {
            refuse_v128_types(module, why).map_err(at(i))?;
        }
    }
    let mut writer = ObjectWriter::new(isa.clone()).map_err(at(0))?;
    let pointer_type = isa.pointer_type();
    let host_call_conv = CallConv::triple_default(isa.triple());
    let libcalls = writer
        .declare_libcalls(
            pointer_type,
            host_call_conv,
            config.checks.stack_limit,
            config.metering.is_on(),
        )
        .map_err(at(0))?;
    let (trampolines, trampoline_signatures) = match component {
        Some(image) => (
            component::declare_trampolines(&mut writer, image.plan, pointer_type).map_err(at(0))?,
            image.plan.trampoline_signatures.clone(),
        ),
        None => (Vec::new(), Vec::new()),
    };
    let mut symbols: Vec<ModuleSymbols> = Vec::with_capacity(instances.len());
    let mut resolved = Vec::with_capacity(instances.len());
    let mut offsets = Vec::with_capacity(instances.len());
    let mut next_tag_id = 0u32;
    for (i, spec) in instances.iter().enumerate() {
        let mut sources = spec.imports.clone();
        if let (Imports::ByModule(sources), true) = (&mut sources, config.trap_unknown_imports) {
            for import in modules[i].funcs.iter().filter_map(|f| f.import.as_ref()) {
                sources
                    .entry(import.module.clone())
                    .or_insert(ImportSource::Trap);
            }
        }
        let imports = link_plan::resolve(i, &modules, &sources, &resolved, &trampoline_signatures)
            .map_err(at(i))?;
        let cx = declare::DeclareContext {
            instance: i,
            multi: instances.len() > 1,
            earlier: &symbols,
            libcalls,
            pointer_type,
            host_call_conv,
            first_tag_id: next_tag_id,
            trampolines: &trampolines,
        };
        next_tag_id += modules[i].tags.len() as u32 - modules[i].num_imported_tags;
        let declared =
            declare::declare_instance(&mut writer, &modules[i], &imports, &cx).map_err(at(i))?;
        symbols.push(declared);
        resolved.push(imports);
        offsets.push(VmOffsets::new(
            pointer_type.bytes() as u8,
            vm_counts(&modules[i]),
        ));
    }
    Ok(Prepared {
        modules,
        bodies,
        isa,
        writer,
        symbols,
        offsets,
        resolved,
        host_call_conv,
        trampolines,
    })
}

/// Refuses a module whose types or globals hold a `v128` when the ISA cannot lower
/// them (`why`): a `v128` value then comes from a parameter, a call's result or a global
/// as well as from a SIMD operator, which function translation refuses. Locals are
/// checked there too.
fn refuse_v128_types(module: &ModuleInfo<'_>, why: &str) -> Result<()> {
    use wasmparser::ValType::V128;
    let type_index = module.types.iter().position(|ty| {
        ty.as_ref()
            .is_some_and(|sig| sig.params.contains(&V128) || sig.results.contains(&V128))
    });
    if let Some(index) = type_index {
        return Err(CompileError::unsupported(format!(
            "function type {index} has a v128: {why}"
        )));
    }
    if let Some(index) = module
        .globals
        .iter()
        .position(|g| g.ty.content_type == V128)
    {
        return Err(CompileError::unsupported(format!(
            "global {index} is a v128: {why}"
        )));
    }
    Ok(())
}

/// The one memory of an image placed at [`wafer_abi::FIXED_MEMORY_BASE`], as (instance,
/// memory index): the first defined 32-bit memory, on x86_64, where the base then costs
/// nothing (`disp32(%index)`). The other architectures need the base in a register
/// either way, and only one memory fits below 2 GiB.
pub fn fixed_memory(modules: &[ModuleInfo<'_>], target: &Target) -> Option<(usize, u32)> {
    fixed_memory_limit(target)?;
    modules.iter().enumerate().find_map(|(instance, module)| {
        let index = module.num_imported_memories;
        let memory = module.memories.get(index as usize)?;
        (!memory.ty.memory64).then_some((instance, index))
    })
}

/// Where images for `target` must end, if its images place a memory at the fixed base.
pub fn fixed_memory_limit(target: &Target) -> Option<u64> {
    (target.arch == Arch::X86_64 && target.kind == TargetKind::Linux)
        .then_some(wafer_abi::FIXED_MEMORY_BASE)
}

/// The translation choices for an instance on `target` whose fixed memory (see
/// [`fixed_memory`]) is `fixed_memory`, built with `config`.
fn tunables(
    isa: &dyn TargetIsa,
    target: &Target,
    fixed_memory: Option<u32>,
    config: &CompileConfig,
) -> Tunables {
    Tunables {
        bounds: config.checks.bounds,
        stack_limit: config.checks.stack_limit,
        memory_limit: config.max_memory,
        probe_store_end: target.arch != Arch::X86_64,
        metering: config.metering.mode(),
        simd_unavailable: isa::simd_unavailable(isa),
        fixed_memory,
        // The runtime's `Platform::TABLES_MOVE`: boards have no address space to spare.
        tables_move: target.kind == TargetKind::Baremetal,
        debug_info: config.debug_info,
    }
}

fn module_env<'m>(
    module: &'m ModuleInfo<'m>,
    symbols: &'m ModuleSymbols,
    isa: &dyn TargetIsa,
    offsets: VmOffsets,
    host_call_conv: CallConv,
    inline_bodies: &'m [Option<inline::Inlinable<'m>>],
    tunables: Tunables,
) -> ModuleEnv<'m> {
    ModuleEnv {
        module,
        offsets,
        pointer_type: isa.pointer_type(),
        tunables,
        symbols,
        host_call_conv,
        frontend_config: isa.frontend_config(),
        inline_bodies,
    }
}

/// Compiles the instances of an image into one relocatable object.
pub fn compile_image(
    instances: &[InstanceSpec<'_>],
    target: &Target,
    config: &CompileConfig,
    entry: Entry,
) -> Result<Vec<u8>, ImageError> {
    let instances: Vec<ImageInstance<'_>> = instances.iter().map(ImageInstance::from).collect();
    compile_instances(&instances, target, config, entry, None)
}

/// Compiles the instances of an image, and the trampolines, contexts and entry of a
/// component's plan when it comes from one.
fn compile_instances(
    instances: &[ImageInstance<'_>],
    target: &Target,
    config: &CompileConfig,
    entry: Entry,
    component: Option<component::ComponentImage<'_, '_>>,
) -> Result<Vec<u8>, ImageError> {
    let at = |instance: usize| move |error| ImageError { instance, error };
    let Prepared {
        modules,
        bodies,
        isa,
        mut writer,
        symbols,
        offsets,
        resolved,
        host_call_conv,
        trampolines,
    } = crate::timing::phase("parse", || prepare(instances, target, config, component))?;
    let main_entry = match (entry, component) {
        (Entry::Command(_), Some(image)) => {
            Some(component::entry_point(image.plan, &modules).map_err(at(0))?)
        }
        (Entry::Command(instance), None) => Some((
            instance,
            entry_point(&modules[instance], config.invoke.as_deref()).map_err(at(instance))?,
        )),
        (Entry::Harness, _) => None,
    };
    // Debug builds keep every function's own code, so a breakpoint on a function and a
    // frame in a backtrace are where the guest's source says.
    let inline_bodies: Vec<Vec<Option<inline::Inlinable<'_>>>> = bodies
        .iter()
        .zip(&modules)
        .map(|(bodies, module)| match config.debug_info {
            false => inline::candidates(bodies, module, &*isa),
            true => (0..module.funcs.len()).map(|_| None).collect(),
        })
        .collect();
    let fixed = fixed_memory(&modules, target);
    let menvs: Vec<ModuleEnv<'_>> = (0..modules.len())
        .map(|i| {
            module_env(
                &modules[i],
                &symbols[i],
                &*isa,
                offsets[i],
                host_call_conv,
                &inline_bodies[i],
                tunables(
                    &*isa,
                    target,
                    fixed.and_then(|(instance, memory)| (instance == i).then_some(memory)),
                    config,
                ),
            )
        })
        .collect();

    // A function inlined at its only call site is not compiled on its own; identical
    // bodies are compiled once, the copies becoming aliases.
    let mut aliases: HashMap<FuncId, FuncId> = HashMap::new();
    let mut inlined_only: Vec<FuncId> = Vec::new();
    let bodies: Vec<Vec<FunctionBodyInfo<'_>>> = bodies
        .into_iter()
        .enumerate()
        .map(|(i, bodies)| {
            let (inlined, bodies): (Vec<_>, Vec<_>) = bodies
                .into_iter()
                .partition(|body| inline::only_call_site(&inline_bodies[i], body.func_index));
            inlined_only.extend(
                inlined
                    .iter()
                    .map(|body| symbols[i].funcs[body.func_index as usize]),
            );
            let (kept, copies) = match config.debug_info {
                false => fold_identical(bodies, &modules[i]),
                true => (bodies, Vec::new()),
            };
            let funcs = &symbols[i].funcs;
            aliases.extend(
                copies
                    .into_iter()
                    .map(|(copy, first)| (funcs[copy as usize], funcs[first as usize])),
            );
            kept
        })
        .collect();

    // Every body of every instance, compiled in parallel; results keep their order.
    let work: Vec<(usize, FunctionBodyInfo<'_>)> = bodies
        .into_iter()
        .enumerate()
        .flat_map(|(i, bodies)| bodies.into_iter().map(move |body| (i, body)))
        .collect();
    let order: Vec<(usize, u32)> = work.iter().map(|(i, body)| (*i, body.func_index)).collect();
    let results: Vec<Result<CompiledFunction>> = crate::timing::phase("compile", || {
        crate::progress::phase("compile", Some(work.len() as u64));
        work.into_par_iter()
            .map_init(
                || {
                    (
                        FuncTranslator::new(),
                        Context::new(),
                        wasmparser::FuncValidatorAllocations::default(),
                    )
                },
                |(translator, context, allocations), (instance, body)| {
                    let mut validator = body.validator.into_validator(std::mem::take(allocations));
                    let menv = &menvs[instance];
                    let translated = translator
                        .translate(menv, body.func_index, &body.body, &mut validator)
                        .map_err(|error| {
                            error.in_function(
                                body.func_index,
                                menv.module.func_given_name(body.func_index),
                            )
                        })?;
                    *allocations = validator.into_allocations();
                    let func_id = menv.symbols.funcs[body.func_index as usize];
                    let mut compiled =
                        compile_wasm_function(&*isa, context, translated.func, func_id, menv)?;
                    compiled.bounds = translated.bounds;
                    crate::progress::step();
                    compiled.inlined = translated
                        .inlined
                        .into_iter()
                        .filter_map(|callee| {
                            let range = menv.inline_bodies[callee as usize].as_ref()?.body.range();
                            Some(InlinedBody {
                                wasm_start: range.start as u32,
                                wasm_len: (range.end - range.start) as u32,
                                name: menv.module.func_display_name(callee),
                            })
                        })
                        .collect();
                    Ok(compiled)
                },
            )
            .collect()
    });
    let _object_phase = crate::timing::Span::start("object");
    let mut compiled = Vec::with_capacity(results.len());
    let mut bounds = BoundsStats::default();
    let mut reads_stack_limit = false;
    for ((instance, func_index), result) in order.into_iter().zip(results) {
        let result = result.map_err(at(instance))?;
        bounds.add(&result.bounds);
        reads_stack_limit |= result.reads_stack_limit;
        compiled.push((instance, func_index, result));
    }
    crate::timing::bounds_checks(&bounds);
    // Instantiation sets the stack limit when any function reads it (all of them, with
    // stack-limit checks; on riscv64 a few with huge frames otherwise).
    let stack_limit = match (reads_stack_limit, symbols[0].libcalls.stack_limit) {
        (false, _) => None,
        (true, Some(declared)) => Some(declared),
        (true, None) => Some(
            writer
                .declare_libcall(wafer_abi::symbols::STACK_LIMIT, &[], &[isa.pointer_type()])
                .map_err(at(0))?,
        ),
    };
    let live = live_functions(&modules, &symbols, &compiled, &aliases);
    for &id in &inlined_only {
        writer.omit_function(id);
    }
    for (&copy, &first) in &aliases {
        if live.contains(&copy) {
            writer.alias_function(copy, first);
        } else {
            writer.omit_function(copy);
        }
    }
    for (instance, func_index, mut compiled) in compiled {
        // A trap inside a component's trampoline reports the wasm offset of the call
        // into it: the call sites are recorded as sites on their last byte (never an
        // instruction's first), where the runtime looks from the return address.
        for &(ret, wasm_offset, callee) in &compiled.calls {
            if wasm_offset != 0 && trampolines.contains(&callee) {
                compiled
                    .traps
                    .push((ret - 1, TrapKind::Unreachable, wasm_offset));
            }
        }
        let id = symbols[instance].funcs[func_index as usize];
        if !live.contains(&id) {
            writer.omit_function(id);
            continue;
        }
        if let Some(debug) = &mut compiled.debug {
            debug.instance = instance;
            debug.func_index = func_index;
        }
        let name = modules[instance].func_display_name(func_index);
        writer
            .define_function(
                symbols[instance].funcs[func_index as usize],
                &name,
                compiled,
            )
            .map_err(at(instance))?;
    }

    let mut context = Context::new();
    if let Some(meter) = symbols[0]
        .libcalls
        .meter
        .filter(|_| !writer.meter_slow_path_in_runtime())
    {
        entry::define_meter_slow_path(&mut writer, &*isa, &mut context, &menvs[0], meter)
            .map_err(at(0))?;
    }
    let mut inits = Vec::with_capacity(modules.len());
    for (i, menv) in menvs.iter().enumerate() {
        entry::define_import_adapters(&mut writer, &*isa, &mut context, menv).map_err(at(i))?;
        let init = entry::define_instance_init(
            &mut writer,
            &*isa,
            &mut context,
            menv,
            &resolved[i],
            i,
            stack_limit,
        )
        .map_err(at(i))?;
        inits.push(init);
    }
    entry::define_image_entries(
        &mut writer,
        &*isa,
        &mut context,
        &menvs,
        &inits,
        main_entry,
        entry::GrantCalls::for_grants(&config.grants, component.is_some()),
    )
    .map_err(at(0))?;
    if entry == Entry::Harness && component.is_none() {
        entry::define_harness_table(&mut writer, &*isa, &mut context, &menvs, &inits)
            .map_err(at(0))?;
        entry::define_empty_harness_table(
            &mut writer,
            wafer_abi::symbols::COMPONENT_HARNESS_TABLE,
            isa.pointer_bytes() as usize,
        )
        .map_err(at(0))?;
    }
    if let Some(image) = component {
        component::define(
            &mut writer,
            &*isa,
            &mut context,
            image,
            &menvs,
            &trampolines,
            &inits,
            config,
        )
        .map_err(at(0))?;
    }
    for (i, menv) in menvs.iter().enumerate() {
        object::define_instance_data(&mut writer, menv, &menvs).map_err(at(i))?;
    }
    // The guest's DWARF describes one module. A component's core modules are the
    // guest's and the adapters and shims around it, which toolchains build without
    // debug info: the largest module with DWARF is the guest's, and the others' code
    // gets CFI and symbols only.
    if config.debug_info {
        let described = match modules.len() {
            1 => Some(0),
            _ => (0..modules.len())
                .filter(|&i| crate::debug::has_dwarf(instances[i].wasm))
                .max_by_key(|&i| instances[i].wasm.len()),
        };
        match described {
            Some(i) => {
                let module = crate::debug::DebugModule::parse(
                    instances[i].wasm,
                    &modules[i],
                    &offsets[i],
                    fixed.is_some_and(|(instance, _)| instance == i),
                )
                .map_err(at(i))?;
                writer.set_debug_module(module, i, symbols[i].vmctx);
            }
            None => writer.set_debug_module(None, 0, symbols[0].vmctx),
        }
    }
    // An `async` entry export (a 0.3 command's `run`, a service's `handle`) is run
    // through the runtime: a main too.
    let has_main = matches!(
        main_entry,
        Some((_, EntryPoint { main: Some(_), .. }))
            | Some((
                _,
                EntryPoint {
                    status: ExitStatus::AsyncRun,
                    ..
                }
            ))
    );
    // How many memories the image defines: a board shares its free RAM among them.
    let memories: usize = modules
        .iter()
        .map(|module| module.memories.len() - module.num_imported_memories as usize)
        .sum();
    writer
        .finish(config, has_main, memories as u64)
        .map_err(at(0))
}

/// The defined functions that can run: those that escape as references (exports,
/// table elements, `ref.func`), start functions, and everything their compiled code
/// still calls (through `aliases`, the function that holds a folded copy's code). A
/// function every call of which was inlined is left out of the image.
fn live_functions(
    modules: &[ModuleInfo<'_>],
    symbols: &[ModuleSymbols],
    compiled: &[(usize, u32, CompiledFunction)],
    aliases: &HashMap<FuncId, FuncId>,
) -> std::collections::HashSet<FuncId> {
    let index: HashMap<FuncId, usize> = compiled
        .iter()
        .enumerate()
        .map(|(i, (instance, func_index, _))| (symbols[*instance].funcs[*func_index as usize], i))
        .collect();
    let mut work: Vec<FuncId> = Vec::new();
    for (module, symbols) in modules.iter().zip(symbols) {
        for func_index in module.num_imported_funcs..module.funcs.len() as u32 {
            if module.func_ref_slots[func_index as usize].is_some()
                || module.start == Some(func_index)
            {
                work.push(symbols.funcs[func_index as usize]);
            }
        }
    }
    let mut live: std::collections::HashSet<FuncId> = work.iter().copied().collect();
    while let Some(id) = work.pop() {
        if let Some(&first) = aliases.get(&id) {
            if live.insert(first) {
                work.push(first);
            }
            continue;
        }
        let Some(&i) = index.get(&id) else {
            continue;
        };
        for reloc in &compiled[i].2.relocs {
            let cranelift_module::ModuleRelocTarget::User {
                namespace: 0,
                index: callee,
            } = reloc.name
            else {
                continue;
            };
            let callee = FuncId::from_u32(callee);
            if (index.contains_key(&callee) || aliases.contains_key(&callee)) && live.insert(callee)
            {
                work.push(callee);
            }
        }
    }
    live
}

/// Identical code folding within one instance: a body's bytes and type decide its code
/// (indices in it refer to the same instance), so only the first of identical bodies is
/// compiled and each later one becomes an alias of it, as `(copy, first)` function
/// indices. A trap in folded code names the first function.
fn fold_identical<'data>(
    bodies: Vec<FunctionBodyInfo<'data>>,
    module: &ModuleInfo<'_>,
) -> (Vec<FunctionBodyInfo<'data>>, Vec<(u32, u32)>) {
    let mut first_of: HashMap<(u32, &'data [u8]), u32> = HashMap::with_capacity(bodies.len());
    let mut copies = Vec::new();
    let mut kept = Vec::with_capacity(bodies.len());
    for body in bodies {
        let type_index = module.funcs[body.func_index as usize].type_index;
        match first_of.entry((type_index, body.body.as_bytes())) {
            std::collections::hash_map::Entry::Occupied(first) => {
                copies.push((body.func_index, *first.get()));
            }
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(body.func_index);
                kept.push(body);
            }
        }
    }
    (kept, copies)
}

/// The Cranelift IR of every defined function, as translated (before optimisation), for
/// golden tests and `--emit clif`.
pub fn translate_to_clif(wasm: &[u8], target: &Target, config: &CompileConfig) -> Result<String> {
    let spec = ImageInstance {
        wasm,
        imports: Imports::ByModule(host_imports(target)),
    };
    let Prepared {
        modules,
        bodies,
        isa,
        symbols,
        offsets,
        host_call_conv,
        ..
    } = prepare(&[spec], target, config, None).map_err(|e| e.error)?;
    let bodies = bodies.into_iter().next().unwrap_or_default();
    let inline_bodies = inline::candidates(&bodies, &modules[0], &*isa);
    let menv = module_env(
        &modules[0],
        &symbols[0],
        &*isa,
        offsets[0],
        host_call_conv,
        &inline_bodies,
        tunables(
            &*isa,
            target,
            fixed_memory(&modules, target).map(|(_, memory)| memory),
            config,
        ),
    );
    let mut translator = FuncTranslator::new();
    let mut text = String::new();
    for body in bodies {
        if inline::only_call_site(&inline_bodies, body.func_index) {
            text.push_str(&format!(
                ";; {}: inlined at its only call site\n\n",
                modules[0].func_display_name(body.func_index)
            ));
            continue;
        }
        let mut validator = body.validator.into_validator(Default::default());
        let translated =
            translator.translate(&menv, body.func_index, &body.body, &mut validator)?;
        let checks = match translated.bounds {
            stats if stats == BoundsStats::default() => String::new(),
            stats => format!(
                ";; bounds checks: {} emitted, {} constant, {} bounded, {} dominated\n",
                stats.emitted, stats.constant, stats.bounded, stats.dominated
            ),
        };
        text.push_str(&format!(
            ";; {}\n{checks}{}\n",
            modules[0].func_display_name(body.func_index),
            translated.func.display()
        ));
    }
    Ok(text)
}

/// What `wafer_image_main` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryPoint {
    /// `_initialize`, called first when a reactor's export is invoked.
    pub initialize: Option<u32>,
    /// The export to run, if any (a module may have only a start function).
    pub main: Option<u32>,
    /// How `main`'s result becomes the exit status.
    pub status: ExitStatus,
    /// A function to call with `main`'s results after it returns (a component export's
    /// `post-return`), as (instance, function index).
    pub post_return: Option<(usize, u32)>,
}

/// How the entry point's result becomes the process's exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// It returns nothing: 0.
    Zero,
    /// It returns the `i32` status.
    I32,
    /// The image defines [`wafer_abi::symbols::COMPONENT_ASYNC_RUN`], which runs an
    /// `async` `wasi:cli/run` export and returns the status; `main` is not called.
    AsyncRun,
    /// It returns the discriminant of a `result` (`wasi:cli/run`): 0 for `ok`, 1 for
    /// `err`; anything else traps.
    ResultDiscriminant,
}

/// The function `wafer_image_main` calls: the export named by `invoke` (after
/// `_initialize`), else the `_start` export; no function when the module only has a
/// start function.
fn entry_point(module: &ModuleInfo<'_>, invoke: Option<&str>) -> Result<EntryPoint> {
    let function = |name: &str| -> Result<Option<u32>> {
        match module.export(name) {
            Some(export) if export.kind == ExportKind::Func => Ok(Some(export.index)),
            Some(_) => Err(CompileError::Link(format!(
                "the `{name}` export is not a function"
            ))),
            None => Ok(None),
        }
    };
    if let Some(name) = invoke {
        let main = function(name)?.ok_or_else(|| {
            CompileError::Link(format!("the module exports no function `{name}`"))
        })?;
        let sig = module.func_sig(main);
        let status = match (&sig.params[..], &sig.results[..]) {
            ([], []) => ExitStatus::Zero,
            ([], [wasmparser::ValType::I32]) => ExitStatus::I32,
            _ => {
                return Err(CompileError::Link(format!(
                    "`--invoke {name}` needs a function of type [] -> [] or [] -> [i32]"
                )));
            }
        };
        let initialize = function("_initialize")?;
        if let Some(init) = initialize {
            let sig = module.func_sig(init);
            if !sig.params.is_empty() || !sig.results.is_empty() {
                return Err(CompileError::Link(
                    "the `_initialize` export must have type [] -> []".into(),
                ));
            }
        }
        return Ok(EntryPoint {
            initialize,
            main: Some(main),
            status,
            post_return: None,
        });
    }
    let start = EntryPoint {
        initialize: None,
        main: function("_start")?,
        status: ExitStatus::Zero,
        post_return: None,
    };
    match start.main {
        Some(main) => {
            let sig = module.func_sig(main);
            if !sig.params.is_empty() || !sig.results.is_empty() {
                return Err(CompileError::Link(
                    "the `_start` export must have type [] -> []".into(),
                ));
            }
            Ok(start)
        }
        None if module.start.is_some() => Ok(start),
        None if module.export("_initialize").is_some() => Err(CompileError::Link(
            "the module is a reactor (it exports `_initialize`, not `_start`): pass \
             --invoke EXPORT to choose the function to run"
                .into(),
        )),
        None => Err(CompileError::Link(
            "the module has no `_start` export and no start function: nothing to run".into(),
        )),
    }
}

fn vm_counts(module: &ModuleInfo<'_>) -> VmCounts {
    VmCounts {
        imported_memories: module.num_imported_memories,
        defined_memories: module.memories.len() as u32 - module.num_imported_memories,
        imported_tables: module.num_imported_tables,
        defined_tables: module.tables.len() as u32 - module.num_imported_tables,
        imported_globals: module.num_imported_globals,
        defined_globals: module.globals.len() as u32 - module.num_imported_globals,
        func_refs: module.num_func_refs,
        data_segments: module.data.len() as u32,
        elem_segments: module.elements.len() as u32,
    }
}
