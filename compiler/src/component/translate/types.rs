//! The component-level types of a component's exported functions, from
//! wasmtime-environ's interface types to a `wafer_canon` arena (for callers that pass
//! component values: the test harness).

use wasmtime_environ::EntityRef as _;
use wasmtime_environ::component as wc;

use super::Planner;

impl Planner<'_, '_> {
    /// The component-level type of an exported function, added to the plan's arena:
    /// `None` when the canonical-ABI model cannot hold it (a resource left abstract, or
    /// a type past its size and depth limits), which only callers passing component
    /// values (the test harness) notice.
    pub(super) fn func_type(&mut self, ty: wc::TypeFuncIndex) -> Option<usize> {
        let func = &self.types[ty];
        let params = self.types[func.params]
            .types
            .iter()
            .map(|ty| self.canon_type(ty))
            .collect::<Option<Vec<_>>>()?;
        let results = self.types[func.results]
            .types
            .iter()
            .map(|ty| self.canon_type(ty))
            .collect::<Option<Vec<_>>>()?;
        let func = wafer_canon::FuncType {
            params,
            results,
            is_async: func.async_,
        };
        func.validate(&self.plan.types).ok()?;
        self.plan.funcs.push(func);
        Some(self.plan.funcs.len() - 1)
    }

    /// `ty` in the plan's canonical-ABI type arena.
    pub(super) fn canon_type(&mut self, ty: &wc::InterfaceType) -> Option<wafer_canon::TypeId> {
        use wafer_canon::{Case, Field, ResourceId, TypeId, ValType};
        use wc::InterfaceType as I;
        let types = self.types;
        let ty = match ty {
            I::Bool => return Some(TypeId::BOOL),
            I::S8 => return Some(TypeId::S8),
            I::U8 => return Some(TypeId::U8),
            I::S16 => return Some(TypeId::S16),
            I::U16 => return Some(TypeId::U16),
            I::S32 => return Some(TypeId::S32),
            I::U32 => return Some(TypeId::U32),
            I::S64 => return Some(TypeId::S64),
            I::U64 => return Some(TypeId::U64),
            I::Float32 => return Some(TypeId::F32),
            I::Float64 => return Some(TypeId::F64),
            I::Char => return Some(TypeId::CHAR),
            I::String => return Some(TypeId::STRING),
            I::ErrorContext(_) => return Some(TypeId::ERROR_CONTEXT),
            I::Record(r) => ValType::Record(
                types[*r]
                    .fields
                    .iter()
                    .map(|field| {
                        Some(Field {
                            name: field.name.as_str().into(),
                            ty: self.canon_type(&field.ty)?,
                        })
                    })
                    .collect::<Option<_>>()?,
            ),
            I::Variant(v) => ValType::Variant(
                types[*v]
                    .cases
                    .iter()
                    .map(|(name, ty)| {
                        Some(Case {
                            name: name.as_str().into(),
                            ty: match ty {
                                Some(ty) => Some(self.canon_type(ty)?),
                                None => None,
                            },
                        })
                    })
                    .collect::<Option<_>>()?,
            ),
            I::List(l) => ValType::List(self.canon_type(&types[*l].element)?),
            I::FixedLengthList(l) => {
                let list = &types[*l];
                ValType::FixedList(self.canon_type(&list.element)?, list.size)
            }
            I::Map(m) => {
                let map = &types[*m];
                ValType::Map(self.canon_type(&map.key)?, self.canon_type(&map.value)?)
            }
            I::Tuple(t) => ValType::Tuple(
                types[*t]
                    .types
                    .iter()
                    .map(|ty| self.canon_type(ty))
                    .collect::<Option<_>>()?,
            ),
            I::Flags(f) => {
                ValType::Flags(types[*f].names.iter().map(|n| n.as_str().into()).collect())
            }
            I::Enum(e) => {
                ValType::Enum(types[*e].names.iter().map(|n| n.as_str().into()).collect())
            }
            I::Option(o) => ValType::Option(self.canon_type(&types[*o].ty)?),
            I::Result(r) => {
                let result = &types[*r];
                let ok = match &result.ok {
                    Some(ty) => Some(self.canon_type(ty)?),
                    None => None,
                };
                let err = match &result.err {
                    Some(ty) => Some(self.canon_type(ty)?),
                    None => None,
                };
                ValType::Result { ok, err }
            }
            I::Own(table) | I::Borrow(table) => {
                let wc::TypeResourceTable::Concrete { ty: resource, .. } = &types[*table] else {
                    return None;
                };
                let resource = ResourceId(u32::try_from(resource.index()).ok()?);
                if matches!(ty, I::Own(_)) {
                    ValType::Own(resource)
                } else {
                    ValType::Borrow(resource)
                }
            }
            I::Future(table) => {
                let payload = types[types[*table].ty].payload;
                ValType::Future(match &payload {
                    Some(ty) => Some(self.canon_type(ty)?),
                    None => None,
                })
            }
            I::Stream(table) => {
                let payload = types[types[*table].ty].payload;
                ValType::Stream(match &payload {
                    Some(ty) => Some(self.canon_type(ty)?),
                    None => None,
                })
            }
        };
        self.plan.types.add(ty).ok()
    }
}

#[cfg(test)]
mod tests {
    use wafer_abi::component::{
        DIRECTORY_ENTRY_STREAM, FILESYSTEM_RESULT_FUTURE, SOCKETS_RESULT_FUTURE,
        STDIO_RESULT_FUTURE, STREAM_U8,
    };

    /// The host's stream and future types are identified by their text: it must
    /// be exactly what the compiler derives (`wafer_canon`'s display) for the same type.
    #[test]
    fn host_stream_type_texts_are_the_canonical_display() {
        for text in [
            STREAM_U8,
            STDIO_RESULT_FUTURE,
            FILESYSTEM_RESULT_FUTURE,
            DIRECTORY_ENTRY_STREAM,
            SOCKETS_RESULT_FUTURE,
        ] {
            let mut types = wafer_canon::Types::new();
            let id = types.parse(text).expect("the host's type text parses");
            assert_eq!(types.display(id).to_string(), text);
        }
    }
}
