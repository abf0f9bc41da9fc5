//! From a component binary to a [`ComponentPlan`], through wasmtime-environ's component
//! translator: it validates the component, instantiates its graph statically (nested
//! components, aliases, instances) into a flat list of initializers, and generates the
//! fused adapter modules (FACT) for component-to-component calls. This file maps that
//! result onto wafer's own plan, so nothing of wasmtime-environ leaks past it.

use std::borrow::Cow;
use std::collections::HashMap;

use wasmtime_environ::component::{
    self as wc, CanonicalOptionsDataModel, ComponentTypes, GlobalInitializer, InstantiateModule,
    TypeDef,
};
use wasmtime_environ::{EntityIndex, ModuleInternedTypeIndex, ScopeVec, Tunables, WasmValType};
use wasmtime_environ::{EntityRef as _, wasmparser as wp};

use super::plan::*;
use crate::error::{CompileError, Result};

mod parents;
mod prescan;
mod types;

use prescan::prescan;

/// The translator's settings. Concurrency support is on: every fused adapter then
/// brackets its call with the task intrinsics (`enter-sync-call`, `exit-sync-call`,
/// `context.get/set` around a post-return, the task's `may_block`), through which the
/// runtime enters the callee's instances (the reentrance traps), gives each call its
/// task's storage and scopes borrows; and adapters for asynchronous calls can be built.
/// Adapter debug assertions are off.
fn tunables() -> Tunables {
    let mut tunables = Tunables::default_host();
    tunables.concurrency_support = true;
    tunables.debug_adapter_modules = false;
    tunables
}

/// What the component's core modules may use: wafer's own core feature set (so a module
/// compiles the same inside a component as on its own; with exceptions on, fused
/// adapters wrap each call in a `try_table` that turns an escaping exception into a
/// trap, which wafer compiles like any other), plus the component model with the
/// proposals its test suite assumes (async, error contexts, threads, fixed-length
/// lists, maps, `implements`): a component using them is valid, and fails to build only if it needs
/// what wafer does not implement (asynchronous calls; the asynchronous built-ins build
/// and trap when called).
fn features() -> wp::WasmFeatures {
    use wp::WasmFeatures as F;
    F::WASM3
        | F::COMPONENT_MODEL
        | F::CM_ASYNC
        | F::CM_ASYNC_STACKFUL
        | F::CM_MORE_ASYNC_BUILTINS
        | F::CM_ERROR_CONTEXT
        | F::CM_THREADING
        | F::CM_FIXED_LENGTH_LISTS
        | F::CM_MAP
        | F::CM_IMPLEMENTS
}

/// Whether `bytes` is a binary component (rather than a core module).
pub fn is_component(bytes: &[u8]) -> bool {
    // After the magic: a 16-bit version and a 16-bit layer, 1 for components.
    bytes.len() >= 8 && bytes.starts_with(b"\0asm") && bytes[6..8] == [1, 0]
}

/// The error for a failed translation: a validation error keeps its byte offset.
fn translation_error(error: wasmtime_environ::error::Error) -> CompileError {
    for cause in error.chain() {
        if let Some(e) = cause.downcast_ref::<wp::BinaryReaderError>() {
            return CompileError::InvalidWasm {
                message: one_line(e.message()),
                offset: e.offset(),
            };
        }
        if let Some(wasmtime_environ::WasmError::InvalidWebAssembly { message, offset }) =
            cause.downcast_ref::<wasmtime_environ::WasmError>()
        {
            return CompileError::InvalidWasm {
                message: one_line(message),
                offset: *offset,
            };
        }
    }
    let message = error
        .chain()
        .map(|cause| cause.to_string())
        .collect::<Vec<_>>()
        .join(": ");
    CompileError::unsupported(format!("component: {}", one_line(&message)))
}

fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Translates the component `wasm` into wafer's plan.
pub fn translate(wasm: &[u8]) -> Result<ComponentPlan<'_>> {
    prescan(wasm)?;
    let tunables = tunables();
    let mut validator = wp::Validator::new_with_features(features());
    let mut types = wc::ComponentTypesBuilder::new(&validator);
    let adapters = ScopeVec::new();
    // The translator asserts on a few inputs it does not support rather than failing
    // (fused adapters for asynchronous calls without concurrency support): report
    // those as unsupported instead of taking the caller down.
    let translated = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        wc::Translator::new(&tunables, &mut validator, &mut types, &adapters).translate(wasm)
    }))
    .map_err(|_| {
        CompileError::unsupported(
            "component: the component model translator failed on this component \
             (asynchronous calls between component instances are WASI 0.3)",
        )
    })?;
    let (translation, modules) = translated.map_err(translation_error)?;
    let resource_tables = types.num_resource_tables();
    let copy_tables = (types.num_stream_tables(), types.num_future_tables());
    let error_context_tables = types.num_error_context_tables();
    let (types, root) = types.finish(&translation.component);
    let input = wasm.as_ptr_range();
    let modules = modules
        .values()
        .map(|module| {
            let bytes = module.wasm;
            let start = bytes.as_ptr();
            if input.contains(&start) {
                let offset = start as usize - input.start as usize;
                CoreModule {
                    wasm: Cow::Borrowed(&wasm[offset..offset + bytes.len()]),
                    input_offset: Some(offset),
                }
            } else {
                // A fused adapter module, generated into `adapters`.
                CoreModule {
                    wasm: Cow::Owned(bytes.to_vec()),
                    input_offset: None,
                }
            }
        })
        .collect();
    let mut plan = Planner {
        component: &translation.component,
        types: &types,
        plan: ComponentPlan {
            modules,
            component_instances: translation.component.num_runtime_component_instances,
            parents: parents::parents(wasm)
                .filter(|parents| {
                    parents.len() == translation.component.num_runtime_component_instances as usize
                })
                .unwrap_or_default(),
            ..ComponentPlan::default()
        },
        trampolines: &translation.trampolines,
        lowered: translation
            .component
            .initializers
            .iter()
            .filter_map(|init| match init {
                GlobalInitializer::LowerImport { index, import } => Some((*index, *import)),
                _ => None,
            })
            .collect(),
        trampoline_positions: HashMap::new(),
        copy_tables,
        error_context_tables,
        tables: Vec::new(),
    };
    plan.world(&types[root]);
    plan.resources();
    plan.resource_tables(resource_tables);
    plan.initializers()?;
    plan.options()?;
    plan.exports()?;
    Ok(plan.plan)
}

struct Planner<'a, 'data> {
    component: &'a wc::Component,
    types: &'a ComponentTypes,
    plan: ComponentPlan<'data>,
    /// wasmtime-environ's trampolines.
    trampolines: &'a wasmtime_environ::PrimaryMap<wc::TrampolineIndex, wc::Trampoline>,
    /// The import each lowering lowers.
    lowered: HashMap<wc::LoweredIndex, wc::RuntimeImportIndex>,
    /// Trampolines, by wasmtime-environ's index, that the plan holds.
    trampoline_positions: HashMap<wc::TrampolineIndex, usize>,
    /// How many stream and future tables the component has.
    copy_tables: (usize, usize),
    /// How many error-context tables the component has.
    error_context_tables: usize,
    /// The tables `thread.new-indirect` reads start functions from
    /// (`RuntimeTableIndex`): exports of instances.
    tables: Vec<CoreItem>,
}

impl Planner<'_, '_> {
    /// The flat core signature of an interned core function type.
    fn flat_sig(&self, ty: ModuleInternedTypeIndex) -> Result<FlatSig> {
        let func = self.types[ty].as_func().ok_or_else(|| {
            CompileError::unsupported("component: a canonical function of a non-function type")
        })?;
        let flat = |types: &[WasmValType]| -> Result<Vec<FlatType>> {
            types
                .iter()
                .map(|ty| match ty {
                    WasmValType::I32 => Ok(FlatType::I32),
                    WasmValType::I64 => Ok(FlatType::I64),
                    WasmValType::F32 => Ok(FlatType::F32),
                    WasmValType::F64 => Ok(FlatType::F64),
                    WasmValType::Ref(r) if *r == wasmtime_environ::WasmRefType::FUNCREF => {
                        Ok(FlatType::FuncRef)
                    }
                    other => Err(CompileError::unsupported(format!(
                        "component: a canonical function with a `{other}` value"
                    ))),
                })
                .collect()
        };
        Ok(FlatSig {
            params: flat(func.params())?,
            results: flat(func.results())?,
        })
    }

    /// The imported and exported interfaces and functions, as the root component's type
    /// declares them.
    fn world(&mut self, root: &wc::TypeComponent) {
        let describe = |name: &String, ty: &wc::ComponentExtern| -> Option<WorldItem> {
            match ty.ty {
                TypeDef::ComponentInstance(instance) => Some(WorldItem {
                    name: name.clone(),
                    funcs: self.types[instance]
                        .exports
                        .iter()
                        .filter(|(_, ty)| matches!(ty.ty, TypeDef::ComponentFunc(_)))
                        .map(|(func, _)| func.clone())
                        .collect(),
                    bare_func: false,
                }),
                TypeDef::ComponentFunc(_) => Some(WorldItem {
                    name: name.clone(),
                    funcs: Vec::new(),
                    bare_func: true,
                }),
                _ => None,
            }
        };
        self.plan.imports = root
            .imports
            .iter()
            .filter_map(|(name, ty)| describe(name, ty))
            .collect();
        self.plan.export_names = root
            .exports
            .iter()
            .filter_map(|(name, ty)| describe(name, ty))
            .collect();
    }

    /// The interface and name path of a runtime import.
    fn import_path(&self, import: wc::RuntimeImportIndex) -> (String, Vec<String>) {
        let (index, path) = &self.component.imports[import];
        let (name, _) = &self.component.import_types[*index];
        (name.clone(), path.clone())
    }

    fn resources(&mut self) {
        let imported = self.component.imported_resources.len();
        for i in 0..self.component.num_resources as usize {
            let resource = if i < imported {
                let import = self.component.imported_resources[wc::ResourceIndex::new(i)];
                let (interface, mut path) = self.import_path(import);
                let name = path.pop().unwrap_or_default();
                let interface = match path.is_empty() {
                    true => interface,
                    false => format!("{interface}#{}", path.join("#")),
                };
                Resource::Imported { interface, name }
            } else {
                let defined = wc::DefinedResourceIndex::new(i - imported);
                Resource::Defined {
                    instance: self.component.defined_resource_instances[defined].as_u32(),
                    destructor: None,
                }
            };
            self.plan.resources.push(resource);
        }
    }

    /// The handle tables fused adapters may name, by index.
    fn resource_tables(&mut self, count: usize) {
        self.plan.resource_tables = (0..count)
            .map(|i| match &self.types[wc::TypeResourceTableIndex::new(i)] {
                wc::TypeResourceTable::Concrete { ty, instance } => Some(ResourceTable {
                    instance: instance.as_u32(),
                    resource: ty.index(),
                }),
                _ => None,
            })
            .collect();
    }

    fn core_def(&mut self, def: &wc::CoreDef) -> Result<CoreDef> {
        Ok(match def {
            wc::CoreDef::Export(export) => {
                let wc::ExportItem::Index(index) = &export.item else {
                    return Err(CompileError::unsupported(
                        "component: an export of an imported core module",
                    ));
                };
                let (kind, index) = match *index {
                    EntityIndex::Function(i) => (ItemKind::Func, i.as_u32()),
                    EntityIndex::Table(i) => (ItemKind::Table, i.as_u32()),
                    EntityIndex::Memory(i) => (ItemKind::Memory, i.as_u32()),
                    EntityIndex::Global(i) => (ItemKind::Global, i.as_u32()),
                    EntityIndex::Tag(i) => (ItemKind::Tag, i.as_u32()),
                };
                CoreDef::Item(CoreItem {
                    instance: export.instance.as_u32() as usize,
                    kind,
                    index,
                })
            }
            wc::CoreDef::Trampoline(index) => CoreDef::Trampoline(self.trampoline(*index)?),
            wc::CoreDef::InstanceFlags(instance) => CoreDef::InstanceFlags(instance.as_u32()),
            wc::CoreDef::UnsafeIntrinsic(intrinsic) if context_slot(*intrinsic).is_some() => {
                let (slot, set) = context_slot(*intrinsic).unwrap_or_default();
                let (trampoline, signature) = if set {
                    (
                        Trampoline::ContextSet { slot },
                        FlatSig {
                            params: vec![FlatType::I32],
                            results: vec![],
                        },
                    )
                } else {
                    (
                        Trampoline::ContextGet { slot },
                        FlatSig {
                            params: vec![],
                            results: vec![FlatType::I32],
                        },
                    )
                };
                CoreDef::Trampoline(self.intrinsic(trampoline, signature))
            }
            wc::CoreDef::TaskMayBlock => CoreDef::TaskMayBlock,
            wc::CoreDef::UnsafeIntrinsic(_) => {
                return Err(CompileError::unsupported(format!(
                    "component: the core definition {def:?}"
                )));
            }
        })
    }

    /// The plan's position of trampoline `index`, added on first use.
    fn trampoline(&mut self, index: wc::TrampolineIndex) -> Result<usize> {
        if let Some(&position) = self.trampoline_positions.get(&index) {
            return Ok(position);
        }
        let signature = self.flat_sig(self.component.trampolines[index])?;
        // An asynchronous built-in with no canonical options.
        let plain =
            |op, instance: wc::RuntimeComponentInstanceIndex, cancellable| Trampoline::Async {
                op,
                instance: instance.as_u32(),
                options: None,
                cancellable,
            };
        let trampoline = match &self.trampolines[index] {
            wc::Trampoline::LowerImport { index, options, .. } => {
                let import = *self.lowered.get(index).ok_or_else(|| {
                    CompileError::Codegen("component: a lowering of no import".into())
                })?;
                let (interface, mut path) = self.import_path(import);
                let name = path.pop().unwrap_or_default();
                let interface = match path.is_empty() {
                    true => interface,
                    false => format!("{interface}#{}", path.join("#")),
                };
                // A function imported on its own has the import's name and no path.
                let func = if name.is_empty() {
                    ImportedFunc {
                        interface: String::new(),
                        name: interface,
                    }
                } else {
                    ImportedFunc { interface, name }
                };
                Trampoline::LowerImport {
                    func,
                    options: options.as_u32() as usize,
                }
            }
            wc::Trampoline::ResourceNew { instance, ty } => Trampoline::ResourceNew {
                instance: instance.as_u32(),
                resource: self.resource_of(*ty)?,
            },
            wc::Trampoline::ResourceRep { instance, ty } => Trampoline::ResourceRep {
                instance: instance.as_u32(),
                resource: self.resource_of(*ty)?,
            },
            wc::Trampoline::ResourceDrop { instance, ty } => Trampoline::ResourceDrop {
                instance: instance.as_u32(),
                resource: self.resource_of(*ty)?,
            },
            wc::Trampoline::Transcoder { op, from, to, .. } => Trampoline::Transcoder {
                op: op.desc().to_string(),
                from: from.as_u32() as usize,
                to: to.as_u32() as usize,
            },
            wc::Trampoline::Trap => Trampoline::Trap,
            wc::Trampoline::ResourceTransferOwn => {
                Trampoline::ResourceTransferOwn { table_base: 0 }
            }
            wc::Trampoline::ResourceTransferBorrow => {
                Trampoline::ResourceTransferBorrow { table_base: 0 }
            }
            wc::Trampoline::EnterSyncCall => Trampoline::EnterSyncCall { instance_base: 0 },
            wc::Trampoline::ExitSyncCall => Trampoline::ExitSyncCall,
            wc::Trampoline::TaskReturn { instance, .. } => Trampoline::TaskReturn {
                instance: instance.as_u32(),
            },
            wc::Trampoline::WaitableSetNew { instance } => {
                plain(AsyncOp::WaitableSetNew, *instance, false)
            }
            wc::Trampoline::WaitableSetDrop { instance } => {
                plain(AsyncOp::WaitableSetDrop, *instance, false)
            }
            wc::Trampoline::WaitableSetWait { instance, options } => Trampoline::Async {
                op: AsyncOp::WaitableSetWait,
                instance: instance.as_u32(),
                options: Some(options.as_u32() as usize),
                cancellable: self.component.options[*options].cancellable,
            },
            wc::Trampoline::WaitableSetPoll { instance, options } => Trampoline::Async {
                op: AsyncOp::WaitableSetPoll,
                instance: instance.as_u32(),
                options: Some(options.as_u32() as usize),
                cancellable: self.component.options[*options].cancellable,
            },
            wc::Trampoline::WaitableJoin { instance } => {
                plain(AsyncOp::WaitableJoin, *instance, false)
            }
            wc::Trampoline::SubtaskDrop { instance } => {
                plain(AsyncOp::SubtaskDrop, *instance, false)
            }
            wc::Trampoline::SubtaskCancel { instance, async_ } => plain(
                AsyncOp::SubtaskCancel { is_async: *async_ },
                *instance,
                false,
            ),
            wc::Trampoline::TaskCancel { instance } => plain(AsyncOp::TaskCancel, *instance, false),
            wc::Trampoline::ThreadYield {
                instance,
                cancellable,
            } => plain(AsyncOp::ThreadYield, *instance, *cancellable),
            wc::Trampoline::ThreadIndex { instance } => {
                plain(AsyncOp::ThreadIndex, *instance, false)
            }
            wc::Trampoline::ThreadResumeLater { instance } => {
                plain(AsyncOp::ThreadResumeLater, *instance, false)
            }
            wc::Trampoline::ThreadSuspend {
                instance,
                cancellable,
            } => plain(AsyncOp::ThreadSuspend, *instance, *cancellable),
            wc::Trampoline::ThreadSuspendThenResume {
                instance,
                cancellable,
            } => plain(AsyncOp::ThreadSuspendThenResume, *instance, *cancellable),
            wc::Trampoline::ThreadYieldThenResume {
                instance,
                cancellable,
            } => plain(AsyncOp::ThreadYieldThenResume, *instance, *cancellable),
            wc::Trampoline::ThreadSuspendThenPromote {
                instance,
                cancellable,
            } => plain(AsyncOp::ThreadSuspendThenPromote, *instance, *cancellable),
            wc::Trampoline::ThreadYieldThenPromote {
                instance,
                cancellable,
            } => plain(AsyncOp::ThreadYieldThenPromote, *instance, *cancellable),
            wc::Trampoline::ThreadNewIndirect {
                instance,
                start_func_table_idx,
                ..
            } => Trampoline::ThreadNew {
                instance: instance.as_u32(),
                table: self.table_item(*start_func_table_idx)?,
            },
            wc::Trampoline::BackpressureInc { instance } => Trampoline::Backpressure {
                instance: instance.as_u32(),
                delta: 1,
            },
            wc::Trampoline::BackpressureDec { instance } => Trampoline::Backpressure {
                instance: instance.as_u32(),
                delta: -1,
            },
            wc::Trampoline::StreamTransfer => Trampoline::Transfer {
                future: false,
                tables: self.transfer_tables(false),
            },
            wc::Trampoline::FutureTransfer => Trampoline::Transfer {
                future: true,
                tables: self.transfer_tables(true),
            },
            wc::Trampoline::ErrorContextNew {
                instance, options, ..
            } => Trampoline::ErrorContext {
                op: wafer_abi::component::error_context_op::NEW,
                instance: instance.as_u32(),
                options: Some(options.as_u32() as usize),
            },
            wc::Trampoline::ErrorContextDebugMessage {
                instance, options, ..
            } => Trampoline::ErrorContext {
                op: wafer_abi::component::error_context_op::DEBUG_MESSAGE,
                instance: instance.as_u32(),
                options: Some(options.as_u32() as usize),
            },
            wc::Trampoline::ErrorContextDrop { instance, .. } => Trampoline::ErrorContext {
                op: wafer_abi::component::error_context_op::DROP,
                instance: instance.as_u32(),
                options: None,
            },
            wc::Trampoline::ErrorContextTransfer => Trampoline::ErrorContextTransfer {
                tables: (0..self.error_context_tables as u32)
                    .map(|index| {
                        let table = wc::TypeComponentLocalErrorContextTableIndex::from_u32(index);
                        self.types[table].instance.as_u32()
                    })
                    .collect(),
            },
            wc::Trampoline::PrepareCall { .. } => Trampoline::PrepareCall { instance_base: 0 },
            wc::Trampoline::SyncStartCall { callback } => Trampoline::StartCall {
                async_lower: false,
                callback: callback.map(|c| c.as_u32() as usize),
                post_return: None,
            },
            wc::Trampoline::AsyncStartCall {
                callback,
                post_return,
            } => Trampoline::StartCall {
                async_lower: true,
                callback: callback.map(|c| c.as_u32() as usize),
                post_return: post_return.map(|p| p.as_u32() as usize),
            },
            other if copy_builtin(other).is_some() => match self.copy_trampoline(other) {
                Some(trampoline) => trampoline,
                // A type the canonical-ABI model cannot hold: the built-in traps.
                None => Trampoline::Unsupported {
                    instance: async_builtin_instance(other).map(|i| i.as_u32()),
                    name: other.symbol_name(),
                },
            },
            other => match async_builtin_instance(other) {
                Some(instance) => Trampoline::Unsupported {
                    instance: Some(instance.as_u32()),
                    name: other.symbol_name(),
                },
                None if is_async_call(other) => Trampoline::Unsupported {
                    instance: None,
                    name: other.symbol_name(),
                },
                None => {
                    return Err(CompileError::unsupported(format!(
                        "component: the canonical built-in `{}`",
                        other.symbol_name()
                    )));
                }
            },
        };
        let position = self.plan.trampolines.len();
        self.plan.trampolines.push(trampoline);
        self.plan.trampoline_signatures.push(signature);
        self.trampoline_positions.insert(index, position);
        Ok(position)
    }

    /// The plan's position of the trampoline standing in for an intrinsic (added on
    /// first use), with its fixed signature.
    fn intrinsic(&mut self, trampoline: Trampoline, signature: FlatSig) -> usize {
        if let Some(position) = self.plan.trampolines.iter().position(|t| *t == trampoline) {
            return position;
        }
        self.plan.trampolines.push(trampoline);
        self.plan.trampoline_signatures.push(signature);
        self.plan.trampolines.len() - 1
    }

    /// The core table `thread.new-indirect` reads, extracted before it is used.
    fn table_item(&self, index: wc::RuntimeTableIndex) -> Result<CoreItem> {
        self.tables
            .get(index.as_u32() as usize)
            .copied()
            .ok_or_else(|| {
                CompileError::Codegen(format!(
                    "component: table {} used before it is defined",
                    index.as_u32()
                ))
            })
    }

    fn resource_of(&self, table: wc::TypeResourceTableIndex) -> Result<usize> {
        match &self.types[table] {
            wc::TypeResourceTable::Concrete { ty, .. } => Ok(ty.index()),
            _ => Err(CompileError::unsupported(
                "component: a resource of an uninstantiable type",
            )),
        }
    }
}

impl Planner<'_, '_> {
    /// Core instances, memories, reallocs, post-returns and resource destructors, from
    /// the flat initializer list.
    fn initializers(&mut self) -> Result<()> {
        let component = self.component;
        for init in &component.initializers {
            match init {
                GlobalInitializer::InstantiateModule(
                    InstantiateModule::Static(module, args),
                    _,
                ) => {
                    let args = args
                        .iter()
                        .map(|arg| self.core_def(arg))
                        .collect::<Result<_>>()?;
                    self.plan.instances.push(CoreInstance {
                        module: module.as_u32() as usize,
                        args,
                    });
                }
                GlobalInitializer::InstantiateModule(InstantiateModule::Import(..), _) => {
                    return Err(CompileError::unsupported(
                        "component: instantiating an imported core module",
                    ));
                }
                GlobalInitializer::LowerImport { .. } => {}
                GlobalInitializer::ExtractMemory(memory) => {
                    expect_next(self.plan.memories.len(), memory.index.as_u32())?;
                    let def = self.core_def(&memory.export.clone().into())?;
                    let CoreDef::Item(item) = def else {
                        return Err(CompileError::Codegen("a memory that is no export".into()));
                    };
                    self.plan.memories.push(item);
                }
                GlobalInitializer::ExtractRealloc(realloc) => {
                    expect_next(self.plan.reallocs.len(), realloc.index.as_u32())?;
                    let def = self.core_def(&realloc.def)?;
                    self.plan.reallocs.push(def);
                }
                GlobalInitializer::ExtractPostReturn(post_return) => {
                    expect_next(self.plan.post_returns.len(), post_return.index.as_u32())?;
                    let def = self.core_def(&post_return.def)?;
                    self.plan.post_returns.push(def);
                }
                GlobalInitializer::Resource(resource) => {
                    let index = component.resource_index(resource.index).index();
                    let destructor = resource
                        .dtor
                        .as_ref()
                        .map(|dtor| self.core_def(dtor))
                        .transpose()?;
                    if let Some(Resource::Defined {
                        destructor: slot, ..
                    }) = self.plan.resources.get_mut(index)
                    {
                        *slot = destructor;
                    }
                }
                GlobalInitializer::ExtractCallback(callback) => {
                    expect_next(self.plan.callbacks.len(), callback.index.as_u32())?;
                    let def = self.core_def(&callback.def)?;
                    self.plan.callbacks.push(def);
                }
                GlobalInitializer::ExtractTable(table) => {
                    expect_next(self.tables.len(), table.index.as_u32())?;
                    let def = self.core_def(&table.export.clone().into())?;
                    let CoreDef::Item(item) = def else {
                        return Err(CompileError::Codegen("a table that is no export".into()));
                    };
                    self.tables.push(item);
                }
            }
        }
        Ok(())
    }

    fn options(&mut self) -> Result<()> {
        for options in self.component.options.values() {
            let CanonicalOptionsDataModel::LinearMemory(memory) = options.data_model else {
                return Err(CompileError::unsupported(
                    "component: the GC data model for canonical options",
                ));
            };
            self.plan.options.push(CanonOptions {
                is_async: options.async_,
                instance: options.instance.as_u32(),
                memory: memory.memory.map(|m| m.as_u32() as usize),
                realloc: memory.realloc.map(|r| r.as_u32() as usize),
                post_return: options.post_return.map(|p| p.as_u32() as usize),
                callback: options.callback.map(|c| c.as_u32() as usize),
                encoding: match options.string_encoding {
                    wc::StringEncoding::Utf8 => StringEncoding::Utf8,
                    wc::StringEncoding::Utf16 => StringEncoding::Utf16,
                    wc::StringEncoding::CompactUtf16 => StringEncoding::CompactUtf16,
                },
            });
        }
        Ok(())
    }

    /// Every lifted function the component exports, at any depth of exported instances.
    fn exports(&mut self) -> Result<()> {
        let mut work: Vec<(String, wc::ExportIndex)> = self
            .component
            .exports
            .raw_iter()
            .map(|(name, (index, _))| (name.to_string(), *index))
            .collect();
        while let Some((name, index)) = work.pop() {
            match &self.component.export_items[index] {
                wc::Export::LiftedFunction { ty, func, options } => {
                    let func = self.core_def(func)?;
                    let core_type = self.component.options[*options].core_type;
                    let signature = self.flat_sig(core_type)?;
                    let func_type = self.func_type(*ty);
                    self.plan.exports.push(Export {
                        name,
                        func,
                        options: options.as_u32() as usize,
                        signature,
                        func_type,
                    });
                }
                wc::Export::Instance { exports, .. } => {
                    work.extend(
                        exports
                            .raw_iter()
                            .map(|(inner, (index, _))| (format!("{name}#{inner}"), *index)),
                    );
                }
                wc::Export::ModuleStatic { .. }
                | wc::Export::ModuleImport { .. }
                | wc::Export::Type(_) => {}
            }
        }
        self.plan.exports.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(())
    }
}

/// The slot of a `context.get` / `context.set` intrinsic, and whether it sets.
fn context_slot(intrinsic: wc::UnsafeIntrinsic) -> Option<(u32, bool)> {
    Some(match intrinsic {
        wc::UnsafeIntrinsic::ContextGetI32_0 => (0, false),
        wc::UnsafeIntrinsic::ContextGetI32_1 => (1, false),
        wc::UnsafeIntrinsic::ContextSetI32_0 => (0, true),
        wc::UnsafeIntrinsic::ContextSetI32_1 => (1, true),
        _ => return None,
    })
}

/// The stream or future built-in `trampoline` is: its name and operation
/// (`wafer_abi::component::copy_op`), its component instance, its stream or future
/// type, its options (reads and writes) and whether a cancel is `async`.
type CopyBuiltin = (
    &'static str,
    u32,
    wc::RuntimeComponentInstanceIndex,
    wc::InterfaceType,
    Option<wc::OptionsIndex>,
    bool,
);

fn copy_builtin(trampoline: &wc::Trampoline) -> Option<CopyBuiltin> {
    use wafer_abi::component::copy_op as op;
    use wc::InterfaceType::{Future, Stream};
    use wc::Trampoline as T;
    Some(match *trampoline {
        T::StreamNew { instance, ty } => (
            "stream.new",
            op::STREAM_NEW,
            instance,
            Stream(ty),
            None,
            false,
        ),
        T::StreamRead {
            instance,
            ty,
            options,
        } => (
            "stream.read",
            op::STREAM_READ,
            instance,
            Stream(ty),
            Some(options),
            false,
        ),
        T::StreamWrite {
            instance,
            ty,
            options,
        } => (
            "stream.write",
            op::STREAM_WRITE,
            instance,
            Stream(ty),
            Some(options),
            false,
        ),
        T::StreamCancelRead {
            instance,
            ty,
            async_,
        } => (
            "stream.cancel-read",
            op::STREAM_CANCEL_READ,
            instance,
            Stream(ty),
            None,
            async_,
        ),
        T::StreamCancelWrite {
            instance,
            ty,
            async_,
        } => (
            "stream.cancel-write",
            op::STREAM_CANCEL_WRITE,
            instance,
            Stream(ty),
            None,
            async_,
        ),
        T::StreamDropReadable { instance, ty } => (
            "stream.drop-readable",
            op::STREAM_DROP_READABLE,
            instance,
            Stream(ty),
            None,
            false,
        ),
        T::StreamDropWritable { instance, ty } => (
            "stream.drop-writable",
            op::STREAM_DROP_WRITABLE,
            instance,
            Stream(ty),
            None,
            false,
        ),
        T::FutureNew { instance, ty } => (
            "future.new",
            op::FUTURE_NEW,
            instance,
            Future(ty),
            None,
            false,
        ),
        T::FutureRead {
            instance,
            ty,
            options,
        } => (
            "future.read",
            op::FUTURE_READ,
            instance,
            Future(ty),
            Some(options),
            false,
        ),
        T::FutureWrite {
            instance,
            ty,
            options,
        } => (
            "future.write",
            op::FUTURE_WRITE,
            instance,
            Future(ty),
            Some(options),
            false,
        ),
        T::FutureCancelRead {
            instance,
            ty,
            async_,
        } => (
            "future.cancel-read",
            op::FUTURE_CANCEL_READ,
            instance,
            Future(ty),
            None,
            async_,
        ),
        T::FutureCancelWrite {
            instance,
            ty,
            async_,
        } => (
            "future.cancel-write",
            op::FUTURE_CANCEL_WRITE,
            instance,
            Future(ty),
            None,
            async_,
        ),
        T::FutureDropReadable { instance, ty } => (
            "future.drop-readable",
            op::FUTURE_DROP_READABLE,
            instance,
            Future(ty),
            None,
            false,
        ),
        T::FutureDropWritable { instance, ty } => (
            "future.drop-writable",
            op::FUTURE_DROP_WRITABLE,
            instance,
            Future(ty),
            None,
            false,
        ),
        _ => return None,
    })
}

impl Planner<'_, '_> {
    /// Every stream (or future) table: its component instance and its type's identity
    /// (0 for a type the canonical-ABI model cannot hold).
    fn transfer_tables(&mut self, future: bool) -> Vec<(u32, u32)> {
        let count = if future {
            self.copy_tables.1
        } else {
            self.copy_tables.0
        };
        (0..count as u32)
            .map(|index| {
                let (instance, ty) = if future {
                    let table = wc::TypeFutureTableIndex::from_u32(index);
                    (self.types[table].instance, wc::InterfaceType::Future(table))
                } else {
                    let table = wc::TypeStreamTableIndex::from_u32(index);
                    (self.types[table].instance, wc::InterfaceType::Stream(table))
                };
                let identity = self.canon_type(&ty).map_or(0, |id| {
                    wafer_abi::component::type_identity(&self.plan.types.display(id).to_string())
                });
                (instance.as_u32(), identity)
            })
            .collect()
    }

    /// The trampoline of a stream or future built-in; `None` when its type is one the
    /// canonical-ABI model cannot hold.
    fn copy_trampoline(&mut self, trampoline: &wc::Trampoline) -> Option<Trampoline> {
        use wafer_abi::component::{copy_op, elem_layout, type_identity};
        use wafer_canon::{PtrType, TypeId, ValType};
        let (name, mut op, instance, ty, options, async_cancel) = copy_builtin(trampoline)?;
        let id = self.canon_type(&ty)?;
        let types = &self.plan.types;
        let layout = match types.get(id) {
            ValType::Stream(Some(elem)) | ValType::Future(Some(elem)) => {
                let number = (TypeId::S8.index()..=TypeId::F64.index()).contains(&elem.index());
                elem_layout::new(
                    types.size(*elem, PtrType::I32),
                    types.alignment(*elem, PtrType::I32),
                    number,
                )
            }
            _ => elem_layout::NONE,
        };
        let elem_type = match types.get(id) {
            ValType::Stream(Some(elem)) | ValType::Future(Some(elem))
                if options.is_some() && layout & (elem_layout::NUMBER | elem_layout::NONE) == 0 =>
            {
                let carrier = wafer_canon::FuncType {
                    params: vec![*elem],
                    results: Vec::new(),
                    is_async: false,
                };
                wafer_canon::encode::encode_types(types, &[carrier])
            }
            _ => Vec::new(),
        };
        let is_async = match options {
            Some(options) => self.component.options[options].async_,
            None => async_cancel,
        };
        if is_async {
            op |= copy_op::ASYNC;
        }
        Some(Trampoline::Copy {
            op,
            name,
            instance: instance.as_u32(),
            ty: type_identity(&types.display(id).to_string()),
            layout,
            options: options.map(|o| o.as_u32() as usize),
            elem_type,
            resource_base: 0,
        })
    }
}

/// The component instance of a built-in of the asynchronous component model (tasks,
/// waitables, streams, futures, threads); `None` for any other
/// trampoline. Asked only of the built-ins wafer does not implement yet (those it does
/// are matched before).
fn async_builtin_instance(
    trampoline: &wc::Trampoline,
) -> Option<wc::RuntimeComponentInstanceIndex> {
    use wc::Trampoline as T;
    Some(match trampoline {
        T::TaskReturn { instance, .. }
        | T::TaskCancel { instance }
        | T::WaitableSetNew { instance }
        | T::WaitableSetWait { instance, .. }
        | T::WaitableSetPoll { instance, .. }
        | T::WaitableSetDrop { instance }
        | T::WaitableJoin { instance }
        | T::SubtaskDrop { instance }
        | T::SubtaskCancel { instance, .. }
        | T::StreamNew { instance, .. }
        | T::StreamRead { instance, .. }
        | T::StreamWrite { instance, .. }
        | T::StreamCancelRead { instance, .. }
        | T::StreamCancelWrite { instance, .. }
        | T::StreamDropReadable { instance, .. }
        | T::StreamDropWritable { instance, .. }
        | T::FutureNew { instance, .. }
        | T::FutureRead { instance, .. }
        | T::FutureWrite { instance, .. }
        | T::FutureCancelRead { instance, .. }
        | T::FutureCancelWrite { instance, .. }
        | T::FutureDropReadable { instance, .. }
        | T::FutureDropWritable { instance, .. }
        | T::ThreadIndex { instance }
        | T::ThreadNewIndirect { instance, .. }
        | T::ThreadResumeLater { instance }
        | T::ThreadSuspend { instance, .. }
        | T::ThreadYield { instance, .. }
        | T::ThreadSuspendThenResume { instance, .. }
        | T::ThreadYieldThenResume { instance, .. }
        | T::ThreadSuspendThenPromote { instance, .. }
        | T::ThreadYieldThenPromote { instance, .. } => *instance,
        _ => return None,
    })
}

/// Whether a trampoline is one of those fused adapters call for an asynchronous call
/// (with concurrency support) that is not planned above.
fn is_async_call(trampoline: &wc::Trampoline) -> bool {
    use wc::Trampoline as T;
    matches!(trampoline, T::FutureTransfer | T::StreamTransfer)
}

/// Initializers number memories, reallocs and post-returns in order.
fn expect_next(len: usize, index: u32) -> Result<()> {
    if len == index as usize {
        Ok(())
    } else {
        Err(CompileError::Codegen(format!(
            "component: runtime item {index} defined out of order"
        )))
    }
}

/// The trap kinds of the codes fused adapters pass to their `trap` import (wasmtime's
/// numbering), for the trampoline that raises them.
pub fn adapter_trap_kinds() -> Vec<(u8, wafer_abi::trap::TrapKind)> {
    use wafer_abi::trap::TrapKind as K;
    use wasmtime_environ::Trap as T;
    [
        (T::CannotEnterComponent, K::CannotEnterComponent),
        (T::CannotLeaveComponent, K::CannotLeaveComponent),
        (T::InvalidChar, K::InvalidChar),
        (T::StringOutOfBounds, K::StringOutOfBounds),
        (T::ListOutOfBounds, K::ListOutOfBounds),
        (T::InvalidDiscriminant, K::InvalidDiscriminant),
        (T::UnalignedPointer, K::UnalignedPointer),
        (T::MemoryOutOfBounds, K::MemoryOutOfBounds),
        (T::UnreachableCodeReached, K::Unreachable),
        (T::CannotBlockSyncTask, K::CannotBlockSyncTask),
        // A fused adapter's exception barrier: an exception left the callee.
        (T::UncaughtException, K::UncaughtException),
    ]
    .into_iter()
    .map(|(code, kind)| (code as u8, kind))
    .collect()
}
