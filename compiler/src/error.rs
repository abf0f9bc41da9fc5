//! The compiler's error type: small, typed, one line each.

use std::fmt;

/// Why a module could not be compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompileError {
    /// The input is not valid WebAssembly (malformed or failing validation).
    InvalidWasm {
        /// What is wrong.
        message: String,
        /// Byte offset in the input.
        offset: usize,
    },
    /// The input is valid but uses something wafer does not support (yet).
    Unsupported {
        /// What is unsupported.
        message: String,
        /// Byte offset in the input, when there is one.
        offset: Option<usize>,
    },
    /// The module imports something nothing provides, or with the wrong type.
    Link(String),
    /// A limit of the implementation was exceeded.
    ImplLimit(String),
    /// The code generator failed (a bug in wafer or Cranelift).
    Codegen(String),
}

impl CompileError {
    /// An unsupported feature at a byte offset.
    pub fn unsupported_at(message: impl Into<String>, offset: usize) -> Self {
        CompileError::Unsupported {
            message: message.into(),
            offset: Some(offset),
        }
    }

    /// Says which function a body's error is in (named when the module names it), so a
    /// user can find it without a disassembler.
    pub fn in_function(self, index: u32, name: Option<&str>) -> Self {
        let place = match name {
            Some(name) => format!("in function {index} `{name}`"),
            None => format!("in function {index}"),
        };
        match self {
            CompileError::InvalidWasm { message, offset } => CompileError::InvalidWasm {
                message: format!("{place}: {message}"),
                offset,
            },
            CompileError::Unsupported { message, offset } => CompileError::Unsupported {
                message: format!("{place}: {message}"),
                offset,
            },
            other => other,
        }
    }

    /// An unsupported feature without an offset.
    pub fn unsupported(message: impl Into<String>) -> Self {
        CompileError::Unsupported {
            message: message.into(),
            offset: None,
        }
    }
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompileError::InvalidWasm { message, offset } => {
                write!(
                    f,
                    "invalid wasm at offset {offset:#x}: {}",
                    Escaped(message)
                )
            }
            CompileError::Unsupported {
                message,
                offset: Some(offset),
            } => write!(f, "unsupported at offset {offset:#x}: {}", Escaped(message)),
            CompileError::Unsupported {
                message,
                offset: None,
            } => write!(f, "unsupported: {}", Escaped(message)),
            CompileError::Link(message) => write!(f, "{}", Escaped(message)),
            CompileError::ImplLimit(message) => {
                write!(f, "implementation limit: {}", Escaped(message))
            }
            CompileError::Codegen(message) => {
                write!(f, "code generation failed: {}", Escaped(message))
            }
        }
    }
}

/// A message shown with its control characters escaped (`\n`, `\u{1b}`): messages quote
/// names from the input (imports, exports, functions), which may hold any character,
/// and an error must stay one line that cannot drive the terminal.
#[derive(Debug, Clone, Copy)]
pub struct Escaped<'a>(pub &'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write;
        for c in self.0.chars() {
            if c.is_control() {
                write!(f, "{}", c.escape_debug())?;
            } else {
                f.write_char(c)?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for CompileError {}

impl From<wasmparser::BinaryReaderError> for CompileError {
    fn from(err: wasmparser::BinaryReaderError) -> Self {
        let message = if err.message().starts_with("magic header not detected") {
            "not a WebAssembly module (no \\0asm magic header)".to_string()
        } else {
            one_line(err.message())
        };
        CompileError::InvalidWasm {
            message,
            offset: err.offset() as usize,
        }
    }
}

/// Joins a multi-line message into one line.
fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Result with a [`CompileError`].
pub type Result<T, E = CompileError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_control_characters_stay_on_one_line() {
        let error = CompileError::Link(
            "unknown import: global `a\nb\u{1b}[31m` (at offset 0x15) is not provided".into(),
        );
        assert_eq!(
            error.to_string(),
            "unknown import: global `a\\nb\\u{1b}[31m` (at offset 0x15) is not provided"
        );
        let error = CompileError::unsupported_at("function `f\r\t`: no", 3);
        assert_eq!(
            error.to_string(),
            "unsupported at offset 0x3: function `f\\r\\t`: no"
        );
    }
}
