//! After Cranelift's e-graph pass: test a loop counter after its increment, not before.
//!
//! The e-graph rewrites `(x + k1) == k2` into `x == k2 - k1` (`cprop.isle`), which
//! saves an add when nothing else needs `x + k1`. A counted loop is the opposite case:
//! `x + k1` is the next counter value and goes to the loop header anyway, so the
//! rewrite keeps the old `x` alive past the increment. Both then need a register, and
//! the back edge gets a move and a jump of its own (`lea; cmp; je out; mov; jmp top`
//! instead of `add; cmp; jne top`). Every `i += step; br_if (i != end)` loop that LLVM
//! emits for wasm has this shape.
//!
//! This pass runs between the e-graph and lowering and turns such a compare back into
//! `(x + k1) == (k2 + k1)` (equal in wrapping arithmetic, since adding `k1` is a
//! bijection) when the block's terminator uses `x + k1`. It never lengthens a live
//! range: `x + k1` is live until the terminator regardless, and `x` may now die at the
//! increment.

use std::cmp::Ordering;

use cranelift_codegen::cursor::{Cursor, FuncCursor};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{Function, Inst, InstBuilder, InstructionData, Opcode, Value};

use crate::translate::env::{iconst_bits as constant, low_bits};

/// A compare to turn around: `compare` tests `x` against `limit`, and `add` computes
/// `x + step` (an `iadd`, or an `isub` of `-step`), which the block's terminator
/// carries.
struct Rewrite {
    compare: Inst,
    add: Inst,
    counter: Value,
    step: i64,
    limit: i64,
}

/// Rewrites every eligible compare in `func`; returns how many it rewrote.
pub fn compare_after_increment(func: &mut Function) -> usize {
    // Per block: (counter `x`, the add, `k`) for each `x + k` (or `x - -k`) the
    // terminator carries.
    let mut increments: Vec<(Value, Inst, i64)> = Vec::new();
    // Per block: (the compare, `x`, the constant it is compared with).
    let mut compares: Vec<(Inst, Value, i64)> = Vec::new();
    let mut carried = Vec::new();
    let mut rewrites = Vec::new();
    let mut block_cursor = func.layout.entry_block();
    while let Some(block) = block_cursor {
        block_cursor = func.layout.next_block(block);
        let Some(terminator) = func.layout.last_inst(block) else {
            continue;
        };
        carried.clear();
        let destinations = func.dfg.insts[terminator]
            .branch_destination(&func.dfg.jump_tables, &func.dfg.exception_tables);
        carried.extend(
            destinations
                .iter()
                .flat_map(|destination| destination.args(&func.dfg.value_lists))
                .filter_map(|arg| arg.as_value()),
        );
        if carried.is_empty() {
            continue;
        }
        increments.clear();
        compares.clear();
        for inst in func.layout.block_insts(block) {
            match func.dfg.insts[inst] {
                InstructionData::Binary {
                    opcode: opcode @ (Opcode::Iadd | Opcode::Isub),
                    args: [a, b],
                } if carried.contains(&func.dfg.first_result(inst)) => {
                    if let Some(k) = constant(&func.dfg, b) {
                        let step = if opcode == Opcode::Isub {
                            k.wrapping_neg()
                        } else {
                            k
                        };
                        increments.push((a, inst, step));
                    } else if let (Opcode::Iadd, Some(k)) = (opcode, constant(&func.dfg, a)) {
                        increments.push((b, inst, k));
                    }
                }
                InstructionData::IntCompare {
                    opcode: Opcode::Icmp,
                    cond: IntCC::Equal | IntCC::NotEqual,
                    args: [counter, limit],
                } => {
                    if let Some(limit) = constant(&func.dfg, limit) {
                        compares.push((inst, counter, limit));
                    }
                }
                _ => {}
            }
        }
        // The add may come after the compare (the e-graph places the compare first, as
        // the branch's condition), so pair them only once the whole block is seen.
        for &(compare, counter, limit) in &compares {
            if let Some(&(_, add, step)) = increments.iter().find(|(x, ..)| *x == counter) {
                rewrites.push(Rewrite {
                    compare,
                    add,
                    counter,
                    step,
                    limit,
                });
            }
        }
    }
    for rewrite in &rewrites {
        let sum = func.dfg.first_result(rewrite.add);
        let ty = func.dfg.value_type(sum);
        if func.layout.pp_cmp(rewrite.add, rewrite.compare) == Ordering::Greater {
            // Hoist the add (`x` is defined before the compare, which uses it), with a
            // constant of its own, since its old one may be defined after the compare.
            func.layout.remove_inst(rewrite.add);
            func.layout.insert_inst(rewrite.add, rewrite.compare);
            let operand = match func.dfg.insts[rewrite.add].opcode() {
                Opcode::Isub => rewrite.step.wrapping_neg(),
                _ => rewrite.step,
            };
            let mut pos = FuncCursor::new(func).at_inst(rewrite.add);
            let operand = pos.ins().iconst(ty, low_bits(operand, ty.bits()));
            pos.func
                .dfg
                .inst_args_mut(rewrite.add)
                .copy_from_slice(&[rewrite.counter, operand]);
        }
        let mut pos = FuncCursor::new(func).at_inst(rewrite.compare);
        let shifted = rewrite.limit.wrapping_add(rewrite.step);
        let limit = pos.ins().iconst(ty, low_bits(shifted, ty.bits()));
        pos.func
            .dfg
            .inst_args_mut(rewrite.compare)
            .copy_from_slice(&[sum, limit]);
    }
    rewrites.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use cranelift_codegen::ir::{AbiParam, MemFlagsData, Signature, UserFuncName, ValueDef, types};
    use cranelift_codegen::isa::{CallConv, TargetFrontendConfig};
    use cranelift_codegen::settings;
    use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
    use target_lexicon::PointerWidth;

    /// `fn(p) { loop(i = start(p)) { (again, next) = body(p, i); if again { continue
    /// loop(next) } } }` with `p` of type `param` and `i` of type `counter`.
    fn loop_function(
        param: types::Type,
        counter: types::Type,
        start: impl FnOnce(&mut FunctionBuilder, Value) -> Value,
        body: impl FnOnce(&mut FunctionBuilder, Value, Value) -> (Value, Value),
    ) -> Function {
        let mut func = Function::with_name_signature(
            UserFuncName::testcase("loop"),
            Signature::new(CallConv::SystemV),
        );
        func.signature.params.push(AbiParam::new(param));
        let mut context = FunctionBuilderContext::new();
        let mut builder = FunctionBuilder::new(&mut func, &mut context);
        let entry = builder.create_block();
        let header = builder.create_block();
        let exit = builder.create_block();
        builder.append_block_params_for_function_params(entry);
        builder.append_block_param(header, counter);
        builder.switch_to_block(entry);
        let param = builder.block_params(entry)[0];
        let first = start(&mut builder, param);
        builder.ins().jump(header, &[first.into()]);
        builder.switch_to_block(header);
        let counter = builder.block_params(header)[0];
        let (again, next) = body(&mut builder, param, counter);
        builder.ins().brif(again, header, &[next.into()], exit, &[]);
        builder.switch_to_block(exit);
        builder.ins().return_(&[]);
        builder.seal_all_blocks();
        builder.finalize(TargetFrontendConfig {
            default_call_conv: CallConv::SystemV,
            pointer_width: PointerWidth::U64,
            page_size_align_log2: 12,
        });
        func
    }

    /// `loop(i) { if i != end - step { continue loop(i + step) } }`, as the e-graph
    /// leaves `(i + step) != end`, plus a compare on `i + 7`, which the terminator does
    /// not carry. `add_first` puts the increment before the compares; the e-graph puts
    /// it after them.
    fn counted_loop(ty: types::Type, step: i64, end_minus_step: i64, add_first: bool) -> Function {
        loop_function(
            ty,
            ty,
            |_, start| start,
            |builder, _, counter| {
                // A negative step as wasm's `i32.sub x, k` gives it.
                let increment = |builder: &mut FunctionBuilder| {
                    if step < 0 {
                        let k = builder.ins().iconst(ty, -step);
                        builder.ins().isub(counter, k)
                    } else {
                        let k = builder.ins().iconst(ty, step);
                        builder.ins().iadd(counter, k)
                    }
                };
                let early = add_first.then(|| increment(builder));
                let limit = builder.ins().iconst(ty, end_minus_step);
                let seven = builder.ins().iconst(ty, 7);
                let other = builder.ins().iadd(counter, seven);
                builder.ins().icmp(IntCC::Equal, other, limit);
                let again = builder.ins().icmp(IntCC::NotEqual, counter, limit);
                (again, early.unwrap_or_else(|| increment(builder)))
            },
        )
    }

    /// `loop(i) { store i; j = i + 16; if j != 7680 { continue loop(j) } }`, as
    /// translated from wasm, before the e-graph.
    fn wasm_loop() -> Function {
        let zero = |builder: &mut FunctionBuilder, _| builder.ins().iconst(types::I32, 0);
        loop_function(types::I64, types::I32, zero, |builder, base, counter| {
            let offset = builder.ins().uextend(types::I64, counter);
            let address = builder.ins().iadd(base, offset);
            builder
                .ins()
                .store(MemFlagsData::trusted(), counter, address, 0);
            let next = builder.ins().iadd_imm_s(counter, 16);
            let again = builder.ins().icmp_imm_s(IntCC::NotEqual, next, 7680);
            (again, next)
        })
    }

    /// Each compare as `operand constant`, in layout order.
    fn compares(func: &Function) -> Vec<String> {
        func.layout
            .blocks()
            .flat_map(|block| func.layout.block_insts(block))
            .filter(|&inst| func.dfg.insts[inst].opcode() == Opcode::Icmp)
            .map(|inst| {
                let args = func.dfg.inst_args(inst);
                let limit = constant(&func.dfg, args[1]).map(|k| k.to_string());
                format!("{} {}", args[0], limit.unwrap_or_default())
            })
            .collect()
    }

    /// The value the header's back edge carries.
    fn carried(func: &Function) -> Value {
        let header = func.layout.blocks().nth(1).unwrap();
        let terminator = func.layout.last_inst(header).unwrap();
        func.dfg.inst_values(terminator).nth(1).unwrap()
    }

    fn verify(func: &Function) {
        let flags = settings::Flags::new(settings::builder());
        cranelift_codegen::verify_function(func, &flags).unwrap();
    }

    #[test]
    fn compares_the_incremented_counter_when_the_branch_carries_it() {
        for add_first in [true, false] {
            let mut func = counted_loop(types::I32, 16, 7664, add_first);
            assert_eq!(compare_after_increment(&mut func), 1);
            let next = carried(&func);
            // `i + 7` is not carried, so its compare stays as it was.
            assert_eq!(
                compares(&func)[1],
                format!("{next} 7680"),
                "add_first {add_first}"
            );
            assert!(compares(&func)[0].ends_with(" 7664"));
            verify(&func);
        }
    }

    #[test]
    fn the_shifted_limit_wraps_to_the_compare_width() {
        // (x + 1) != 0 for i32 is left as x != 0xffff_ffff; back to 0.
        let mut func = counted_loop(types::I32, 1, 0xffff_ffff, false);
        assert_eq!(compare_after_increment(&mut func), 1);
        assert_eq!(compares(&func)[1], format!("{} 0", carried(&func)));
        verify(&func);
        // (x - 8) != 0 is left as x != 8; the hoisted `isub` keeps subtracting 8.
        let mut func = counted_loop(types::I64, -8, 8, false);
        assert_eq!(compare_after_increment(&mut func), 1);
        let next = carried(&func);
        assert_eq!(compares(&func)[1], format!("{next} 0"));
        let ValueDef::Result(decrement, _) = func.dfg.value_def(next) else {
            panic!("{next} is not an instruction's result");
        };
        assert_eq!(func.dfg.insts[decrement].opcode(), Opcode::Isub);
        assert_eq!(
            constant(&func.dfg, func.dfg.inst_args(decrement)[1]),
            Some(8)
        );
        verify(&func);
    }

    #[test]
    fn the_driver_runs_it_and_the_loop_gets_shorter() {
        let target = crate::target::find("x86_64-linux").unwrap();
        let isa = crate::codegen::isa::build(&target, None).unwrap();
        let mut stock = cranelift_codegen::Context::for_function(wasm_loop());
        let stock_len = stock
            .compile(&*isa, &mut Default::default())
            .unwrap()
            .code_buffer()
            .len();
        let mut context = cranelift_codegen::Context::new();
        let ours = crate::codegen::compile_function(
            &*isa,
            &mut context,
            wasm_loop(),
            cranelift_module::FuncId::from_u32(0),
        )
        .unwrap();
        // The stock pipeline tests the old counter: `lea; cmp; je out; mov; jmp top`
        // where `add; cmp; jne top` will do.
        assert!(
            ours.code.len() < stock_len,
            "{} bytes, stock {stock_len}",
            ours.code.len()
        );
    }
}
