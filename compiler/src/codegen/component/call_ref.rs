//! The image's caller of function references, which the runtime uses to run calls
//! between component instances lowered or lifted `async` (`runtime/src/component/
//! calls.rs`): a fused adapter hands the runtime its `start` and `return` functions and
//! the callee as function references, whose types only the image knows.

use cranelift_codegen::Context;
use cranelift_codegen::ir::{self, InstBuilder, UserFuncName, types};
use cranelift_codegen::isa::TargetIsa;
use cranelift_frontend::FunctionBuilderContext;
use cranelift_module::FuncId;

use super::super::compile_function;
use super::super::object::ObjectWriter;
use super::start;
use crate::error::Result;
use crate::translate::env::{ModuleEnv, vm_flags};

/// Value slots a `start-call` passes the runtime (`calls.rs`'s `SLOTS`): 16 flat
/// values and a return pointer, with room to spare.
pub(super) const START_CALL_SLOTS: usize = 24;

/// The caller's signature: `fn(funcref, values) -> result count`, C convention.
pub(super) fn call_ref_signature(menv: &ModuleEnv<'_>) -> ir::Signature {
    let ptr = menv.pointer_type;
    let mut signature = ir::Signature::new(menv.host_call_conv);
    signature.params.push(ir::AbiParam::new(ptr));
    signature.params.push(ir::AbiParam::new(ptr));
    signature.returns.push(ir::AbiParam::new(types::I32));
    signature
}

/// Defines the image's caller of function references (`calls.rs`'s `CallRef`): a
/// C-convention `fn(funcref, values) -> result count` that calls the function with
/// arguments read from the value slots and writes its results there, for every
/// function type of the image without vectors; `u32::MAX` for another type.
pub(super) fn define_call_ref(
    writer: &mut ObjectWriter,
    isa: &dyn TargetIsa,
    context: &mut Context,
    menvs: &[ModuleEnv<'_>],
) -> Result<FuncId> {
    use wafer_abi::harness::VALUE_SLOT_SIZE;
    let menv = &menvs[0];
    let ptr = menv.pointer_type;
    let signature = call_ref_signature(menv);
    let id = writer.declare_local("component:call-ref", &signature)?;
    let mut func = ir::Function::with_name_signature(UserFuncName::user(14, 0), signature);
    let mut builder_context = FunctionBuilderContext::new();
    let (mut builder, block) = start(&mut func, &mut builder_context);
    let (funcref, values) = (
        builder.block_params(block)[0],
        builder.block_params(block)[1],
    );
    let offsets = menv.offsets;
    let type_id = builder.ins().load(
        types::I32,
        vm_flags(),
        funcref,
        offsets.func_ref_type_id() as i32,
    );
    let code = builder
        .ins()
        .load(ptr, vm_flags(), funcref, offsets.func_ref_code() as i32);
    let vmctx = builder
        .ins()
        .load(ptr, vm_flags(), funcref, offsets.func_ref_vmctx() as i32);
    let mut seen = std::collections::BTreeSet::new();
    for m in menvs {
        let module = m.module;
        for (index, sig) in module.types.iter().enumerate() {
            let (Some(sig), Some(&canonical)) = (sig, module.canonical_types.get(index)) else {
                continue;
            };
            let has_vector = sig
                .params
                .iter()
                .chain(&sig.results)
                .any(|t| matches!(t, wasmparser::ValType::V128));
            if has_vector || !seen.insert(canonical) {
                continue;
            }
            let matched = builder.create_block();
            let next = builder.create_block();
            let is = builder.ins().icmp_imm_u(
                ir::condcodes::IntCC::Equal,
                type_id,
                i64::from(canonical),
            );
            builder.ins().brif(is, matched, &[], next, &[]);
            builder.seal_block(matched);
            builder.switch_to_block(matched);
            let callee_signature = m.wasm_signature(sig);
            let mut args = vec![vmctx];
            for (i, param) in callee_signature.params.iter().skip(1).enumerate() {
                args.push(builder.ins().load(
                    param.value_type,
                    vm_flags(),
                    values,
                    (i as u32 * VALUE_SLOT_SIZE) as i32,
                ));
            }
            let sig_ref = builder.import_signature(callee_signature);
            let call = builder.ins().call_indirect(sig_ref, code, &args);
            let results = builder.inst_results(call).to_vec();
            for (i, value) in results.iter().enumerate() {
                builder.ins().store(
                    vm_flags(),
                    *value,
                    values,
                    (i as u32 * VALUE_SLOT_SIZE) as i32,
                );
            }
            let count = builder.ins().iconst(types::I32, results.len() as i64);
            builder.ins().return_(&[count]);
            builder.seal_block(next);
            builder.switch_to_block(next);
        }
    }
    let unknown = builder.ins().iconst(types::I32, i64::from(u32::MAX as i32));
    builder.ins().return_(&[unknown]);
    builder.finalize(menv.frontend_config);
    let compiled = compile_function(isa, context, func, id)?;
    writer.define_function(id, "component call-ref", compiled)?;
    Ok(id)
}
