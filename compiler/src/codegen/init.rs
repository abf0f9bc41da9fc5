//! The instantiation function (`wafer_image_init`), generated as native code so the
//! runtime needs no interpreter for module metadata.
//!
//! With stack-limit checks, first the VM context's stack limit is set. Then in the order
//! the spec gives: create memories and tables, evaluate global initialisers
//! that were not folded at compile time, apply active element segments, then active data
//! segments (each checked, trapping like `table.init` / `memory.init`), then call the
//! start function.

use cranelift_codegen::ir::{self, InstBuilder, UserFuncName, Value, types};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_module::FuncId;
use wafer_abi::trap::TrapKind;
use wasmparser::ValType;

use cranelift_codegen::ir::condcodes::IntCC;

use super::link_plan::ResolvedImports;
use crate::environ::{ConstOp, DataMode, ElementMode, consts_eval};
use crate::error::Result;
use crate::translate::env::{FuncEnv, ModuleEnv, trap_code, vm_flags};

/// Builds `wafer_image_init` for one instance; `stack_limit` is `wafer_rt_stack_limit`
/// when the image's code reads the VM context's stack limit.
pub fn build_init(
    menv: &ModuleEnv<'_>,
    resolved: &ResolvedImports,
    stack_limit: Option<FuncId>,
) -> Result<ir::Function> {
    let module = menv.module;
    let offsets = menv.offsets;
    let symbols = menv.symbols;
    let ptr = menv.pointer_type;
    let mut func = ir::Function::with_name_signature(
        UserFuncName::user(2, 0),
        ir::Signature::new(menv.host_call_conv),
    );
    let mut builder_context = FunctionBuilderContext::new();
    let mut builder = FunctionBuilder::new(&mut func, &mut builder_context);
    let mut env = FuncEnv::new(menv);
    let block = builder.create_block();
    builder.switch_to_block(block);
    builder.seal_block(block);
    let vmctx = env.data_addr(&mut builder, symbols.vmctx);
    env.set_vmctx(vmctx);

    // Before any of the instance's code can run (its start function, last here).
    if let Some(stack_limit) = stack_limit {
        let slot = builder
            .ins()
            .iadd_imm_u(vmctx, i64::from(offsets.stack_limit()));
        let limit = env.call_libcall(&mut builder, stack_limit, &[ptr], &[ptr], &[slot])[0];
        builder
            .ins()
            .store(vm_flags(), limit, vmctx, offsets.stack_limit() as i32);
    }

    // Linking: imported memories and tables must be at least as large as the importer
    // declares, at the moment it is instantiated (they may have grown since).
    for check in &resolved.memory_minimums {
        let len = env.memory_length(&mut builder, check.index);
        let pages = match module.memories[check.index as usize].page_size_log2() {
            0 => len,
            shift => builder.ins().ushr_imm_u(len, shift as i64),
        };
        let too_small =
            builder
                .ins()
                .icmp_imm_u(IntCC::UnsignedLessThan, pages, check.minimum as i64);
        builder
            .ins()
            .trapnz(too_small, trap_code(TrapKind::IncompatibleImport));
    }
    for check in &resolved.table_minimums {
        let len = env.table_length(&mut builder, check.index);
        let too_small =
            builder
                .ins()
                .icmp_imm_u(IntCC::UnsignedLessThan, len, check.minimum as i64);
        builder
            .ins()
            .trapnz(too_small, trap_code(TrapKind::IncompatibleImport));
    }

    for (i, memory) in module
        .memories
        .iter()
        .enumerate()
        .skip(module.num_imported_memories as usize)
    {
        let def = builder.ins().iadd_imm_u(
            vmctx,
            offsets.defined_memory(i as u32 - module.num_imported_memories) as i64,
        );
        let min = builder.ins().iconst(types::I64, memory.ty.initial as i64);
        let limit = menv
            .tunables
            .memory_limit
            .map_or(u64::MAX, |bytes| bytes >> memory.page_size_log2());
        let max_pages = memory.maximum_pages().min(limit);
        let max = builder.ins().iconst(types::I64, max_pages as i64);
        let page_size_log2 = builder
            .ins()
            .iconst(types::I32, memory.page_size_log2() as i64);
        let fixed = menv.tunables.fixed_memory == Some(i as u32);
        let fixed_base = builder.ins().iconst(
            ptr,
            if fixed {
                wafer_abi::FIXED_MEMORY_BASE as i64
            } else {
                0
            },
        );
        env.call_libcall(
            &mut builder,
            symbols.libcalls.memory_new,
            &[ptr, types::I64, types::I64, ptr, types::I32],
            &[],
            &[def, min, max, fixed_base, page_size_log2],
        );
    }

    // Globals first: table initialisers may read them.
    for (i, global) in module
        .globals
        .iter()
        .enumerate()
        .skip(module.num_imported_globals as usize)
    {
        if consts_eval(module, &global.init).is_some() {
            continue; // folded into the VM context's initial contents
        }
        let value = const_expr(&mut builder, &mut env, vmctx, &global.init);
        let at = offsets.defined_global(i as u32 - module.num_imported_globals);
        builder.ins().store(vm_flags(), value, vmctx, at as i32);
    }

    for (i, table) in module
        .tables
        .iter()
        .enumerate()
        .skip(module.num_imported_tables as usize)
    {
        let def = builder.ins().iadd_imm_u(
            vmctx,
            offsets.defined_table(i as u32 - module.num_imported_tables) as i64,
        );
        let limit = if table.ty.table64 {
            u64::MAX
        } else {
            u32::MAX as u64
        };
        let min = builder.ins().iconst(types::I64, table.ty.initial as i64);
        let max = table.ty.maximum.unwrap_or(limit).min(limit);
        let max = builder.ins().iconst(types::I64, max as i64);
        let init = match &table.init {
            Some(expr) => const_expr(&mut builder, &mut env, vmctx, expr),
            None => builder.ins().iconst(ptr, 0),
        };
        env.call_libcall(
            &mut builder,
            symbols.libcalls.table_new,
            &[ptr, types::I64, types::I64, ptr],
            &[],
            &[def, min, max, init],
        );
    }

    for (i, element) in module.elements.iter().enumerate() {
        // Items that could not be resolved at compile time are written now.
        let array = env.data_addr(&mut builder, symbols.elem_segments[i]);
        for (j, item) in element.items.iter().enumerate() {
            if consts_eval(module, item).is_none() {
                let value = const_expr(&mut builder, &mut env, vmctx, item);
                builder
                    .ins()
                    .store(vm_flags(), value, array, (j * ptr.bytes() as usize) as i32);
            }
        }
        let ElementMode::Active { table, offset } = &element.mode else {
            continue;
        };
        builder.set_srcloc(ir::SourceLoc::new(element.offset as u32));
        let offset = const_expr(&mut builder, &mut env, vmctx, offset);
        let offset = env.extend_to_pointer(&mut builder, offset);
        let count = builder.ins().iconst(ptr, element.items.len() as i64);
        let table_len = env.table_length(&mut builder, *table);
        env.check_range(
            &mut builder,
            offset,
            count,
            table_len,
            TrapKind::TableOutOfBounds,
        );
        let base = env.table_base(&mut builder, *table);
        let dst = builder.ins().imul_imm_u(offset, ptr.bytes() as i64);
        let dst = builder.ins().iadd(base, dst);
        let bytes = builder
            .ins()
            .iconst(ptr, (element.items.len() * ptr.bytes() as usize) as i64);
        env.call_libcall(
            &mut builder,
            symbols.libcalls.memcpy,
            &[ptr, ptr, ptr],
            &[ptr],
            &[dst, array, bytes],
        );
    }

    for (i, data) in module.data.iter().enumerate() {
        let DataMode::Active { memory, offset } = &data.mode else {
            continue;
        };
        builder.set_srcloc(ir::SourceLoc::new(data.offset as u32));
        let offset = const_expr(&mut builder, &mut env, vmctx, offset);
        let offset = env.extend_to_pointer(&mut builder, offset);
        let len = builder.ins().iconst(ptr, data.bytes.len() as i64);
        let memory_len = env.memory_length(&mut builder, *memory);
        env.check_range(
            &mut builder,
            offset,
            len,
            memory_len,
            TrapKind::MemoryOutOfBounds,
        );
        if data.bytes.is_empty() {
            continue;
        }
        let base = env.memory_base(&mut builder, *memory);
        let dst = builder.ins().iadd(base, offset);
        let src = env.data_addr(&mut builder, symbols.data_segments[i]);
        env.call_libcall(
            &mut builder,
            symbols.libcalls.memcpy,
            &[ptr, ptr, ptr],
            &[ptr],
            &[dst, src, len],
        );
    }

    if let Some(start) = module.start {
        super::entry::call_export(&mut builder, &mut env, start, &[]);
    }
    builder.ins().return_(&[]);
    builder.finalize(menv.frontend_config);
    Ok(func)
}

/// Emits code computing a constant expression at instantiation time.
fn const_expr(
    builder: &mut FunctionBuilder<'_>,
    env: &mut FuncEnv<'_>,
    vmctx: Value,
    ops: &[ConstOp],
) -> Value {
    let module = env.module();
    let offsets = env.menv.offsets;
    let ptr = env.pointer_type();
    let mut stack = Vec::with_capacity(2);
    for op in ops {
        let value = match *op {
            ConstOp::I32Const(v) => builder.ins().iconst(types::I32, v as i64),
            ConstOp::I64Const(v) => builder.ins().iconst(types::I64, v),
            ConstOp::F32Const(bits) => builder
                .ins()
                .f32const(ir::immediates::Ieee32::with_bits(bits)),
            ConstOp::F64Const(bits) => builder
                .ins()
                .f64const(ir::immediates::Ieee64::with_bits(bits)),
            ConstOp::V128Const(bits) => {
                let constant = builder
                    .func
                    .dfg
                    .constants
                    .insert(bits.to_le_bytes().to_vec().into());
                builder.ins().vconst(types::I8X16, constant)
            }
            ConstOp::RefNull { .. } => builder.ins().iconst(ptr, 0),
            ConstOp::RefFunc(f) => {
                let slot = module.func_ref_slots[f as usize].expect("escaping");
                builder
                    .ins()
                    .iadd_imm_u(vmctx, offsets.func_ref(slot) as i64)
            }
            ConstOp::GlobalGet(g) => {
                let ty: ValType = module.globals[g as usize].ty.content_type;
                let ty = env.menv.value_type(ty);
                let addr = env.global_addr(builder, g);
                builder.ins().load(ty, vm_flags(), addr, 0)
            }
            ConstOp::I32Add | ConstOp::I64Add => {
                let (b, a) = (stack.pop().unwrap(), stack.pop().unwrap());
                builder.ins().iadd(a, b)
            }
            ConstOp::I32Sub | ConstOp::I64Sub => {
                let (b, a) = (stack.pop().unwrap(), stack.pop().unwrap());
                builder.ins().isub(a, b)
            }
            ConstOp::I32Mul | ConstOp::I64Mul => {
                let (b, a) = (stack.pop().unwrap(), stack.pop().unwrap());
                builder.ins().imul(a, b)
            }
        };
        stack.push(value);
    }
    stack
        .pop()
        .expect("validated constant expressions produce a value")
}
