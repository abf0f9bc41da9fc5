//! Boards under qemu-system: which boards to test and how to boot an image on one.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::Outcome;

/// A board under test: its target name and QEMU command line.
pub struct Board {
    /// The `--target` name.
    pub name: String,
    /// The qemu-system command line, the image's path to follow.
    pub qemu: Vec<String>,
    /// Whether QEMU's CPU for it runs RISC-V vector code (no board's does by default).
    pub vector: bool,
}

impl Board {
    /// Boots `image`, feeding the console `stdin`; kills QEMU after `limit`.
    pub fn boot(
        &self,
        image: &Path,
        stdin: Option<&[u8]>,
        limit: Duration,
    ) -> Result<Outcome, String> {
        let (program, args) = self.qemu.split_first().ok_or("no qemu command")?;
        if super::which(program).is_none() {
            return Err(format!(
                "{program} is not installed (Debian bookworm-backports: qemu-system-arm, \
                 qemu-system-misc)"
            ));
        }
        let mut command = Command::new(program);
        command.args(args).arg(image);
        Ok(run(&mut command, stdin, limit))
    }
}

/// Every board in `targets/`, or those `WAFER_TEST_BOARDS=name,name` names.
pub fn boards() -> Vec<Board> {
    let wanted = std::env::var("WAFER_TEST_BOARDS").ok();
    let mut boards = Vec::new();
    for entry in std::fs::read_dir(super::repo().join("targets")).unwrap() {
        let descriptor = entry.unwrap().path().join("target.toml");
        let Ok(text) = std::fs::read_to_string(&descriptor) else {
            continue;
        };
        let table: toml::Table = text.parse().unwrap();
        let Some(board) = table.get("board").and_then(|b| b.as_table()) else {
            continue;
        };
        let name = table["name"].as_str().unwrap().to_string();
        if wanted
            .as_deref()
            .is_some_and(|list| !list.split(',').any(|w| w == name))
        {
            continue;
        }
        let qemu = board["qemu"]
            .as_array()
            .unwrap()
            .iter()
            .map(|arg| arg.as_str().unwrap().to_string())
            .collect();
        boards.push(Board {
            name,
            qemu,
            vector: false,
        });
    }
    boards.sort_by(|a, b| a.name.cmp(&b.name));
    boards
}

/// Runs `command` with `stdin` written to it, killing it after `limit`. Stdin stays
/// open while it runs: QEMU would otherwise see the end of its serial input before the
/// guest reads.
pub fn run(command: &mut Command, stdin: Option<&[u8]>, limit: Duration) -> Outcome {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    let mut pipe = child.stdin.take().unwrap();
    if let Some(input) = stdin {
        let _ = pipe.write_all(input);
    }
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            let mut outcome: Outcome = child.wait_with_output().unwrap().into();
            outcome.stderr.push_str("\n(killed: no exit in time)");
            return outcome;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    drop(pipe);
    child.wait_with_output().unwrap().into()
}

/// A FAT volume of `bytes` bytes in `path` holding `files` (name, contents).
pub fn fat_volume(path: &std::path::Path, bytes: u64, files: &[(&str, &[u8])]) {
    use std::io::Write as _;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .unwrap();
    file.set_len(bytes).unwrap();
    fatfs::format_volume(&file, fatfs::FormatVolumeOptions::new()).unwrap();
    let fs = fatfs::FileSystem::new(&file, fatfs::FsOptions::new()).unwrap();
    for (name, contents) in files {
        let mut out = fs.root_dir().create_file(name).unwrap();
        out.write_all(contents).unwrap();
    }
    drop(fs);
}
