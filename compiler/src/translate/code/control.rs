//! Structured control flow, branches and `select`.

use cranelift_codegen::ir::{self, BlockArg, InstBuilder, Type, Value};
use wafer_abi::trap::TrapKind;
use wasmparser::{BlockType, BrTable, ValType};

use super::{CodeTranslator, Output};
use crate::error::{CompileError, Result};
use crate::translate::control::{ControlFrame, FrameKind};
use crate::translate::env::trap_code;

impl<'f> CodeTranslator<'_, 'f, '_> {
    pub(super) fn set_unreachable(&mut self) {
        self.reachable = false;
    }

    /// The block a branch to the frame `depth` levels out jumps to, and how many values
    /// it carries; a branch that exits the frame creates its exit block.
    pub(super) fn branch_target(&mut self, depth: u32) -> (ir::Block, usize) {
        let index = self.control.len() - 1 - depth as usize;
        if let FrameKind::Loop { header } = self.control[index].kind {
            return (header, self.control[index].param_types.len());
        }
        (
            self.exit_block(index),
            self.control[index].result_types.len(),
        )
    }

    /// The exit block of frame `index`, created (with the results as parameters) on
    /// first use.
    fn exit_block(&mut self, index: usize) -> ir::Block {
        if let Some(block) = self.control[index].destination {
            return block;
        }
        let results = self.control[index].result_types.clone();
        let block = self.new_block_with_params(&results);
        self.control[index].destination = Some(block);
        block
    }

    pub(super) fn jump_args(values: &[Value]) -> Vec<BlockArg> {
        values.iter().map(|v| BlockArg::Value(*v)).collect()
    }

    pub(super) fn new_block_with_params(&mut self, types: &[Type]) -> ir::Block {
        let block = self.builder.create_block();
        for ty in types {
            self.builder.append_block_param(block, *ty);
        }
        block
    }

    pub(super) fn block_signature(&self, blockty: BlockType) -> Result<(Vec<Type>, Vec<Type>)> {
        match blockty {
            BlockType::Empty => Ok((vec![], vec![])),
            BlockType::Type(ty) => Ok((vec![], vec![self.value_type(ty)])),
            BlockType::FuncType(index) => {
                let sig = self.env.module().types[index as usize]
                    .as_ref()
                    .ok_or_else(|| self.unsupported("block type that is not a function type"))?;
                Ok((
                    sig.params.iter().map(|t| self.value_type(*t)).collect(),
                    sig.results.iter().map(|t| self.value_type(*t)).collect(),
                ))
            }
        }
    }

    pub(super) fn translate_unreachable(&mut self) -> Output {
        self.builder.ins().trap(trap_code(TrapKind::Unreachable));
        self.set_unreachable();
        Ok(())
    }

    pub(super) fn translate_block(&mut self, blockty: BlockType) -> Output {
        let (params, results) = self.block_signature(blockty)?;
        let stack_height = self.stack.len() - params.len();
        self.control.push(ControlFrame::new(
            FrameKind::Block,
            params,
            results,
            stack_height,
        ));
        Ok(())
    }

    pub(super) fn translate_loop(&mut self, blockty: BlockType) -> Output {
        let (params, results) = self.block_signature(blockty)?;
        let header = self.new_block_with_params(&params);
        let args = self.popn(params.len());
        self.builder.ins().jump(header, &Self::jump_args(&args));
        self.builder.switch_to_block(header);
        let header_params = self.builder.block_params(header).to_vec();
        self.meter_check();
        let stack_height = self.stack.len();
        self.stack.extend(header_params);
        self.control.push(ControlFrame::new(
            FrameKind::Loop { header },
            params,
            results,
            stack_height,
        ));
        Ok(())
    }

    pub(super) fn translate_if(&mut self, blockty: BlockType) -> Output {
        let condition = self.pop();
        let (params, results) = self.block_signature(blockty)?;
        let then_block = self.builder.create_block();
        let else_block = self.builder.create_block();
        self.builder
            .ins()
            .brif(condition, then_block, &[], else_block, &[]);
        self.builder.seal_block(then_block);
        self.builder.seal_block(else_block);
        self.builder.switch_to_block(then_block);
        let else_params = self.peekn(params.len()).to_vec();
        let stack_height = self.stack.len() - params.len();
        let mut frame = ControlFrame::new(
            FrameKind::If {
                else_block,
                has_else: false,
                head_reachable: true,
            },
            params,
            results,
            stack_height,
        );
        frame.else_params = else_params;
        self.control.push(frame);
        Ok(())
    }

    pub(super) fn translate_else(&mut self) -> Output {
        let frame = self.control.last_mut().expect("validated else has an if");
        let FrameKind::If {
            else_block,
            head_reachable,
            ..
        } = frame.kind
        else {
            unreachable!("validation pairs else with if");
        };
        frame.kind = FrameKind::If {
            else_block,
            has_else: true,
            head_reachable,
        };
        let (results, height) = (frame.result_types.len(), frame.stack_height);
        let else_params = frame.else_params.clone();
        if self.reachable {
            let destination = self.exit_block(self.control.len() - 1);
            let values = self.popn(results);
            self.builder
                .ins()
                .jump(destination, &Self::jump_args(&values));
        }
        self.stack.truncate(height);
        self.stack.extend(else_params);
        self.builder.switch_to_block(else_block);
        self.reachable = head_reachable;
        Ok(())
    }

    pub(super) fn translate_end(&mut self) -> Output {
        let index = self.control.len() - 1;
        let frame = &self.control[index];
        let branched_to = frame.destination.is_some();
        let joins_else = matches!(
            frame.kind,
            FrameKind::If {
                has_else: false,
                ..
            }
        );
        if self.reachable && !branched_to && !joins_else && frame.kind != FrameKind::TryTable {
            // Only falling through reaches the end: code goes on in the current block,
            // the results already on top of the stack.
            let frame = self.control.pop().expect("validated end has a frame");
            if let FrameKind::Loop { header } = frame.kind {
                self.builder.seal_block(header);
            }
            return Ok(());
        }
        let destination = self.exit_block(index);
        let frame = self.control.pop().expect("validated end has a frame");
        let mut reachable_after = branched_to;
        if self.reachable {
            let values = self.popn(frame.result_types.len());
            self.builder
                .ins()
                .jump(destination, &Self::jump_args(&values));
            reachable_after = true;
        }
        match frame.kind {
            FrameKind::Loop { header } => self.builder.seal_block(header),
            FrameKind::If {
                else_block,
                has_else: false,
                head_reachable,
            } => {
                // No `else`: the false branch passes the parameters through.
                self.builder.switch_to_block(else_block);
                self.builder
                    .ins()
                    .jump(destination, &Self::jump_args(&frame.else_params));
                reachable_after |= head_reachable;
            }
            FrameKind::TryTable => self.fill_handlers(&frame.handlers),
            _ => {}
        }
        self.stack.truncate(frame.stack_height);
        self.builder.switch_to_block(destination);
        self.builder.seal_block(destination);
        let params = self.builder.block_params(destination).to_vec();
        self.stack.extend(params);
        self.reachable = reachable_after;
        Ok(())
    }

    pub(super) fn translate_br(&mut self, relative_depth: u32) -> Output {
        let (block, count) = self.branch_target(relative_depth);
        let args = self.peekn(count).to_vec();
        self.builder.ins().jump(block, &Self::jump_args(&args));
        self.set_unreachable();
        Ok(())
    }

    pub(super) fn translate_br_if(&mut self, relative_depth: u32) -> Output {
        let condition = self.pop();
        let (block, count) = self.branch_target(relative_depth);
        let args = self.peekn(count).to_vec();
        let next = self.builder.create_block();
        self.builder
            .ins()
            .brif(condition, block, &Self::jump_args(&args), next, &[]);
        self.builder.seal_block(next);
        self.builder.switch_to_block(next);
        Ok(())
    }

    pub(super) fn translate_br_table(&mut self, targets: BrTable<'_>) -> Output {
        let index = self.pop();
        let default_depth = targets.default();
        let depths = targets
            .targets()
            .collect::<Result<Vec<_>, _>>()
            .map_err(CompileError::from)?;
        let (_, count) = self.branch_target(default_depth);
        let args = Self::jump_args(self.peekn(count));
        let mut table = Vec::with_capacity(depths.len());
        for depth in depths {
            let (block, _) = self.branch_target(depth);
            table.push(self.builder.func.dfg.block_call(block, &args));
        }
        let (default_block, _) = self.branch_target(default_depth);
        let default = self.builder.func.dfg.block_call(default_block, &args);
        let jt = self
            .builder
            .create_jump_table(ir::JumpTableData::new(default, &table));
        self.builder.ins().br_table(index, jt);
        self.set_unreachable();
        Ok(())
    }

    pub(super) fn translate_return(&mut self) -> Output {
        if self.inline_stack.len() > 1 {
            // Returning from an inlined function continues after its call.
            let depth = self.control.len() - 1 - self.frame_base;
            return self.translate_br(depth as u32);
        }
        let count = self.control[0].result_types.len();
        let values = self.peekn(count).to_vec();
        self.meter_spill();
        self.builder.ins().return_(&values);
        self.set_unreachable();
        Ok(())
    }

    pub(super) fn translate_drop(&mut self) -> Output {
        self.pop();
        Ok(())
    }

    pub(super) fn translate_select(&mut self) -> Output {
        let (a, b, c) = self.pop3();
        let r = self.builder.ins().select(c, a, b);
        self.push(r);
        Ok(())
    }

    pub(super) fn translate_typed_select_multi(&mut self, tys: Vec<ValType>) -> Output {
        if tys.len() != 1 {
            return Err(self.unsupported("select with several result types"));
        }
        self.translate_select()
    }

    pub(super) fn translate_br_on_null(&mut self, relative_depth: u32) -> Output {
        let value = self.pop();
        let (block, count) = self.branch_target(relative_depth);
        let args = self.peekn(count).to_vec();
        let next = self.builder.create_block();
        // Branch when null (value == 0), else continue with the value.
        self.builder
            .ins()
            .brif(value, next, &[], block, &Self::jump_args(&args));
        self.builder.seal_block(next);
        self.builder.switch_to_block(next);
        self.push(value);
        Ok(())
    }

    pub(super) fn translate_br_on_non_null(&mut self, relative_depth: u32) -> Output {
        let value = self.pop();
        let (block, count) = self.branch_target(relative_depth);
        // The target receives its other operands and then the non-null reference.
        let mut args = self.peekn(count - 1).to_vec();
        args.push(value);
        let next = self.builder.create_block();
        self.builder
            .ins()
            .brif(value, block, &Self::jump_args(&args), next, &[]);
        self.builder.seal_block(next);
        self.builder.switch_to_block(next);
        Ok(())
    }
}
