//! Test-harness images: a spec-test runner drives several instances in one process.
//!
//! A harness image is entered at [`crate::symbols::HARNESS_ENTRY`]. It reads one command
//! per line on stdin and answers one line per command on stdout:
//!
//! ```text
//! i K            instantiate instance K          -> "ok" | "trap N"
//! c K E V...     call function export E of K     -> "ok R..." | "trap N"
//! g K E          read global export E of K       -> "ok V"
//! n K            instantiate component K         -> "ok" | "trap N D"
//! x K E A        call export E of component K    -> "ok R" | "trap N D"
//! q              quit                            -> (exit 0)
//! ```
//!
//! `N` is a [`crate::trap::TrapKind`] code, and `D` the handle index of a trap that names
//! one (else `-`); values `V`/`R` of core calls are the 16-byte value slots as 32 hex
//! digits (little-endian value in the low bytes). Export numbers are positions in the
//! module's export section, or in the component's list of exported functions. A
//! component call's arguments `A` and results `R` are component values: the bytes of
//! their `wafer_canon::encode` value encoding (`WCV1`, of the export's parameter and
//! result types) in hex; the image lowers the arguments into the callee, lifts its
//! results and calls its `post-return`, as the canonical ABI's `canon lift` does.
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
//! from `values[0]`; for [`EXPORT_GLOBAL`] it is the address of the global's slot.

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
///                    | component instance | memory is 64-bit
///                    | callback trampoline (0: none)
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
    /// The function type of an export whose type the canonical-ABI model cannot hold.
    pub const NO_FUNC_TYPE: u64 = u32::MAX as u64;
}

/// Export kind: not callable or readable by the harness (a memory, a table, a tag).
pub const EXPORT_NONE: u64 = 0;
/// Export kind: a function, with a trampoline.
pub const EXPORT_FUNC: u64 = 1;
/// Export kind: a global, with its slot's address.
pub const EXPORT_GLOBAL: u64 = 2;

/// Size of one argument or result slot.
pub const VALUE_SLOT_SIZE: u32 = 16;

/// Most arguments or results a harness call passes.
pub const MAX_VALUES: usize = 64;
