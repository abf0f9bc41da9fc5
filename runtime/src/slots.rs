//! Tables of slots whose freed entries are reused: a long-running program (an HTTP
//! service) makes and frees streams, tasks and connections without end, and each table
//! stays as long as the most alive at once.

use alloc::vec::Vec;

/// Puts `item` in the first free slot of `list` (or a new one at its end); its index.
pub fn insert<T>(list: &mut Vec<Option<T>>, item: T) -> u32 {
    match list.iter().position(Option::is_none) {
        Some(free) => {
            list[free] = Some(item);
            free as u32
        }
        None => {
            list.push(Some(item));
            list.len() as u32 - 1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freed_slots_are_reused_first() {
        let mut list = Vec::new();
        assert_eq!(insert(&mut list, 'a'), 0);
        assert_eq!(insert(&mut list, 'b'), 1);
        list[0] = None;
        assert_eq!(insert(&mut list, 'c'), 0);
        assert_eq!(insert(&mut list, 'd'), 2);
        assert_eq!(list, [Some('c'), Some('b'), Some('d')]);
    }
}
