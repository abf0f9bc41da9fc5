//! Component values of `.wast` scripts (`u32.const`, `str.const`, `record.const` ...) as
//! `wafer_canon` values of the export's types, which the runner encodes for the image.

use wafer_canon::{TypeId, Types, Val, ValType};
use wast::component::WastVal;
use wast::core::{NanPattern, WastArgCore, WastRetCore};
use wast::{WastArg, WastRet};

/// The value of an argument of type `ty`.
pub fn argument(types: &Types, ty: TypeId, arg: &WastArg<'_>) -> Result<Val, String> {
    match arg {
        WastArg::Component(value) => from_wast(types, ty, value),
        // `f32.const` and friends parse as core values first.
        WastArg::Core(core) => from_core(types, ty, core),
        _ => Err("an argument of an unknown kind".into()),
    }
}

/// The value a result of type `ty` must equal (NaNs equal every NaN).
pub fn expected(types: &Types, ty: TypeId, ret: &WastRet<'_>) -> Result<Val, String> {
    match ret {
        WastRet::Component(value) => from_wast(types, ty, value),
        WastRet::Core(core) => {
            let float = match core {
                WastRetCore::F32(NanPattern::Value(v)) => Some(f64::from(f32::from_bits(v.bits))),
                WastRetCore::F64(NanPattern::Value(v)) => Some(f64::from_bits(v.bits)),
                WastRetCore::F32(_) | WastRetCore::F64(_) => Some(f64::NAN),
                _ => None,
            };
            match (types.get(ty), core, float) {
                (ValType::F32, WastRetCore::F32(NanPattern::Value(v)), _) => {
                    Ok(Val::F32(f32::from_bits(v.bits)))
                }
                (ValType::F32, WastRetCore::F32(_), _) => Ok(Val::F32(f32::NAN)),
                (ValType::F64, WastRetCore::F64(_), Some(value)) => Ok(Val::F64(value)),
                (ValType::S32, WastRetCore::I32(v), _) => Ok(Val::S32(*v)),
                (ValType::U32, WastRetCore::I32(v), _) => Ok(Val::U32(*v as u32)),
                (ValType::S64, WastRetCore::I64(v), _) => Ok(Val::S64(*v)),
                (ValType::U64, WastRetCore::I64(v), _) => Ok(Val::U64(*v as u64)),
                _ => Err(format!("a core result {core:?} for a component result")),
            }
        }
        _ => Err("a result of an unknown kind".into()),
    }
}

fn from_core(types: &Types, ty: TypeId, core: &WastArgCore<'_>) -> Result<Val, String> {
    match (types.get(ty), core) {
        (ValType::F32, WastArgCore::F32(v)) => Ok(Val::F32(f32::from_bits(v.bits))),
        (ValType::F64, WastArgCore::F64(v)) => Ok(Val::F64(f64::from_bits(v.bits))),
        (ValType::S32, WastArgCore::I32(v)) => Ok(Val::S32(*v)),
        (ValType::U32, WastArgCore::I32(v)) => Ok(Val::U32(*v as u32)),
        (ValType::S64, WastArgCore::I64(v)) => Ok(Val::S64(*v)),
        (ValType::U64, WastArgCore::I64(v)) => Ok(Val::U64(*v as u64)),
        (ty, core) => Err(format!("core argument {core:?} for a {ty:?}")),
    }
}

fn mismatch(ty: &ValType, value: &WastVal<'_>) -> String {
    format!("the value {value:?} is not of type {ty:?}")
}

fn boxed(types: &Types, ty: TypeId, value: &WastVal<'_>) -> Result<Box<Val>, String> {
    from_wast(types, ty, value).map(Box::new)
}

fn optional(
    types: &Types,
    ty: Option<TypeId>,
    value: &Option<Box<WastVal<'_>>>,
) -> Result<Option<Box<Val>>, String> {
    match (ty, value) {
        (Some(ty), Some(value)) => Ok(Some(boxed(types, ty, value)?)),
        (None, None) => Ok(None),
        _ => Err("a payload where the type has none, or none where it has one".into()),
    }
}

/// The value of `value`, a component value of type `ty`.
pub fn from_wast(types: &Types, ty: TypeId, value: &WastVal<'_>) -> Result<Val, String> {
    let ty_def = types.get(ty);
    Ok(match (ty_def, value) {
        (ValType::Bool, WastVal::Bool(v)) => Val::Bool(*v),
        (ValType::S8, WastVal::S8(v)) => Val::S8(*v),
        (ValType::U8, WastVal::U8(v)) => Val::U8(*v),
        (ValType::S16, WastVal::S16(v)) => Val::S16(*v),
        (ValType::U16, WastVal::U16(v)) => Val::U16(*v),
        (ValType::S32, WastVal::S32(v)) => Val::S32(*v),
        (ValType::U32, WastVal::U32(v)) => Val::U32(*v),
        (ValType::S64, WastVal::S64(v)) => Val::S64(*v),
        (ValType::U64, WastVal::U64(v)) => Val::U64(*v),
        (ValType::F32, WastVal::F32(v)) => Val::F32(f32::from_bits(v.bits)),
        (ValType::F64, WastVal::F64(v)) => Val::F64(f64::from_bits(v.bits)),
        (ValType::Char, WastVal::Char(c)) => Val::Char(*c),
        (ValType::String, WastVal::String(s)) => Val::string(s),
        (ValType::List(elem) | ValType::FixedList(elem, _), WastVal::List(items)) => Val::List(
            items
                .iter()
                .map(|item| from_wast(types, *elem, item))
                .collect::<Result<_, _>>()?,
        ),
        (ValType::Map(key, value_ty), WastVal::Map(entries)) => Val::Map(
            entries
                .iter()
                .map(|(k, v)| Ok((from_wast(types, *key, k)?, from_wast(types, *value_ty, v)?)))
                .collect::<Result<_, String>>()?,
        ),
        (ValType::Record(fields), WastVal::Record(given)) => {
            if fields.len() != given.len() {
                return Err(mismatch(ty_def, value));
            }
            Val::Record(
                fields
                    .iter()
                    .map(|field| {
                        let (_, v) = given
                            .iter()
                            .find(|(name, _)| **name == *field.name)
                            .ok_or_else(|| format!("no field `{}`", field.name))?;
                        from_wast(types, field.ty, v)
                    })
                    .collect::<Result<_, _>>()?,
            )
        }
        (ValType::Tuple(elems), WastVal::Tuple(items)) if elems.len() == items.len() => Val::Tuple(
            elems
                .iter()
                .zip(items)
                .map(|(ty, item)| from_wast(types, *ty, item))
                .collect::<Result<_, _>>()?,
        ),
        (ValType::Variant(cases), WastVal::Variant(name, payload)) => {
            let index = cases
                .iter()
                .position(|case| *case.name == **name)
                .ok_or_else(|| format!("no case `{name}`"))?;
            Val::Variant(index as u32, optional(types, cases[index].ty, payload)?)
        }
        (ValType::Enum(labels), WastVal::Enum(name)) => Val::Enum(
            labels
                .iter()
                .position(|label| **label == **name)
                .ok_or_else(|| format!("no case `{name}`"))? as u32,
        ),
        (ValType::Flags(labels), WastVal::Flags(names)) => {
            let mut bits = 0u32;
            for name in names {
                let index = labels
                    .iter()
                    .position(|label| **label == **name)
                    .ok_or_else(|| format!("no flag `{name}`"))?;
                bits |= 1 << index;
            }
            Val::Flags(bits)
        }
        (ValType::Option(some), WastVal::Option(v)) => Val::Option(match v {
            Some(v) => Some(boxed(types, *some, v)?),
            None => None,
        }),
        (ValType::Result { ok, err }, WastVal::Result(v)) => Val::Result(match v {
            Ok(v) => Ok(optional(types, *ok, v)?),
            Err(v) => Err(optional(types, *err, v)?),
        }),
        _ => return Err(mismatch(ty_def, value)),
    })
}
