//! Translation of wasm function bodies into Cranelift IR.
//!
//! `mod.rs` sets a function up (signature, locals, entry and exit blocks) and drives the
//! operator loop; `code.rs` translates operators, one `VisitOperator` method each, with
//! the lowering of memories, tables, globals and calls delegated to `env.rs`.

pub mod bounds;
mod code;
mod control;
pub mod env;
pub mod inline;

use cranelift_codegen::ir::{self, InstBuilder, SourceLoc, UserFuncName};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use wasmparser::{FuncValidator, FunctionBody, ValidatorResources};

use crate::error::Result;
use code::CodeTranslator;
use control::{ControlFrame, FrameKind};
use env::{FuncEnv, ModuleEnv};

/// Translates function bodies; reuse one per thread to reuse allocations.
#[derive(Default)]
pub struct FuncTranslator {
    builder_context: FunctionBuilderContext,
}

impl FuncTranslator {
    /// A new translator.
    pub fn new() -> Self {
        Self::default()
    }

    /// Translates defined function `func_index` into a new Cranelift function, validating
    /// the body as it goes.
    pub fn translate(
        &mut self,
        menv: &ModuleEnv<'_>,
        func_index: u32,
        body: &FunctionBody<'_>,
        validator: &mut FuncValidator<ValidatorResources>,
    ) -> Result<Translated> {
        let sig = menv.module.func_sig(func_index);
        let mut func = ir::Function::with_name_signature(
            UserFuncName::user(0, func_index),
            menv.wasm_signature(sig),
        );
        if menv.tunables.stack_limit {
            set_stack_limit(&mut func, menv);
        }
        let mut env = FuncEnv::new(menv);
        if menv.tunables.debug_info {
            func.dfg.collect_debug_info();
        }
        let mut builder = FunctionBuilder::new(&mut func, &mut self.builder_context);
        let body_offset = body.range().start as usize;
        builder
            .func
            .params
            .ensure_base_srcloc(SourceLoc::new(body_offset as u32));
        builder.set_srcloc(SourceLoc::new(body_offset as u32));

        let entry = builder.create_block();
        builder.append_block_params_for_function_params(entry);
        builder.switch_to_block(entry);
        builder.seal_block(entry);
        env.set_vmctx(builder.block_params(entry)[0]);

        // Parameters become the first locals; the VM context is parameter 0.
        let mut locals = Vec::new();
        for (i, ty) in sig.params.iter().enumerate() {
            let cl_ty = menv.value_type(*ty);
            let var = builder.declare_var(cl_ty);
            let value = builder.block_params(entry)[i + 1];
            builder.def_var(var, value);
            if menv.tunables.debug_info {
                builder.set_val_label(value, ir::ValueLabel::from_u32(i as u32));
            }
            locals.push(var);
        }
        let mut locals_reader = body.get_locals_reader()?;
        for _ in 0..locals_reader.get_count() {
            let offset = locals_reader.original_position();
            let (count, ty) = locals_reader.read()?;
            validator.define_locals(offset, count, ty)?;
            if let Some(why) = menv.tunables.simd_unavailable
                && ty == wasmparser::ValType::V128
            {
                return Err(crate::error::CompileError::unsupported_at(
                    format!(
                        "function `{}` has v128 locals: {why}",
                        menv.module.func_display_name(func_index)
                    ),
                    offset as usize,
                ));
            }
            push_zeroed_locals(&mut builder, menv.value_type(ty), count, &mut locals);
        }
        if menv.tunables.debug_info {
            for (index, &var) in locals.iter().enumerate().skip(sig.params.len()) {
                let zero = builder.use_var(var);
                builder.set_val_label(zero, ir::ValueLabel::from_u32(index as u32));
            }
        }

        let result_types: Vec<_> = sig.results.iter().map(|ty| menv.value_type(*ty)).collect();
        let own_size = inline::body_len(body);
        let mut translator =
            CodeTranslator::new(&mut builder, &mut env, locals, func_index, own_size);
        translator.push_frame(ControlFrame::new(
            FrameKind::Block,
            Vec::new(),
            result_types,
            0,
        ));
        translator.meter_enter();

        let mut reader = body.get_operators_reader()?;
        while !reader.eof() {
            // SIMD operators are the ones with the 0xfd prefix.
            if let Some(why) = menv.tunables.simd_unavailable
                && reader.get_binary_reader().read_u8().ok() == Some(0xfd)
            {
                return Err(crate::error::CompileError::unsupported_at(
                    format!(
                        "function `{}`: {why}",
                        menv.module.func_display_name(func_index)
                    ),
                    reader.original_position() as usize,
                ));
            }
            let (op, offset) = reader.read_with_offset()?;
            validator.op(offset, &op)?;
            translator.set_offset(offset as usize);
            translator.translate_operator(&op)?;
        }
        reader.finish()?;

        // The outermost `end` left the results on the stack (in the exit block, when
        // something branched there).
        translator.meter_spill();
        let results = translator.take_results();
        let inlined = translator.take_inlined();
        builder.ins().return_(&results);
        builder.seal_all_blocks();
        builder.finalize(menv.frontend_config);
        let mut bounds = env.bounds_stats;
        let elided = bounds::elide_dominated(&mut func, &env.check_sites, |memory| {
            menv.module.memories[memory as usize].minimum_bytes()
        });
        bounds.emitted -= elided;
        bounds.dominated += elided;
        Ok(Translated {
            func,
            inlined,
            bounds,
        })
    }
}

/// A translated function.
pub struct Translated {
    /// Its Cranelift IR.
    pub func: ir::Function,
    /// The functions inlined into it, each once.
    pub inlined: Vec<u32>,
    /// Its explicit bounds checks, emitted and left out.
    pub bounds: bounds::BoundsStats,
}

/// Makes `func`'s prologue compare the stack pointer, less the frame it allocates, with
/// the VM context's `stack_limit` slot, trapping with `call stack exhausted` below it.
pub fn set_stack_limit(func: &mut ir::Function, menv: &ModuleEnv<'_>) {
    let vmctx = func.create_global_value(ir::GlobalValueData::VMContext);
    // The slot is set when the instance is instantiated, before any of its code runs.
    let flags = func
        .dfg
        .mem_flags
        .insert_unchecked(env::vm_flags().with_readonly());
    let limit = func.create_global_value(ir::GlobalValueData::Load {
        base: vmctx,
        offset: (menv.offsets.stack_limit() as i32).into(),
        global_type: menv.pointer_type,
        flags,
    });
    func.stack_limit = Some(limit);
}

/// Declares `count` locals of type `ty`, each starting at zero, onto `locals`.
pub(crate) fn push_zeroed_locals(
    builder: &mut FunctionBuilder<'_>,
    ty: ir::Type,
    count: u32,
    locals: &mut Vec<Local>,
) {
    for _ in 0..count {
        let var = builder.declare_var(ty);
        let zero = zero_value(builder, ty);
        builder.def_var(var, zero);
        locals.push(var);
    }
}

/// The zero value of a type (the initial value of a local).
pub fn zero_value(builder: &mut FunctionBuilder<'_>, ty: ir::Type) -> ir::Value {
    use ir::types;
    match ty {
        types::F32 => builder.ins().f32const(0.0),
        types::F64 => builder.ins().f64const(0.0),
        ty if ty.is_vector() => {
            let zero = builder.func.dfg.constants.insert(vec![0u8; 16].into());
            builder.ins().vconst(ty, zero)
        }
        ty => builder.ins().iconst(ty, 0),
    }
}

/// A local variable slot.
pub type Local = Variable;
