//! Running one child process and measuring it: whole-process wall time (fork to reap),
//! peak resident set size (`wait4`'s `ru_maxrss`), exit status and stdout.
//!
//! The child is started by `benches/measure/measure.c`, a small static C program built
//! on first use, which forks, execs, reaps with `wait4` and prints the numbers. Spawning
//! from wafer-bench itself would inflate `ru_maxrss`: Linux charges a process's
//! pre-`execve` image to it, so a child inherits its spawner's RSS (a few MiB for this
//! harness, ~0.1 MiB for the helper) as a floor. See that file.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// A command line: the program (a path) and its arguments.
#[derive(Clone, Debug)]
pub struct Cmd(pub Vec<OsString>);

impl Cmd {
    pub fn new<I, S>(args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        Cmd(args.into_iter().map(Into::into).collect())
    }
}

/// How one run of a child ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(i32),
    TimedOut,
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Exit::Code(code) => write!(f, "exit status {code}"),
            Exit::Signal(signal) => write!(f, "killed by signal {signal}"),
            Exit::TimedOut => write!(f, "timed out"),
        }
    }
}

/// One measured run.
#[derive(Debug)]
pub struct Sample {
    pub wall: Duration,
    /// Peak resident set size of the child, in KiB (`ru_maxrss`).
    pub max_rss_kib: u64,
    pub exit: Exit,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Sample {
    pub fn success(&self) -> bool {
        self.exit == Exit::Code(0)
    }

    /// A one-line description of a failed run: the exit and the first stderr line.
    pub fn failure(&self) -> String {
        let stderr = String::from_utf8_lossy(&self.stderr);
        match stderr.lines().find(|line| !line.trim().is_empty()) {
            Some(line) => format!("{}: {}", self.exit, line.trim()),
            None => self.exit.to_string(),
        }
    }
}

/// Runs children through the `measure` helper, with their output in a scratch folder.
#[derive(Debug)]
pub struct Meter {
    helper: PathBuf,
    scratch: PathBuf,
}

impl Meter {
    /// Builds the helper from `source` into `work` (`gcc -O2 -static`) and uses
    /// `scratch` for the children's output.
    pub fn new(source: &Path, work: &Path, scratch: &Path) -> Result<Meter, String> {
        let helper = work.join("measure");
        let text = std::fs::read(source).map_err(|e| format!("{}: {e}", source.display()))?;
        let key = format!("{:016x}", crate::runners::fnv1a(&[&text]));
        let stamp = work.join("measure.key");
        if !helper.is_file() || std::fs::read_to_string(&stamp).ok().as_deref() != Some(&key) {
            build_step(
                Command::new("gcc")
                    .args(["-O2", "-static", "-Wall", "-Wextra"])
                    .arg(source)
                    .arg("-o")
                    .arg(&helper),
            )?;
            std::fs::write(&stamp, key).map_err(|e| format!("{}: {e}", stamp.display()))?;
        }
        Ok(Meter {
            helper,
            scratch: scratch.to_path_buf(),
        })
    }

    /// The folder for the children's output (and other scratch files).
    pub fn scratch(&self) -> &Path {
        &self.scratch
    }

    /// Runs `cmd` with an empty environment, stdin from `/dev/null`, killed after
    /// `limit`, and measures it.
    pub fn run(&self, cmd: &Cmd, limit: Duration) -> Result<Sample, String> {
        let out_path = self.scratch.join("child.stdout");
        let err_path = self.scratch.join("child.stderr");
        let output = Command::new(&self.helper)
            .arg(&out_path)
            .arg(&err_path)
            .arg(limit.as_millis().to_string())
            .args(&cmd.0)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", self.helper.display()))?;
        let report = String::from_utf8_lossy(&output.stdout);
        let fields: Vec<&str> = report.split_whitespace().collect();
        let parsed = match fields[..] {
            [wall, rss, kind, value] => wall
                .parse::<u64>()
                .ok()
                .zip(rss.parse::<u64>().ok())
                .zip(value.parse::<i32>().ok())
                .and_then(|((wall, rss), value)| {
                    let exit = match kind {
                        "exit" => Exit::Code(value),
                        "signal" => Exit::Signal(value),
                        "timeout" => Exit::TimedOut,
                        _ => return None,
                    };
                    Some((Duration::from_nanos(wall), rss, exit))
                }),
            _ => None,
        };
        let Some((wall, max_rss_kib, exit)) = parsed else {
            return Err(format!(
                "measure helper failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        };
        let read =
            |path: &Path| std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()));
        Ok(Sample {
            wall,
            max_rss_kib,
            exit,
            stdout: read(&out_path)?,
            stderr: read(&err_path)?,
        })
    }
}

/// Runs a build step: success, or the command and its stderr as the error.
pub fn build_step(cmd: &mut Command) -> Result<(), String> {
    let output = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", cmd.get_program().to_string_lossy()))?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let text = if stderr.trim().is_empty() {
        stdout
    } else {
        stderr
    };
    Err(format!(
        "`{}` failed ({}): {}",
        describe(cmd),
        output.status,
        text.trim()
    ))
}

/// A command as a shell-like line, for error messages.
pub fn describe(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|arg| arg.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The median of `values` (mean of the middle two for an even count).
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// The geometric mean of positive `values`.
pub fn geomean(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    (values.iter().map(|v| v.ln()).sum::<f64>() / values.len() as f64).exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn geomeans() {
        assert!((geomean(&[1.0, 4.0]) - 2.0).abs() < 1e-12);
        assert!((geomean(&[2.0, 2.0, 2.0]) - 2.0).abs() < 1e-12);
    }

    #[test]
    fn measures_a_child() {
        if crate::tools::which("gcc").is_none() {
            eprintln!("skipped: no gcc to build the measure helper");
            return;
        }
        let dir = std::env::temp_dir().join(format!("wafer-bench-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("measure/measure.c");
        let meter = Meter::new(&source, &dir, &dir).unwrap();
        let limit = Duration::from_secs(30);
        let ok = meter
            .run(
                &Cmd::new(["/bin/sh", "-c", "echo hi; echo oops >&2; exit 3"]),
                limit,
            )
            .unwrap();
        assert_eq!(ok.stdout, b"hi\n");
        assert_eq!(ok.exit, Exit::Code(3));
        assert_eq!(ok.failure(), "exit status 3: oops");
        assert!(ok.max_rss_kib > 0);
        let slow = meter
            .run(&Cmd::new(["/bin/sleep", "5"]), Duration::from_millis(100))
            .unwrap();
        assert_eq!(slow.exit, Exit::TimedOut);
        assert!(slow.wall < Duration::from_secs(4));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
