//! The translation environment: how memories, tables, globals and calls are lowered for
//! the chosen target. Operator translation (`code.rs`) asks this module for addresses
//! and callees and never hard-codes a layout.

use cranelift_codegen::ir::{
    self, AbiParam, AliasRegionData, ArgumentPurpose, ExtFuncData, ExternalName, FuncRef,
    GlobalValue, GlobalValueData, InstBuilder, MemFlagsData, SigRef, Signature, TrapCode, Type,
    UserExternalName, Value, condcodes::IntCC, types,
};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::FunctionBuilder;
use cranelift_module::{DataId, FuncId};
use std::collections::HashMap;
use wafer_abi::trap::TrapKind;
use wafer_abi::vmctx::VmOffsets;

use super::bounds::{self, BoundsStats, CheckSite};
use crate::environ::{FuncSig, ModuleInfo};
use crate::error::{CompileError, Result};

/// The Cranelift trap code for a wasm trap kind.
pub fn trap_code(kind: TrapKind) -> TrapCode {
    match kind {
        TrapKind::StackExhausted => TrapCode::STACK_OVERFLOW,
        TrapKind::MemoryOutOfBounds => TrapCode::HEAP_OUT_OF_BOUNDS,
        TrapKind::IntegerOverflow => TrapCode::INTEGER_OVERFLOW,
        TrapKind::IntegerDivideByZero => TrapCode::INTEGER_DIVISION_BY_ZERO,
        TrapKind::InvalidConversionToInteger => TrapCode::BAD_CONVERSION_TO_INTEGER,
        other => TrapCode::unwrap_user(other as u8),
    }
}

/// The wasm trap kind of a Cranelift trap code, if it is one of ours.
pub fn trap_kind(code: TrapCode) -> Option<TrapKind> {
    Some(match code {
        TrapCode::STACK_OVERFLOW => TrapKind::StackExhausted,
        TrapCode::HEAP_OUT_OF_BOUNDS => TrapKind::MemoryOutOfBounds,
        TrapCode::INTEGER_OVERFLOW => TrapKind::IntegerOverflow,
        TrapCode::INTEGER_DIVISION_BY_ZERO => TrapKind::IntegerDivideByZero,
        TrapCode::BAD_CONVERSION_TO_INTEGER => TrapKind::InvalidConversionToInteger,
        other => TrapKind::from_u8(other.as_raw().get())?,
    })
}

/// How linear memory accesses are kept in bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoundsStrategy {
    /// 32-bit memories live in a reservation large enough that no access can leave it;
    /// inaccessible pages trap. No explicit checks.
    GuardRegion,
    /// Every access compares its end against the memory's current length.
    Explicit,
}

/// Target-dependent translation choices.
#[derive(Debug, Clone, Copy)]
pub struct Tunables {
    /// Bounds strategy for 32-bit memories (64-bit memories, and memories whose pages
    /// are smaller than the host's, are always checked).
    pub bounds: BoundsStrategy,
    /// Whether every function checks its stack pointer against the VM context's
    /// `stack_limit` in its prologue.
    pub stack_limit: bool,
    /// Why SIMD cannot be compiled for this target, if it cannot.
    pub simd_unavailable: Option<&'static str>,
    /// The defined memory this instance's code finds at the constant
    /// [`wafer_abi::FIXED_MEMORY_BASE`] instead of through a base loaded from the VM
    /// context (see `codegen::fixed_memory`).
    pub fixed_memory: Option<u32>,
    /// Whether a table moves when it grows (boards: the runtime reserves no room for
    /// growth), so its base must be loaded again after anything that may grow it.
    pub tables_move: bool,
    /// The most bytes a defined memory may grow to (`--max-memory`), if less than its
    /// declared maximum.
    pub memory_limit: Option<u64>,
    /// Whether a store stopped by a guard region may already have written its bytes
    /// below the region (AArch64 and RISC-V allow a store that straddles into an
    /// unmapped page to be performed in part; x86 does not): a store of several bytes
    /// to a memory without explicit checks then loads its last byte first, so that it
    /// traps before writing anything, as wasm requires.
    pub probe_store_end: bool,
    /// What the code charges the meter (`--fuel`, `--deadline`).
    pub metering: crate::metering::MeterMode,
    /// Label every value of a local with the local's index (`wafer build -g`), so the
    /// compiled code says where each local lives for the debug-info translation.
    pub debug_info: bool,
}

/// How calls to an imported function are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportTarget {
    /// A runtime host function taking the caller's VM context first, in the C calling
    /// convention.
    Host(FuncId),
    /// A function of another instance in the image: called directly, in the wasm
    /// convention, with that instance's VM context.
    Wasm {
        /// The function.
        func: FuncId,
        /// The exporting instance's VM context.
        vmctx: DataId,
    },
}

/// The instance (by VM context) and defined index that really own an imported item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DefinitionSite {
    /// The owning instance's VM context.
    pub vmctx: DataId,
    /// Index among the owner's *defined* items of that kind.
    pub defined_index: u32,
    /// The owning instance's position in the image.
    pub instance: usize,
}

/// Runtime functions compiled code calls.
#[derive(Debug, Clone, Copy)]
pub struct Libcalls {
    /// `wafer_rt_memory_grow`
    pub memory_grow: FuncId,
    /// `wafer_rt_table_grow`
    pub table_grow: FuncId,
    /// `wafer_rt_fill_ptrs`
    pub fill_ptrs: FuncId,
    /// `memcpy`
    pub memcpy: FuncId,
    /// `memmove`
    pub memmove: FuncId,
    /// `memset`
    pub memset: FuncId,
    /// `wafer_rt_memory_new`
    pub memory_new: FuncId,
    /// `wafer_rt_table_new`
    pub table_new: FuncId,
    /// `wafer_rt_exception_new`
    pub exception_new: FuncId,
    /// `wafer_rt_stack_limit`, in images with stack-limit checks.
    pub stack_limit: Option<FuncId>,
    /// `wafer_rt_throw`
    pub throw: FuncId,
    /// The meter and its slow path, in metered images.
    pub meter: Option<MeterSymbols>,
}

/// What metered code uses of the runtime (see [`crate::metering`]).
#[derive(Debug, Clone, Copy)]
pub struct MeterSymbols {
    /// `wafer_rt_meter_exhausted`
    pub exhausted: FuncId,
    /// A local shim around `exhausted` in the `preserve_all` convention: checks call it,
    /// so the rare slow path clobbers no register and the hot loop around a check keeps
    /// its values in registers (a plain call there makes the register allocator spill
    /// every value live across the loop, floating-point ones above all).
    pub slow_path: FuncId,
    /// `wafer_rt_meter`
    pub counter: DataId,
}

/// The symbols of one module instance in the object being built.
#[derive(Debug, Clone)]
pub struct ModuleSymbols {
    /// For each function index: the defined function, or for imports the target.
    pub funcs: Vec<FuncId>,
    /// Targets of imported functions, by function index.
    pub imports: Vec<ImportTarget>,
    /// Where imported memories, tables and globals are defined, by their index.
    pub imported_memories: Vec<DefinitionSite>,
    /// See `imported_memories`.
    pub imported_tables: Vec<DefinitionSite>,
    /// See `imported_memories`.
    pub imported_globals: Vec<DefinitionSite>,
    /// The image-wide number of every exception tag (imported ones are the owner's).
    pub tag_ids: Vec<u32>,
    /// How many of the tags the module defines (the last ones of `tag_ids`).
    pub defined_tags: u32,
    /// For every function whose reference escapes: its entry in the wasm calling
    /// convention (an adapter for imported host functions) and the VM context to call it
    /// with (the owning instance's, for functions imported from another instance).
    pub func_ref_entries: Vec<(FuncId, DataId)>,
    /// The instance's VM context.
    pub vmctx: DataId,
    /// Bytes of each data segment.
    pub data_segments: Vec<DataId>,
    /// Element arrays of each element segment.
    pub elem_segments: Vec<DataId>,
    /// Runtime helpers.
    pub libcalls: Libcalls,
    /// Imported functions nothing provides, by function index, and the trapping stub
    /// that stands in for each.
    pub trap_stubs: Vec<(u32, FuncId)>,
}

/// Everything shared by the functions of one module.
pub struct ModuleEnv<'m> {
    /// The module.
    pub module: &'m ModuleInfo<'m>,
    /// The VM context layout.
    pub offsets: VmOffsets,
    /// The target pointer type.
    pub pointer_type: Type,
    /// Target choices.
    pub tunables: Tunables,
    /// Symbols of this instance.
    pub symbols: &'m ModuleSymbols,
    /// Calling convention of runtime functions.
    pub host_call_conv: CallConv,
    /// The target's front-end configuration.
    pub frontend_config: cranelift_codegen::isa::TargetFrontendConfig,
    /// Bodies of the functions inlined into direct callers, by function index (see
    /// `translate::inline`); empty to inline nothing.
    pub inline_bodies: &'m [Option<crate::translate::inline::Inlinable<'m>>],
}

/// The Cranelift signature of a function of type `sig`: the VM context, then the wasm
/// parameters.
pub fn signature(sig: &FuncSig, pointer_type: Type, call_conv: CallConv) -> Signature {
    let mut signature = Signature::new(call_conv);
    signature
        .params
        .push(AbiParam::special(pointer_type, ArgumentPurpose::VMContext));
    signature.params.extend(
        sig.params
            .iter()
            .map(|ty| AbiParam::new(value_type(*ty, pointer_type))),
    );
    signature.returns.extend(
        sig.results
            .iter()
            .map(|ty| AbiParam::new(value_type(*ty, pointer_type))),
    );
    signature
}

/// Calling convention of wasm functions: `tail`, so `return_call` can be a real tail call.
pub const WASM_CALL_CONV: CallConv = CallConv::Tail;

/// The Cranelift type of a wasm value type.
pub fn value_type(ty: wasmparser::ValType, pointer_type: Type) -> Type {
    match ty {
        wasmparser::ValType::I32 => types::I32,
        wasmparser::ValType::I64 => types::I64,
        wasmparser::ValType::F32 => types::F32,
        wasmparser::ValType::F64 => types::F64,
        wasmparser::ValType::V128 => types::I8X16,
        wasmparser::ValType::Ref(_) => pointer_type,
    }
}

impl ModuleEnv<'_> {
    /// The Cranelift type of a wasm value type.
    pub fn value_type(&self, ty: wasmparser::ValType) -> Type {
        value_type(ty, self.pointer_type)
    }

    /// The signature of a wasm function of type `sig`: VM context first, `tail`.
    pub fn wasm_signature(&self, sig: &FuncSig) -> Signature {
        self.signature_with(sig, WASM_CALL_CONV)
    }

    /// The signature of a host function implementing an import of type `sig`.
    pub fn host_signature(&self, sig: &FuncSig) -> Signature {
        self.signature_with(sig, self.host_call_conv)
    }

    fn signature_with(&self, sig: &FuncSig, call_conv: CallConv) -> Signature {
        signature(sig, self.pointer_type, call_conv)
    }

    /// Whether memory `index` needs explicit bounds checks: 64-bit memories always (no
    /// reservation covers their indices), memories of 1-byte pages always (protections
    /// change in whole host pages, so the bytes past such a memory's end up to the next
    /// host page are accessible), others under [`BoundsStrategy::Explicit`].
    pub fn memory_is_checked(&self, index: u32) -> bool {
        let memory = &self.module.memories[index as usize];
        memory.ty.memory64
            || memory.page_size_log2() < 16
            || self.tunables.bounds == BoundsStrategy::Explicit
    }
}

/// The immediate of the `iconst` that defines `value`, if one does.
pub fn iconst_bits(dfg: &ir::DataFlowGraph, value: Value) -> Option<i64> {
    match dfg.insts[dfg.value_def(value).inst()?] {
        ir::InstructionData::UnaryImm {
            opcode: ir::Opcode::Iconst,
            imm,
        } => Some(imm.bits()),
        _ => None,
    }
}

/// The low `bits` of `value`, zero-extended: the form `iconst` of a narrower type wants.
pub fn low_bits(value: i64, bits: u32) -> i64 {
    if bits >= 64 {
        value
    } else {
        value & ((1i64 << bits) - 1)
    }
}

/// Flags for loads and stores of VM context fields that never trap.
pub fn vm_flags() -> MemFlagsData {
    MemFlagsData::trusted()
}

/// The alias regions translated code declares (numbers unique within a function).
const HEAP_REGION: u32 = 0;
const MEMORY_LENGTH_REGION: u32 = 1;

/// Flags for wasm loads and stores in `func`: little-endian, trapping (on a guarded
/// memory, an access past the end faults), in the linear-memory alias region, so that
/// stores to linear memory do not clobber what Cranelift knows about other memory (a
/// global or a memory's length loaded before them is reused after them).
pub fn heap_flags(func: &mut ir::Function) -> MemFlagsData {
    let region = func.dfg.alias_regions.insert(AliasRegionData {
        user_id: HEAP_REGION,
        description: "linear memory".into(),
    });
    MemFlagsData::new()
        .with_endianness(ir::Endianness::Little)
        .with_alias_region(Some(region))
}

/// Flags for loads of a memory's current length: only `memory.grow` (a call) changes it,
/// so a length loaded once stays valid until the next call, whatever is stored to linear
/// memory or globals in between.
fn length_flags(func: &mut ir::Function) -> MemFlagsData {
    let region = func.dfg.alias_regions.insert(AliasRegionData {
        user_id: MEMORY_LENGTH_REGION,
        description: "memory lengths".into(),
    });
    vm_flags().with_alias_region(Some(region))
}

/// Per-function lowering state: the VM context and cached callee references.
///
/// VM context fields are read with plain loads each time they are needed; loads of fields
/// that never change (memory and table bases, import pointers) are `readonly` and
/// `can_move`, so Cranelift merges them and hoists them out of loops.
pub struct FuncEnv<'m> {
    /// The module environment.
    pub menv: &'m ModuleEnv<'m>,
    vmctx: Option<Value>,
    func_refs: HashMap<FuncId, FuncRef>,
    data_symbols: HashMap<DataId, GlobalValue>,
    wasm_sigs: HashMap<u32, SigRef>,
    /// Explicit bounds checks emitted so far, for [`bounds::elide_dominated`].
    pub check_sites: Vec<CheckSite>,
    /// Explicit bounds checks emitted and left out so far.
    pub bounds_stats: BoundsStats,
}

impl<'m> FuncEnv<'m> {
    /// A fresh environment for one function.
    pub fn new(menv: &'m ModuleEnv<'m>) -> Self {
        FuncEnv {
            menv,
            vmctx: None,
            func_refs: HashMap::new(),
            data_symbols: HashMap::new(),
            wasm_sigs: HashMap::new(),
            check_sites: Vec::new(),
            bounds_stats: BoundsStats::default(),
        }
    }

    /// The module.
    pub fn module(&self) -> &'m ModuleInfo<'m> {
        self.menv.module
    }

    /// The target pointer type.
    pub fn pointer_type(&self) -> Type {
        self.menv.pointer_type
    }

    /// Sets the value holding the VM context (the function's first parameter, or the
    /// instance's symbol in generated entry functions).
    pub fn set_vmctx(&mut self, vmctx: Value) {
        self.vmctx = Some(vmctx);
    }

    /// The VM context.
    pub fn vmctx(&self) -> Value {
        self.vmctx
            .expect("the VM context is set before translation")
    }

    /// A pointer that never changes, loaded from `base + offset`.
    fn load_fixed_pointer(
        &self,
        builder: &mut FunctionBuilder<'_>,
        base: Value,
        offset: u32,
    ) -> Value {
        builder.ins().load(
            self.pointer_type(),
            vm_flags().with_readonly().with_can_move(),
            base,
            offset as i32,
        )
    }

    fn vmctx_field(&self, builder: &mut FunctionBuilder<'_>, offset: u32) -> Value {
        builder.ins().iadd_imm_u(self.vmctx(), offset as i64)
    }

    /// Address of memory `index`'s `VMMemoryDefinition` (in this instance's VM context for
    /// a defined memory, behind a pointer for an imported one).
    pub fn memory_def(&mut self, builder: &mut FunctionBuilder<'_>, index: u32) -> Value {
        let offsets = self.menv.offsets;
        let imported = self.module().num_imported_memories;
        if index < imported {
            self.load_fixed_pointer(builder, self.vmctx(), offsets.imported_memory(index))
        } else {
            self.vmctx_field(builder, offsets.defined_memory(index - imported))
        }
    }

    /// Base address of memory `index`. Bases never move: memories grow in place.
    pub fn memory_base(&mut self, builder: &mut FunctionBuilder<'_>, index: u32) -> Value {
        if self.menv.tunables.fixed_memory == Some(index) {
            // A constant base folds into each access's displacement: no register holds
            // it and no function loads it.
            return builder
                .ins()
                .iconst(self.pointer_type(), wafer_abi::FIXED_MEMORY_BASE as i64);
        }
        let offsets = self.menv.offsets;
        let imported = self.module().num_imported_memories;
        if index < imported {
            let def = self.memory_def(builder, index);
            self.load_fixed_pointer(builder, def, offsets.memory_base())
        } else {
            let at = offsets.defined_memory(index - imported) + offsets.memory_base();
            self.load_fixed_pointer(builder, self.vmctx(), at)
        }
    }

    /// The current byte length of memory `index` (re-read at every use: it grows).
    pub fn memory_length(&mut self, builder: &mut FunctionBuilder<'_>, index: u32) -> Value {
        let def = self.memory_def(builder, index);
        let offset = self.menv.offsets.memory_current_length() as i32;
        let flags = length_flags(builder.func);
        builder.ins().load(self.pointer_type(), flags, def, offset)
    }

    /// Address of table `index`'s `VMTableDefinition`.
    pub fn table_def(&mut self, builder: &mut FunctionBuilder<'_>, index: u32) -> Value {
        let offsets = self.menv.offsets;
        let imported = self.module().num_imported_tables;
        if index < imported {
            self.load_fixed_pointer(builder, self.vmctx(), offsets.imported_table(index))
        } else {
            self.vmctx_field(builder, offsets.defined_table(index - imported))
        }
    }

    /// Base of table `index`'s elements. Where tables grow in place it never moves, and
    /// Cranelift may reuse one load across calls; where they move, a call (which may grow
    /// the table) makes it load again.
    pub fn table_base(&mut self, builder: &mut FunctionBuilder<'_>, index: u32) -> Value {
        let def = self.table_def(builder, index);
        let offset = self.menv.offsets.table_base();
        if self.menv.tunables.tables_move {
            builder
                .ins()
                .load(self.pointer_type(), vm_flags(), def, offset as i32)
        } else {
            self.load_fixed_pointer(builder, def, offset)
        }
    }

    /// The current element count of table `index`, pointer-sized.
    pub fn table_length(&mut self, builder: &mut FunctionBuilder<'_>, index: u32) -> Value {
        let def = self.table_def(builder, index);
        let offset = self.menv.offsets.table_current_elements() as i32;
        builder
            .ins()
            .load(self.pointer_type(), vm_flags(), def, offset)
    }

    /// Address of element `index_value` of table `table` after a bounds check that traps
    /// with `kind`. `index_value` is the wasm index operand (i32 or i64).
    pub fn table_element_addr(
        &mut self,
        builder: &mut FunctionBuilder<'_>,
        table: u32,
        index_value: Value,
        kind: TrapKind,
    ) -> Value {
        let ptr = self.pointer_type();
        let index = self.extend_to_pointer(builder, index_value);
        let len = self.table_length(builder, table);
        let in_bounds = builder.ins().icmp(IntCC::UnsignedLessThan, index, len);
        builder.ins().trapz(in_bounds, trap_code(kind));
        let base = self.table_base(builder, table);
        let scaled = builder.ins().imul_imm_u(index, ptr.bytes() as i64);
        builder.ins().iadd(base, scaled)
    }

    /// The function reference at `index_value` of table `table`, checked as
    /// `call_indirect` checks it: in bounds, present and of canonical type
    /// `expected_type`, each failure trapping with its kind of `traps` (out of bounds,
    /// null, another type).
    pub fn checked_func_ref(
        &mut self,
        builder: &mut FunctionBuilder<'_>,
        table: u32,
        index_value: Value,
        expected_type: u32,
        traps: [TrapKind; 3],
    ) -> Value {
        let slot = self.table_element_addr(builder, table, index_value, traps[0]);
        let ptr = self.pointer_type();
        let funcref = builder.ins().load(ptr, vm_flags(), slot, 0);
        builder.ins().trapz(funcref, trap_code(traps[1]));
        let actual = builder.ins().load(
            types::I32,
            vm_flags().with_readonly(),
            funcref,
            self.menv.offsets.func_ref_type_id() as i32,
        );
        let matches =
            builder
                .ins()
                .icmp_imm_s(IntCC::Equal, actual, i64::from(expected_type as i32));
        builder.ins().trapz(matches, trap_code(traps[2]));
        funcref
    }

    /// Zero-extends a wasm index (i32 or i64) to the pointer type.
    pub fn extend_to_pointer(&self, builder: &mut FunctionBuilder<'_>, value: Value) -> Value {
        let ptr = self.pointer_type();
        let ty = builder.func.dfg.value_type(value);
        if ty == ptr {
            value
        } else {
            builder.ins().uextend(ptr, value)
        }
    }

    /// Address of global `index`'s 16-byte slot.
    pub fn global_addr(&mut self, builder: &mut FunctionBuilder<'_>, index: u32) -> Value {
        let offsets = self.menv.offsets;
        let imported = self.module().num_imported_globals;
        if index < imported {
            self.load_fixed_pointer(builder, self.vmctx(), offsets.imported_global(index))
        } else {
            self.vmctx_field(builder, offsets.defined_global(index - imported))
        }
    }

    /// A reference to `func_id` usable in calls, declared on first use.
    pub fn func_ref(
        &mut self,
        func: &mut ir::Function,
        func_id: FuncId,
        signature: Signature,
    ) -> FuncRef {
        if let Some(func_ref) = self.func_refs.get(&func_id) {
            return *func_ref;
        }
        let name = func.declare_imported_user_function(UserExternalName::new(0, func_id.as_u32()));
        let signature = func.import_signature(signature);
        let func_ref = func.import_function(ExtFuncData {
            name: ExternalName::user(name),
            signature,
            colocated: true,
            patchable: false,
        });
        self.func_refs.insert(func_id, func_ref);
        func_ref
    }

    /// The address of data object `data_id` (a segment, an element array, a VM context).
    pub fn data_addr(&mut self, builder: &mut FunctionBuilder<'_>, data_id: DataId) -> Value {
        let gv = match self.data_symbols.get(&data_id) {
            Some(gv) => *gv,
            None => {
                let name = builder
                    .func
                    .declare_imported_user_function(UserExternalName::new(1, data_id.as_u32()));
                let gv = builder.func.create_global_value(GlobalValueData::Symbol {
                    name: ExternalName::user(name),
                    offset: 0.into(),
                    colocated: true,
                    tls: false,
                });
                self.data_symbols.insert(data_id, gv);
                gv
            }
        };
        builder.ins().symbol_value(self.pointer_type(), gv)
    }

    /// The signature reference for calling through a value of wasm type `type_index`.
    pub fn wasm_sig_ref(&mut self, func: &mut ir::Function, type_index: u32) -> Result<SigRef> {
        if let Some(sig) = self.wasm_sigs.get(&type_index) {
            return Ok(*sig);
        }
        let sig = self.module().types[type_index as usize]
            .as_ref()
            .ok_or_else(|| CompileError::unsupported("calls through non-function types"))?;
        let sig_ref = func.import_signature(self.menv.wasm_signature(sig));
        self.wasm_sigs.insert(type_index, sig_ref);
        Ok(sig_ref)
    }

    /// Calls runtime helper `func_id` with the C calling convention.
    pub fn call_libcall(
        &mut self,
        builder: &mut FunctionBuilder<'_>,
        func_id: FuncId,
        params: &[Type],
        returns: &[Type],
        args: &[Value],
    ) -> Vec<Value> {
        let mut signature = Signature::new(self.menv.host_call_conv);
        signature
            .params
            .extend(params.iter().map(|ty| AbiParam::new(*ty)));
        signature
            .returns
            .extend(returns.iter().map(|ty| AbiParam::new(*ty)));
        let func_ref = self.func_ref(builder.func, func_id, signature);
        let call = builder.ins().call(func_ref, args);
        builder.inst_results(call).to_vec()
    }

    /// Checks `offset + len <= bound` (all pointer-sized, no overflow possible for 32-bit
    /// operands) and traps with `kind` otherwise.
    pub fn check_range(
        &mut self,
        builder: &mut FunctionBuilder<'_>,
        offset: Value,
        len: Value,
        bound: Value,
        kind: TrapKind,
    ) {
        let end = builder
            .ins()
            .uadd_overflow_trap(offset, len, trap_code(kind));
        let out = builder.ins().icmp(IntCC::UnsignedGreaterThan, end, bound);
        builder.ins().trapnz(out, trap_code(kind));
    }
}

impl FuncEnv<'_> {
    /// The native address for a wasm access of `size` bytes at `index + offset` in memory
    /// `memory`, with whatever bounds check the memory needs. Returns the address and an
    /// immediate offset to fold into the load or store.
    pub fn memory_addr(
        &mut self,
        builder: &mut FunctionBuilder<'_>,
        memory: u32,
        index: Value,
        offset: u64,
        size: u32,
    ) -> (Value, i32) {
        if self.menv.memory_is_checked(memory) {
            self.check_access(builder, memory, index, offset.saturating_add(size as u64));
        }
        let base = self.memory_base(builder, memory);
        let index = self.extend_to_pointer(builder, index);
        let addr = builder.ins().iadd(base, index);
        match i32::try_from(offset) {
            Ok(imm) => (addr, imm),
            Err(_) => (builder.ins().iadd_imm_u(addr, offset as i64), 0),
        }
    }

    /// [`Self::memory_addr`] for a store of `size` bytes: where a straddling store could
    /// be performed in part before the guard region stops it (see
    /// [`Tunables::probe_store_end`]), its last byte is loaded first.
    pub fn store_addr(
        &mut self,
        builder: &mut FunctionBuilder<'_>,
        memory: u32,
        index: Value,
        offset: u64,
        size: u32,
    ) -> (Value, i32) {
        let (addr, imm) = self.memory_addr(builder, memory, index, offset, size);
        if self.menv.tunables.probe_store_end && size > 1 && !self.menv.memory_is_checked(memory) {
            let flags = heap_flags(builder.func);
            let (base, last) = match imm.checked_add(size as i32 - 1) {
                Some(last) => (addr, last),
                None => (builder.ins().iadd_imm_u(addr, imm as i64), size as i32 - 1),
            };
            builder.ins().uload8(ir::types::I32, flags, base, last);
        }
        (addr, imm)
    }

    /// The explicit bounds check of an access to `index + end` bytes of `memory`, unless
    /// the index is bounded within the memory's minimum size (see [`bounds`]).
    fn check_access(
        &mut self,
        builder: &mut FunctionBuilder<'_>,
        memory: u32,
        index: Value,
        end: u64,
    ) {
        let (index_min, index_max) = bounds::index_range(&builder.func.dfg, index);
        let minimum = self.module().memories[memory as usize].minimum_bytes();
        if let Some(max) = index_max
            && max.checked_add(end).is_some_and(|end| end <= minimum)
        {
            if index_min == max {
                self.bounds_stats.constant += 1;
            } else {
                self.bounds_stats.bounded += 1;
            }
            return;
        }
        let ptr = self.pointer_type();
        // Every instruction from here to the trap belongs to the check alone.
        let block = builder
            .current_block()
            .expect("checks are emitted in a block");
        let before = builder.func.layout.last_inst(block);
        let len = self.memory_length(builder, memory);
        let wide = self.extend_to_pointer(builder, index);
        let code = trap_code(TrapKind::MemoryOutOfBounds);
        let out = if end <= minimum {
            // `length - end` cannot wrap (the memory always has `end` bytes), and it is
            // the same for every access with this end until the length is reloaded, so
            // each check is one compare with the index.
            let bound = builder.ins().iadd_imm_s(len, -(end as i64));
            builder.ins().icmp(IntCC::UnsignedGreaterThan, wide, bound)
        } else {
            // A 32-bit index plus an end below 2^33 cannot overflow a 64-bit pointer; a
            // 64-bit index may.
            let index_bits = builder.func.dfg.value_type(index).bits();
            let last = if index_bits < ptr.bits() {
                builder.ins().iadd_imm_u(wide, end as i64)
            } else {
                let end = builder.ins().iconst(ptr, end as i64);
                builder.ins().uadd_overflow_trap(wide, end, code)
            };
            builder.ins().icmp(IntCC::UnsignedGreaterThan, last, len)
        };
        let trap = builder.ins().trapnz(out, code);
        let layout = &builder.func.layout;
        let first = match before {
            Some(before) => layout.next_inst(before),
            None => layout.first_inst(block),
        };
        let insts = std::iter::successors(first, |&inst| {
            (inst != trap).then(|| layout.next_inst(inst)).flatten()
        })
        .collect();
        self.check_sites.push(CheckSite {
            memory,
            index,
            end,
            index_min,
            index_max,
            insts,
        });
        self.bounds_stats.emitted += 1;
    }
}
