//! Phase timings for `--timings` (or `WAFER_TIMINGS=1`): where a build spends its time, on
//! stderr, and how many explicit bounds checks it emitted and left out. Each phase is
//! also announced to the progress reporter.

use std::sync::OnceLock;
use std::time::Instant;

static ENABLED: OnceLock<bool> = OnceLock::new();

fn enabled() -> bool {
    *ENABLED.get_or_init(|| std::env::var_os("WAFER_TIMINGS").is_some_and(|v| v != "0"))
}

/// Turns timings on for the rest of the process (`--timings`), whatever the environment
/// says.
pub fn enable() {
    let _ = ENABLED.set(true);
}

/// Runs `f`, reporting how long it took as phase `name` when timings are on.
pub fn phase<R>(name: &'static str, f: impl FnOnce() -> R) -> R {
    let _span = Span::start(name);
    f()
}

/// A phase that reports its duration when dropped (for phases with early returns).
pub struct Span {
    name: &'static str,
    start: Option<Instant>,
}

impl Span {
    /// Starts phase `name`.
    pub fn start(name: &'static str) -> Span {
        crate::progress::phase(name, None);
        Span {
            name,
            start: enabled().then(Instant::now),
        }
    }
}

impl Drop for Span {
    fn drop(&mut self) {
        if let Some(start) = self.start {
            eprintln!(
                "wafer: timing: {:<12} {:>9.1} ms",
                self.name,
                start.elapsed().as_secs_f64() * 1e3
            );
        }
    }
}

/// Reports how many explicit bounds checks a build emitted and left out, when timings
/// are on and the build has any checked memory access.
pub fn bounds_checks(stats: &crate::translate::bounds::BoundsStats) {
    if enabled() && stats.emitted + stats.elided() > 0 {
        eprintln!(
            "wafer: bounds checks: {} emitted, {} elided ({} constant, {} bounded, {} dominated)",
            stats.emitted,
            stats.elided(),
            stats.constant,
            stats.bounded,
            stats.dominated
        );
    }
}
