//! Component harness images: several components (a test script's component instances)
//! compiled into one image whose exports a test runner calls with component values
//! (protocol and table in `wafer_abi::harness`).
//!
//! The components' plans are merged into one ([`merge`]), every index of a later plan
//! moved past those of the plans before it, and compiled like one component's. The
//! component harness table then describes each component: the function that
//! instantiates its core instances (flags first), its exported functions with their
//! component-level types (`wafer_canon`'s type encoding), a trampoline that calls each
//! lifted core function with flat values, and one for its `post-return`. Lowering the
//! arguments, lifting the results and the handle tables are the runtime's.

use std::ops::Range;

use cranelift_codegen::Context;
use cranelift_codegen::ir::{self, InstBuilder, UserFuncName};
use cranelift_codegen::isa::TargetIsa;
use cranelift_frontend::FunctionBuilderContext;
use cranelift_module::{DataDescription, FuncId, Module as _};
use wafer_abi::harness::VALUE_SLOT_SIZE;
use wafer_abi::harness::component::{COMPONENT_FIELDS, EXPORT_FIELDS, NO_FUNC_TYPE};

use super::super::object::ObjectWriter;
use super::super::{CompileConfig, ImageError, compile_function};
use super::builtins::Sites;
use super::{core_func, start};
use crate::component::plan::{ComponentPlan, CoreDef, CoreItem, Resource, Trampoline};
use crate::error::Result;
use crate::target::Target;
use crate::translate::env::{FuncEnv, ModuleEnv, vm_flags};

/// One component of a harness image: where its parts are in the merged plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HarnessComponent {
    /// Its component instances.
    pub component_instances: Range<u32>,
    /// Its core instances (positions in the merged plan's `instances`).
    pub core_instances: Range<usize>,
    /// Its exported functions (positions in the merged plan's `exports`).
    pub exports: Range<usize>,
    /// Its exported functions' types (`wafer_canon::encode::encode_types`); an
    /// export's `func_type` indexes them.
    pub types: Vec<u8>,
    /// Per export, whether its function type is `async` (a task it starts may block).
    pub exports_async: Vec<bool>,
}

/// Compiles `plans` into one relocatable harness object. An error names the plan whose
/// instance failed.
pub fn compile_harness(
    plans: &[ComponentPlan<'_>],
    target: &Target,
    config: &CompileConfig,
) -> std::result::Result<Vec<u8>, ImageError> {
    let (merged, components) = merge(plans);
    super::compile_plan(&merged, target, config, Some(&components)).map_err(
        |ImageError { instance, error }| {
            // Image instances: the flags of every component instance and the task's,
            // then the core instances.
            let flags = super::core_instance_base(&merged);
            let owner = match instance.checked_sub(flags) {
                Some(core) => components
                    .iter()
                    .position(|c| c.core_instances.contains(&core)),
                None => components
                    .iter()
                    .position(|c| c.component_instances.contains(&(instance as u32))),
            };
            ImageError {
                instance: owner.unwrap_or(0),
                error,
            }
        },
    )
}

/// The plans merged into one, and where each one's parts went.
pub fn merge<'data>(
    plans: &[ComponentPlan<'data>],
) -> (ComponentPlan<'data>, Vec<HarnessComponent>) {
    let mut merged = ComponentPlan::default();
    let mut components = Vec::with_capacity(plans.len());
    for plan in plans {
        let base = Bases {
            module: merged.modules.len(),
            instance: merged.instances.len(),
            trampoline: merged.trampolines.len(),
            options: merged.options.len(),
            memory: merged.memories.len(),
            realloc: merged.reallocs.len(),
            post_return: merged.post_returns.len(),
            callback: merged.callbacks.len(),
            resource: merged.resources.len(),
            table: merged.resource_tables.len() as u32,
            component_instance: merged.component_instances,
        };
        merged.modules.extend(plan.modules.iter().cloned());
        merged
            .instances
            .extend(plan.instances.iter().map(|instance| {
                let mut instance = instance.clone();
                instance.module += base.module;
                instance.args.iter_mut().for_each(|arg| base.def(arg));
                instance
            }));
        merged
            .trampolines
            .extend(plan.trampolines.iter().map(|t| base.trampoline(t)));
        merged
            .trampoline_signatures
            .extend(plan.trampoline_signatures.iter().cloned());
        merged.options.extend(plan.options.iter().map(|options| {
            let mut options = *options;
            options.instance += base.component_instance;
            options.memory = options.memory.map(|m| m + base.memory);
            options.realloc = options.realloc.map(|r| r + base.realloc);
            options.post_return = options.post_return.map(|p| p + base.post_return);
            options.callback = options.callback.map(|c| c + base.callback);
            options
        }));
        merged.memories.extend(plan.memories.iter().map(|memory| {
            let mut memory = *memory;
            memory.instance += base.instance;
            memory
        }));
        for (from, to) in [
            (&plan.reallocs, &mut merged.reallocs),
            (&plan.post_returns, &mut merged.post_returns),
            (&plan.callbacks, &mut merged.callbacks),
        ] {
            to.extend(from.iter().map(|def| {
                let mut def = *def;
                base.def(&mut def);
                def
            }));
        }
        merged
            .resources
            .extend(plan.resources.iter().map(|resource| match resource {
                Resource::Defined {
                    instance,
                    destructor,
                } => Resource::Defined {
                    instance: instance + base.component_instance,
                    destructor: destructor.map(|mut def| {
                        base.def(&mut def);
                        def
                    }),
                },
                imported => imported.clone(),
            }));
        merged
            .resource_tables
            .extend(plan.resource_tables.iter().map(|table| {
                table.map(|mut table| {
                    table.instance += base.component_instance;
                    table.resource += base.resource;
                    table
                })
            }));
        merged.parents.extend(
            (0..plan.component_instances as usize)
                .map(|i| plan.parents.get(i).copied().flatten())
                .map(|parent| parent.map(|p| p + base.component_instance)),
        );
        merged.component_instances += plan.component_instances;
        let exports = merged.exports.len()..merged.exports.len() + plan.exports.len();
        merged.exports.extend(plan.exports.iter().map(|export| {
            let mut export = export.clone();
            base.def(&mut export.func);
            export.options += base.options;
            export
        }));
        components.push(HarnessComponent {
            component_instances: base.component_instance..merged.component_instances,
            core_instances: base.instance..merged.instances.len(),
            exports,
            types: wafer_canon::encode::encode_types(&plan.types, &plan.funcs),
            exports_async: plan
                .exports
                .iter()
                .map(|export| {
                    export
                        .func_type
                        .and_then(|f| plan.funcs.get(f))
                        .is_some_and(|f| f.is_async)
                })
                .collect(),
        });
    }
    (merged, components)
}

/// Where a plan's parts start in the merged plan.
struct Bases {
    module: usize,
    instance: usize,
    trampoline: usize,
    options: usize,
    memory: usize,
    realloc: usize,
    post_return: usize,
    callback: usize,
    resource: usize,
    table: u32,
    component_instance: u32,
}

impl Bases {
    fn def(&self, def: &mut CoreDef) {
        match def {
            CoreDef::Item(item) => item.instance += self.instance,
            CoreDef::Trampoline(t) => *t += self.trampoline,
            CoreDef::InstanceFlags(i) => *i += self.component_instance,
            CoreDef::TaskMayBlock => {}
        }
    }

    fn trampoline(&self, trampoline: &Trampoline) -> Trampoline {
        let instance = |i: &u32| i + self.component_instance;
        match trampoline {
            Trampoline::LowerImport { func, options } => Trampoline::LowerImport {
                func: func.clone(),
                options: options + self.options,
            },
            Trampoline::ResourceNew {
                instance: i,
                resource,
            } => Trampoline::ResourceNew {
                instance: instance(i),
                resource: resource + self.resource,
            },
            Trampoline::ResourceRep {
                instance: i,
                resource,
            } => Trampoline::ResourceRep {
                instance: instance(i),
                resource: resource + self.resource,
            },
            Trampoline::ResourceDrop {
                instance: i,
                resource,
            } => Trampoline::ResourceDrop {
                instance: instance(i),
                resource: resource + self.resource,
            },
            Trampoline::Transcoder { op, from, to } => Trampoline::Transcoder {
                op: op.clone(),
                from: from + self.memory,
                to: to + self.memory,
            },
            Trampoline::ResourceTransferOwn { table_base } => Trampoline::ResourceTransferOwn {
                table_base: table_base + self.table,
            },
            Trampoline::ResourceTransferBorrow { table_base } => {
                Trampoline::ResourceTransferBorrow {
                    table_base: table_base + self.table,
                }
            }
            Trampoline::EnterSyncCall { instance_base } => Trampoline::EnterSyncCall {
                instance_base: instance(instance_base),
            },
            Trampoline::Backpressure { instance: i, delta } => Trampoline::Backpressure {
                instance: instance(i),
                delta: *delta,
            },
            Trampoline::TaskReturn { instance: i } => Trampoline::TaskReturn {
                instance: instance(i),
            },
            Trampoline::ThreadNew { instance: i, table } => Trampoline::ThreadNew {
                instance: instance(i),
                table: CoreItem {
                    instance: table.instance + self.instance,
                    ..*table
                },
            },
            Trampoline::Async {
                op,
                instance: i,
                options,
                cancellable,
            } => Trampoline::Async {
                op: *op,
                instance: instance(i),
                options: options.map(|o| o + self.options),
                cancellable: *cancellable,
            },
            Trampoline::Copy {
                op,
                name,
                instance: i,
                ty,
                layout,
                options,
                elem_type,
                resource_base,
            } => Trampoline::Copy {
                op: *op,
                name,
                instance: instance(i),
                ty: *ty,
                layout: *layout,
                options: options.map(|o| o + self.options),
                elem_type: elem_type.clone(),
                resource_base: resource_base + self.resource as u32,
            },
            Trampoline::Transfer { future, tables } => Trampoline::Transfer {
                future: *future,
                tables: tables.iter().map(|(i, ty)| (instance(i), *ty)).collect(),
            },
            Trampoline::ErrorContext {
                op,
                instance: i,
                options,
            } => Trampoline::ErrorContext {
                op: *op,
                instance: instance(i),
                options: options.map(|o| o + self.options),
            },
            Trampoline::ErrorContextTransfer { tables } => Trampoline::ErrorContextTransfer {
                tables: tables.iter().map(instance).collect(),
            },
            Trampoline::PrepareCall { instance_base } => Trampoline::PrepareCall {
                instance_base: instance(instance_base),
            },
            Trampoline::StartCall {
                async_lower,
                callback,
                post_return,
            } => Trampoline::StartCall {
                async_lower: *async_lower,
                callback: callback.map(|c| c + self.callback),
                post_return: post_return.map(|p| p + self.post_return),
            },
            Trampoline::Unsupported { instance: i, name } => Trampoline::Unsupported {
                instance: i.as_ref().map(instance),
                name: name.clone(),
            },
            other @ (Trampoline::Trap
            | Trampoline::ExitSyncCall
            | Trampoline::ContextGet { .. }
            | Trampoline::ContextSet { .. }) => other.clone(),
        }
    }
}

/// A C-convention function `fn(values: *mut [u8; 16])` that calls `def` with flat
/// arguments read from the value slots and writes its results back there.
pub(super) fn slot_trampoline(
    menvs: &[ModuleEnv<'_>],
    def: &CoreDef,
    name: (u32, u32),
) -> Result<ir::Function> {
    slot_trampoline_setting(menvs, def, name, None)
}

/// [`slot_trampoline`], first storing a value into the task's `may_block` global (the
/// one global of the given image instance, after the flags instances) if asked.
fn slot_trampoline_setting(
    menvs: &[ModuleEnv<'_>],
    def: &CoreDef,
    name: (u32, u32),
    may_block: Option<(&ModuleEnv<'_>, bool)>,
) -> Result<ir::Function> {
    let menv = &menvs[0];
    let ptr = menv.pointer_type;
    let mut signature = ir::Signature::new(menv.host_call_conv);
    signature.params.push(ir::AbiParam::new(ptr));
    let mut func = ir::Function::with_name_signature(UserFuncName::user(name.0, name.1), signature);
    let mut builder_context = FunctionBuilderContext::new();
    let (mut builder, block) = start(&mut func, &mut builder_context);
    let values = builder.block_params(block)[0];
    let mut env = FuncEnv::new(menv);
    if let Some((task, may_block)) = may_block {
        let task_vmctx = env.data_addr(&mut builder, task.symbols.vmctx);
        let value = builder
            .ins()
            .iconst(cranelift_codegen::ir::types::I32, i64::from(may_block));
        builder.ins().store(
            vm_flags(),
            value,
            task_vmctx,
            task.offsets.defined_global(0) as i32,
        );
    }
    let (callee, vmctx, callee_signature) = core_func(menvs, def)?;
    let mut args = vec![env.data_addr(&mut builder, vmctx)];
    for (i, param) in callee_signature.params.iter().skip(1).enumerate() {
        args.push(builder.ins().load(
            param.value_type,
            vm_flags(),
            values,
            (i as u32 * VALUE_SLOT_SIZE) as i32,
        ));
    }
    let callee = env.func_ref(builder.func, callee, callee_signature);
    let call = builder.ins().call(callee, &args);
    let results = builder.inst_results(call).to_vec();
    for (i, value) in results.into_iter().enumerate() {
        builder.ins().store(
            vm_flags(),
            value,
            values,
            (i as u32 * VALUE_SLOT_SIZE) as i32,
        );
    }
    builder.ins().return_(&[]);
    builder.finalize(menv.frontend_config);
    Ok(func)
}

/// Defines the component harness table and what it points to, and an empty core harness
/// table (the runtime's harness reads both).
pub(super) fn define_table(
    writer: &mut ObjectWriter,
    isa: &dyn TargetIsa,
    context: &mut Context,
    sites: &Sites<'_, '_>,
    components: &[HarnessComponent],
    inits: &[FuncId],
) -> Result<()> {
    let plan = sites.plan;
    let menv = &sites.menvs[0];
    let ptr = menv.pointer_type.bytes() as usize;
    let c_signature = |params: usize| {
        let mut signature = ir::Signature::new(menv.host_call_conv);
        for _ in 0..params {
            signature.params.push(ir::AbiParam::new(menv.pointer_type));
        }
        signature
    };
    super::super::entry::define_empty_harness_table(
        writer,
        wafer_abi::symbols::HARNESS_TABLE,
        ptr,
    )?;
    let table_id = writer.declare_export_data(wafer_abi::symbols::COMPONENT_HARNESS_TABLE)?;
    let header = 2 * ptr;
    let records_at = header;
    let mut exports_at = records_at + components.len() * COMPONENT_FIELDS * ptr;
    let total_exports: usize = components.iter().map(|c| c.exports.len()).sum();
    let types_at = exports_at + total_exports * EXPORT_FIELDS * ptr;
    let total_types: usize = components.iter().map(|c| c.types.len()).sum();
    let mut bytes = vec![0u8; types_at + total_types];
    let mut description = DataDescription::new();
    let self_ref = writer
        .module_mut()
        .declare_data_in_data(table_id, &mut description);
    let descriptor = writer
        .module_mut()
        .declare_data_in_data(sites.descriptor, &mut description);
    let put = |bytes: &mut [u8], at: usize, value: u64| {
        bytes[at..at + ptr].copy_from_slice(&value.to_le_bytes()[..ptr]);
    };
    put(&mut bytes, 0, components.len() as u64);
    description.write_data_addr(ptr as u32, self_ref, records_at as i64);
    let core_base = super::core_instance_base(plan);
    let mut types_next = types_at;
    for (k, component) in components.iter().enumerate() {
        let record = records_at + k * COMPONENT_FIELDS * ptr;
        // Instantiation: the component's flags instances, then its core instances.
        let id = writer.declare_local(&format!("component[{k}]:instantiate"), &c_signature(0))?;
        let mut func =
            ir::Function::with_name_signature(UserFuncName::user(6, k as u32), c_signature(0));
        let mut builder_context = FunctionBuilderContext::new();
        let (mut builder, _) = start(&mut func, &mut builder_context);
        let mut env = FuncEnv::new(menv);
        for instance in component.component_instances.clone() {
            let callee = env.func_ref(builder.func, inits[instance as usize], c_signature(0));
            builder.ins().call(callee, &[]);
        }
        // Start functions run as a synchronous task, which may not block: the task's
        // `may_block` is clear meanwhile (and set again after, as it starts).
        let task = &sites.menvs[plan.component_instances as usize];
        let task_vmctx = env.data_addr(&mut builder, task.symbols.vmctx);
        let may_block_at = task.offsets.defined_global(0) as i32;
        let store_may_block = |builder: &mut cranelift_frontend::FunctionBuilder<'_>,
                               value: i64| {
            let value = builder
                .ins()
                .iconst(cranelift_codegen::ir::types::I32, value);
            builder
                .ins()
                .store(vm_flags(), value, task_vmctx, may_block_at);
        };
        store_may_block(&mut builder, 0);
        for instance in component.core_instances.clone().map(|i| i + core_base) {
            let callee = env.func_ref(builder.func, inits[instance], c_signature(0));
            builder.ins().call(callee, &[]);
        }
        store_may_block(&mut builder, 1);
        builder.ins().return_(&[]);
        builder.finalize(menv.frontend_config);
        let compiled = compile_function(isa, context, func, id)?;
        writer.define_function(id, "component-instantiate", compiled)?;
        let init = writer
            .module_mut()
            .declare_func_in_data(id, &mut description);
        description.write_function_addr(record as u32, init);
        put(&mut bytes, record + ptr, component.exports.len() as u64);
        description.write_data_addr((record + 2 * ptr) as u32, self_ref, exports_at as i64);
        description.write_data_addr((record + 3 * ptr) as u32, self_ref, types_next as i64);
        put(&mut bytes, record + 4 * ptr, component.types.len() as u64);
        bytes[types_next..types_next + component.types.len()].copy_from_slice(&component.types);
        types_next += component.types.len();
        description.write_data_addr((record + 5 * ptr) as u32, descriptor, 0);
        put(
            &mut bytes,
            record + 6 * ptr,
            u64::from(component.component_instances.start),
        );
        put(
            &mut bytes,
            record + 7 * ptr,
            component.component_instances.len() as u64,
        );

        for e in component.exports.clone() {
            let export = &plan.exports[e];
            let options = &plan.options[export.options];
            let call =
                writer.declare_local(&format!("component[{k}]:export[{e}]"), &c_signature(1))?;
            // The task an export call starts may block only if its type is `async`
            // (the spec's `Task.may_block`), which the adapters it calls through check.
            let type_async = component.exports_async[e - component.exports.start];
            let task = &sites.menvs[plan.component_instances as usize];
            let func = slot_trampoline_setting(
                sites.menvs,
                &export.func,
                (7, e as u32),
                Some((task, type_async)),
            )?;
            let compiled = compile_function(isa, context, func, call)?;
            writer.define_function(call, &format!("export {}", export.name), compiled)?;
            let call = writer
                .module_mut()
                .declare_func_in_data(call, &mut description);
            description.write_function_addr(exports_at as u32, call);
            if let Some(p) = options.post_return {
                let id = writer
                    .declare_local(&format!("component[{k}]:post-return[{e}]"), &c_signature(1))?;
                let func = slot_trampoline(sites.menvs, &plan.post_returns[p], (8, e as u32))?;
                let compiled = compile_function(isa, context, func, id)?;
                writer.define_function(id, &format!("post-return {}", export.name), compiled)?;
                let id = writer
                    .module_mut()
                    .declare_func_in_data(id, &mut description);
                description.write_function_addr((exports_at + ptr) as u32, id);
            }
            if let Some(c) = options.callback {
                let id = writer
                    .declare_local(&format!("component[{k}]:callback[{e}]"), &c_signature(1))?;
                let func = slot_trampoline(sites.menvs, &plan.callbacks[c], (9, e as u32))?;
                let compiled = compile_function(isa, context, func, id)?;
                writer.define_function(id, &format!("callback {}", export.name), compiled)?;
                let id = writer
                    .module_mut()
                    .declare_func_in_data(id, &mut description);
                description.write_function_addr((exports_at + 6 * ptr) as u32, id);
            }
            let func_type = export.func_type;
            put(
                &mut bytes,
                exports_at + 2 * ptr,
                func_type.map_or(NO_FUNC_TYPE, |f| f as u64),
            );
            let options_context = writer
                .module_mut()
                .declare_data_in_data(sites.option_contexts[export.options], &mut description);
            description.write_data_addr((exports_at + 3 * ptr) as u32, options_context, 0);
            put(
                &mut bytes,
                exports_at + 4 * ptr,
                u64::from(options.instance),
            );
            let memory64 = options
                .memory
                .is_some_and(|m| is_memory64(sites, &plan.memories[m]));
            let flags = match memory64 {
                true => wafer_abi::harness::component::MEMORY64,
                false => 0,
            } | match options.is_async {
                true => wafer_abi::harness::component::LIFTED_ASYNC,
                false => 0,
            };
            put(&mut bytes, exports_at + 5 * ptr, flags);
            exports_at += EXPORT_FIELDS * ptr;
        }
    }
    description.define(bytes.into_boxed_slice());
    description.set_align(16);
    writer.define_data(table_id, &description)
}

/// Whether the memory `item` names is a 64-bit memory.
fn is_memory64(sites: &Sites<'_, '_>, item: &crate::component::plan::CoreItem) -> bool {
    let module = sites.menvs[item.instance].module;
    module
        .memories
        .get(item.index as usize)
        .is_some_and(|memory| memory.ty.memory64)
}
