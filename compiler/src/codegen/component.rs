//! A component image: the core instances of a [`ComponentPlan`] compiled like a
//! multi-instance image, plus what the component model adds around them.
//!
//! - **Flags**: each component instance's flags (`may_leave`, which fused adapters and
//!   built-ins read) and the task's `may_block` are one-global core instances placed
//!   before the plan's core instances.
//! - **Trampolines** stand in for canonical built-ins ([`builtins`]): functions in the
//!   wasm convention that core instances import, call and put in tables like any other.
//! - **Contexts** (`wafer_abi::wasi_p2::CanonContext`): one per set of canonical options
//!   and one per component instance, static data that point at the instance's memory,
//!   a C-convention wrapper of its `realloc`, and its instance's state word; and the
//!   **component descriptor** (`wafer_abi::component`) the runtime's built-ins work on.
//! - **The entry** runs the `wasi:cli/run` export: `ok` exits 0, `err` 1; or, in a test
//!   harness image ([`harness`]), the harness calls any export with component values.

use cranelift_codegen::Context;
use cranelift_codegen::ir::{self, InstBuilder, UserFuncName, types};
use cranelift_codegen::isa::TargetIsa;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_module::{DataDescription, DataId, FuncId, Module as _};
use wafer_abi::wasi_p2::{self, CanonContext, HostFunc};

use super::declare::symbol_safe;
use super::link_plan::{ImportDef, Imports};
use super::object::ObjectWriter;
use super::{
    CompileConfig, Entry, EntryPoint, ExitStatus, ImageError, ImageInstance, compile_function,
};
use crate::component::plan::{
    ComponentPlan, CoreDef, CoreItem, FlatSig, FlatType, ItemKind, Resource, StringEncoding,
    Trampoline,
};
use crate::environ::ModuleInfo;
use crate::error::{CompileError, Result};
use crate::target::Target;
use crate::translate::env::{FuncEnv, ImportTarget, ModuleEnv, WASM_CALL_CONV};

mod builtins;
mod call_ref;
pub mod harness;

/// Compiles a component's plan into one relocatable object.
pub fn compile_component(
    plan: &ComponentPlan<'_>,
    target: &Target,
    config: &CompileConfig,
) -> Result<Vec<u8>> {
    if config.invoke.is_some() {
        return Err(CompileError::unsupported(
            "--invoke with a component (its entry is the `wasi:cli/run` export)",
        ));
    }
    // A component with nothing to run, or unknown imports, fail the build before
    // anything is compiled.
    if let (EntryExport::Serve(export), Some(_)) = (entry_export(plan)?, &target.board) {
        return Err(CompileError::unsupported(format!(
            "an HTTP service (it exports `{}`) on board `{}`, which has no network: HTTP services run on the Linux targets",
            export.name.split('#').next().unwrap_or(&export.name),
            target.name
        )));
    }
    if let (Some(import), Some(_)) = (network_import(plan), &target.board) {
        return Err(CompileError::unsupported(format!(
            "`{import}` on board `{}`, which has no network: WASI 0.3 sockets run on the Linux targets",
            target.name
        )));
    }
    host_functions(plan, config.trap_unknown_imports)?;
    compile_plan(plan, target, config, None).map_err(|ImageError { instance, error }| {
        // Offsets in a module count from the component's start.
        let base = instance
            .checked_sub(core_instance_base(plan))
            .and_then(|i| plan.instances.get(i))
            .and_then(|i| plan.modules[i.module].input_offset);
        match (error, base) {
            (CompileError::InvalidWasm { message, offset }, Some(base)) => {
                CompileError::InvalidWasm {
                    message,
                    offset: base + offset,
                }
            }
            (error, _) => error,
        }
    })
}

/// What a component image is built from: the plan, and for a test harness the
/// components the harness table describes (else the image runs `wasi:cli/run`).
#[derive(Clone, Copy)]
pub struct ComponentImage<'p, 'data> {
    /// The plan (with the flags instances first: see [`compile_plan`]).
    pub plan: &'p ComponentPlan<'data>,
    /// The harness's components.
    pub harness: Option<&'p [harness::HarnessComponent]>,
}

/// Where the plan's core instances start among the image's: after one one-global core
/// instance per component instance holding its flags (fused adapters and built-ins read
/// `may_leave` there; image instance `i` holds component instance `i`'s), and one
/// holding the running task's `may_block` (for adapters generated with concurrency
/// support).
pub(super) fn core_instance_base(plan: &ComponentPlan<'_>) -> usize {
    plan.component_instances as usize + 1
}

/// Compiles `plan`, the flags and task instances first (see [`core_instance_base`]). An
/// error names an image instance.
fn compile_plan(
    plan: &ComponentPlan<'_>,
    target: &Target,
    config: &CompileConfig,
    harness: Option<&[harness::HarnessComponent]>,
) -> std::result::Result<Vec<u8>, ImageError> {
    let shift = core_instance_base(plan);
    let task_instance = shift - 1;
    let mut instances: Vec<ImageInstance<'_>> = (0..shift)
        .map(|_| ImageInstance {
            wasm: FLAGS_MODULE,
            imports: Imports::Positional(Vec::new()),
        })
        .collect();
    for instance in &plan.instances {
        let args = instance
            .args
            .iter()
            .map(|arg| match *arg {
                CoreDef::Item(item) => ImportDef::Item {
                    instance: item.instance + shift,
                    kind: item.kind,
                    index: item.index,
                },
                CoreDef::Trampoline(t) => ImportDef::Trampoline(t),
                CoreDef::InstanceFlags(i) => ImportDef::Item {
                    instance: i as usize,
                    kind: ItemKind::Global,
                    index: 0,
                },
                CoreDef::TaskMayBlock => ImportDef::Item {
                    instance: task_instance,
                    kind: ItemKind::Global,
                    index: 0,
                },
            })
            .collect();
        instances.push(ImageInstance {
            wasm: &plan.modules[instance.module].wasm,
            imports: Imports::Positional(args),
        });
    }
    let plan = &shifted(plan, shift);
    let entry = match harness {
        Some(_) => Entry::Harness,
        None => Entry::Command(0),
    };
    super::compile_instances(
        &instances,
        target,
        config,
        entry,
        Some(ComponentImage { plan, harness }),
    )
}

/// A core module of one global, a component instance's flags: bit 0 is `may_leave`,
/// which fused adapters clear while the instance must not call out (wasmtime's layout).
/// The task's `may_block` is one too.
/// `(module (global (export "flags") (mut i32) (i32.const 1)))`.
const FLAGS_MODULE: &[u8] = &[
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // header
    0x06, 0x06, 0x01, 0x7f, 0x01, 0x41, 0x01, 0x0b, // global section
    0x07, 0x09, 0x01, 0x05, b'f', b'l', b'a', b'g', b's', 0x03, 0x00, // export section
];

/// `plan` with every reference to a core instance moved up by `shift` (the flags
/// instances that come first).
fn shifted<'data>(plan: &ComponentPlan<'data>, shift: usize) -> ComponentPlan<'data> {
    let mut plan = plan.clone();
    let item = |item: &mut CoreItem| item.instance += shift;
    let def = |def: &mut CoreDef| {
        if let CoreDef::Item(i) = def {
            item(i);
        }
    };
    plan.memories.iter_mut().for_each(item);
    plan.reallocs.iter_mut().for_each(def);
    plan.post_returns.iter_mut().for_each(def);
    plan.callbacks.iter_mut().for_each(def);
    plan.exports.iter_mut().for_each(|e| def(&mut e.func));
    for trampoline in &mut plan.trampolines {
        if let Trampoline::ThreadNew { table, .. } = trampoline {
            item(table);
        }
    }
    for resource in &mut plan.resources {
        if let Resource::Defined {
            destructor: Some(d),
            ..
        } = resource
        {
            def(d);
        }
    }
    plan
}

/// The host function each trampoline lowers (`None` for other trampolines, and for
/// imports nothing provides under `--trap-unknown-imports`); an unknown import, or a
/// signature that differs from the host's, is an error. (The host lowers strings in
/// every encoding the options name.)
/// The first `wasi:sockets@0.3` interface the component calls, if any: a board has no
/// network for it. (A 0.2 socket there is created and refused as a denied grant is.)
fn network_import(plan: &ComponentPlan<'_>) -> Option<String> {
    plan.trampolines.iter().find_map(|trampoline| {
        let Trampoline::LowerImport { func, .. } = trampoline else {
            return None;
        };
        let (interface, version) = wasi_p2::split_version(&func.interface);
        (interface.starts_with("wasi:sockets/") && wasi_p2::is_p3_version(version))
            .then(|| func.interface.clone())
    })
}

fn host_functions(
    plan: &ComponentPlan<'_>,
    trap_unknown: bool,
) -> Result<Vec<Option<&'static HostFunc>>> {
    plan.trampolines
        .iter()
        .zip(&plan.trampoline_signatures)
        .map(|(trampoline, signature)| {
            let Trampoline::LowerImport { func, .. } = trampoline else {
                return Ok(None);
            };
            let Some(host) = wasi_p2::find(&func.interface, &func.name) else {
                if trap_unknown {
                    return Ok(None);
                }
                return Err(CompileError::Link(format!(
                    "unknown import: {} is not provided",
                    func.display()
                )));
            };
            let host_params: Vec<FlatType> = host.params.iter().map(|&t| t.into()).collect();
            let host_results: Vec<FlatType> = host.results.iter().map(|&t| t.into()).collect();
            if signature.params != host_params || signature.results != host_results {
                return Err(CompileError::Link(format!(
                    "incompatible import type: {} is lowered to core type {} but the host's is {}",
                    func.display(),
                    describe_sig(&signature.params, &signature.results),
                    describe_sig(&host_params, &host_results)
                )));
            }
            Ok(Some(host))
        })
        .collect()
}

fn describe_sig(params: &[FlatType], results: &[FlatType]) -> String {
    let list = |types: &[FlatType]| {
        types
            .iter()
            .map(|t| format!("{t:?}").to_lowercase())
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!("({}) -> ({})", list(params), list(results))
}

fn ir_type(flat: FlatType, ptr: ir::Type) -> ir::Type {
    match flat {
        FlatType::FuncRef => ptr,
        FlatType::I32 => types::I32,
        FlatType::I64 => types::I64,
        FlatType::F32 => types::F32,
        FlatType::F64 => types::F64,
    }
}

/// A trampoline's signature: the wasm convention, VM context first.
fn wasm_signature(sig: &FlatSig, ptr: ir::Type) -> ir::Signature {
    let mut signature = ir::Signature::new(WASM_CALL_CONV);
    signature
        .params
        .push(ir::AbiParam::special(ptr, ir::ArgumentPurpose::VMContext));
    signature.params.extend(
        sig.params
            .iter()
            .map(|t| ir::AbiParam::new(ir_type(*t, ptr))),
    );
    signature.returns.extend(
        sig.results
            .iter()
            .map(|t| ir::AbiParam::new(ir_type(*t, ptr))),
    );
    signature
}

/// The name a trampoline has in symbols and trap reports.
fn trampoline_name(plan: &ComponentPlan<'_>, index: usize) -> String {
    let resource = |r: usize| match plan.resources.get(r) {
        Some(Resource::Imported { interface, name }) => format!("{interface}#{name}"),
        _ => format!("resource{r}"),
    };
    match &plan.trampolines[index] {
        Trampoline::LowerImport { func, .. } => func.display(),
        Trampoline::ResourceNew { resource: r, .. } => format!("[resource-new]{}", resource(*r)),
        Trampoline::ResourceRep { resource: r, .. } => format!("[resource-rep]{}", resource(*r)),
        Trampoline::ResourceDrop { resource: r, .. } => {
            format!("[resource-drop]{}", resource(*r))
        }
        Trampoline::Transcoder { op, .. } => format!("transcode {op}"),
        Trampoline::Trap => "adapter trap".to_string(),
        Trampoline::ResourceTransferOwn { .. } => "[resource-transfer-own]".to_string(),
        Trampoline::ResourceTransferBorrow { .. } => "[resource-transfer-borrow]".to_string(),
        Trampoline::EnterSyncCall { .. } => "[enter-sync-call]".to_string(),
        Trampoline::ExitSyncCall => "[exit-sync-call]".to_string(),
        Trampoline::ContextGet { slot } => format!("[context-get-{slot}]"),
        Trampoline::ContextSet { slot } => format!("[context-set-{slot}]"),
        Trampoline::Backpressure { delta, .. } if *delta > 0 => "[backpressure-inc]".into(),
        Trampoline::Backpressure { .. } => "[backpressure-dec]".to_string(),
        Trampoline::TaskReturn { .. } => "[task-return]".to_string(),
        Trampoline::ThreadNew { .. } => "[thread.new-indirect]".to_string(),
        Trampoline::Async { op, .. } => format!("[{}]", op.name()),
        Trampoline::Copy { name, .. } => format!("[{name}]"),
        Trampoline::Transfer { future: false, .. } => "[stream-transfer]".to_string(),
        Trampoline::Transfer { future: true, .. } => "[future-transfer]".to_string(),
        Trampoline::ErrorContext { op, .. } => {
            use wafer_abi::component::error_context_op as ec;
            match *op {
                ec::NEW => "[error-context-new]",
                ec::DEBUG_MESSAGE => "[error-context-debug-message]",
                _ => "[error-context-drop]",
            }
            .to_string()
        }
        Trampoline::ErrorContextTransfer { .. } => "[error-context-transfer]".to_string(),
        Trampoline::PrepareCall { .. } => "[prepare-call]".to_string(),
        Trampoline::StartCall { .. } => "[start-call]".to_string(),
        Trampoline::Unsupported { name, .. } => name.clone(),
    }
}

/// Declares every trampoline of `plan`, by position.
pub fn declare_trampolines(
    writer: &mut ObjectWriter,
    plan: &ComponentPlan<'_>,
    ptr: ir::Type,
) -> Result<Vec<FuncId>> {
    let mut seen = std::collections::HashSet::new();
    (0..plan.trampolines.len())
        .map(|t| {
            // Symbol names are unique: a second trampoline of the same name (the same
            // built-in in another instance, or with other options) gets its position.
            let name = format!("component:{}", symbol_safe(&trampoline_name(plan, t)));
            let name = if seen.insert(name.clone()) {
                name
            } else {
                format!("{name}[{t}]")
            };
            writer.declare_local(&name, &wasm_signature(&plan.trampoline_signatures[t], ptr))
        })
        .collect()
}

/// Whether export `name` is `interface`'s function `func` at WASI 0.2 or 0.3 (`http`
/// only at 0.3: wasi:http 0.2's proxy world is not served).
fn is_wasi_export(name: &str, interface: &str, func: &str, p2: bool) -> bool {
    name.split_once('#').is_some_and(|(i, f)| {
        let (i, version) = wasi_p2::split_version(i);
        i == interface
            && f == func
            && ((p2 && wasi_p2::is_compatible_version(version)) || wasi_p2::is_p3_version(version))
    })
}

/// What the image's entry runs: a `wasi:cli/run` command, or a `wasi:http` service.
#[derive(Clone, Copy)]
enum EntryExport<'p> {
    /// The `wasi:cli/run` export's `run` (0.2 or 0.3): `func() -> result`.
    Run(&'p crate::component::plan::Export),
    /// The `wasi:http/handler@0.3` export's `handle`, lifted `async`.
    Serve(&'p crate::component::plan::Export),
}

impl<'p> EntryExport<'p> {
    fn export(self) -> &'p crate::component::plan::Export {
        match self {
            EntryExport::Run(export) | EntryExport::Serve(export) => export,
        }
    }
}

/// The export the image's entry runs: `wasi:cli/run`'s `run`, or else
/// `wasi:http/handler@0.3`'s `handle`.
fn entry_export<'p>(plan: &'p ComponentPlan<'_>) -> Result<EntryExport<'p>> {
    let find = |interface: &str, func: &str, p2: bool| {
        plan.exports
            .iter()
            .find(|export| is_wasi_export(&export.name, interface, func, p2))
    };
    if let Some(run) = find("wasi:cli/run", "run", true) {
        if !run.signature.params.is_empty() || run.signature.results != [FlatType::I32] {
            return Err(CompileError::Link(format!(
                "`{}` must have type `func() -> result`",
                run.name
            )));
        }
        return Ok(EntryExport::Run(run));
    }
    if let Some(handle) = find("wasi:http/handler", "handle", false) {
        let options = plan.options.get(handle.options);
        let lifted_with_callback = options.is_some_and(|o| o.is_async && o.callback.is_some());
        if !lifted_with_callback
            || handle.signature.params != [FlatType::I32]
            || handle.signature.results != [FlatType::I32]
        {
            return Err(CompileError::unsupported(format!(
                "`{}` must be `async func(request) -> result<response, error-code>` lifted `async` with a callback",
                handle.name
            )));
        }
        return Ok(EntryExport::Serve(handle));
    }
    let other_http = plan
        .exports
        .iter()
        .find(|export| export.name.starts_with("wasi:http/"));
    Err(match other_http {
        Some(export) => CompileError::unsupported(format!(
            "an HTTP component exporting `{}`: wafer serves `wasi:http/handler@0.3` and runs `wasi:cli/run` commands",
            export.name.split('#').next().unwrap_or(&export.name)
        )),
        None => CompileError::Link(
            "the component exports no `wasi:cli/run@0.2` or `@0.3` interface and no `wasi:http/handler@0.3`: nothing to run"
                .into(),
        ),
    })
}

/// What `wafer_image_main` runs: the `wasi:cli/run` export, `() -> result`.
pub fn entry_point(
    plan: &ComponentPlan<'_>,
    modules: &[ModuleInfo<'_>],
) -> Result<(usize, EntryPoint)> {
    let entry = entry_export(plan)?;
    let run = entry.export();
    let func = |def: &CoreDef| match *def {
        CoreDef::Item(CoreItem {
            instance,
            kind: ItemKind::Func,
            index,
        }) if (index as usize) < modules[instance].funcs.len() => Ok((instance, index)),
        _ => Err(CompileError::unsupported(format!(
            "component: `{}` lifts something other than a core function",
            run.name
        ))),
    };
    let (instance, main) = func(&run.func)?;
    let options = &plan.options[run.options];
    if options.is_async {
        if options.callback.is_none() {
            return Err(CompileError::unsupported(format!(
                "component: `{}` is lifted `async` without a callback (stackful)",
                run.name
            )));
        }
        // The image's `COMPONENT_ASYNC_RUN` runs it (see `define_async_run`).
        return Ok((
            instance,
            EntryPoint {
                initialize: None,
                main: None,
                status: ExitStatus::AsyncRun,
                post_return: None,
            },
        ));
    }
    let post_return = plan.options[run.options]
        .post_return
        .map(|p| func(&plan.post_returns[p]))
        .transpose()?;
    Ok((
        instance,
        EntryPoint {
            initialize: None,
            main: Some(main),
            status: ExitStatus::ResultDiscriminant,
            post_return,
        },
    ))
}

/// The function `def` names, and the VM context to call it with.
fn core_func(menvs: &[ModuleEnv<'_>], def: &CoreDef) -> Result<(FuncId, DataId, ir::Signature)> {
    let CoreDef::Item(CoreItem {
        instance,
        kind: ItemKind::Func,
        index,
    }) = *def
    else {
        return Err(CompileError::unsupported(
            "component: a canonical option naming something other than a core function",
        ));
    };
    let menv = &menvs[instance];
    let sig = menv.wasm_signature(menv.module.func_sig(index));
    match menv.symbols.imports.get(index as usize) {
        Some(ImportTarget::Wasm { func, vmctx }) => Ok((*func, *vmctx, sig)),
        Some(ImportTarget::Host(_)) => Err(CompileError::unsupported(
            "component: a host function as a canonical option",
        )),
        None => Ok((menv.symbols.funcs[index as usize], menv.symbols.vmctx, sig)),
    }
}

/// The VM context holding the `VMMemoryDefinition` of memory `item`, and its offset.
fn memory_site(menvs: &[ModuleEnv<'_>], item: &CoreItem) -> (DataId, u32) {
    let menv = &menvs[item.instance];
    let imported = menv.module.num_imported_memories;
    if item.index < imported {
        let site = menv.symbols.imported_memories[item.index as usize];
        let owner = &menvs[site.instance];
        (site.vmctx, owner.offsets.defined_memory(site.defined_index))
    } else {
        (
            menv.symbols.vmctx,
            menv.offsets.defined_memory(item.index - imported),
        )
    }
}

/// Defines the component's handle tables, contexts, descriptor, realloc wrappers and
/// trampolines, and for a harness image the component harness table.
#[allow(
    clippy::too_many_arguments,
    reason = "the parts of an image being assembled"
)]
pub fn define(
    writer: &mut ObjectWriter,
    isa: &dyn TargetIsa,
    context: &mut Context,
    image: ComponentImage<'_, '_>,
    menvs: &[ModuleEnv<'_>],
    trampolines: &[FuncId],
    inits: &[FuncId],
    config: &CompileConfig,
) -> Result<()> {
    let plan = image.plan;
    let menv = &menvs[0];
    let ptr = menv.pointer_type;
    let layout = CanonContext::new(ptr.bytes() as u8);
    // A harness calls exports with component values and provides no imports: those
    // of its components trap when called.
    let hosts = host_functions(plan, config.trap_unknown_imports || image.harness.is_some())?;
    writer.set_world(crate::component::world::encode(plan, |interface, name| {
        wasi_p2::find(interface, name).is_some()
    }));

    // A state word (the runtime's: the instance's state, with its handle table) and a
    // context (no memory) per component instance.
    let mut states = Vec::new();
    let mut instance_contexts = Vec::new();
    for i in 0..plan.component_instances {
        let state = writer.declare_data(&format!("component:state[{i}]"), true)?;
        let mut description = DataDescription::new();
        description.define_zeroinit(ptr.bytes() as usize);
        description.set_align(u64::from(ptr.bytes()));
        writer.define_data(state, &description)?;
        states.push(state);
        let context = writer.declare_data(&format!("component:context[{i}]"), true)?;
        define_context(
            writer,
            &layout,
            context,
            state,
            None,
            None,
            StringEncoding::Utf8,
        )?;
        instance_contexts.push(context);
    }
    // The instance `wasi:cli/run` enters for the whole run (a harness enters its own).
    let entry = match image.harness {
        Some(_) => None,
        None => Some(plan.options[entry_export(plan)?.export().options].instance),
    };
    let descriptor = define_descriptor(writer, plan, menvs, &states, entry)?;
    if image.harness.is_none() {
        let entry = entry_export(plan)?;
        if plan.options[entry.export().options].is_async {
            define_async_run(writer, isa, context, plan, menvs, entry, descriptor)?;
        }
    }

    // A C-convention wrapper for each realloc, which the runtime calls.
    let mut reallocs = Vec::new();
    for (r, def) in plan.reallocs.iter().enumerate() {
        let (func, vmctx, signature) = core_func(menvs, def)?;
        let mut c_sig = ir::Signature::new(menv.host_call_conv);
        c_sig.params = vec![ir::AbiParam::new(types::I32); 4];
        c_sig.returns = vec![ir::AbiParam::new(types::I32)];
        let id = writer.declare_local(&format!("component:realloc[{r}]"), &c_sig)?;
        let mut ir_func = ir::Function::with_name_signature(UserFuncName::user(4, r as u32), c_sig);
        let mut builder_context = FunctionBuilderContext::new();
        let (mut builder, block) = start(&mut ir_func, &mut builder_context);
        let mut env = FuncEnv::new(menv);
        let mut args = vec![env.data_addr(&mut builder, vmctx)];
        args.extend_from_slice(builder.block_params(block));
        let callee = env.func_ref(builder.func, func, signature);
        let call = builder.ins().call(callee, &args);
        let results = builder.inst_results(call).to_vec();
        builder.ins().return_(&results);
        builder.finalize(menv.frontend_config);
        let compiled = compile_function(isa, context, ir_func, id)?;
        writer.define_function(id, "cabi_realloc", compiled)?;
        reallocs.push(id);
    }

    // A context per set of canonical options.
    let mut option_contexts = Vec::new();
    for (o, options) in plan.options.iter().enumerate() {
        let id = writer.declare_data(&format!("component:options[{o}]"), true)?;
        let memory = options
            .memory
            .map(|m| memory_site(menvs, &plan.memories[m]));
        let realloc = options.realloc.map(|r| reallocs[r]);
        let state = states
            .get(options.instance as usize)
            .copied()
            .ok_or_else(|| CompileError::Codegen("options of no component instance".into()))?;
        define_context(
            writer,
            &layout,
            id,
            state,
            memory,
            realloc,
            options.encoding,
        )?;
        option_contexts.push(id);
    }

    let sites = builtins::Sites {
        plan,
        menvs,
        layout,
        hosts,
        option_contexts,
        instance_contexts,
        descriptor,
    };
    builtins::define_trampolines(writer, isa, context, &sites, trampolines)?;
    if let Some(components) = image.harness {
        harness::define_table(writer, isa, context, &sites, components, inits)?;
    }
    Ok(())
}

/// Defines `wafer_abi::symbols::COMPONENT_ASYNC_RUN` for an entry export lifted
/// `async`: hands C-convention trampolines of its core function and of its callback to
/// the runtime's `RUN_ASYNC` (a `run` export: it starts the task and drives it) or
/// `SERVE_HTTP` (a `handle` export: a task per request), which returns the exit status
/// (or a trap kind, raised here).
fn define_async_run(
    writer: &mut ObjectWriter,
    isa: &dyn TargetIsa,
    context: &mut Context,
    plan: &ComponentPlan<'_>,
    menvs: &[ModuleEnv<'_>],
    entry: EntryExport<'_>,
    descriptor: DataId,
) -> Result<()> {
    let run = entry.export();
    let runtime_symbol = match entry {
        EntryExport::Run(_) => wafer_abi::symbols::RUN_ASYNC,
        EntryExport::Serve(_) => wafer_abi::symbols::SERVE_HTTP,
    };
    let menv = &menvs[0];
    let ptr = menv.pointer_type;
    let options = &plan.options[run.options];
    let Some(callback) = options.callback else {
        return Err(CompileError::unsupported(
            "component: an `async` run export without a callback",
        ));
    };
    let mut slot_signature = ir::Signature::new(menv.host_call_conv);
    slot_signature.params.push(ir::AbiParam::new(ptr));
    let callback_id = writer.declare_local("component:run-callback", &slot_signature)?;
    let func = harness::slot_trampoline(menvs, &plan.callbacks[callback], (10, 0))?;
    let compiled = super::compile_function(isa, context, func, callback_id)?;
    writer.define_function(callback_id, "run callback", compiled)?;

    let start_id = writer.declare_local("component:run-start", &slot_signature)?;
    let func = harness::slot_trampoline(menvs, &run.func, (10, 2))?;
    let compiled = super::compile_function(isa, context, func, start_id)?;
    writer.define_function(start_id, "run start", compiled)?;

    let mut signature = ir::Signature::new(menv.host_call_conv);
    signature.returns.push(ir::AbiParam::new(types::I32));
    let id = writer.declare_export(wafer_abi::symbols::COMPONENT_ASYNC_RUN, &signature)?;
    let mut func = ir::Function::with_name_signature(UserFuncName::user(10, 1), signature);
    let mut builder_context = FunctionBuilderContext::new();
    let (mut builder, _) = start(&mut func, &mut builder_context);
    let mut env = FuncEnv::new(menv);
    let descriptor = env.data_addr(&mut builder, descriptor);
    let instance = builder
        .ins()
        .iconst(types::I32, i64::from(options.instance));
    let start_ref = env.func_ref(builder.func, start_id, slot_signature.clone());
    let start_addr = builder.ins().func_addr(ptr, start_ref);
    let callback = env.func_ref(builder.func, callback_id, slot_signature);
    let callback = builder.ins().func_addr(ptr, callback);
    let mut runtime_signature = ir::Signature::new(menv.host_call_conv);
    for param in [ptr, types::I32, ptr, ptr] {
        runtime_signature.params.push(ir::AbiParam::new(param));
    }
    runtime_signature
        .returns
        .push(ir::AbiParam::new(types::I64));
    let run_async = writer.declare_import(runtime_symbol, &runtime_signature)?;
    let run_async = env.func_ref(builder.func, run_async, runtime_signature);
    let call = builder
        .ins()
        .call(run_async, &[descriptor, instance, start_addr, callback]);
    let result = builder.inst_results(call)[0];
    let kind = builder
        .ins()
        .ushr_imm_u(result, i64::from(wafer_abi::component::TRAP_SHIFT));
    let kind = builder.ins().ireduce(types::I32, kind);
    builtins::trap_if_nonzero(&mut builder, kind);
    let status = builder.ins().ireduce(types::I32, result);
    builder.ins().return_(&[status]);
    builder.finalize(menv.frontend_config);
    let compiled = super::compile_function(isa, context, func, id)?;
    writer.define_function(id, "component async run", compiled)
}

/// Defines the component descriptor (`wafer_abi::component`): per component instance
/// its flags global (the one global of image instance `i`), its state word and its
/// parent; the handle tables fused adapters name; which instance implements each
/// resource; and the instance the image's entry enters.
fn define_descriptor(
    writer: &mut ObjectWriter,
    plan: &ComponentPlan<'_>,
    menvs: &[ModuleEnv<'_>],
    states: &[DataId],
    entry: Option<u32>,
) -> Result<DataId> {
    use wafer_abi::component::{ComponentLayout, NO_INSTANCE};
    let ptr = menvs[0].pointer_type.bytes();
    let layout = ComponentLayout::new(ptr as u8);
    let put = |bytes: &mut [u8], at: usize, value: u64| {
        bytes[at..at + ptr as usize].copy_from_slice(&value.to_le_bytes()[..ptr as usize]);
    };

    let instances = writer.declare_data("component:instances", true)?;
    let count = plan.component_instances as usize;
    let mut description = DataDescription::new();
    let mut bytes = vec![0u8; (count * layout.instance_size() as usize).max(1)];
    for i in 0..count {
        let at = i as u32 * layout.instance_size();
        let flags = &menvs[i];
        let vmctx = writer
            .module_mut()
            .declare_data_in_data(flags.symbols.vmctx, &mut description);
        description.write_data_addr(
            at + layout.instance_flags(),
            vmctx,
            i64::from(flags.offsets.defined_global(0)),
        );
        let state = writer
            .module_mut()
            .declare_data_in_data(states[i], &mut description);
        description.write_data_addr(at + layout.instance_state(), state, 0);
        let parent = plan
            .parents
            .get(i)
            .copied()
            .flatten()
            .unwrap_or(NO_INSTANCE);
        put(
            &mut bytes,
            (at + layout.instance_parent()) as usize,
            u64::from(parent),
        );
    }
    description.define(std::mem::take(&mut bytes).into_boxed_slice());
    description.set_align(u64::from(ptr));
    writer.define_data(instances, &description)?;

    let record = |first: u32, second: u32| {
        let mut bytes = first.to_le_bytes().to_vec();
        bytes.extend_from_slice(&second.to_le_bytes());
        bytes
    };
    let tables = writer.declare_data("component:tables", false)?;
    let mut description = DataDescription::new();
    let mut bytes: Vec<u8> = plan
        .resource_tables
        .iter()
        .flat_map(|table| match table {
            Some(table) => record(table.instance, table.resource as u32),
            None => record(NO_INSTANCE, u32::MAX),
        })
        .collect();
    bytes.resize(bytes.len().max(8), 0);
    description.define(bytes.into_boxed_slice());
    description.set_align(4);
    writer.define_data(tables, &description)?;

    let resources = writer.declare_data("component:resources", false)?;
    let mut description = DataDescription::new();
    let mut bytes: Vec<u8> = (0..plan.resources.len())
        .flat_map(|r| match &plan.resources[r] {
            Resource::Defined { instance, .. } => record(*instance, u32::MAX),
            Resource::Imported { .. } => record(NO_INSTANCE, builtins::resource_type(plan, r)),
        })
        .collect();
    bytes.resize(bytes.len().max(8), 0);
    description.define(bytes.into_boxed_slice());
    description.set_align(4);
    writer.define_data(resources, &description)?;

    let descriptor = writer.declare_data("component:descriptor", false)?;
    let mut description = DataDescription::new();
    let mut bytes = vec![0u8; layout.descriptor_size() as usize];
    for (data, at, count_at, count) in [
        (
            instances,
            layout.instances(),
            layout.instance_count(),
            count,
        ),
        (
            tables,
            layout.tables(),
            layout.table_count(),
            plan.resource_tables.len(),
        ),
        (
            resources,
            layout.resources(),
            layout.resource_count(),
            plan.resources.len(),
        ),
    ] {
        let data = writer
            .module_mut()
            .declare_data_in_data(data, &mut description);
        description.write_data_addr(at, data, 0);
        put(&mut bytes, count_at as usize, count as u64);
    }
    put(
        &mut bytes,
        layout.entry() as usize,
        u64::from(entry.unwrap_or(NO_INSTANCE)),
    );
    description.define(bytes.into_boxed_slice());
    description.set_align(u64::from(ptr));
    writer.define_data(descriptor, &description)?;
    Ok(descriptor)
}

/// Defines a canonical-ABI context.
fn define_context(
    writer: &mut ObjectWriter,
    layout: &CanonContext,
    id: DataId,
    state: DataId,
    memory: Option<(DataId, u32)>,
    realloc: Option<FuncId>,
    encoding: StringEncoding,
) -> Result<()> {
    let mut bytes = vec![0u8; layout.size() as usize];
    let encoding = match encoding {
        StringEncoding::Utf8 => wasi_p2::STRING_UTF8,
        StringEncoding::Utf16 => wasi_p2::STRING_UTF16,
        StringEncoding::CompactUtf16 => wasi_p2::STRING_LATIN1_UTF16,
    };
    let at = layout.encoding() as usize;
    bytes[at..at + 4].copy_from_slice(&encoding.to_le_bytes());
    let mut description = DataDescription::new();
    let state = writer
        .module_mut()
        .declare_data_in_data(state, &mut description);
    description.write_data_addr(layout.instance(), state, 0);
    if let Some((vmctx, offset)) = memory {
        let vmctx = writer
            .module_mut()
            .declare_data_in_data(vmctx, &mut description);
        description.write_data_addr(layout.memory(), vmctx, i64::from(offset));
    }
    if let Some(realloc) = realloc {
        let func = writer
            .module_mut()
            .declare_func_in_data(realloc, &mut description);
        description.write_function_addr(layout.realloc(), func);
    }
    description.define(bytes.into_boxed_slice());
    description.set_align(16);
    writer.define_data(id, &description)
}

/// A function builder on a fresh function with one entry block, current and sealed.
fn start<'a>(
    func: &'a mut ir::Function,
    context: &'a mut FunctionBuilderContext,
) -> (FunctionBuilder<'a>, ir::Block) {
    let mut builder = FunctionBuilder::new(func, context);
    let block = builder.create_block();
    builder.append_block_params_for_function_params(block);
    builder.switch_to_block(block);
    builder.seal_block(block);
    (builder, block)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flags_module_is_the_text_it_quotes() {
        let text = r#"(module (global (export "flags") (mut i32) (i32.const 1)))"#;
        assert_eq!(wat::parse_str(text).unwrap(), FLAGS_MODULE);
    }

    #[test]
    fn only_0_2_and_0_3_exports_of_wasi_cli_run_are_entries() {
        let export = |name: &str| crate::component::plan::Export {
            name: name.to_string(),
            func: CoreDef::Trampoline(0),
            options: 0,
            signature: FlatSig {
                params: vec![],
                results: vec![FlatType::I32],
            },
            func_type: None,
        };
        for (name, found) in [
            ("wasi:cli/run@0.2.0#run", true),
            ("wasi:cli/run@0.2.12#run", true),
            ("wasi:cli/run@0.3.0#run", true),
            ("wasi:cli/run@0.1.0#run", false),
            ("wasi:cli/run@1.0.0#run", false),
            ("wasi:cli/run@0.2.0#other", false),
            ("run", false),
        ] {
            let plan = ComponentPlan {
                exports: vec![export(name)],
                ..ComponentPlan::default()
            };
            assert_eq!(entry_export(&plan).is_ok(), found, "{name}");
        }
        // A handler must be lifted `async` with a callback, `(request) -> result`.
        let service = ComponentPlan {
            exports: vec![export("wasi:http/handler@0.3.0#handle")],
            ..ComponentPlan::default()
        };
        let why = entry_export(&service).err().unwrap().to_string();
        assert!(why.contains("must be `async func(request)"), "{why}");
        let proxy = ComponentPlan {
            exports: vec![export("wasi:http/incoming-handler@0.2.0#handle")],
            ..ComponentPlan::default()
        };
        let why = entry_export(&proxy).err().unwrap().to_string();
        assert!(
            why.contains("an HTTP component exporting `wasi:http/incoming-handler@0.2.0`"),
            "{why}"
        );
    }
}
