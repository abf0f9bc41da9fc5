//! Explicit bounds checks and the ones that need not be emitted.
//!
//! An explicitly checked access compares `index + end` (`end` = static offset + access
//! size) with the memory's current length and traps past it. Memories never shrink, so a
//! check that passed stays true for the rest of the function. Three rules leave checks
//! out, each sound on its own:
//!
//! 1. *Bounded index* (while translating): when the index has a known upper bound `u`
//!    (a constant, an `i32.and` mask, a shifted or narrow-loaded value, ...) and
//!    `u + end` is within the memory's minimum size, the access cannot fail.
//! 2. *Dominated* (after translating, [`elide_dominated`]): a check of index value `v`
//!    with end `E` is left out when a check of `v` with end `E' >= E` dominates it (or a
//!    check of `r` with end `E' >= c + E`, when `v = r + c`: that check proves `r + c`
//!    does not wrap). Dominance is Cranelift's, over the function's control-flow graph.
//! 3. *Known length* (same pass): a passed check of an index at least `l` with end `E`
//!    proves the memory has at least `l + E` bytes; a dominated access whose index is
//!    bounded by `u` with `u + end` within that is left out.
//!
//! Each check's trap instruction carries the access's wasm offset, so a failing check
//! reports exactly like a fault on a guarded memory.

use std::collections::HashMap;

use cranelift_codegen::dominator_tree::DominatorTree;
use cranelift_codegen::flowgraph::ControlFlowGraph;
use cranelift_codegen::ir::{self, Inst, InstructionData, Opcode, Value};

use super::env::iconst_bits;

/// One explicit bounds check as emitted, for [`elide_dominated`].
#[derive(Debug, Clone)]
pub struct CheckSite {
    /// The memory.
    pub memory: u32,
    /// The wasm index operand.
    pub index: Value,
    /// Offset plus access size: the check proves `index + end <= length`.
    pub end: u64,
    /// The smallest value the index can have (its value, for a constant).
    pub index_min: u64,
    /// The largest value the index can have, when known.
    pub index_max: Option<u64>,
    /// The check's instructions, in order, the trap last; nothing else uses their
    /// results, so they are removed together.
    pub insts: Vec<Inst>,
}

/// How many explicit bounds checks a build emitted and left out.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BoundsStats {
    /// Checks in the generated code.
    pub emitted: u64,
    /// Left out: the index is bounded within the memory's minimum size (rule 1), and it
    /// is a constant.
    pub constant: u64,
    /// Left out: the index is bounded within the memory's minimum size (rule 1) by its
    /// computation (a mask, a shift, a narrow load).
    pub bounded: u64,
    /// Left out: a dominating check covers the access (rules 2 and 3).
    pub dominated: u64,
}

impl BoundsStats {
    /// Adds `other`'s counts.
    pub fn add(&mut self, other: &BoundsStats) {
        self.emitted += other.emitted;
        self.constant += other.constant;
        self.bounded += other.bounded;
        self.dominated += other.dominated;
    }

    /// Checks left out, for any reason.
    pub fn elided(&self) -> u64 {
        self.constant + self.bounded + self.dominated
    }
}

/// How deep [`index_range`] looks through the instructions computing a value.
const RANGE_DEPTH: u32 = 6;

/// The range `(min, max)` of an integer `value`, as far as its defining instructions
/// show (`max` is `None` when unknown; `min` is 0 then).
pub fn index_range(dfg: &ir::DataFlowGraph, value: Value) -> (u64, Option<u64>) {
    let value = dfg.resolve_aliases(value);
    if let Some(bits) = iconst_bits(dfg, value) {
        let constant = truncate(bits as u64, dfg.value_type(value).bits());
        return (constant, Some(constant));
    }
    (0, upper_bound(dfg, value, RANGE_DEPTH))
}

/// `value` cut to its type's `bits`.
fn truncate(value: u64, bits: u32) -> u64 {
    if bits >= 64 {
        value
    } else {
        value & ((1u64 << bits) - 1)
    }
}

/// The largest value of `bits` bits.
fn type_max(bits: u32) -> u64 {
    truncate(u64::MAX, bits)
}

/// An upper bound on the unsigned value of `value`, if its computation shows one below
/// its type's maximum.
fn upper_bound(dfg: &ir::DataFlowGraph, value: Value, depth: u32) -> Option<u64> {
    let value = dfg.resolve_aliases(value);
    let bits = dfg.value_type(value).bits();
    if let Some(constant) = iconst_bits(dfg, value) {
        return Some(truncate(constant as u64, bits));
    }
    if depth == 0 {
        return None;
    }
    let inst = dfg.value_def(value).inst()?;
    let bound = |v: Value| upper_bound(dfg, v, depth - 1);
    let bound_or_max = |v: Value| bound(v).unwrap_or(type_max(dfg.value_type(v).bits()));
    let result = match dfg.insts[inst] {
        InstructionData::Binary { opcode, args } => match opcode {
            // Either side bounds a mask.
            Opcode::Band => match (bound(args[0]), bound(args[1])) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            },
            Opcode::Bor | Opcode::Bxor => {
                let (a, b) = (bound(args[0])?, bound(args[1])?);
                // No bit above the higher operand's top bit gets set.
                Some(type_max(64 - (a | b).leading_zeros()))
            }
            Opcode::Iadd => bound(args[0])?.checked_add(bound(args[1])?),
            Opcode::Ushr => {
                // The smallest shift bounds the result: only a constant one is known.
                let shift = iconst_bits(dfg, dfg.resolve_aliases(args[1]))?;
                Some(bound_or_max(args[0]) >> (shift as u64 % u64::from(bits)))
            }
            Opcode::Ishl => {
                let shift = u32::try_from(bound(args[1])?).ok().filter(|s| *s < bits)?;
                let a = bound(args[0])?;
                a.checked_shl(shift).filter(|v| v >> shift == a)
            }
            Opcode::Urem => bound(args[1])?.checked_sub(1),
            Opcode::Udiv => Some(bound_or_max(args[0])),
            Opcode::Umin => match (bound(args[0]), bound(args[1])) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            },
            _ => None,
        },
        InstructionData::Unary { opcode, arg } => match opcode {
            Opcode::Uextend => Some(bound_or_max(arg)),
            Opcode::Clz | Opcode::Ctz | Opcode::Popcnt => Some(u64::from(bits)),
            _ => None,
        },
        InstructionData::IntCompare { .. } | InstructionData::FloatCompare { .. } => Some(1),
        InstructionData::Load { opcode, .. } => match opcode {
            Opcode::Uload8 => Some(type_max(8)),
            Opcode::Uload16 => Some(type_max(16)),
            Opcode::Uload32 => Some(type_max(32)),
            _ => None,
        },
        InstructionData::Ternary {
            opcode: Opcode::Select,
            args,
        } => Some(bound(args[1])?.max(bound(args[2])?)),
        _ => None,
    }?;
    (result < type_max(bits)).then_some(result)
}

/// What a dominating check established, scoped to the dominator subtree below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Fact {
    /// `index + end <= length` holds for this memory and index value, with this `end`.
    Index(u32, Value),
    /// The memory has at least this many bytes.
    Length(u32),
}

/// Removes the checks in `sites` that a dominating check makes redundant (rules 2 and 3
/// of the module documentation); `minimum_bytes` gives each memory's minimum size.
/// Returns how many were removed.
pub fn elide_dominated(
    func: &mut ir::Function,
    sites: &[CheckSite],
    minimum_bytes: impl Fn(u32) -> u64,
) -> u64 {
    if sites.len() < 2 {
        return 0;
    }
    let Some(entry) = func.layout.entry_block() else {
        return 0;
    };
    let by_trap: HashMap<Inst, &CheckSite> = sites
        .iter()
        .filter_map(|site| Some((*site.insts.last()?, site)))
        .collect();
    let cfg = ControlFlowGraph::with_function(func);
    let domtree = DominatorTree::with_function(func, &cfg);
    let dfg = &func.dfg;

    let mut facts: HashMap<Fact, u64> = HashMap::new();
    // Facts to restore when leaving a block's subtree: (fact, its earlier value).
    let mut undo: Vec<(Fact, Option<u64>)> = Vec::new();
    let mut redundant: Vec<&CheckSite> = Vec::new();
    enum Visit {
        Enter(ir::Block),
        Leave(usize),
    }
    let mut work = vec![Visit::Enter(entry)];
    while let Some(visit) = work.pop() {
        let block = match visit {
            Visit::Enter(block) => block,
            Visit::Leave(mark) => {
                for (fact, earlier) in undo.drain(mark..).rev() {
                    match earlier {
                        Some(value) => facts.insert(fact, value),
                        None => facts.remove(&fact),
                    };
                }
                continue;
            }
        };
        work.push(Visit::Leave(undo.len()));
        for inst in func.layout.block_insts(block) {
            let Some(site) = by_trap.get(&inst) else {
                continue;
            };
            let index = dfg.resolve_aliases(site.index);
            let known = |fact: Fact| facts.get(&fact).copied();
            let length = known(Fact::Length(site.memory))
                .unwrap_or(0)
                .max(minimum_bytes(site.memory));
            let covered = known(Fact::Index(site.memory, index)).is_some_and(|e| e >= site.end)
                || offset_from(dfg, index).is_some_and(|(root, addend)| {
                    let needed = addend.checked_add(site.end);
                    known(Fact::Index(site.memory, root))
                        .zip(needed)
                        .is_some_and(|(e, needed)| e >= needed)
                })
                || site
                    .index_max
                    .and_then(|max| max.checked_add(site.end))
                    .is_some_and(|end| end <= length);
            if covered {
                redundant.push(site);
                continue;
            }
            let mut learn = |fact: Fact, value: u64| {
                let earlier = facts.get(&fact).copied();
                if earlier.is_none_or(|earlier| earlier < value) {
                    undo.push((fact, earlier));
                    facts.insert(fact, value);
                }
            };
            learn(Fact::Index(site.memory, index), site.end);
            if let Some(end) = site.index_min.checked_add(site.end) {
                learn(Fact::Length(site.memory), end);
            }
        }
        work.extend(domtree.children(block).map(Visit::Enter));
    }
    let removed = redundant.len() as u64;
    let remove: Vec<Inst> = redundant
        .iter()
        .flat_map(|site| site.insts.iter().rev().copied())
        .collect();
    for inst in remove {
        func.layout.remove_inst(inst);
    }
    removed
}

/// `(root, addend)` when `value` is `root + addend` for a constant addend (in the value's
/// width, so that `root + addend` may wrap).
fn offset_from(dfg: &ir::DataFlowGraph, value: Value) -> Option<(Value, u64)> {
    let inst = dfg.value_def(value).inst()?;
    let InstructionData::Binary {
        opcode: Opcode::Iadd,
        args,
    } = dfg.insts[inst]
    else {
        return None;
    };
    let bits = dfg.value_type(value).bits();
    let [a, b] = args.map(|v| dfg.resolve_aliases(v));
    match (iconst_bits(dfg, a), iconst_bits(dfg, b)) {
        (_, Some(c)) => Some((a, truncate(c as u64, bits))),
        (Some(c), None) => Some((b, truncate(c as u64, bits))),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cranelift_codegen::ir::{AbiParam, InstBuilder, MemFlagsData, Signature, types};
    use cranelift_codegen::isa::CallConv;
    use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};

    /// The range `index_range` finds for the value `build` computes from an unknown i32
    /// parameter `x`.
    fn range(build: impl FnOnce(&mut FunctionBuilder<'_>, Value) -> Value) -> (u64, Option<u64>) {
        let mut signature = Signature::new(CallConv::SystemV);
        signature.params.push(AbiParam::new(types::I32));
        let mut func = ir::Function::with_name_signature(Default::default(), signature);
        let mut context = FunctionBuilderContext::new();
        let mut builder = FunctionBuilder::new(&mut func, &mut context);
        let block = builder.create_block();
        builder.append_block_params_for_function_params(block);
        builder.switch_to_block(block);
        let x = builder.block_params(block)[0];
        let value = build(&mut builder, x);
        index_range(&builder.func.dfg, value)
    }

    #[test]
    fn ranges_follow_the_computation() {
        type Build = fn(&mut FunctionBuilder<'_>, Value) -> Value;
        type Range = (u64, Option<u64>);
        let cases: &[(&str, Build, Range)] = &[
            (
                "constant",
                |b, _| b.ins().iconst(types::I32, 100),
                (100, Some(100)),
            ),
            ("unknown", |_, x| x, (0, None)),
            (
                "mask",
                |b, x| b.ins().band_imm_u(x, 0xff0),
                (0, Some(0xff0)),
            ),
            (
                "all-ones mask",
                |b, x| b.ins().band_imm_u(x, 0xffff_ffff),
                (0, None),
            ),
            (
                "shift right",
                |b, x| b.ins().ushr_imm_u(x, 24),
                (0, Some(255)),
            ),
            ("remainder", |b, x| b.ins().urem_imm_u(x, 10), (0, Some(9))),
            ("plus unknown", |b, x| b.ins().iadd_imm_u(x, 1), (0, None)),
            (
                "mask plus",
                |b, x| {
                    let masked = b.ins().band_imm_u(x, 0xff);
                    b.ins().iadd_imm_u(masked, 4)
                },
                (0, Some(259)),
            ),
            (
                "mask shifted left",
                |b, x| {
                    let masked = b.ins().band_imm_u(x, 0xf);
                    b.ins().ishl_imm_u(masked, 2)
                },
                (0, Some(60)),
            ),
            (
                "narrow load",
                |b, x| {
                    let addr = b.ins().uextend(types::I64, x);
                    b.ins().uload8(types::I32, MemFlagsData::new(), addr, 0)
                },
                (0, Some(255)),
            ),
            (
                "compare",
                |b, x| {
                    let cmp = b.ins().icmp_imm_u(ir::condcodes::IntCC::Equal, x, 3);
                    b.ins().uextend(types::I32, cmp)
                },
                (0, Some(1)),
            ),
        ];
        for (name, build, expected) in cases {
            assert_eq!(range(build), *expected, "{name}");
        }
    }
}
