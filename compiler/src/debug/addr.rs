//! From wasm code addresses (DWARF's: offsets in the code section) to native code
//! offsets (in the object's code section).

use super::{DebugModule, LocalRange, PlacedFunction};

/// One compiled function: its wasm body and native code, and which native ranges came
/// from which wasm address.
#[derive(Debug)]
pub(super) struct FunctionMap<'a> {
    /// The body's wasm addresses, `[wasm_start, wasm_end)`.
    pub wasm_start: u64,
    pub wasm_end: u64,
    /// Its code's offset in the code section, and its length.
    pub native_start: u64,
    pub native_len: u64,
    /// Native ranges (relative to the function) and their wasm address, in code order.
    pub rows: Vec<(u64, u64, u64)>,
    /// Where its locals live (relative to the function), by local then start.
    pub locals: &'a [LocalRange],
    /// The byte size of each local.
    pub local_sizes: &'a [u8],
}

impl FunctionMap<'_> {
    /// The native location of `local` at function offset `at`.
    pub fn local_at(&self, local: u32, at: u64) -> Option<super::LocalLocation> {
        let first = self.locals.partition_point(|range| range.local < local);
        self.locals[first..]
            .iter()
            .take_while(|range| range.local == local)
            .find(|range| u64::from(range.start) <= at && at < u64::from(range.end))
            .map(|range| range.location)
    }

    /// Offsets (relative to the function) where some location of one of `locals`
    /// starts or ends.
    pub fn local_boundaries(&self, locals: &[u32]) -> Vec<u64> {
        let mut points: Vec<u64> = self
            .locals
            .iter()
            .filter(|range| locals.contains(&range.local))
            .flat_map(|range| [u64::from(range.start), u64::from(range.end)])
            .collect();
        points.sort_unstable();
        points.dedup();
        points
    }
}

/// Every compiled function of the module with debug info, by wasm address.
#[derive(Debug)]
pub(super) struct AddressMap<'a> {
    pub functions: Vec<FunctionMap<'a>>,
}

impl<'a> AddressMap<'a> {
    pub fn new(module: &'a DebugModule, placed: &[PlacedFunction<'a>]) -> Self {
        let code_start = u64::from(module.code_start);
        let mut functions: Vec<FunctionMap<'a>> = placed
            .iter()
            .filter_map(|function| {
                let body = module.bodies.get(&function.debug.func_index)?;
                let rows = function
                    .debug
                    .srclocs
                    .iter()
                    .filter_map(|&(start, end, wasm)| {
                        let wasm = u64::from(wasm).checked_sub(code_start)?;
                        Some((u64::from(start), u64::from(end), wasm))
                    })
                    .collect();
                Some(FunctionMap {
                    wasm_start: u64::from(body.start).checked_sub(code_start)?,
                    wasm_end: u64::from(body.end).checked_sub(code_start)?,
                    native_start: function.start,
                    native_len: function.len,
                    rows,
                    locals: &function.debug.locals,
                    local_sizes: &body.local_sizes,
                })
            })
            .collect();
        functions.sort_unstable_by_key(|f| f.wasm_start);
        AddressMap { functions }
    }

    /// The function whose body holds wasm address `address`.
    pub fn function_at(&self, address: u64) -> Option<usize> {
        let after = self.functions.partition_point(|f| f.wasm_start <= address);
        let index = after.checked_sub(1)?;
        (address < self.functions[index].wasm_end).then_some(index)
    }

    /// The native code that came from wasm addresses `[low, high)`, as sorted, merged
    /// ranges of code-section offsets. A range covering a whole body covers all of its
    /// function's code (prologue and epilogue included).
    pub fn ranges(&self, low: u64, high: u64) -> Vec<(u64, u64)> {
        let mut out: Vec<(u64, u64)> = Vec::new();
        let first = self.functions.partition_point(|f| f.wasm_end <= low);
        for function in self.functions[first..]
            .iter()
            .take_while(|f| f.wasm_start < high)
        {
            if low <= function.wasm_start && function.wasm_end <= high {
                out.push((
                    function.native_start,
                    function.native_start + function.native_len,
                ));
                continue;
            }
            for &(start, end, wasm) in &function.rows {
                if low <= wasm && wasm < high {
                    out.push((function.native_start + start, function.native_start + end));
                }
            }
        }
        out.sort_unstable();
        let mut merged: Vec<(u64, u64)> = Vec::with_capacity(out.len());
        for (start, end) in out {
            match merged.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        merged
    }

    /// The native code-section offset of wasm address `address`: a body's start is its
    /// function's first byte, another address the first code that came from it or from
    /// the nearest address after it.
    pub fn address(&self, address: u64) -> Option<u64> {
        let function = &self.functions[self.function_at(address)?];
        if address == function.wasm_start {
            return Some(function.native_start);
        }
        function
            .rows
            .iter()
            .filter(|&&(_, _, wasm)| wasm >= address)
            .min_by_key(|&&(start, _, wasm)| (wasm, start))
            .map(|&(start, _, _)| function.native_start + start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two functions: wasm `[10, 40)` at native `[100, 150)` and `[40, 60)` at
    /// `[200, 220)`.
    fn map() -> AddressMap<'static> {
        AddressMap {
            functions: vec![
                FunctionMap {
                    wasm_start: 10,
                    wasm_end: 40,
                    native_start: 100,
                    native_len: 50,
                    rows: vec![(4, 10, 12), (10, 20, 20), (20, 30, 12), (30, 46, 30)],
                    locals: &[],
                    local_sizes: &[],
                },
                FunctionMap {
                    wasm_start: 40,
                    wasm_end: 60,
                    native_start: 200,
                    native_len: 20,
                    rows: vec![(0, 20, 45)],
                    locals: &[],
                    local_sizes: &[],
                },
            ],
        }
    }

    #[test]
    fn a_whole_body_is_the_whole_function() {
        assert_eq!(map().ranges(10, 40), [(100, 150)]);
        assert_eq!(map().ranges(0, 100), [(100, 150), (200, 220)]);
    }

    #[test]
    fn part_of_a_body_is_the_code_that_came_from_it() {
        // Wasm 12 became two native ranges; wasm 20 lies between them.
        assert_eq!(map().ranges(12, 13), [(104, 110), (120, 130)]);
        assert_eq!(map().ranges(12, 21), [(104, 130)]);
        assert_eq!(map().ranges(21, 30), []);
        assert_eq!(map().ranges(25, 50), [(130, 146), (200, 220)]);
    }

    #[test]
    fn addresses_map_to_the_first_code_from_them_or_after() {
        let map = map();
        assert_eq!(map.function_at(9), None);
        assert_eq!(map.function_at(39), Some(0));
        assert_eq!(map.function_at(40), Some(1));
        assert_eq!(map.address(10), Some(100));
        assert_eq!(map.address(12), Some(104));
        assert_eq!(map.address(13), Some(110));
        assert_eq!(map.address(31), None);
        assert_eq!(map.address(60), None);
    }
}
