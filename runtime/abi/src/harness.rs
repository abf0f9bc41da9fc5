//! Test-harness images: a spec-test runner drives several instances in one process.
//!
//! A harness image is entered at [`crate::symbols::HARNESS_ENTRY`]. It reads one command
//! per line on stdin and answers one line per command on stdout:
//!
//! ```text
//! i K            instantiate instance K          -> "ok" | "trap N"
//! c K E V...     call function export E of K     -> "ok R..." | "trap N"
//! g K E          read global export E of K       -> "ok V"
//! s K E V        write global export E of K      -> "ok"
//! m K E          memory export E of K            -> "ok L H"
//! t K E          table export E of K             -> "ok L H"
//! n K            instantiate component K         -> "ok" | "trap N D"
//! x K E A        call export E of component K    -> "ok R" | "trap N D"
//! q              quit                            -> (exit 0)
//! ```
//!
//! `N` is a [`crate::trap::TrapKind`] code, and `D` the handle index of a trap that names
//! one (else `-`); values `V`/`R` of core calls are the 16-byte value slots as 32 hex
//! digits (little-endian value in the low bytes); `K`, `E` and the result count are hex
//! numbers. Export numbers are positions in the module's export section, or in the
//! component's list of exported functions. A component call's arguments `A` and results
//! `R` are component values: the bytes of their `wafer_canon::encode` value encoding
//! (`WCV1`, of the export's parameter and result types) in hex; the image lowers the
//! arguments into the callee, lifts its results and calls its `post-return`, as the
//! canonical ABI's `canon lift` does.
//!
//! `s` writes a global whatever its mutability: the differential fuzzer refuels a
//! module between calls through it. `m` answers a memory's current length in bytes `L`
//! and [`hash_words`] of its contents `H`; `t` a table's current length in elements and
//! [`hash_words`] of one byte per element, 1 for a non-null reference and 0 for null
//! (references to functions cannot be compared across engines, their presence can).
//! Both are for comparing an image's state with a reference interpreter's.
//!
//! The compiler describes the instances in the harness table
//! ([`crate::symbols::HARNESS_TABLE`]); every field is one target pointer wide:
//!
//! ```text
//! header:            instance count | pointer to the instance records
//! instance record:   instantiate fn | export count | pointer to the export records
//! export record:     kind | address
//! ```
//!
//! For [`EXPORT_FUNC`] the address is an `extern "C" fn(values: *mut [u8; 16])`
//! trampoline that reads the arguments from `values[0..]` and writes the results back
//! from `values[0]`, each filling its slot (zeros above a narrower value); for [`EXPORT_GLOBAL`] it is the address of the global's slot; for
//! [`EXPORT_MEMORY`] and [`EXPORT_TABLE`] the address of the memory's or table's
//! definition in its owner's VM context (`VMMemoryDefinition`, `VMTableDefinition`).

/// The component harness table ([`crate::symbols::COMPONENT_HARNESS_TABLE`]) of an image
/// built from components; every field is one target pointer wide:
///
/// ```text
/// header:            component count | pointer to the component records
/// component record:  instantiate fn | export count | pointer to the export records
///                    | types | types length | component descriptor
///                    | first component instance | component instance count
/// export record:     call trampoline | post-return trampoline (0: none)
///                    | function type (NO_FUNC_TYPE: none) | canonical options context
///                    | component instance | flags ([`component::MEMORY64`],
///                    [`component::LIFTED_ASYNC`]) | callback trampoline (0: none)
/// ```
///
/// The types are the component's exported function types in the `wafer_canon::encode`
/// type encoding (`WCT1`); an export's function type indexes them. The trampolines are
/// `extern "C" fn(values: *mut [u8; 16])`: the call trampoline calls the lifted core
/// function with flat arguments from `values[0..]` and writes its flat results back from
/// `values[0]`; the post-return trampoline calls `post-return` with the flat results in
/// `values[0..]`. An export lifted `async` with a `callback` has a callback trampoline:
/// it calls the callback with the event in `values[0..3]` and writes its packed result
/// to `values[0]` (the call trampoline's result is packed the same way). The options context is a `crate::wasi_p2::CanonContext` (the callee's
/// memory, `realloc` and string encoding); the component descriptor is
/// `crate::component`'s (the instances' handle tables and flags).
pub mod component {
    /// Fields in a component record.
    pub const COMPONENT_FIELDS: usize = 8;
    /// Fields in an export record.
    pub const EXPORT_FIELDS: usize = 7;
    /// An export record's flag: the options' memory is 64-bit.
    pub const MEMORY64: u64 = 1;
    /// An export record's flag: lifted `async` (with a callback, or stackful without).
    pub const LIFTED_ASYNC: u64 = 2;
    /// The function type of an export whose type the canonical-ABI model cannot hold.
    pub const NO_FUNC_TYPE: u64 = u32::MAX as u64;
}

/// Export kind: not callable or readable by the harness (a tag).
pub const EXPORT_NONE: u64 = 0;
/// Export kind: a function, with a trampoline.
pub const EXPORT_FUNC: u64 = 1;
/// Export kind: a global, with its slot's address.
pub const EXPORT_GLOBAL: u64 = 2;
/// Export kind: a linear memory, with its definition's address.
pub const EXPORT_MEMORY: u64 = 3;
/// Export kind: a table, with its definition's address.
pub const EXPORT_TABLE: u64 = 4;

/// Size of one argument or result slot.
pub const VALUE_SLOT_SIZE: u32 = 16;

/// Most arguments or results a harness call passes.
pub const MAX_VALUES: usize = 64;

/// Incremental hash of a byte sequence for the `m` and `t` commands: fast (a multiply
/// per 8 bytes) and identical in the image and in the reference it is compared with.
/// Bytes are taken as little-endian 64-bit words; [`WordHasher::update`] must be given
/// whole words except on its last call, which [`hash_words`] does.
#[derive(Debug, Clone, Copy)]
pub struct WordHasher {
    state: u64,
    length: u64,
}

impl Default for WordHasher {
    fn default() -> Self {
        WordHasher {
            state: 0x9e37_79b9_7f4a_7c15,
            length: 0,
        }
    }
}

impl WordHasher {
    /// Adds `bytes`; all but the last call must pass a multiple of 8 bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let mut raw = [0u8; 8];
            raw.copy_from_slice(word);
            self.mix(u64::from_le_bytes(raw));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut raw = [0u8; 8];
            raw[..rest.len()].copy_from_slice(rest);
            self.mix(u64::from_le_bytes(raw));
        }
        self.length = self.length.wrapping_add(bytes.len() as u64);
    }

    fn mix(&mut self, word: u64) {
        self.state = (self.state.rotate_left(23) ^ word).wrapping_mul(0xff51_afd7_ed55_8ccd);
    }

    /// The hash of everything added, with its length.
    pub fn finish(&self) -> u64 {
        let mut h = self.state ^ self.length;
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^= h >> 33;
        h
    }
}

/// [`WordHasher`] over `bytes` in one go.
pub fn hash_words(bytes: &[u8]) -> u64 {
    let mut hasher = WordHasher::default();
    hasher.update(bytes);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashing_in_word_chunks_equals_hashing_at_once() {
        let bytes: [u8; 45] = core::array::from_fn(|i| (i * 37 + 11) as u8);
        let mut hasher = WordHasher::default();
        hasher.update(&bytes[..16]);
        hasher.update(&bytes[16..40]);
        hasher.update(&bytes[40..]);
        assert_eq!(hasher.finish(), hash_words(&bytes));
    }

    #[test]
    fn hashes_tell_contents_and_lengths_apart() {
        assert_ne!(hash_words(&[0; 8]), hash_words(&[0; 16]));
        assert_ne!(hash_words(&[0; 7]), hash_words(&[0; 8]));
        let mut flipped = [0u8; 64];
        flipped[63] = 1;
        assert_ne!(hash_words(&[0; 64]), hash_words(&flipped));
        assert_ne!(hash_words(&[]), hash_words(&[0]));
    }
}
