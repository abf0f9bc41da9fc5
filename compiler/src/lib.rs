//! wafer: compiles WebAssembly modules into self-contained native executables.
//!
//! The pipeline, one module per stage:
//!
//! 1. [`environ`]: parse and validate, producing the module description;
//! 2. [`translate`]: function bodies to Cranelift IR, lowered through an environment
//!    that knows the target's VM context layout and memory strategy;
//! 3. [`codegen`]: machine code, the instantiation function and the object with its
//!    metadata (and, with `-g`, [`debug`]: the guest's DWARF translated to native code);
//! 4. [`driver`]: link with the target's runtime (in-process, `wafer-link`) and write.
//!
//! Compiler and runtime agree only through the `wafer-abi` crate.

pub mod board;
pub mod cache;
pub mod checks;
pub mod codegen;
pub mod component;
pub mod debug;
pub mod driver;
pub mod environ;
pub mod error;
pub mod flash;
pub mod grants;
pub mod inspect;
pub mod metering;
pub mod progress;
pub mod target;
pub mod terminal;
pub mod timing;
pub mod translate;
