//! A first walk of a component, before the translator's: the value-size rule the
//! validator leaves out.

use wasmtime_environ::wasmparser as wp;

use super::features;
use crate::error::{CompileError, Result};

/// A first walk of the component's sections, at every nesting level, through a
/// validator of its own (the translator keeps its validator's types to itself; function
/// bodies are not validated here, and an invalid component is left for [`translate`] to
/// report). It checks the rule that validator leaves out: every value type a component
/// defines must take less than 2^28 bytes in a 64-bit memory (the canonical ABI's
/// element size bound).
pub(super) fn prescan(wasm: &[u8]) -> Result<()> {
    let mut validator = wp::Validator::new_with_features(features());
    for payload in wp::Parser::new(0).parse_all(wasm) {
        let Ok(payload) = payload else {
            return Ok(());
        };
        let section = match &payload {
            wp::Payload::ComponentTypeSection(section) => Some(section.range()),
            _ => None,
        };
        let before = validator
            .types(0)
            .map_or(0, |types| types.component_type_count());
        if validator.payload(&payload).is_err() {
            return Ok(());
        }
        let (Some(range), Some(types)) = (section, validator.types(0)) else {
            continue;
        };
        for index in before..types.component_type_count() {
            let wp::component_types::ComponentAnyTypeId::Defined(id) =
                types.component_any_type_at(index)
            else {
                continue;
            };
            let mut arena = wafer_canon::Types::new();
            if let Err(wafer_canon::TypeError::TooLarge) = sized_type(
                &mut arena,
                &types,
                wp::component_types::ComponentValType::Type(id),
                0,
            ) {
                return Err(CompileError::InvalidWasm {
                    message: format!(
                        "type {index} exceeds maximum byte size (2^28 - 1 in a 64-bit memory)"
                    ),
                    offset: range.start,
                });
            }
        }
    }
    Ok(())
}

/// A validated value type in a canonical-ABI arena, for its size: only a type too large
/// is an error worth reporting (labels and resources are placeholders, and types deeper
/// than the arena's limit are left unchecked).
fn sized_type(
    arena: &mut wafer_canon::Types,
    types: &wp::types::TypesRef<'_>,
    ty: wp::component_types::ComponentValType,
    depth: u32,
) -> std::result::Result<wafer_canon::TypeId, wafer_canon::TypeError> {
    use wafer_canon::{Case, Field, ResourceId, TypeError, TypeId, ValType};
    use wp::PrimitiveValType as P;
    use wp::component_types::{ComponentDefinedType as D, ComponentValType as V};
    if depth > wafer_canon::types::MAX_TYPE_DEPTH {
        return Err(TypeError::TooDeep);
    }
    let mut part = |ty: V| sized_type(arena, types, ty, depth + 1);
    let id = match ty {
        V::Primitive(primitive) => {
            return Ok(match primitive {
                P::Bool => TypeId::BOOL,
                P::S8 => TypeId::S8,
                P::U8 => TypeId::U8,
                P::S16 => TypeId::S16,
                P::U16 => TypeId::U16,
                P::S32 => TypeId::S32,
                P::U32 => TypeId::U32,
                P::S64 => TypeId::S64,
                P::U64 => TypeId::U64,
                P::F32 => TypeId::F32,
                P::F64 => TypeId::F64,
                P::Char => TypeId::CHAR,
                P::String => TypeId::STRING,
                P::ErrorContext => TypeId::ERROR_CONTEXT,
            });
        }
        V::Type(id) => id,
    };
    let Some(defined) = types.get(id) else {
        return Err(TypeError::UnknownType(0));
    };
    let labels = |count: usize| -> Box<[Box<str>]> {
        (0..count).map(|i| i.to_string().into_boxed_str()).collect()
    };
    let ty = match defined {
        D::Primitive(primitive) => return part(V::Primitive(*primitive)),
        D::Record(record) => ValType::Record(
            record
                .fields
                .values()
                .enumerate()
                .map(|(i, ty)| {
                    Ok(Field {
                        name: i.to_string().into(),
                        ty: part(*ty)?,
                    })
                })
                .collect::<std::result::Result<_, TypeError>>()?,
        ),
        D::Variant(variant) => ValType::Variant(
            variant
                .cases
                .values()
                .enumerate()
                .map(|(i, case)| {
                    Ok(Case {
                        name: i.to_string().into(),
                        ty: case.ty.map(&mut part).transpose()?,
                    })
                })
                .collect::<std::result::Result<_, TypeError>>()?,
        ),
        D::List { element, .. } => ValType::List(part(*element)?),
        D::Map { key, value, .. } => ValType::Map(part(*key)?, part(*value)?),
        D::FixedLengthList {
            element, length, ..
        } => ValType::FixedList(part(*element)?, *length),
        D::Tuple(tuple) => ValType::Tuple(
            tuple
                .types
                .iter()
                .map(|ty| part(*ty))
                .collect::<std::result::Result<_, TypeError>>()?,
        ),
        D::Flags(names) => ValType::Flags(labels(names.len())),
        D::Enum(names) => ValType::Enum(labels(names.len())),
        D::Option { ty, .. } => ValType::Option(part(*ty)?),
        D::Result { ok, err, .. } => ValType::Result {
            ok: ok.map(&mut part).transpose()?,
            err: err.map(&mut part).transpose()?,
        },
        D::Own(_) => ValType::Own(ResourceId(0)),
        D::Borrow(_) => ValType::Borrow(ResourceId(0)),
        D::Future { ty, .. } => ValType::Future(ty.map(&mut part).transpose()?),
        D::Stream { ty, .. } => ValType::Stream(ty.map(&mut part).transpose()?),
    };
    arena.add(ty)
}
