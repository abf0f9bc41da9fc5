//! The world of a component image (`wafer_abi::image::world`): what it imports and
//! exports, written by the compiler and read back by `wafer inspect`.

use wafer_abi::image::world::{EXPORT, FUNC, IMPORT, UNPROVIDED};

use super::plan::{ComponentPlan, WorldItem};

/// Encodes the world of `plan`; `provided(interface, func)` says whether the image
/// provides an imported function (false: it traps when called).
pub fn encode(plan: &ComponentPlan<'_>, provided: impl Fn(&str, &str) -> bool) -> Vec<u8> {
    let mut text = String::new();
    let mut item = |keyword: &str, item: &WorldItem, import: bool| {
        text.push_str(&format!("{keyword} {}\n", item.name));
        for (interface, func) in item.functions() {
            let keyword = if import && !provided(interface, func) {
                UNPROVIDED
            } else {
                FUNC
            };
            text.push_str(&format!("{keyword} {func}\n"));
        }
    };
    for import in &plan.imports {
        item(IMPORT, import, true);
    }
    for export in &plan.export_names {
        item(EXPORT, export, false);
    }
    text.into_bytes()
}

/// An interface or bare function of a decoded world.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Imported (else exported).
    pub import: bool,
    /// The interface or function name.
    pub name: String,
    /// Its functions, and whether each is provided.
    pub funcs: Vec<(String, bool)>,
}

/// Decodes a world written by [`encode`]; unknown lines are skipped.
pub fn decode(bytes: &[u8]) -> Vec<Entry> {
    let text = String::from_utf8_lossy(bytes);
    let mut entries: Vec<Entry> = Vec::new();
    for line in text.lines() {
        let Some((keyword, name)) = line.split_once(' ') else {
            continue;
        };
        match keyword {
            IMPORT | EXPORT => entries.push(Entry {
                import: keyword == IMPORT,
                name: name.to_string(),
                funcs: Vec::new(),
            }),
            FUNC | UNPROVIDED => {
                if let Some(entry) = entries.last_mut() {
                    entry.funcs.push((name.to_string(), keyword == FUNC));
                }
            }
            _ => {}
        }
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worlds_round_trip() {
        let plan = ComponentPlan {
            imports: vec![
                WorldItem {
                    name: "wasi:cli/stdout@0.2.6".into(),
                    funcs: vec!["get-stdout".into()],
                    bare_func: false,
                },
                WorldItem {
                    name: "host-log".into(),
                    funcs: vec![],
                    bare_func: true,
                },
            ],
            export_names: vec![WorldItem {
                name: "wasi:cli/run@0.2.0".into(),
                funcs: vec!["run".into()],
                bare_func: false,
            }],
            ..ComponentPlan::default()
        };
        let bytes = encode(&plan, |interface, _| interface.starts_with("wasi:"));
        let entries = decode(&bytes);
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0].funcs, vec![("get-stdout".to_string(), true)]);
        assert_eq!(entries[1].funcs, vec![("host-log".to_string(), false)]);
        assert!(!entries[2].import);
    }
}
