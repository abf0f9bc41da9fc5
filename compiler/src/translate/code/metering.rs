//! Charging and checking the meter of `--fuel` and `--deadline` (see
//! [`crate::metering`] for the scheme).
//!
//! The meter lives in a variable while a function runs. Each straight-line stretch adds
//! its operators to `pending`, a count known at compile time, and subtracts it from the
//! variable once, right before the operator that ends the stretch (a branch, a block
//! boundary where paths merge, a call): one `sub` per stretch rather than per operator.
//! The variable goes to memory before calls and returns, so a callee continues the count,
//! and comes back after calls. Checks sit at function entries and loop headers.

use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Signature, condcodes::IntCC, types};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::Variable;
use wafer_abi::trap::TrapKind;
use wasmparser::Operator;

use super::CodeTranslator;
use crate::metering::MeterMode;
use crate::translate::env::{MeterSymbols, trap_code};

/// The meter of the function being translated.
pub(super) struct Meter {
    var: Variable,
    /// Operators of the current stretch not yet subtracted.
    pending: i64,
    mode: MeterMode,
    symbols: MeterSymbols,
}

/// Whether `op` ends a straight-line stretch: it branches, joins paths, calls or leaves.
fn ends_stretch(op: &Operator<'_>) -> bool {
    use Operator as O;
    matches!(
        op,
        O::Loop { .. }
            | O::If { .. }
            | O::Else
            | O::End
            | O::Br { .. }
            | O::BrIf { .. }
            | O::BrTable { .. }
            | O::BrOnNull { .. }
            | O::BrOnNonNull { .. }
            | O::Return
            | O::Call { .. }
            | O::CallIndirect { .. }
            | O::CallRef { .. }
            | O::ReturnCall { .. }
            | O::ReturnCallIndirect { .. }
            | O::ReturnCallRef { .. }
            | O::TryTable { .. }
            | O::Throw { .. }
            | O::ThrowRef
    )
}

impl CodeTranslator<'_, '_, '_> {
    /// Sets the meter up at the function's entry (when the image is metered): loads it
    /// and checks it, which catches recursion that has no loop.
    pub fn meter_enter(&mut self) {
        let mode = self.env.menv.tunables.metering;
        let Some(symbols) = self.env.menv.symbols.libcalls.meter else {
            return;
        };
        if mode == MeterMode::Off {
            return;
        }
        let var = self.builder.declare_var(types::I64);
        self.meter = Some(Meter {
            var,
            pending: 0,
            mode,
            symbols,
        });
        self.meter_reload();
        self.meter_check();
    }

    /// Counts operator `op`, about to be translated in reachable code.
    pub(super) fn meter_operator(&mut self, op: &Operator<'_>) {
        let Some(meter) = &mut self.meter else {
            return;
        };
        if meter.mode == MeterMode::Fuel {
            meter.pending += 1;
        }
        if ends_stretch(op) {
            self.meter_flush();
        }
    }

    /// Subtracts what the current stretch has charged.
    fn meter_flush(&mut self) {
        let Some(meter) = &mut self.meter else {
            return;
        };
        if meter.pending == 0 {
            return;
        }
        let pending = std::mem::take(&mut meter.pending);
        let var = meter.var;
        let value = self.builder.use_var(var);
        let value = self.builder.ins().iadd_imm_s(value, -pending);
        self.builder.def_var(var, value);
    }

    fn meter_address(&mut self, symbols: MeterSymbols) -> cranelift_codegen::ir::Value {
        self.env.data_addr(self.builder, symbols.counter)
    }

    /// Stores the meter for a callee (or the runtime) to continue from.
    pub fn meter_spill(&mut self) {
        self.meter_flush();
        let Some(meter) = &self.meter else {
            return;
        };
        let (var, symbols) = (meter.var, meter.symbols);
        let value = self.builder.use_var(var);
        let address = self.meter_address(symbols);
        self.builder
            .ins()
            .store(MemFlagsData::trusted(), value, address, 0);
    }

    /// Takes the meter back from memory, after a call.
    pub(super) fn meter_reload(&mut self) {
        let Some(meter) = &self.meter else {
            return;
        };
        let (var, symbols) = (meter.var, meter.symbols);
        let address = self.meter_address(symbols);
        let value = self
            .builder
            .ins()
            .load(types::I64, MemFlagsData::trusted(), address, 0);
        self.builder.def_var(var, value);
    }

    /// A check (function entry, loop header): below zero, the runtime charges the
    /// budget, reads the clock and traps or hands out the next stretch. It is reached
    /// through the `preserve_all` shim, whose call clobbers no register, and answers in
    /// the meter's memory.
    pub(super) fn meter_check(&mut self) {
        let Some(meter) = &mut self.meter else {
            return;
        };
        if meter.mode == MeterMode::Ticks {
            meter.pending += 1;
        }
        let symbols = meter.symbols;
        let var = meter.var;
        self.meter_flush();
        let value = self.builder.use_var(var);
        let exhausted = self
            .builder
            .ins()
            .icmp_imm_s(IntCC::SignedLessThan, value, 0);
        let slow = self.builder.create_block();
        let next = self.builder.create_block();
        self.builder.set_cold_block(slow);
        self.builder.ins().brif(exhausted, slow, &[], next, &[]);
        self.builder.seal_block(slow);
        self.builder.switch_to_block(slow);
        let address = self.meter_address(symbols);
        self.builder
            .ins()
            .store(MemFlagsData::trusted(), value, address, 0);
        let shim = self.env.func_ref(
            self.builder.func,
            symbols.slow_path,
            Signature::new(CallConv::PreserveAll),
        );
        self.builder.ins().call(shim, &[]);
        let answer = self
            .builder
            .ins()
            .load(types::I64, MemFlagsData::trusted(), address, 0);
        // A negative answer is a trap kind: tell fuel from the deadline, so the trap
        // report names the right one at this site.
        let out_of_fuel =
            self.builder
                .ins()
                .icmp_imm_s(IntCC::Equal, answer, -(TrapKind::OutOfFuel as i64));
        self.builder
            .ins()
            .trapnz(out_of_fuel, trap_code(TrapKind::OutOfFuel));
        let late = self
            .builder
            .ins()
            .icmp_imm_s(IntCC::SignedLessThan, answer, 0);
        self.builder
            .ins()
            .trapnz(late, trap_code(TrapKind::DeadlineExceeded));
        self.builder.def_var(var, answer);
        self.builder.ins().jump(next, &[]);
        self.builder.seal_block(next);
        self.builder.switch_to_block(next);
    }
}
