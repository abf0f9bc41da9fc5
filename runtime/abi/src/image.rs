//! The image descriptor: the one data symbol ([`crate::symbols::IMAGE_DESCRIPTOR`]) through
//! which the runtime finds everything the compiler produced.
//!
//! Every field is one target pointer wide; see [`ImageField`] for the order. Pointer
//! fields are filled by relocations.

/// Magic value in [`ImageField::Magic`]: "WAFR" followed by the format version.
pub const IMAGE_MAGIC: u64 = 0x5246_4157 | ((IMAGE_VERSION as u64) << 32);

/// Version of the descriptor and metadata formats; bumped on any incompatible change.
pub const IMAGE_VERSION: u32 = 4;

/// Fields of the image descriptor, in order. Field `i` is at byte `i * pointer_size`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum ImageField {
    /// [`IMAGE_MAGIC`] (truncated to the pointer width).
    Magic = 0,
    /// Address of the first byte of compiled wasm code.
    CodeStart,
    /// Length of the compiled code in bytes.
    CodeLen,
    /// Address of the trap table ([`crate::trap::TrapTable`] format).
    TrapTable,
    /// Length of the trap table in bytes.
    TrapTableLen,
    /// Address of the grants ([`crate::grants`] format).
    Grants,
    /// Length of the grants in bytes.
    GrantsLen,
    /// Bytes of native stack the guest may use.
    StackSize,
    /// Bit flags, see [`flags`].
    Flags,
    /// Address of the exception table ([`crate::exceptions`] format).
    ExceptionTable,
    /// Length of the exception table in bytes.
    ExceptionTableLen,
    /// Address of the read-only file trees baked into a firmware image
    /// ([`crate::files`] format; 0 when there are none).
    Files,
    /// Length of the file trees in bytes.
    FilesLen,
    /// How many linear memories the image's instances define (a board shares the RAM the
    /// image leaves free among them).
    Memories,
    /// Address of the component's world (see [`world`]); 0 for a core module.
    World,
    /// Length of the world in bytes.
    WorldLen,
    /// The instruction budget of `--fuel`; 0 when the image is not metered by fuel.
    Fuel,
    /// The wall-clock limit of `--deadline` in nanoseconds from start; 0 for none.
    DeadlineNanos,
}

impl ImageField {
    /// Number of fields.
    pub const COUNT: u32 = ImageField::DeadlineNanos as u32 + 1;

    /// Byte offset of this field for a target with `pointer_size`-byte pointers.
    pub const fn offset(self, pointer_size: u8) -> u32 {
        self as u32 * pointer_size as u32
    }
}

/// Bits of [`ImageField::Flags`].
pub mod flags {
    /// The image has an entry point to run ([`crate::symbols::IMAGE_MAIN`] does work).
    pub const HAS_MAIN: u64 = 1;
    /// Bits 8–9: how a firmware image ends the program, an [`super::ExitMethod`].
    pub const EXIT_METHOD_SHIFT: u32 = 8;
    /// The mask of the exit method bits (before shifting).
    pub const EXIT_METHOD_MASK: u64 = 0b11;
}

/// How a firmware image ends the program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ExitMethod {
    /// Semihosting `SYS_EXIT`: QEMU (or a debugger) ends with the exit code. Without a
    /// debugger, real hardware traps.
    Semihosting = 0,
    /// Park every core with interrupts masked.
    Halt = 1,
    /// Reset the board.
    Reset = 2,
}

impl ExitMethod {
    /// The method stored in descriptor flags.
    pub fn from_flags(flags: u64) -> ExitMethod {
        match (flags >> flags::EXIT_METHOD_SHIFT) & flags::EXIT_METHOD_MASK {
            1 => ExitMethod::Halt,
            2 => ExitMethod::Reset,
            _ => ExitMethod::Semihosting,
        }
    }

    /// Its bits in descriptor flags.
    pub fn to_flags(self) -> u64 {
        (self as u64) << flags::EXIT_METHOD_SHIFT
    }

    /// The name users pass to `--on-exit`.
    pub fn name(self) -> &'static str {
        match self {
            ExitMethod::Semihosting => "semihosting",
            ExitMethod::Halt => "halt",
            ExitMethod::Reset => "reset",
        }
    }
}

/// Default native stack for the guest: 8 MiB, as a native Linux main thread gets.
pub const DEFAULT_STACK_SIZE: u64 = 8 << 20;

/// The world of an image built from a component, for `wafer inspect` (the runtime never
/// reads it): UTF-8 text, one item per line, each line a keyword, a space and a name:
///
/// ```text
/// import wasi:cli/stdout@0.2.6            an imported interface (or a bare function)
/// func get-stdout                         a function of the interface above
/// func! [method]output-stream.write       ... one nothing provides (`--trap-unknown-imports`)
/// export wasi:cli/run@0.2.0               an exported interface or function
/// func run                                a function of the export above
/// ```
pub mod world {
    /// An imported interface or function.
    pub const IMPORT: &str = "import";
    /// An exported interface or function.
    pub const EXPORT: &str = "export";
    /// A function of the import or export above, provided by the host or by the
    /// component.
    pub const FUNC: &str = "func";
    /// An imported function nothing provides: calling it traps.
    pub const UNPROVIDED: &str = "func!";
}
