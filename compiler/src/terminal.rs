//! What `wafer` shows a person at a terminal: coloured `error:`/`warning:` labels and a
//! progress bar for long builds. Neither appears when stderr is not a terminal (a pipe,
//! a CI log, a test), so scripts see plain one-line messages.

use std::io::IsTerminal;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// When to colour: `--color auto|always|never`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorChoice {
    /// On a terminal, unless `NO_COLOR` is set (<https://no-color.org>).
    Auto,
    /// Always, even into a pipe.
    Always,
    /// Never.
    Never,
}

static COLOR: AtomicBool = AtomicBool::new(false);
static DECIDED: OnceLock<()> = OnceLock::new();

/// Decides, once, whether messages are coloured.
pub fn set_color(choice: ColorChoice) {
    DECIDED.get_or_init(|| {
        let color = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::io::stderr().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
            }
        };
        COLOR.store(color, Ordering::Relaxed);
    });
}

fn colored() -> bool {
    set_color(ColorChoice::Auto);
    COLOR.load(Ordering::Relaxed)
}

/// `wafer: LABEL: ` with the label in bold `color` (an SGR colour code) when colouring.
fn label(name: &str, color: u8) -> String {
    if colored() {
        format!("wafer: \x1b[1;{color}m{name}:\x1b[0m ")
    } else {
        format!("wafer: {name}: ")
    }
}

/// Prints an error line on stderr.
pub fn error(message: &str) {
    clear_progress();
    eprintln!("{}{message}", label("error", 31));
}

/// Prints a warning line on stderr.
pub fn warning(message: &str) {
    clear_progress();
    eprintln!("{}{message}", label("warning", 33));
}

static BAR: OnceLock<ProgressBar> = OnceLock::new();

fn clear_progress() {
    if let Some(bar) = BAR.get() {
        bar.finish_and_clear();
    }
}

/// How long a build runs before its bar appears, so quick builds do not flicker:
/// 300 ms, or `WAFER_PROGRESS_DELAY_MS` (tests set 0).
fn quiet_start() -> Duration {
    let millis = std::env::var("WAFER_PROGRESS_DELAY_MS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(300);
    Duration::from_millis(millis)
}

/// The progress bar on stderr, shown once a build has run for a moment, when stderr is a
/// terminal: the phase, and in `compile` the functions done out of all.
struct TerminalProgress {
    bar: ProgressBar,
    started: std::time::Instant,
    quiet_start: Duration,
    shown: AtomicBool,
}

impl TerminalProgress {
    fn show_if_slow(&self) {
        if self.started.elapsed() >= self.quiet_start && !self.shown.swap(true, Ordering::Relaxed) {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
            self.bar.enable_steady_tick(Duration::from_millis(120));
        }
    }
}

impl crate::progress::Reporter for TerminalProgress {
    fn phase(&self, name: &'static str, total: Option<u64>) {
        let style = match total {
            Some(total) => {
                self.bar.set_length(total);
                self.bar.set_position(0);
                ProgressStyle::with_template(
                    "{spinner} {msg:8} [{bar:32}] {pos}/{len} functions ({eta} left)",
                )
            }
            None => ProgressStyle::with_template("{spinner} {msg}"),
        };
        if let Ok(style) = style {
            self.bar.set_style(style.progress_chars("=> "));
        }
        self.bar.set_message(name);
        self.show_if_slow();
    }

    fn advance(&self, steps: u64) {
        self.bar.inc(steps);
        self.show_if_slow();
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// Shows build progress on stderr from now on, if stderr is a terminal.
pub fn show_progress() {
    if !std::io::stderr().is_terminal() {
        return;
    }
    // Hidden until the build has taken long enough to be worth a bar.
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
    if BAR.set(bar.clone()).is_ok() {
        crate::progress::install(Box::new(TerminalProgress {
            bar,
            started: std::time::Instant::now(),
            quiet_start: quiet_start(),
            shown: AtomicBool::new(false),
        }));
    }
}
