//! The platform layer. Everything OS- or board-specific sits behind this module; a port
//! adds a sibling of `linux` and selects it here.

#[cfg(target_os = "linux")]
pub mod linux;
#[cfg(target_os = "linux")]
pub use linux::*;
