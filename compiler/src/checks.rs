//! Safety checks compiled into the code instead of left to the hardware.
//!
//! On Linux a 32-bit memory lives in a guarded reservation, so an access past its end
//! faults, and the guest stack has a guard region below it. A board has neither: its
//! code compares every access with the memory's length and every function's stack
//! pointer with a limit. Bare-metal targets always compile both checks; on Linux they
//! can be selected for testing, with the hidden `--checks` option or `WAFER_CHECKS`.

use std::fmt;

use crate::target::{Target, TargetKind};
use crate::translate::env::BoundsStrategy;

/// The environment variable that selects checks for builds that do not name them:
/// `none`, `bounds`, `stack`, or `bounds,stack` (also `all`).
pub const CHECKS_VAR: &str = "WAFER_CHECKS";

/// Which checks compiled code carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checks {
    /// How 32-bit memories are kept in bounds (64-bit memories are always checked).
    pub bounds: BoundsStrategy,
    /// Whether each function's prologue compares the stack pointer with the limit in its
    /// VM context, trapping with `call stack exhausted` below it.
    pub stack_limit: bool,
}

impl Default for Checks {
    fn default() -> Self {
        Checks::NONE
    }
}

impl Checks {
    /// Nothing beyond what the guard regions catch.
    pub const NONE: Checks = Checks {
        bounds: BoundsStrategy::GuardRegion,
        stack_limit: false,
    };

    /// Explicit bounds checks and stack-limit checks: what a board needs.
    pub const ALL: Checks = Checks {
        bounds: BoundsStrategy::Explicit,
        stack_limit: true,
    };

    /// Parses `none`, `all`, or a comma-separated list of `bounds` and `stack`.
    pub fn parse(text: &str) -> Result<Checks, String> {
        let mut checks = Checks::NONE;
        for word in text.split(',').map(str::trim) {
            match word {
                "" | "none" => {}
                "all" => checks = Checks::ALL,
                "bounds" => checks.bounds = BoundsStrategy::Explicit,
                "stack" => checks.stack_limit = true,
                other => {
                    return Err(format!(
                        "unknown check `{other}` (expected none, bounds, stack or all)"
                    ));
                }
            }
        }
        Ok(checks)
    }

    /// The checks `WAFER_CHECKS` selects (none when it is unset).
    pub fn from_env() -> Result<Checks, String> {
        match std::env::var(CHECKS_VAR) {
            Ok(text) => Checks::parse(&text).map_err(|e| format!("{CHECKS_VAR}: {e}")),
            Err(std::env::VarError::NotPresent) => Ok(Checks::NONE),
            Err(std::env::VarError::NotUnicode(_)) => Err(format!("{CHECKS_VAR} is not UTF-8")),
        }
    }

    /// The checks a build for `target` compiles: bare-metal targets have no guard
    /// regions, so they always get every check.
    pub fn for_target(self, target: &Target) -> Checks {
        match target.kind {
            TargetKind::Baremetal => Checks::ALL,
            TargetKind::Linux => self,
        }
    }
}

impl fmt::Display for Checks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bounds = self.bounds == BoundsStrategy::Explicit;
        let text = match (bounds, self.stack_limit) {
            (false, false) => "none",
            (true, false) => "bounds",
            (false, true) => "stack",
            (true, true) => "bounds,stack",
        };
        f.write_str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_parse_and_print_back() {
        for text in ["none", "bounds", "stack", "bounds,stack"] {
            assert_eq!(Checks::parse(text).unwrap().to_string(), text);
        }
        assert_eq!(Checks::parse("stack, bounds").unwrap(), Checks::ALL);
        assert_eq!(Checks::parse("all").unwrap(), Checks::ALL);
        assert_eq!(Checks::parse("").unwrap(), Checks::NONE);
        assert!(Checks::parse("bound").unwrap_err().contains("`bound`"));
    }
}
