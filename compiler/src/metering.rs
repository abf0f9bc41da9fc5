//! Metering for untrusted code: `--fuel N` (an instruction budget) and `--deadline
//! DURATION` (a wall-clock limit).
//!
//! Both run on one counter, the runtime's `wafer_rt_meter`, so an image pays for one
//! mechanism whichever it asks for. Compiled code keeps the counter in a register,
//! subtracts each straight-line stretch's operator count once at its end (with fuel; one
//! per check without), and compares it with zero at function entries and loop headers:
//! the places every endless computation passes through. Below zero it calls the runtime,
//! which charges the real budget, looks at the clock, and either traps or hands out the
//! next stretch. With a deadline the stretches are short, so the clock is read often
//! enough; without one a single stretch is the whole budget.

use std::time::Duration;

/// What an image meters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Metering {
    /// The instruction budget: wasm operators executed, roughly (each straight-line
    /// stretch charges its operator count at its end).
    pub fuel: Option<u64>,
    /// The wall-clock limit from the program's start.
    pub deadline: Option<Duration>,
}

impl Metering {
    /// Whether compiled code counts anything.
    pub fn is_on(&self) -> bool {
        self.fuel.is_some() || self.deadline.is_some()
    }

    /// What compiled code charges.
    pub fn mode(&self) -> MeterMode {
        match (self.fuel, self.deadline) {
            (Some(_), _) => MeterMode::Fuel,
            (None, Some(_)) => MeterMode::Ticks,
            (None, None) => MeterMode::Off,
        }
    }
}

/// What compiled code charges the meter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeterMode {
    /// Nothing is metered.
    Off,
    /// One per check (a deadline alone): the meter only paces reading the clock.
    Ticks,
    /// Each straight-line stretch's operator count.
    Fuel,
}

/// A fuel budget: a positive whole number, with `_` separators allowed (`10_000_000`).
pub fn parse_fuel(text: &str) -> Result<u64, String> {
    let digits: String = text.trim().chars().filter(|c| *c != '_').collect();
    match digits.parse::<u64>() {
        Ok(fuel) if fuel > 0 && fuel < i64::MAX as u64 => Ok(fuel),
        _ => Err(format!("`{text}` is not a fuel amount like 1000000")),
    }
}

/// A duration like `500ms`, `2s`, `1.5s`, `3m` or `1h` (a bare number is seconds).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let bad = || format!("`{text}` is not a duration like 500ms, 2s or 1m");
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().map_err(|_| bad())?;
    let seconds = match unit {
        "ns" => value / 1e9,
        "us" | "µs" => value / 1e6,
        "ms" => value / 1e3,
        "" | "s" => value,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        _ => return Err(bad()),
    };
    Duration::try_from_secs_f64(seconds)
        .ok()
        .filter(|duration| !duration.is_zero() && duration.as_nanos() < u64::MAX as u128)
        .ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_fuel_parse_with_units_and_refuse_nonsense() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("250us"), Ok(Duration::from_micros(250)));
        for bad in ["", "fast", "0s", "-1s", "10 parsecs", "1e400s"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_fuel("10_000_000"), Ok(10_000_000));
        for bad in ["0", "-5", "lots", "99999999999999999999"] {
            assert!(parse_fuel(bad).is_err(), "{bad}");
        }
    }
}
