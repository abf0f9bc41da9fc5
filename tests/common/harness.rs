//! Talking to a running harness image (protocol in `wafer_abi::harness`): the spec
//! runners (core and component) and the differential fuzzer (`tests/fuzz`, which includes this file by path)
//! share it.

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::Duration;

/// How long one command may take before the image is considered hung.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// The answer to one command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Success, with the values returned.
    Ok(Vec<u128>),
    /// A trap, by `TrapKind` code.
    Trap(u8),
}

/// A running harness image.
pub struct Harness {
    child: Child,
    stdin: BufWriter<ChildStdin>,
    lines: Receiver<String>,
    timeout: Duration,
}

impl Harness {
    /// Starts the image at `path` with `launcher` (the emulator or QEMU machine command
    /// it takes as its last argument; none for a native image).
    pub fn start(path: &Path, launcher: &[String]) -> Result<Self, String> {
        // Another runner thread may fork while this image's file is still open for
        // writing in its child; exec then fails with ETXTBSY until that child execs.
        let mut attempts = 0;
        let mut child = loop {
            let mut command = match launcher.split_first() {
                Some((program, args)) => {
                    let mut command = Command::new(program);
                    command.args(args).arg(path);
                    command
                }
                None => Command::new(path),
            };
            let spawned = command
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(if std::env::var_os("WAFER_HARNESS_STDERR").is_some() {
                    Stdio::inherit()
                } else {
                    Stdio::null()
                })
                .env_clear()
                .spawn();
            match spawned {
                Ok(child) => break child,
                Err(e) if e.raw_os_error() == Some(26) && attempts < 100 => {
                    attempts += 1;
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(e) => return Err(format!("cannot start the image: {e}")),
            }
        };
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let (sender, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(Harness {
            child,
            stdin: BufWriter::new(stdin),
            lines,
            timeout: COMMAND_TIMEOUT,
        })
    }

    /// Sends one command and waits for its reply.
    pub fn command(&mut self, command: &str) -> Result<Reply, String> {
        self.send(command)?;
        self.receive(command)
    }

    /// Sends one command and waits for its reply line, unparsed (the component harness's
    /// replies carry component values).
    pub fn request(&mut self, command: &str) -> Result<String, String> {
        self.send(command)?;
        self.receive_line(command)
    }

    /// Sends one command without waiting for its reply (buffered until [`Self::flush`]
    /// or [`Self::receive`]): a client that pipelines many commands pays the round trip
    /// once per batch rather than once per command.
    pub fn send(&mut self, command: &str) -> Result<(), String> {
        writeln!(self.stdin, "{command}").map_err(|e| self.died(&e.to_string()))
    }

    /// Sends what [`Self::send`] buffered.
    pub fn flush(&mut self) -> Result<(), String> {
        self.stdin.flush().map_err(|e| self.died(&e.to_string()))
    }

    /// Waits for the reply to the oldest command not yet answered (`command`, for
    /// messages).
    pub fn receive(&mut self, command: &str) -> Result<Reply, String> {
        let line = self.receive_line(command)?;
        let mut words = line.split_whitespace();
        match words.next() {
            Some("ok") => words
                .map(|word| {
                    u128::from_str_radix(word, 16).map_err(|e| format!("bad value {word}: {e}"))
                })
                .collect::<Result<_, _>>()
                .map(Reply::Ok),
            Some("trap") => words
                .next()
                .and_then(|code| code.parse().ok())
                .map(Reply::Trap)
                .ok_or_else(|| format!("bad trap reply `{line}`")),
            _ => Err(format!("harness error: {line}")),
        }
    }

    /// Waits for the reply line to the oldest command not yet answered.
    fn receive_line(&mut self, command: &str) -> Result<String, String> {
        self.flush()?;
        match self.lines.recv_timeout(self.timeout) {
            Ok(line) => Ok(line),
            Err(RecvTimeoutError::Timeout) => {
                let _ = self.child.kill();
                Err(format!("`{}` timed out", short(command)))
            }
            Err(RecvTimeoutError::Disconnected) => Err(self.died("no reply")),
        }
    }

    /// How long one reply may take before the image is considered hung (default 60 s).
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    fn died(&mut self, what: &str) -> String {
        let status = self.child.wait().ok();
        format!("the image died ({what}; status {status:?})")
    }
}

/// A command, cut for messages.
fn short(command: &str) -> &str {
    match command.char_indices().nth(80) {
        Some((at, _)) => &command[..at],
        None => command,
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "q");
        let _ = self.stdin.flush();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
