//! How far a build has got, for a person watching a terminal.
//!
//! The library only announces phases and counts finished functions; what is shown, and
//! whether anything is, is the front end's business (`wafer` draws a bar on a terminal
//! and nothing otherwise). With no reporter installed every call is a relaxed load.

use std::sync::OnceLock;

/// Receives a build's progress. Called from the compiling threads, so it must be cheap.
pub trait Reporter: Send + Sync {
    /// A phase began; `total` is the number of steps when it is counted.
    fn phase(&self, name: &'static str, total: Option<u64>);
    /// `steps` more steps of the current phase are done.
    fn advance(&self, steps: u64);
    /// The build ended (successfully or not): whatever is shown goes away.
    fn finish(&self);
}

static REPORTER: OnceLock<Box<dyn Reporter>> = OnceLock::new();

/// Installs the process's reporter; the first one stays.
pub fn install(reporter: Box<dyn Reporter>) {
    let _ = REPORTER.set(reporter);
}

/// Announces phase `name`, with its number of steps when it counts them.
pub fn phase(name: &'static str, total: Option<u64>) {
    if let Some(reporter) = REPORTER.get() {
        reporter.phase(name, total);
    }
}

/// One step of the current phase is done.
pub fn step() {
    if let Some(reporter) = REPORTER.get() {
        reporter.advance(1);
    }
}

/// The build is over.
pub fn finish() {
    if let Some(reporter) = REPORTER.get() {
        reporter.finish();
    }
}
