//! Which functions are inlined into their direct callers.
//!
//! Compilers targeting wasm leave many tiny functions behind: allocator shims, one-line
//! wrappers, accessors. A call costs a frame and a register shuffle each time, and
//! Cranelift has no view across functions, so wafer inlines at the wasm level: a direct
//! call to a small function of the same instance translates the callee's operators in
//! place (`code/calls.rs`). Trap sites in inlined code keep the callee's wasm offsets,
//! and the trap table records which callee bodies each function holds, so a trap still
//! names the function it happened in.
//!
//! A candidate is small, valid on its own (it is validated here, before anything
//! translates it, so invalid code is reported where it is, never half-translated into a
//! caller), and free of operators whose meaning depends on being a separate frame: tail
//! calls and `throw`s. `try_table` is left out too, to keep handler bookkeeping local.

use wasmparser::{FuncToValidate, FunctionBody, Operator, ValidatorResources};

use crate::environ::FunctionBodyInfo;

/// The largest body (locals and code, in bytes of wasm) that is inlined.
pub const MAX_BODY_BYTES: usize = 48;

/// The most locals (parameters aside) an inlined function may declare.
pub const MAX_LOCALS: u64 = 32;

/// How deep inlined calls nest (a wrapper of a wrapper of a leaf).
pub const MAX_DEPTH: usize = 3;

/// Wasm bytes a function may take in from its callees, beyond its own size: bounds the
/// growth of a function that calls many small ones.
pub const BUDGET_BYTES: usize = 2048;

/// The size of `body` in bytes (locals and code).
pub fn body_len(body: &FunctionBody<'_>) -> usize {
    let range = body.range();
    (range.end - range.start) as usize
}

/// The bodies worth inlining, indexed by function index (`None` for the rest, imports
/// included). `simd` says whether the target can compile SIMD operators.
pub fn candidates<'data>(
    bodies: &[FunctionBodyInfo<'data>],
    func_count: usize,
    simd: bool,
) -> Vec<Option<FunctionBody<'data>>> {
    let mut out = vec![None; func_count];
    for info in bodies {
        let size = body_len(&info.body);
        if size > MAX_BODY_BYTES {
            continue;
        }
        if let Some(slot) = out.get_mut(info.func_index as usize)
            && inlinable(&info.body, &info.validator, simd)
        {
            *slot = Some(info.body.clone());
        }
    }
    out
}

/// Whether `body` validates and holds only operators that mean the same inlined.
fn inlinable(
    body: &FunctionBody<'_>,
    validator: &FuncToValidate<ValidatorResources>,
    simd: bool,
) -> bool {
    let copy = FuncToValidate {
        resources: validator.resources.clone(),
        index: validator.index,
        ty: validator.ty,
        features: validator.features,
    };
    if copy
        .into_validator(Default::default())
        .validate(body)
        .is_err()
    {
        return false;
    }
    // A short body can still declare thousands of locals, each zeroed at every call.
    let locals: u64 = body
        .get_locals_reader()
        .into_iter()
        .flatten()
        .map(|local| local.map_or(u64::MAX, |(count, _)| u64::from(count)))
        .fold(0, u64::saturating_add);
    if locals > MAX_LOCALS {
        return false;
    }
    let Ok(mut reader) = body.get_operators_reader() else {
        return false;
    };
    while !reader.eof() {
        // SIMD operators are the ones with the 0xfd prefix.
        if !simd && reader.get_binary_reader().read_u8().ok() == Some(0xfd) {
            return false;
        }
        let Ok(op) = reader.read() else {
            return false;
        };
        let separate_frame = matches!(
            op,
            Operator::ReturnCall { .. }
                | Operator::ReturnCallIndirect { .. }
                | Operator::ReturnCallRef { .. }
                | Operator::TryTable { .. }
                | Operator::Throw { .. }
                | Operator::ThrowRef
        );
        if separate_frame {
            return false;
        }
    }
    true
}
