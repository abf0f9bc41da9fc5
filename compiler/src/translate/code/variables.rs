//! Locals and globals.

use cranelift_codegen::ir::{self, InstBuilder, types};

use super::{CodeTranslator, Output};
use crate::environ::ConstValue;
use crate::translate::env::vm_flags;

impl<'f> CodeTranslator<'_, 'f, '_> {
    pub(super) fn const_global(&self, index: u32) -> Option<ConstValue> {
        let module = self.env.module();
        let global = &module.globals[index as usize];
        if global.import.is_some() || global.ty.mutable {
            return None;
        }
        crate::environ::consts_eval(module, &global.init)
    }

    pub(super) fn translate_local_get(&mut self, local_index: u32) -> Output {
        let value = self.builder.use_var(self.locals[local_index as usize]);
        self.label_local(value, local_index);
        self.push(value);
        Ok(())
    }

    pub(super) fn translate_local_set(&mut self, local_index: u32) -> Output {
        let value = self.pop();
        self.builder
            .def_var(self.locals[local_index as usize], value);
        self.label_local(value, local_index);
        Ok(())
    }

    pub(super) fn translate_local_tee(&mut self, local_index: u32) -> Output {
        let value = *self.stack.last().expect("validated operand");
        self.builder
            .def_var(self.locals[local_index as usize], value);
        self.label_local(value, local_index);
        Ok(())
    }

    /// With debug info, records that `value` is local `local_index`'s value: where the
    /// register allocator keeps it becomes the local's location in the DWARF. Locals of
    /// an inlined body are not the function's own and stay unlabelled.
    fn label_local(&mut self, value: ir::Value, local_index: u32) {
        if self.env.menv.tunables.debug_info && self.inline_stack.len() == 1 {
            self.builder
                .set_val_label(value, ir::ValueLabel::from_u32(local_index));
        }
    }

    pub(super) fn translate_global_get(&mut self, global_index: u32) -> Output {
        let ty = self.value_type(
            self.env.module().globals[global_index as usize]
                .ty
                .content_type,
        );
        let value = match self.const_global(global_index) {
            Some(ConstValue::I32(v)) => self.builder.ins().iconst(types::I32, v as i64),
            Some(ConstValue::I64(v)) => self.builder.ins().iconst(types::I64, v),
            Some(ConstValue::F32(bits)) => self
                .builder
                .ins()
                .f32const(ir::immediates::Ieee32::with_bits(bits)),
            Some(ConstValue::F64(bits)) => self
                .builder
                .ins()
                .f64const(ir::immediates::Ieee64::with_bits(bits)),
            Some(ConstValue::Null) => self.builder.ins().iconst(ty, 0),
            _ => {
                let addr = self.env.global_addr(self.builder, global_index);
                self.builder.ins().load(ty, vm_flags(), addr, 0)
            }
        };
        self.push(value);
        Ok(())
    }

    pub(super) fn translate_global_set(&mut self, global_index: u32) -> Output {
        let value = self.pop();
        let addr = self.env.global_addr(self.builder, global_index);
        self.builder.ins().store(vm_flags(), value, addr, 0);
        Ok(())
    }
}
