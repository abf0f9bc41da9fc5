//! Location expressions: from wasm locals, globals and linear-memory addresses to
//! registers, stack slots and native addresses.
//!
//! Wasm DWARF computes *wasm* values: `DW_OP_WASM_location 0 N` pushes local N,
//! `DW_OP_WASM_location 1|3 N` global N, `DW_OP_addr` and `DW_OP_fbreg` (with a frame
//! base that is itself such an expression) addresses in linear memory. The native
//! expression pushes the local from where the register allocator keeps it (so it
//! depends on the program counter, and becomes a location list), the global from its
//! slot in the VM context, and adds the memory's base wherever a linear-memory address
//! is used as one: before each dereference, and at the end of a piece that is a memory
//! location.

use gimli::constants;
use gimli::read::{self, Operation, Reader};
use gimli::write::{Address, Expression};
use gimli::{ReaderOffset, Register};

use super::addr::FunctionMap;
use super::writer::{CODE_SYMBOL, VMCTX_SYMBOL};
use super::{DebugModule, LocalLocation, MemoryBase};

/// The operations of one wasm expression of `unit`, `None` if it does not parse. DWARF
/// 5's indexed addresses and constants (`DW_OP_addrx`, `DW_OP_constx`) are read from
/// `.debug_addr` here, so the rest sees plain ones.
pub(super) fn operations<R: Reader<Offset = usize>>(
    expression: read::Expression<R>,
    unit: read::UnitRef<'_, R>,
) -> Option<Vec<Operation<R>>> {
    let mut operations = expression.operations(unit.encoding());
    let mut out = Vec::new();
    while let Some(op) = operations.next().ok()? {
        out.push(match op {
            Operation::AddressIndex { index } => Operation::Address {
                address: unit.address(index).ok()?,
            },
            Operation::ConstantIndex { index } => Operation::UnsignedConstant {
                value: unit.address(index).ok()?,
            },
            op => op,
        });
    }
    Some(out)
}

/// The wasm locals `ops` (and the frame base, if they use it) read.
pub(super) fn locals_used<R: Reader>(
    ops: &[Operation<R>],
    frame_base: &[Operation<R>],
) -> Vec<u32> {
    let mut locals = Vec::new();
    for op in ops {
        match op {
            Operation::WasmLocal { index } => locals.push(*index),
            Operation::FrameOffset { .. } => {
                locals.extend(locals_used(frame_base, &[]));
            }
            _ => {}
        }
    }
    locals.sort_unstable();
    locals.dedup();
    locals
}

/// What a translation needs besides the expression.
pub(super) struct Context<'a, 'm, R: Reader> {
    pub module: &'m DebugModule,
    /// The function the expression is evaluated in (for locals).
    pub function: Option<&'a FunctionMap<'m>>,
    /// The enclosing subprogram's frame base, without its final `DW_OP_stack_value`.
    pub frame_base: &'a [Operation<R>],
}

/// Translates `ops` for native code where each local `locals[i]` is at `locations[i]`;
/// `None` if the expression uses what cannot be translated.
pub(super) fn translate<R: Reader>(
    cx: &Context<'_, '_, R>,
    ops: &[Operation<R>],
    locals: &[(u32, LocalLocation)],
) -> Option<Expression> {
    let mut out = Expression::new();
    let mut piece: Vec<&Operation<R>> = Vec::new();
    for op in ops {
        if let Operation::Piece {
            size_in_bits,
            bit_offset,
        } = op
        {
            translate_piece(cx, &piece, locals, &mut out)?;
            piece.clear();
            match bit_offset {
                None if size_in_bits % 8 == 0 => out.op_piece(size_in_bits / 8),
                _ => return None,
            }
        } else {
            piece.push(op);
        }
    }
    if !piece.is_empty() {
        translate_piece(cx, &piece, locals, &mut out)?;
    }
    Some(out)
}

fn location_of(locals: &[(u32, LocalLocation)], index: u32) -> Option<LocalLocation> {
    locals
        .iter()
        .find(|(local, _)| *local == index)
        .map(|(_, location)| *location)
}

/// One piece: a register or stack-slot location when it is a lone local, a value when
/// it ends with `DW_OP_stack_value`, else a memory address rebased on the memory.
fn translate_piece<R: Reader>(
    cx: &Context<'_, '_, R>,
    piece: &[&Operation<R>],
    locals: &[(u32, LocalLocation)],
    out: &mut Expression,
) -> Option<()> {
    if let [Operation::WasmLocal { index }] = piece {
        match location_of(locals, *index)? {
            LocalLocation::Register(register) => out.op_reg(Register(register)),
            LocalLocation::FrameSlot(offset) => {
                out.op(constants::DW_OP_call_frame_cfa);
                out.op_consts(offset);
                out.op(constants::DW_OP_plus);
            }
        }
        return Some(());
    }
    let is_value = matches!(
        piece.last(),
        Some(Operation::StackValue | Operation::ImplicitValue { .. })
    );
    for op in piece {
        push_operation(cx, op, locals, out)?;
    }
    if !is_value && !piece.is_empty() {
        push_memory_base(cx.module, out)?;
        out.op(constants::DW_OP_plus);
    }
    Some(())
}

/// Pushes the base of memory 0.
fn push_memory_base(module: &DebugModule, out: &mut Expression) -> Option<()> {
    match module.memory? {
        MemoryBase::Fixed(base) => out.op_constu(base),
        MemoryBase::InVmContext(offset) => {
            out.op_addr(Address::Symbol {
                symbol: VMCTX_SYMBOL,
                addend: i64::from(offset),
            });
            out.op(constants::DW_OP_deref);
        }
    }
    Some(())
}

fn push_operation<R: Reader>(
    cx: &Context<'_, '_, R>,
    op: &Operation<R>,
    locals: &[(u32, LocalLocation)],
    out: &mut Expression,
) -> Option<()> {
    use Operation as O;
    match op {
        O::WasmLocal { index } => {
            let size = *cx.function?.local_sizes.get(*index as usize)?;
            if size > 8 {
                return None;
            }
            match location_of(locals, *index)? {
                LocalLocation::Register(register) => {
                    out.op_breg(Register(register), 0);
                    if size == 4 {
                        // An i32 in a 64-bit register: its upper bits are not the value's.
                        out.op_constu(0xffff_ffff);
                        out.op(constants::DW_OP_and);
                    }
                }
                LocalLocation::FrameSlot(offset) => {
                    out.op(constants::DW_OP_call_frame_cfa);
                    out.op_consts(offset);
                    out.op(constants::DW_OP_plus);
                    out.op_deref_size(size);
                }
            }
        }
        O::WasmGlobal { index } => {
            let (offset, size) = (*cx.module.globals.get(*index as usize)?)?;
            if size > 8 {
                return None;
            }
            out.op_addr(Address::Symbol {
                symbol: VMCTX_SYMBOL,
                addend: i64::from(offset),
            });
            out.op_deref_size(size);
        }
        O::FrameOffset { offset } => {
            if cx.frame_base.is_empty() {
                return None;
            }
            for op in cx.frame_base {
                push_operation(cx, op, locals, out)?;
            }
            out.op_consts(*offset);
            out.op(constants::DW_OP_plus);
        }
        O::Address { address } => out.op_constu(*address),
        O::Deref {
            base_type,
            size,
            space: false,
        } if base_type.0 == R::Offset::from_u8(0) => {
            push_memory_base(cx.module, out)?;
            out.op(constants::DW_OP_plus);
            out.op_deref_size(*size);
        }
        O::PlusConstant { value } => out.op_plus_uconst(*value),
        O::UnsignedConstant { value } => out.op_constu(*value),
        O::SignedConstant { value } => out.op_consts(*value),
        O::Pick { index } => out.op_pick(*index),
        O::StackValue => out.op(constants::DW_OP_stack_value),
        O::ImplicitValue { data } => {
            out.op_implicit_value(data.to_slice().ok()?.to_vec().into_boxed_slice())
        }
        O::Nop => out.op(constants::DW_OP_nop),
        simple => out.op(simple_opcode(simple)?),
    }
    Some(())
}

/// The opcode of an operation with no operands that means the same natively.
fn simple_opcode<R: Reader>(op: &Operation<R>) -> Option<constants::DwOp> {
    use Operation as O;
    use constants::*;
    Some(match op {
        O::Drop => DW_OP_drop,
        O::Swap => DW_OP_swap,
        O::Rot => DW_OP_rot,
        O::Abs => DW_OP_abs,
        O::And => DW_OP_and,
        O::Div => DW_OP_div,
        O::Minus => DW_OP_minus,
        O::Mod => DW_OP_mod,
        O::Mul => DW_OP_mul,
        O::Neg => DW_OP_neg,
        O::Not => DW_OP_not,
        O::Or => DW_OP_or,
        O::Plus => DW_OP_plus,
        O::Shl => DW_OP_shl,
        O::Shr => DW_OP_shr,
        O::Shra => DW_OP_shra,
        O::Xor => DW_OP_xor,
        O::Eq => DW_OP_eq,
        O::Ge => DW_OP_ge,
        O::Gt => DW_OP_gt,
        O::Le => DW_OP_le,
        O::Lt => DW_OP_lt,
        O::Ne => DW_OP_ne,
        _ => return None,
    })
}

/// A location, translated: one expression where it does not depend on where the code
/// is, else each native range (code-section offsets) with its expression.
pub(super) enum Translated {
    Everywhere(Expression),
    Ranges(Vec<(u64, u64, Expression)>),
}

/// Translates a location valid over the native `ranges` (code-section offsets, inside
/// `cx.function`, or `None`: wherever the entity lives).
pub(super) fn translate_location<R: Reader>(
    cx: &Context<'_, '_, R>,
    ops: &[Operation<R>],
    ranges: Option<&[(u64, u64)]>,
) -> Option<Translated> {
    let locals = locals_used(ops, cx.frame_base);
    if locals.is_empty() && ranges.is_none() {
        return translate(cx, ops, &[]).map(Translated::Everywhere);
    }
    let function = cx.function?;
    let whole = [(
        function.native_start,
        function.native_start + function.native_len,
    )];
    let ranges = ranges.unwrap_or(&whole);
    let boundaries = function.local_boundaries(&locals);
    let mut out: Vec<(u64, u64, Expression)> = Vec::new();
    for &(start, end) in ranges {
        // Within the function, and relative to it; split where a local moves.
        let (start, end) = (
            start.max(whole[0].0) - function.native_start,
            end.min(whole[0].1).saturating_sub(function.native_start),
        );
        if start >= end {
            continue;
        }
        let mut cuts: Vec<u64> = boundaries
            .iter()
            .copied()
            .filter(|&at| start < at && at < end)
            .collect();
        cuts.insert(0, start);
        cuts.push(end);
        for window in cuts.windows(2) {
            let (from, to) = (window[0], window[1]);
            let located: Option<Vec<(u32, LocalLocation)>> = locals
                .iter()
                .map(|&local| Some((local, function.local_at(local, from)?)))
                .collect();
            let Some(located) = located else {
                continue;
            };
            let Some(expression) = translate(cx, ops, &located) else {
                continue;
            };
            let (from, to) = (function.native_start + from, function.native_start + to);
            match out.last_mut() {
                Some(last) if last.1 == from && last.2 == expression => last.1 = to,
                _ => out.push((from, to, expression)),
            }
        }
    }
    Some(Translated::Ranges(out))
}

/// The code-section address `offset`.
pub(super) fn code_address(offset: u64) -> Address {
    Address::Symbol {
        symbol: CODE_SYMBOL,
        addend: offset as i64,
    }
}

#[cfg(test)]
mod tests {
    use gimli::{EndianSlice, LittleEndian};

    use super::*;
    use crate::debug::addr::FunctionMap;

    type Op = Operation<EndianSlice<'static, LittleEndian>>;

    fn module(memory: MemoryBase) -> DebugModule {
        DebugModule {
            sections: Default::default(),
            code_start: 0,
            info_offset: 0,
            bodies: Default::default(),
            memory: Some(memory),
            globals: vec![Some((0x50, 4))],
            lines: Vec::new(),
            files: Vec::new(),
        }
    }

    const LOCALS: &[crate::debug::LocalRange] = &[
        crate::debug::LocalRange {
            local: 1,
            start: 0,
            end: 8,
            location: LocalLocation::Register(3),
        },
        crate::debug::LocalRange {
            local: 1,
            start: 8,
            end: 16,
            location: LocalLocation::FrameSlot(-24),
        },
    ];

    fn function() -> FunctionMap<'static> {
        FunctionMap {
            wasm_start: 0,
            wasm_end: 10,
            native_start: 0x100,
            native_len: 16,
            rows: Vec::new(),
            locals: LOCALS,
            local_sizes: &[4, 4],
        }
    }

    #[test]
    fn a_global_in_linear_memory_is_rebased_on_the_fixed_memory() {
        let module = module(MemoryBase::Fixed(0x6000_0000));
        let cx = Context::<EndianSlice<'static, LittleEndian>> {
            module: &module,
            function: None,
            frame_base: &[],
        };
        let ops: [Op; 1] = [Operation::Address { address: 0xd60 }];
        let Some(Translated::Everywhere(expression)) = translate_location(&cx, &ops, None) else {
            panic!("not translated everywhere");
        };
        let mut expected = Expression::new();
        expected.op_constu(0xd60);
        expected.op_constu(0x6000_0000);
        expected.op(constants::DW_OP_plus);
        assert_eq!(expression, expected);
    }

    #[test]
    fn a_frame_based_variable_follows_its_frame_base_local() {
        let module = module(MemoryBase::InVmContext(0x40));
        let function = function();
        let frame_base: [Op; 1] = [Operation::WasmLocal { index: 1 }];
        let cx = Context {
            module: &module,
            function: Some(&function),
            frame_base: &frame_base,
        };
        let ops: [Op; 1] = [Operation::FrameOffset { offset: 12 }];
        let Some(Translated::Ranges(ranges)) = translate_location(&cx, &ops, None) else {
            panic!("not a location list");
        };
        let base = |out: &mut Expression| {
            out.op_consts(12);
            out.op(constants::DW_OP_plus);
            out.op_addr(Address::Symbol {
                symbol: VMCTX_SYMBOL,
                addend: 0x40,
            });
            out.op(constants::DW_OP_deref);
            out.op(constants::DW_OP_plus);
        };
        let mut in_register = Expression::new();
        in_register.op_breg(Register(3), 0);
        in_register.op_constu(0xffff_ffff);
        in_register.op(constants::DW_OP_and);
        base(&mut in_register);
        let mut in_slot = Expression::new();
        in_slot.op(constants::DW_OP_call_frame_cfa);
        in_slot.op_consts(-24);
        in_slot.op(constants::DW_OP_plus);
        in_slot.op_deref_size(4);
        base(&mut in_slot);
        assert_eq!(ranges.len(), 2);
        assert_eq!((ranges[0].0, ranges[0].1), (0x100, 0x108));
        assert_eq!(ranges[0].2, in_register);
        assert_eq!((ranges[1].0, ranges[1].1), (0x108, 0x110));
        assert_eq!(ranges[1].2, in_slot);
    }

    #[test]
    fn a_lone_local_is_a_register_and_a_global_is_read_from_the_vm_context() {
        let module = module(MemoryBase::Fixed(0));
        let function = function();
        let cx = Context {
            module: &module,
            function: Some(&function),
            frame_base: &[],
        };
        let lone: [Op; 1] = [Operation::WasmLocal { index: 1 }];
        let mut register = Expression::new();
        register.op_reg(Register(3));
        assert_eq!(
            translate(&cx, &lone, &[(1, LocalLocation::Register(3))]),
            Some(register)
        );
        let global: [Op; 2] = [Operation::WasmGlobal { index: 0 }, Operation::StackValue];
        let mut value = Expression::new();
        value.op_addr(Address::Symbol {
            symbol: VMCTX_SYMBOL,
            addend: 0x50,
        });
        value.op_deref_size(4);
        value.op(constants::DW_OP_stack_value);
        assert_eq!(translate(&cx, &global, &[]), Some(value));
        // The operand stack has no native counterpart.
        let stack: [Op; 1] = [Operation::WasmStack { index: 0 }];
        assert_eq!(translate(&cx, &stack, &[]), None);
    }
}
