//! The reference of the differential target: wasmi, in-process. Only this file names
//! wasmi's types; the rest of the crate sees values as harness slots (`u128`).

use wasmi::{
    Config, Engine, Extern, Func, Global, Instance, Linker, Memory, MemoryType, Module, Mutability,
    Ref, RefType, Store, StoreLimits, StoreLimitsBuilder, Table, TableType, TrapCode, Val, ValType,
};

use crate::smith::MAX_MEMORY_BYTES;
use wafer_abi::trap::TrapKind;

/// A value type of an export's signature or a global, as the comparison needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    I32,
    I64,
    F32,
    F64,
    V128,
    /// A nullable function reference (only null or not can be compared).
    FuncRef,
    /// A nullable external reference.
    ExternRef,
}

impl Kind {
    fn of(ty: &ValType) -> Kind {
        match ty {
            ValType::I32 => Kind::I32,
            ValType::I64 => Kind::I64,
            ValType::F32 => Kind::F32,
            ValType::F64 => Kind::F64,
            ValType::V128 => Kind::V128,
            ValType::FuncRef => Kind::FuncRef,
            ValType::ExternRef => Kind::ExternRef,
        }
    }
}

/// How a call to the reference ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Returned these values (harness slots).
    Returned(Vec<u128>),
    /// Trapped; the trap kinds of wafer that mean the same.
    Trapped(TrapCode),
    /// Could not finish: the reference ran out of its own stack or fuel. Its state is
    /// then not comparable any more.
    Inconclusive(String),
}

/// wafer's trap kinds that are the same trap as wasmi's `code` (wasmi names some traps
/// more coarsely: an out-of-bounds `call_indirect` index is a table access to it).
pub fn trap_kinds(code: TrapCode) -> &'static [TrapKind] {
    match code {
        TrapCode::UnreachableCodeReached => &[TrapKind::Unreachable],
        TrapCode::MemoryOutOfBounds => &[TrapKind::MemoryOutOfBounds],
        TrapCode::TableOutOfBounds => &[TrapKind::TableOutOfBounds, TrapKind::UndefinedElement],
        TrapCode::IndirectCallToNull => &[
            TrapKind::UninitializedElement,
            TrapKind::NullFunctionReference,
        ],
        TrapCode::IntegerDivisionByZero => &[TrapKind::IntegerDivideByZero],
        TrapCode::IntegerOverflow => &[TrapKind::IntegerOverflow],
        TrapCode::BadConversionToInteger => &[TrapKind::InvalidConversionToInteger],
        TrapCode::StackOverflow => &[TrapKind::StackExhausted],
        TrapCode::BadSignature => &[TrapKind::IndirectCallTypeMismatch],
        TrapCode::OutOfFuel | TrapCode::GrowthOperationLimited | TrapCode::OutOfSystemMemory => &[],
    }
}

/// An exported function, global, memory or table of the module under test.
#[derive(Debug, Clone)]
pub enum ExportItem {
    Func {
        func: Func,
        params: Vec<Kind>,
        results: Vec<Kind>,
    },
    Global {
        global: Global,
        kind: Kind,
        mutable: bool,
    },
    Memory(Memory),
    Table(Table),
}

/// One instance of the module under test, in its own store.
pub struct Reference {
    store: Store<StoreLimits>,
    module: Module,
    linker: Linker<StoreLimits>,
    instance: Option<Instance>,
}

/// Why the reference cannot run a module at all (it is not a divergence: the module is
/// skipped).
#[derive(Debug)]
pub struct Unusable(pub String);

impl Reference {
    /// Compiles `wasm` (which may import `spectest`'s items) in a fresh store whose
    /// memories may grow to [`MAX_MEMORY_BYTES`].
    pub fn new(wasm: &[u8]) -> Result<Self, Unusable> {
        let mut config = Config::default();
        config
            .wasm_multi_memory(true)
            .wasm_memory64(true)
            .wasm_custom_page_sizes(true)
            .wasm_tail_call(true)
            .wasm_extended_const(true)
            .wasm_simd(true)
            .wasm_bulk_memory(true)
            .wasm_reference_types(true)
            .wasm_multi_value(true)
            .wasm_relaxed_simd(false)
            .wasm_wide_arithmetic(false)
            // wasm-smith's fuel bounds calls to about a thousand deep; leave room.
            .set_max_recursion_depth(4000)
            .set_max_stack_height(8_000_000)
            .consume_fuel(true);
        let engine = Engine::new(&config);
        let module = Module::new(&engine, wasm).map_err(|e| Unusable(format!("wasmi: {e}")))?;
        let limits = StoreLimitsBuilder::new()
            .memory_size(MAX_MEMORY_BYTES as usize)
            .build();
        let mut store = Store::new(&engine, limits);
        store.limiter(|limits| limits);
        let linker = spectest(&mut store).map_err(|e| Unusable(format!("spectest: {e}")))?;
        Ok(Reference {
            store,
            module,
            linker,
            instance: None,
        })
    }

    /// Instantiates the module (running its start function).
    pub fn instantiate(&mut self) -> Outcome {
        self.refuel();
        match self
            .linker
            .instantiate_and_start(&mut self.store, &self.module)
        {
            Ok(instance) => {
                self.instance = Some(instance);
                Outcome::Returned(Vec::new())
            }
            Err(error) => classify(&error),
        }
    }

    /// The export called `name` (after [`Self::instantiate`] succeeded).
    pub fn export(&self, name: &str) -> Option<ExportItem> {
        let instance = self.instance?;
        Some(match instance.get_export(&self.store, name)? {
            Extern::Func(func) => {
                let ty = func.ty(&self.store);
                ExportItem::Func {
                    func,
                    params: ty.params().iter().map(Kind::of).collect(),
                    results: ty.results().iter().map(Kind::of).collect(),
                }
            }
            Extern::Global(global) => {
                let ty = global.ty(&self.store);
                ExportItem::Global {
                    global,
                    kind: Kind::of(&ty.content()),
                    mutable: ty.mutability() == Mutability::Var,
                }
            }
            Extern::Memory(memory) => ExportItem::Memory(memory),
            Extern::Table(table) => ExportItem::Table(table),
        })
    }

    /// Calls `func` with harness-slot arguments of the given kinds.
    pub fn call(
        &mut self,
        func: &Func,
        params: &[Kind],
        args: &[u128],
        results: &[Kind],
    ) -> Outcome {
        self.refuel();
        let inputs: Vec<Val> = params
            .iter()
            .zip(args)
            .map(|(kind, value)| to_val(*kind, *value))
            .collect();
        let mut outputs: Vec<Val> = results.iter().map(|kind| to_val(*kind, 0)).collect();
        match func.call(&mut self.store, &inputs, &mut outputs) {
            Ok(()) => Outcome::Returned(outputs.iter().map(to_slot).collect()),
            Err(error) => classify(&error),
        }
    }

    /// A global's value as a harness slot.
    pub fn global(&self, global: &Global) -> u128 {
        to_slot(&global.get(&self.store))
    }

    /// Sets a global (the fuel global between calls).
    pub fn set_global(&mut self, global: &Global, kind: Kind, value: u128) -> Result<(), String> {
        global
            .set(&mut self.store, to_val(kind, value))
            .map_err(|e| e.to_string())
    }

    /// A memory's length in bytes and [`wafer_abi::harness::hash_words`] of its bytes.
    pub fn memory_state(&self, memory: &Memory) -> (u128, u128) {
        let data = memory.data(&self.store);
        (
            data.len() as u128,
            wafer_abi::harness::hash_words(data) as u128,
        )
    }

    /// A table's length and the hash of its elements' null-ness (as the harness's `t`).
    pub fn table_state(&self, table: &Table) -> (u128, u128) {
        let size = table.size(&self.store);
        let bytes: Vec<u8> = (0..size)
            .map(|i| {
                table
                    .get(&self.store, i)
                    .is_some_and(|element| !element.is_null()) as u8
            })
            .collect();
        (size as u128, wafer_abi::harness::hash_words(&bytes) as u128)
    }

    /// wasmi's own fuel, a second bound behind wasm-smith's: a call that exhausts it is
    /// inconclusive.
    fn refuel(&mut self) {
        let _ = self.store.set_fuel(100_000_000);
    }
}

/// The `spectest` items, as in [`crate::smith::SPECTEST`].
fn spectest(store: &mut Store<StoreLimits>) -> Result<Linker<StoreLimits>, wasmi::Error> {
    let mut linker = Linker::new(store.engine());
    linker.func_wrap("spectest", "print", || {})?;
    linker.func_wrap("spectest", "print_i32", |_: i32| {})?;
    linker.func_wrap("spectest", "print_i64", |_: i64| {})?;
    linker.func_wrap("spectest", "print_f32", |_: f32| {})?;
    linker.func_wrap("spectest", "print_f64", |_: f64| {})?;
    linker.func_wrap("spectest", "print_i32_f32", |_: i32, _: f32| {})?;
    linker.func_wrap("spectest", "print_f64_f64", |_: f64, _: f64| {})?;
    let globals = [
        ("global_i32", Val::I32(666)),
        ("global_i64", Val::I64(666)),
        ("global_f32", Val::F32(666.6f32.into())),
        ("global_f64", Val::F64(666.6f64.into())),
    ];
    for (name, value) in globals {
        let global = Global::new(&mut *store, value, Mutability::Const);
        linker.define("spectest", name, global)?;
    }
    let memory = Memory::new(&mut *store, MemoryType::new(1, Some(2)))?;
    linker.define("spectest", "memory", memory)?;
    let table = Table::new(
        &mut *store,
        TableType::new(RefType::Func, 10, Some(20)),
        Ref::Func(wasmi::Nullable::Null),
    )?;
    linker.define("spectest", "table", table)?;
    Ok(linker)
}

fn classify(error: &wasmi::Error) -> Outcome {
    use wasmi::errors::{ErrorKind, InstantiationError, MemoryError, TableError};
    // Instantiation reports segments out of bounds as table and memory errors.
    match error.kind() {
        ErrorKind::Table(
            TableError::InitOutOfBounds
            | TableError::SetOutOfBounds
            | TableError::CopyOutOfBounds
            | TableError::FillOutOfBounds,
        ) => return Outcome::Trapped(TrapCode::TableOutOfBounds),
        ErrorKind::Instantiation(InstantiationError::ElementSegmentDoesNotFit { .. }) => {
            return Outcome::Trapped(TrapCode::TableOutOfBounds);
        }
        ErrorKind::Memory(MemoryError::OutOfBoundsAccess) => {
            return Outcome::Trapped(TrapCode::MemoryOutOfBounds);
        }
        _ => {}
    }
    match error.as_trap_code() {
        Some(TrapCode::StackOverflow) => Outcome::Inconclusive("wasmi's stack overflowed".into()),
        Some(TrapCode::OutOfFuel) => Outcome::Inconclusive("wasmi ran out of its fuel".into()),
        Some(TrapCode::OutOfSystemMemory) => {
            Outcome::Inconclusive("wasmi ran out of memory".into())
        }
        Some(code) => Outcome::Trapped(code),
        None => Outcome::Inconclusive(format!("wasmi failed: {error}")),
    }
}

fn to_val(kind: Kind, slot: u128) -> Val {
    match kind {
        Kind::I32 => Val::I32(slot as u32 as i32),
        Kind::I64 => Val::I64(slot as u64 as i64),
        Kind::F32 => Val::F32(wasmi::F32::from_bits(slot as u32)),
        Kind::F64 => Val::F64(wasmi::F64::from_bits(slot as u64)),
        Kind::V128 => Val::V128(wasmi::V128::from(slot)),
        Kind::FuncRef => Val::FuncRef(wasmi::Nullable::Null),
        Kind::ExternRef => Val::ExternRef(wasmi::Nullable::Null),
    }
}

/// A value as the harness encodes it: non-null references become 1 (only null-ness is
/// compared).
fn to_slot(value: &Val) -> u128 {
    match value {
        Val::I32(v) => *v as u32 as u128,
        Val::I64(v) => *v as u64 as u128,
        Val::F32(v) => v.to_bits() as u128,
        Val::F64(v) => v.to_bits() as u128,
        Val::V128(v) => v.as_u128(),
        Val::FuncRef(r) => (!r.is_null()) as u128,
        Val::ExternRef(r) => (!r.is_null()) as u128,
    }
}
