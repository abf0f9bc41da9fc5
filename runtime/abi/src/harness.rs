//! Test-harness images: a spec-test runner drives several instances in one process.
//!
//! A harness image is entered at [`crate::symbols::HARNESS_ENTRY`]. It reads one command
//! per line on stdin and answers one line per command on stdout:
//!
//! ```text
//! i K            instantiate instance K          -> "ok" | "trap N"
//! c K E V...     call function export E of K     -> "ok R..." | "trap N"
//! g K E          read global export E of K       -> "ok V"
//! q              quit                            -> (exit 0)
//! ```
//!
//! `N` is a [`crate::trap::TrapKind`] code; values `V`/`R` are the 16-byte value slots as
//! 32 hex digits (little-endian value in the low bytes). Export numbers are positions in
//! the module's export section.
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
