//! WASI preview1 under grants: real C (wasi-libc) and Rust (`wasm32-wasip1`) guests for
//! every area (files, directories, symlinks, timestamps, clocks, random, poll_oneoff,
//! sockets, args and environment), escape attempts that must fail, read-only grants, and
//! raw-call programs that pin down errnos.
//!
//! Each case runs in a fresh copy of one fixture tree (`sandbox/`, `ro/`, `outside/`,
//! with symlinks that point out of the sandbox), with the host directories granted by
//! relative path from the case's working directory. What is compared: the exit status,
//! stdout, and the files left behind in the whole tree (so an escape that wrote outside
//! the sandbox fails the test). `tests/wasi/expected/CASE.expected` holds all three
//! (`WAFER_BLESS=1` rewrites them).
//!
//! Every case runs on every Linux target (natively or under qemu-user) and must match
//! the expected file everywhere, twice: once as is, and once under a seccomp filter
//! that makes `openat2` fail with `ENOSYS`, as on kernels before 5.6 and under some
//! container profiles, so the runtime's fallback path walk is held to the same
//! results. When wasmtime is installed, the cases that say so also
//! run under it with the same grants, and must match the same file: the expected output
//! is wasmtime's. Cases wasmtime cannot run (read-only directories, listening sockets)
//! or where wafer deliberately differs say why.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Failures, Outcome, TestTarget, toolchain};

/// A directory grant: a folder of the fixture, the guest's name for it, read-only?
type Dir = (&'static str, &'static str, bool);

const SANDBOX: Dir = ("sandbox", "/sandbox", false);
const READ_ONLY: Dir = ("ro", "/ro", true);

/// A client for a listening guest: talks to it over `stream`, returns what to record.
type Client = fn(TcpStream) -> String;

/// What a case gives in a component form, against its module's expected output.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Expect {
    /// The same exit status, output and files.
    Same,
    /// Something else, for the reason given: `expected/CASE.FORM.expected` holds it.
    Differs(&'static str),
    /// Not run in this form, for the reason given.
    Skip(&'static str),
}

/// The form a guest runs in.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Form {
    /// The preview1 module as compiled.
    Module,
    /// The module wrapped into a command component with the preview1 adapter (its
    /// preview1 calls become WASI 0.2 calls inside the component).
    Adapted,
    /// A Rust program built for `wasm32-wasip2`: Rust's std over WASI 0.2.
    Wasip2,
}

impl Form {
    fn name(self) -> &'static str {
        match self {
            Form::Module => "module",
            Form::Adapted => "adapted",
            Form::Wasip2 => "wasip2",
        }
    }
}

struct Case {
    /// Expected-file name.
    name: &'static str,
    /// Source under `tests/wasi/`.
    source: &'static str,
    dirs: &'static [Dir],
    /// `--env` grants.
    env: &'static [&'static str],
    args: &'static [&'static str],
    stdin: Option<&'static [u8]>,
    /// Grant a listening socket and run this client against the guest.
    client: Option<Client>,
    /// Why wasmtime cannot be the reference, if it cannot.
    no_reference: Option<&'static str>,
    /// Keep stdin open (after writing `stdin`) until the guest exits: a read must
    /// return what is there without waiting for more.
    keep_stdin_open: bool,
    /// Allow core dumps (the guest raises a core-dumping signal and must not leave a
    /// core file behind).
    core_dumps: bool,
    /// As an adapted component.
    adapted: Expect,
    /// Built for `wasm32-wasip2` (Rust cases only).
    wasip2: Expect,
}

impl Case {
    const fn new(name: &'static str, source: &'static str) -> Case {
        Case {
            name,
            source,
            dirs: &[SANDBOX],
            env: &[],
            args: &[],
            stdin: None,
            client: None,
            no_reference: None,
            keep_stdin_open: false,
            core_dumps: false,
            adapted: Expect::Same,
            wasip2: Expect::Same,
        }
    }

    /// What the case gives in `form`.
    fn expect(&self, form: Form) -> Expect {
        match form {
            Form::Module => Expect::Same,
            Form::Adapted => self.adapted,
            Form::Wasip2 if self.source.ends_with(".rs") => self.wasip2,
            Form::Wasip2 => Expect::Skip("C guests are built for preview1 only"),
        }
    }
}

/// WASI 0.2 has no pre-opened sockets, so the adapter cannot hand one out.
const NO_PREOPENED_SOCKETS: Expect =
    Expect::Skip("WASI 0.2 has no pre-opened sockets (a component binds and listens itself)");

/// Under wasip2, std's descriptors are wasi-libc's over WASI 0.2: the raw preview1 calls
/// the program makes on them (through the adapter rustc links for them) see none of them.
const RAW_PREVIEW1_CALLS: Expect =
    Expect::Skip("raw preview1 calls on std's descriptors, which under wasip2 are not preview1's");

const CASES: &[Case] = &[
    Case::new("c_fs", "c/fs.c"),
    Case {
        // Rust's std reads a directory through `read-via-stream`, which WASI 0.2 answers
        // with `is-directory` (EISDIR) where preview1's fd_read gives EBADF (wasmtime too).
        wasip2: Expect::Differs("reading a directory is EISDIR in WASI 0.2"),
        ..Case::new("rust_fs", "rust/fs.rs")
    },
    Case::new("c_escape", "c/escape.c"),
    Case::new("rust_escape", "rust/escape.rs"),
    Case {
        dirs: &[SANDBOX, READ_ONLY],
        no_reference: Some("wasmtime's CLI has no read-only directories"),
        // The adapter asks for a write stream before it writes: a read-only grant refuses
        // that with `not-permitted` (EPERM), where preview1's fd_write on a file opened
        // for reading is EBADF; and it keeps O_APPEND itself, so setting it succeeds.
        adapted: Expect::Differs("a read-only grant refuses the adapter's write stream"),
        ..Case::new("c_readonly", "c/readonly.c")
    },
    Case {
        dirs: &[SANDBOX, READ_ONLY],
        no_reference: Some("wasmtime's CLI has no read-only directories"),
        ..Case::new("rust_readonly", "rust/readonly.rs")
    },
    Case {
        stdin: Some(b"ready on stdin\n"),
        // The adapter turns a wall-clock deadline into a duration and refuses one in the
        // past (wasmtime gives the same).
        adapted: Expect::Differs("the adapter refuses a past wall-clock deadline"),
        ..Case::new("c_time", "c/time.c")
    },
    Case::new("rust_time", "rust/time.rs"),
    Case {
        dirs: &[],
        env: &["GREETING=hello", "EMPTY="],
        args: &["one", "two words", ""],
        ..Case::new("rust_args_env", "rust/args_env.rs")
    },
    Case {
        dirs: &[SANDBOX, ("sandbox/sub", "/second", false)],
        // The adapter answers fd_prestat_dir_name on stdout itself (EBADF), a path
        // operation on a file descriptor is WASI 0.2's `not-directory` (ENOTDIR), and the
        // adapter traps reading a directory as a file (`unreachable` at its line 2421):
        // all as under wasmtime.
        adapted: Expect::Differs("the adapter's own answers, and ENOTDIR for paths"),
        ..Case::new("c_raw", "c/raw.c")
    },
    Case {
        dirs: &[SANDBOX],
        no_reference: Some(
            "what wafer implements and wasmtime does not: fd_allocate, fd_fdstat_set_rights, \
             proc_raise, CPU-time clocks, sync open flags, real file poll byte counts",
        ),
        core_dumps: true,
        // The adapter implements neither fd_allocate nor fd_fdstat_set_rights (ENOTSUP),
        // has no CPU-time clocks (EBADF) and traps on an unknown clock.
        adapted: Expect::Differs("what the adapter does not implement"),
        ..Case::new("c_raw_wafer", "c/raw_wafer.c")
    },
    Case {
        dirs: &[],
        stdin: Some(b"seventeen bytes!\n"),
        keep_stdin_open: true,
        ..Case::new("c_stdin_iovecs", "c/stdin_iovecs.c")
    },
    Case {
        client: Some(echo_client),
        no_reference: Some("wasmtime 49 cannot grant listening sockets"),
        // Without directories the listener is fd 3, as with systemd's LISTEN_FDS.
        dirs: &[],
        adapted: NO_PREOPENED_SOCKETS,
        wasip2: NO_PREOPENED_SOCKETS,
        ..Case::new("c_socket", "c/socket.c")
    },
    Case {
        client: Some(echo_client),
        no_reference: Some("wasmtime 49 cannot grant listening sockets"),
        // Without directories the listener is fd 3, as with systemd's LISTEN_FDS.
        dirs: &[],
        adapted: NO_PREOPENED_SOCKETS,
        wasip2: NO_PREOPENED_SOCKETS,
        ..Case::new("rust_socket", "rust/socket.rs")
    },
    Case::new("c_rights", "c/rights.c"),
    Case {
        args: &["exact"],
        client: Some(silent_client),
        no_reference: Some(
            "wasmtime 49 reports every right but those of the access mode a file was not \
             opened for, has no fd_fdstat_set_rights, and cannot grant listening sockets",
        ),
        // The adapter reports the rights it derives from a descriptor's type and flags.
        adapted: Expect::Differs("the adapter derives the rights it reports"),
        ..Case::new("c_rights_exact", "c/rights.c")
    },
    Case {
        wasip2: RAW_PREVIEW1_CALLS,
        ..Case::new("rust_rights", "rust/rights.rs")
    },
    Case {
        args: &["exact"],
        client: Some(silent_client),
        no_reference: Some(
            "wasmtime 49 reports every right but those of the access mode a file was not \
             opened for, has no fd_fdstat_set_rights, and cannot grant listening sockets",
        ),
        // The adapter reports the rights it derives from a descriptor's type and flags.
        adapted: Expect::Differs("the adapter derives the rights it reports"),
        wasip2: RAW_PREVIEW1_CALLS,
        ..Case::new("rust_rights_exact", "rust/rights.rs")
    },
];

/// Builds the fixture tree in `dir`.
fn fixture(dir: &Path) {
    use std::os::unix::fs::symlink;
    let write = |path: &str, text: &str| {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("sandbox/given.txt", "given by the test\n");
    std::fs::create_dir_all(dir.join("sandbox/sub")).unwrap();
    write("sandbox/sub/inner.txt", "inner\n");
    write("ro/data.txt", "read-only data\n");
    write("ro/sub/file.txt", "in a read-only subdirectory\n");
    write("outside/secret.txt", "secret\n");
    symlink("../outside/secret.txt", dir.join("sandbox/link_out")).unwrap();
    symlink("/etc/passwd", dir.join("sandbox/link_abs")).unwrap();
    symlink("..", dir.join("sandbox/link_up")).unwrap();
    symlink("../outside/created.txt", dir.join("sandbox/dangle_out")).unwrap();
    symlink("../../outside", dir.join("sandbox/sub/deep_out")).unwrap();
}

/// The tree under `dir`, one line per entry, sorted: type, path, and a file's size and
/// contents (short text) or hash.
fn snapshot(dir: &Path) -> String {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = path.strip_prefix(root).unwrap().display().to_string();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.is_symlink() {
                let target = std::fs::read_link(&path).unwrap();
                out.push(format!("l {name} -> {}", target.display()));
            } else if meta.is_dir() {
                out.push(format!("d {name}"));
                walk(root, &path, out);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                let shown = match std::str::from_utf8(&bytes) {
                    Ok(text) if bytes.len() <= 64 => format!("{text:?}"),
                    _ => format!("hash {:016x}", toolchain::fnv1a(&[&bytes])),
                };
                out.push(format!("f {name} {} {shown}", bytes.len()));
            }
        }
    }
    let mut lines = Vec::new();
    walk(dir, dir, &mut lines);
    lines.sort();
    lines.join("\n") + "\n"
}

fn describe(outcome: &Outcome, client: Option<&str>, files: &str) -> String {
    let mut text = format!("exit: {}\n--- stdout\n{}", outcome.code, outcome.stdout);
    if let Some(client) = client {
        text.push_str(&format!("--- client\n{client}"));
    }
    text.push_str("--- files\n");
    text.push_str(files);
    text
}

/// Sends two lines, shuts down its side, and reads the reply until the guest closes
/// the connection.
fn echo_client(mut stream: TcpStream) -> String {
    let mut exchange = || -> std::io::Result<String> {
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        stream.write_all(b"hello over tcp\nsecond line\n")?;
        stream.shutdown(std::net::Shutdown::Write)?;
        let mut reply = String::new();
        stream.read_to_string(&mut reply)?;
        Ok(reply)
    };
    match exchange() {
        Ok(reply) => format!("received: {reply:?}\n"),
        Err(e) => format!("client error: {e}\n"),
    }
}

/// Connects, sends nothing, and reads until the guest closes the connection.
fn silent_client(mut stream: TcpStream) -> String {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut reply = String::new();
    match stream.read_to_string(&mut reply) {
        Ok(_) => format!("received: {reply:?}\n"),
        Err(e) => format!("client error: {e}\n"),
    }
}

/// A port nothing listens on now (the guest's runtime binds it a moment later).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits for `child` at most `limit`; kills it after that.
fn wait_with_timeout(mut child: Child, limit: Duration) -> Outcome {
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            let mut outcome: Outcome = child.wait_with_output().unwrap().into();
            outcome
                .stderr
                .push_str("\n(killed: the guest did not finish in time)");
            return outcome;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().unwrap().into()
}

/// Makes `command` run with `openat2` failing with `ENOSYS`, as on kernels before 5.6.
fn without_openat2(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    const OPENAT2: u32 = 437; // the same number on every Linux architecture
    let filter = [
        // A = seccomp_data.nr
        libc::sock_filter {
            code: 0x20,
            jt: 0,
            jf: 0,
            k: 0,
        },
        // if A == openat2 fall through, else skip one
        libc::sock_filter {
            code: 0x15,
            jt: 0,
            jf: 1,
            k: OPENAT2,
        },
        libc::sock_filter {
            code: 0x06,
            jt: 0,
            jf: 0,
            k: 0x0005_0000 | libc::ENOSYS as u32,
        },
        libc::sock_filter {
            code: 0x06,
            jt: 0,
            jf: 0,
            k: 0x7fff_0000,
        },
    ];
    // SAFETY: runs in the child between fork and exec, and only makes two prctl calls,
    // which are async-signal-safe; `filter` outlives them (the closure owns it).
    unsafe {
        command.pre_exec(move || {
            let program = libc::sock_fprog {
                len: filter.len() as u16,
                filter: filter.as_ptr() as *mut libc::sock_filter,
            };
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
                || libc::prctl(
                    libc::PR_SET_SECCOMP,
                    libc::SECCOMP_MODE_FILTER,
                    &program as *const libc::sock_fprog,
                ) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// Lets `command` dump core (if the kernel writes cores into the working directory,
/// the snapshot would show one).
fn with_core_dumps(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: runs in the child between fork and exec and only calls setrlimit, which
    // is async-signal-safe.
    unsafe {
        command.pre_exec(|| {
            let unlimited = libc::rlimit {
                rlim_cur: libc::RLIM_INFINITY,
                rlim_max: libc::RLIM_INFINITY,
            };
            if libc::setrlimit(libc::RLIMIT_CORE, &unlimited) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// Runs `command` in `dir` with the case's stdin and client; returns the outcome and
/// what the client recorded.
fn run(case: &Case, mut command: Command, dir: &Path, port: u16) -> (Outcome, Option<String>) {
    if case.core_dumps {
        with_core_dumps(&mut command);
    }
    command
        .current_dir(dir)
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    let mut stdin = child.stdin.take().unwrap();
    if let Some(input) = case.stdin {
        // A guest may exit without reading everything; a broken pipe is its business.
        let _ = stdin.write_all(input);
    }
    let open_stdin = case.keep_stdin_open.then_some(stdin);
    let client = case.client.map(|client| {
        let start = Instant::now();
        loop {
            match TcpStream::connect(("127.0.0.1", port)) {
                Ok(stream) => break client(stream),
                Err(_) if start.elapsed() < Duration::from_secs(30) => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                Err(e) => break format!("cannot connect: {e}\n"),
            }
        }
    });
    // A read that waits for more than the pipe holds would hang until the timeout.
    let limit = Duration::from_secs(if open_stdin.is_some() { 20 } else { 120 });
    let outcome = wait_with_timeout(child, limit);
    drop(open_stdin);
    (outcome, client)
}

/// The `wafer build` flags for a case's grants.
fn grant_flags(case: &Case, port: u16) -> Vec<String> {
    let mut flags = Vec::new();
    for (host, guest, read_only) in case.dirs {
        let ro = if *read_only { ":ro" } else { "" };
        flags.extend(["--dir".into(), format!("{host}::{guest}{ro}")]);
    }
    for env in case.env {
        flags.extend(["--env".into(), env.to_string()]);
    }
    if case.client.is_some() {
        flags.extend(["--listen".into(), format!("127.0.0.1:{port}")]);
    }
    flags
}

/// How a run of a case is set up.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// As the kernel is.
    Plain,
    /// `openat2` hidden: the runtime walks paths itself.
    NoOpenat2,
}

fn check_case(
    case: &Case,
    target: &TestTarget,
    mode: Mode,
    form: Form,
    wasm: &Path,
    scratch: &Path,
    wasmtime: Option<&Path>,
) -> Vec<String> {
    let mut failures = Vec::new();
    let expect = case.expect(form);
    if let Expect::Skip(_) = expect {
        return failures;
    }
    let suffix = if mode == Mode::Plain {
        ""
    } else {
        ", without openat2"
    };
    let form_suffix = if form == Form::Module {
        String::new()
    } else {
        format!(".{}", form.name())
    };
    let label = format!("{}{form_suffix} ({}{suffix})", case.name, target.name);
    let run_name = format!(
        "{}{form_suffix}.{}{}",
        case.name,
        target.name,
        if mode == Mode::Plain { "" } else { ".walk" }
    );
    let dir = scratch.join(&run_name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    fixture(&dir);
    let port = free_port();
    let image = scratch.join(format!("{run_name}.image"));
    let flags = grant_flags(case, port);
    let mut build_flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    build_flags.extend(["--target", target.name]);
    let build = common::wafer_build(wasm, &image, &build_flags);
    if build.code != 0 {
        return vec![format!("{label}: wafer build failed:\n{}", build.stderr)];
    }
    let mut command = target.command(&image);
    command.args(case.args);
    if mode == Mode::NoOpenat2 {
        without_openat2(&mut command);
    }
    let (outcome, client) = run(case, command, &dir, port);
    let actual = describe(&outcome, client.as_deref(), &snapshot(&dir));
    // A form that differs has its own golden file; the others share the module's.
    let golden_name = match expect {
        Expect::Differs(_) => format!("{}.{}.expected", case.name, form.name()),
        _ => format!("{}.expected", case.name),
    };
    let golden = common::tests_dir().join("wasi/expected").join(golden_name);
    // The host's plain run writes golden files under WAFER_BLESS (the module's, and a
    // differing form's own); every other run must match them.
    let blesses = target.emulator.is_none()
        && mode == Mode::Plain
        && (form == Form::Module || matches!(expect, Expect::Differs(_)));
    let result = if blesses {
        common::check_golden(&golden, &actual)
    } else {
        let expected = std::fs::read_to_string(&golden).unwrap_or_default();
        (expected == actual)
            .then_some(())
            .ok_or_else(|| common::first_difference(&expected, &actual))
    };
    // qemu-user reports a guest killed by a signal on its own stderr.
    let stderr: String = outcome
        .stderr
        .lines()
        .filter(|line| {
            target.emulator.is_none() || !line.starts_with("qemu: uncaught target signal")
        })
        .collect();
    if let Err(e) = result {
        failures.push(format!("{label}: {e}\n--- stderr\n{}", outcome.stderr));
    } else if !stderr.is_empty() && !matches!(expect, Expect::Differs(_)) {
        failures.push(format!("{label}: unexpected stderr:\n{}", outcome.stderr));
    }

    let Some(wasmtime) = wasmtime.filter(|_| {
        target.emulator.is_none() && mode == Mode::Plain && case.no_reference.is_none()
    }) else {
        return failures;
    };
    let reference_dir = scratch.join(format!("{}{form_suffix}.wasmtime", case.name));
    let _ = std::fs::remove_dir_all(&reference_dir);
    std::fs::create_dir_all(&reference_dir).unwrap();
    fixture(&reference_dir);
    let mut command = Command::new(wasmtime);
    command.arg("run").args(&flags).arg(wasm).args(case.args);
    let (reference, client) = run(case, command, &reference_dir, port);
    let expected = describe(&reference, client.as_deref(), &snapshot(&reference_dir));
    if expected != actual {
        failures.push(format!(
            "{label}: differs from wasmtime:\n{}\n--- wasmtime stderr\n{}",
            common::first_difference(&expected, &actual),
            reference.stderr
        ));
    }
    failures
}

#[test]
fn wasi_guests_match_expected_output_and_files() {
    let scratch = common::scratch("wasi");
    let wasmtime = common::which("wasmtime");
    if wasmtime.is_none() {
        eprintln!("note: wasmtime not installed; skipping the reference comparison");
    }
    let root = common::tests_dir().join("wasi");
    let sources: Vec<&str> = CASES.iter().map(|case| case.source).collect();
    let modules = toolchain::compile_all(&root, &sources, &scratch);
    // The same programs as components: each module adapted, and the Rust ones built
    // for wasm32-wasip2.
    let wanted = |form: Form| -> Vec<&str> {
        let mut list: Vec<&str> = CASES
            .iter()
            .filter(|case| !matches!(case.expect(form), Expect::Skip(_)))
            .map(|case| case.source)
            .collect();
        list.sort_unstable();
        list.dedup();
        list
    };
    let adapt_sources = wanted(Form::Adapted);
    let adapted: Vec<(String, PathBuf)> = modules
        .iter()
        .filter(|(source, _)| adapt_sources.contains(&source.as_str()))
        .map(|(source, module)| {
            let out = module.with_extension("adapted.wasm");
            let component =
                common::components::adapt(module, &out).unwrap_or_else(|e| panic!("{e}"));
            (source.clone(), component)
        })
        .collect();
    let rust = wanted(Form::Wasip2);
    let wasip2_dir = scratch.join("wasip2");
    std::fs::create_dir_all(&wasip2_dir).unwrap();
    let wasip2 = toolchain::compile_all_for(&root, &rust, &wasip2_dir, toolchain::WASIP2);
    let wasm_of = |source: &str, form: Form| -> Option<PathBuf> {
        let list = match form {
            Form::Module => &modules,
            Form::Adapted => &adapted,
            Form::Wasip2 => &wasip2,
        };
        list.iter()
            .find(|(s, _)| s == source)
            .map(|(_, wasm)| wasm.clone())
    };
    let targets = common::test_targets();
    let jobs: Vec<(&Case, &TestTarget, Mode, Form)> = targets
        .iter()
        .flat_map(|target| {
            CASES.iter().flat_map(move |case| {
                [
                    (Mode::Plain, Form::Module),
                    (Mode::NoOpenat2, Form::Module),
                    (Mode::Plain, Form::Adapted),
                    (Mode::Plain, Form::Wasip2),
                ]
                .map(|(mode, form)| (case, target, mode, form))
            })
        })
        .collect();
    let results = toolchain::run_parallel(&jobs, |(case, target, mode, form)| {
        let Some(wasm) = wasm_of(case.source, *form) else {
            return Vec::new();
        };
        check_case(
            case,
            target,
            *mode,
            *form,
            &wasm,
            &scratch,
            wasmtime.as_deref(),
        )
    });
    let mut failures = Failures::default();
    for failure in results {
        failures.push(failure);
    }
    failures.finish("WASI cases");
}
