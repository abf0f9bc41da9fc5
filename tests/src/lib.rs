//! Shared helpers for wafer integration tests.
