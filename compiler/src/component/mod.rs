//! The component front end: from a component (binary, or text through the `wat` crate)
//! to wafer's flat plan ([`plan::ComponentPlan`]), which `codegen` compiles into one
//! image like a multi-instance core image.
//!
//! `translate.rs` drives wasmtime-environ's component translator, which validates the
//! component, instantiates its graph at compile time and generates the fused adapter
//! modules; it is the only file that sees wasmtime-environ's types. `world.rs` describes
//! what the component imports and exports, for `wafer inspect`.

pub mod plan;
mod translate;
pub mod world;

pub use plan::ComponentPlan;
pub use translate::{adapter_trap_kinds, is_component, translate};
