//! Tests of the canonical ABI: layouts, lifting and lowering, strings, traps, handles,
//! encodings, and random round trips.

mod encode;
mod handles;
mod layout;
mod property;
mod strings;
mod support;
mod text;
mod traps;
mod values;
