//! The linker's one error type.

use std::fmt;

/// What went wrong, for callers that want to branch on it; the message says the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LinkErrorKind {
    /// An input is not a well-formed ELF64 relocatable object or archive.
    Malformed,
    /// An input is well formed but uses something this linker does not support
    /// (a relocation type, thread-local storage, constructors, another architecture...).
    Unsupported,
    /// A live section references a symbol that nothing defines.
    UndefinedSymbol,
    /// Two inputs define the same symbol strongly.
    DuplicateSymbol,
    /// A relocated value does not fit its field, or is misaligned for it.
    RelocationOutOfRange,
    /// The layout or options are inconsistent (base address not page aligned, no entry...).
    InvalidOptions,
}

/// A link failure. `Display` is one line naming the input, section and symbol involved,
/// e.g. ``undefined symbol `foo` referenced from app.o(.text)``.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkError {
    kind: LinkErrorKind,
    message: String,
}

impl LinkError {
    pub(crate) fn new(kind: LinkErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    pub(crate) fn malformed(input: &str, what: impl fmt::Display) -> Self {
        Self::new(
            LinkErrorKind::Malformed,
            format!("{input}: malformed input: {what}"),
        )
    }

    pub(crate) fn unsupported(message: impl Into<String>) -> Self {
        Self::new(LinkErrorKind::Unsupported, message)
    }

    /// The category of the failure.
    pub fn kind(&self) -> LinkErrorKind {
        self.kind
    }

    /// The one-line message (the same text `Display` prints).
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for LinkError {}

/// Shorthand used throughout the crate.
pub(crate) type Result<T, E = LinkError> = std::result::Result<T, E>;

/// Renders a symbol or section name from input bytes for a message.
pub(crate) fn show(name: &[u8]) -> String {
    String::from_utf8_lossy(name).into_owned()
}
