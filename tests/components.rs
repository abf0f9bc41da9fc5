//! Components: Rust `wasm32-wasip2` programs (`tests/components/rust`, built with rustc
//! at test time) and components written in the component text format
//! (`tests/components/wat`), built into images with the `wafer` CLI and run. Each case's
//! exit status and stdout must equal `tests/components/expected/CASE.expected`
//! (`WAFER_BLESS=1` rewrites them); stderr must be empty or hold the case's lines.
//!
//! Every case is built for every Linux target and run natively or under qemu-user
//! (`WAFER_TEST_TARGETS` narrows the list). When `wasmtime` is installed, every case
//! it can run also runs under it, given the environment the build grants, and must give
//! the same stdout and exit status.
//!
//! Also: an import nothing provides (a build error naming it, or a trap naming it with
//! `--trap-unknown-imports`), `wafer run` of a component with arguments, and `wafer
//! inspect` of a component image.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Failures, Outcome, toolchain};

/// One run of a component.
struct Case {
    /// Golden file name, and the image's name.
    name: &'static str,
    /// Source under `tests/components/`: `rust/NAME.rs` or `wat/NAME.wat`.
    source: &'static str,
    /// Extra `wafer build` flags.
    build: &'static [&'static str],
    args: &'static [&'static str],
    /// The host environment the image runs in (nothing else is set).
    env: &'static [(&'static str, &'static str)],
    /// Standard input, if piped.
    stdin: Option<fn() -> Vec<u8>>,
    /// Text that some line of stderr must contain; with none, stderr must be empty.
    stderr: &'static [&'static str],
    /// Whether wasmtime gives the same exit status (it reports a host error, such as
    /// a bad handle or a string that is not UTF-8, as a failure with status 1 where
    /// wafer traps with 134).
    same_as_wasmtime: bool,
}

impl Case {
    const fn new(name: &'static str, source: &'static str) -> Case {
        Case {
            name,
            source,
            build: &[],
            args: &[],
            env: &[],
            stdin: None,
            stderr: &[],
            same_as_wasmtime: true,
        }
    }
}

const HOST_ENV: &[(&str, &str)] = &[
    ("HOME", "/home/test"),
    ("SECRET", "1"),
    ("GREETING", "from-host"),
];

const CASES: &[Case] = &[
    Case::new("rust_hello", "rust/hello.rs"),
    Case {
        build: &["--env", "GREETING=hello", "--env", "HOME"],
        args: &["one", "two words", "ünïcödé", ""],
        env: HOST_ENV,
        ..Case::new("rust_args_env", "rust/args_env.rs")
    },
    Case {
        env: HOST_ENV,
        ..Case::new("rust_args_env_none", "rust/args_env.rs")
    },
    Case {
        build: &["--inherit-env"],
        env: &[("HOME", "/home/test"), ("LANG", "C")],
        ..Case::new("rust_args_env_inherit", "rust/args_env.rs")
    },
    Case::new("rust_exit", "rust/exit.rs"),
    Case {
        stderr: &[
            "panicked at panic.rs:",
            "the component gave up at depth 42",
            "wafer: trap: unreachable executed in abort (wasm offset 0x",
        ],
        ..Case::new("rust_panic", "rust/panic.rs")
    },
    Case {
        stdin: Some(text_input),
        ..Case::new("rust_stdin", "rust/stdin.rs")
    },
    Case {
        stdin: Some(Vec::new),
        ..Case::new("rust_stdin_empty", "rust/stdin.rs")
    },
    Case::new("rust_clocks", "rust/clocks.rs"),
    Case::new("wat_wiring", "wat/wiring.wat"),
    Case::new("wat_strings", "wat/strings.wat"),
    Case::new("wat_transcoding", "wat/transcoding.wat"),
    Case {
        args: &["hé", "h€"],
        ..Case::new("wat_string_encodings", "wat/string_encodings.wat")
    },
    Case {
        stderr: &[
            "wafer: trap: invalid utf-8 in transcode utf8-to-utf8 called from adapter0 (wasm offset 0x",
        ],
        same_as_wasmtime: false,
        ..Case::new("wat_bad_utf8", "wat/bad_utf8.wat")
    },
    Case::new("wat_run_err", "wat/run_err.wat"),
    Case {
        stderr: &[
            "wafer: trap: unknown handle index 1 in [resource-rep]resource0 called from run (wasm offset 0x60)",
        ],
        same_as_wasmtime: false,
        ..Case::new("wat_bad_handle", "wat/bad_handle.wat")
    },
    Case::new("wat_one_table", "wat/one_table.wat"),
    Case {
        // wasmtime runs WASI 0.3 only with `-W component-model-async -S p3`.
        same_as_wasmtime: false,
        ..Case::new("wat_p3_timer", "wat/p3_timer.wat")
    },
    Case {
        stderr: &[
            "wafer: trap: cannot drop a subtask which has not yet resolved in [subtask.drop] called from run (wasm offset 0x",
        ],
        same_as_wasmtime: false,
        ..Case::new("wat_p3_drop_unresolved", "wat/p3_drop_unresolved.wat")
    },
    Case {
        // A directory to list: the test's working directory, read-only.
        build: &["--dir", ".::d:ro"],
        stderr: &[
            "wafer: trap: cannot leave component instance in [stream.new] called from realloc (wasm offset 0x",
        ],
        same_as_wasmtime: false,
        ..Case::new("wat_p3_realloc_leaves", "wat/p3_realloc_leaves.wat")
    },
    Case {
        stderr: &[
            "wafer: trap: handle index 1 used with the wrong type in [resource-drop]resource2 called from run (wasm offset 0x",
        ],
        same_as_wasmtime: false,
        ..Case::new("wat_wrong_type_guest_drop", "wat/wrong_type_guest_drop.wat")
    },
    Case {
        stderr: &[
            "wafer: trap: handle index 2 used with the wrong type in [resource-drop]wasi:io/streams@0.2.6#output-stream called from run (wasm offset 0x",
        ],
        same_as_wasmtime: false,
        ..Case::new("wat_wrong_type_host_drop", "wat/wrong_type_host_drop.wat")
    },
];

/// About 100 KiB of text: more than a pipe buffer and one read, some of it UTF-8, and a
/// last line without a newline.
fn text_input() -> Vec<u8> {
    let mut text = String::new();
    for line in 0..4000usize {
        text.push_str(&format!("{line:05}: naïve café"));
        for word in 0..line % 5 {
            text.push_str(&format!(" w{word}"));
        }
        text.push('\n');
    }
    text.push_str("no newline at the end");
    text.into_bytes()
}

/// The environment a guest should see: what `build` grants out of the host's `env`.
fn granted_env(build: &[&str], env: &[(&str, &str)]) -> Vec<(String, String)> {
    if build.contains(&"--inherit-env") {
        return env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
    }
    build
        .windows(2)
        .filter(|pair| pair[0] == "--env")
        .filter_map(|pair| match pair[1].split_once('=') {
            Some((key, value)) => Some((key.to_string(), value.to_string())),
            None => env
                .iter()
                .find(|(key, _)| *key == pair[1])
                .map(|(key, value)| (key.to_string(), value.to_string())),
        })
        .collect()
}

fn describe(outcome: &Outcome) -> String {
    format!("exit: {}\n--- stdout\n{}", outcome.code, outcome.stdout)
}

fn check_stderr(name: &str, expected: &[&str], stderr: &str) -> Result<(), String> {
    let missing: Vec<&str> = expected
        .iter()
        .copied()
        .filter(|needle| !stderr.lines().any(|line| line.contains(needle)))
        .collect();
    if expected.is_empty() && !stderr.is_empty() || !missing.is_empty() {
        return Err(format!(
            "{name}: stderr lacks {missing:?} (or should be empty):\n{stderr}"
        ));
    }
    Ok(())
}

/// Compares with the golden file: the host's run writes it under `WAFER_BLESS`, every
/// target must match it.
fn check_expected(
    name: &str,
    target: &common::TestTarget,
    outcome: &Outcome,
) -> Result<(), String> {
    let golden = common::tests_dir()
        .join("components/expected")
        .join(format!("{name}.expected"));
    if target.emulator.is_none() {
        common::check_golden(&golden, &describe(outcome))
    } else {
        let expected = std::fs::read_to_string(&golden).unwrap_or_default();
        (expected == describe(outcome))
            .then_some(())
            .ok_or_else(|| common::first_difference(&expected, &describe(outcome)))
    }
}

fn check_case(
    case: &Case,
    target: &common::TestTarget,
    wasm: &Path,
    dir: &Path,
    wasmtime: Option<&Path>,
) -> Vec<String> {
    let mut failures = Vec::new();
    let image = dir.join(format!("{}.{}", case.name, target.name));
    let mut flags = case.build.to_vec();
    flags.extend(["--target", target.name]);
    let build = common::wafer_build(wasm, &image, &flags);
    if build.code != 0 {
        return vec![format!(
            "{} ({}): wafer build failed:\n{}",
            case.name, target.name, build.stderr
        )];
    }
    let input = case.stdin.map(|make| make());
    let mut command = target.command(&image);
    command
        .args(case.args)
        .env_clear()
        .envs(case.env.iter().copied());
    let outcome = toolchain::run_with_stdin(&mut command, input.as_deref());
    if let Err(e) = check_expected(case.name, target, &outcome) {
        failures.push(format!(
            "{} ({}): {e}\n--- stderr\n{}",
            case.name, target.name, outcome.stderr
        ));
    }
    if let Err(e) = check_stderr(case.name, case.stderr, &outcome.stderr) {
        failures.push(e);
    }

    if let Some(wasmtime) = wasmtime.filter(|_| target.emulator.is_none() && case.same_as_wasmtime)
    {
        let mut command = Command::new(wasmtime);
        command.arg("run").env_clear();
        for (key, value) in granted_env(case.build, case.env) {
            command.arg("--env").arg(format!("{key}={value}"));
        }
        command.arg(wasm).args(case.args);
        let reference = toolchain::run_with_stdin(&mut command, input.as_deref());
        if reference.code != outcome.code || reference.stdout != outcome.stdout {
            failures.push(format!(
                "{}: differs from wasmtime: exit {} (wasmtime {})\n{}\n--- wasmtime stderr\n{}",
                case.name,
                outcome.code,
                reference.code,
                common::first_difference(&reference.stdout, &outcome.stdout),
                reference.stderr
            ));
        }
    }
    failures
}

/// The binary of every case's source: Rust built for `wasm32-wasip2`, text passed as is
/// (wafer reads the component text format).
fn sources(dir: &Path) -> Vec<(String, PathBuf)> {
    let root = common::tests_dir().join("components");
    let rust: Vec<&str> = CASES
        .iter()
        .map(|case| case.source)
        .filter(|source| source.ends_with(".rs"))
        .collect();
    let mut compiled = toolchain::compile_all_for(&root, &rust, dir, toolchain::WASIP2);
    compiled.extend(
        CASES
            .iter()
            .filter(|case| case.source.ends_with(".wat"))
            .map(|case| (case.source.to_string(), root.join(case.source))),
    );
    compiled
}

#[test]
fn components_match_expected_output() {
    let dir = common::scratch("components");
    let wasmtime = common::which("wasmtime");
    if wasmtime.is_none() {
        eprintln!("note: wasmtime not installed; skipping the reference comparison");
    }
    let compiled = sources(&dir);
    let wasm_of = |source: &str| {
        let (_, wasm) = compiled.iter().find(|(s, _)| s == source).unwrap();
        wasm.clone()
    };
    let targets = common::test_targets();
    let jobs: Vec<(&Case, &common::TestTarget)> = targets
        .iter()
        .flat_map(|target| CASES.iter().map(move |case| (case, target)))
        .collect();
    let results = toolchain::run_parallel(&jobs, |(case, target)| {
        check_case(
            case,
            target,
            &wasm_of(case.source),
            &dir,
            wasmtime.as_deref(),
        )
    });
    let mut failures = Failures::default();
    for failure in results {
        failures.push(failure);
    }
    failures.finish("components");
}

/// An import nothing provides fails the build naming the interface and function; with
/// `--trap-unknown-imports` the image builds and calling it traps, naming it.
#[test]
fn unknown_imports_fail_the_build_or_trap_when_called() {
    let dir = common::scratch("components-unknown");
    let wat = common::tests_dir().join("components/wat/unknown_import.wat");
    let mut failures = Failures::default();
    for target in common::test_targets() {
        let image = dir.join(format!("unknown.{}", target.name));
        let refused = common::wafer_build(&wat, &image, &["--target", target.name]);
        let expected_error = format!(
            "wafer: error: {}: unknown import: wasi:http/outgoing-handler@0.2.0#handle is not provided\n",
            wat.display()
        );
        if refused.code != 1 || refused.stderr != expected_error || image.exists() {
            failures.push(format!(
                "{}: the build should fail with {expected_error:?}, got {refused:?}",
                target.name
            ));
        }
        let built = common::wafer_build(
            &wat,
            &image,
            &["--target", target.name, "--trap-unknown-imports"],
        );
        if built.code != 0 {
            failures.push(format!("{}: build failed: {}", target.name, built.stderr));
            continue;
        }
        let outcome = common::run_image_on(&target, &image, &[], &[]);
        // The trap is raised in the import's trampoline and reported at the call into
        // it (the `call` in `run`).
        let trap = "wafer: trap: call to an unknown import in \
                    wasi:http/outgoing-handler@0.2.0#handle called from run (wasm offset 0x39)\n";
        if outcome.code != wafer_abi::TRAP_EXIT_CODE || outcome.stderr != trap {
            failures.push(format!(
                "{}: calling the import should trap with {trap:?}, got {outcome:?}",
                target.name
            ));
        }
    }
    failures.finish("unknown-import checks");
}

/// `wafer run app.wasm -- args` builds a component for this machine and runs it with
/// the arguments; `wafer inspect` shows its world and what the grants allow.
#[test]
fn run_and_inspect_a_component() {
    let dir = common::scratch("components-run");
    let compiled = toolchain::compile_all_for(
        &common::tests_dir().join("components"),
        &["rust/args_env.rs"],
        &dir,
        toolchain::WASIP2,
    );
    let wasm = &compiled[0].1;
    let run = common::run_command(
        Command::new(common::wafer())
            .env_clear()
            .env("WAFER_CACHE_DIR", dir.join("cache"))
            .env("HOME", "/home/test")
            .args(["run", "--env", "HOME"])
            .arg(wasm)
            .args(["--", "first", "--second"]),
    );
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (
            0,
            "arg 0: \"first\"\narg 1: \"--second\"\nenv HOME=\"/home/test\"\nHOME is Some(\"/home/test\")\n",
            ""
        )
    );

    let image = dir.join("args_env");
    let build = common::wafer_build(wasm, &image, &["--env", "A=1"]);
    assert_eq!(build.code, 0, "{}", build.stderr);
    let inspect = common::run_command(Command::new(common::wafer()).arg("inspect").arg(&image));
    assert_eq!(inspect.code, 0, "{}", inspect.stderr);
    for line in [
        "entry point: the wasi:cli/run export",
        "world:",
        "  import wasi:cli/environment@0.2.6 (arguments and the granted environment)",
        "    get-arguments",
        "  import wasi:io/streams@0.2.6 (allowed)",
        "    [method]output-stream.blocking-flush",
        "  export wasi:cli/run@0.2.0",
        "    run",
    ] {
        assert!(
            inspect.stdout.lines().any(|l| l == line),
            "`wafer inspect` lacks {line:?}:\n{}",
            inspect.stdout
        );
    }
}

/// How the socket test is granted the network.
#[derive(Clone, Copy)]
enum Network {
    /// Nothing: every socket is refused (as wasmtime without `-S inherit-network`).
    None,
    /// Exactly the addresses it uses: `--listen` its own, `--connect` the echo servers'.
    Exact,
    /// `--inherit-network` (wasmtime's `-S inherit-network -S allow-ip-name-lookup`).
    Inherit,
}

impl Network {
    fn name(self) -> &'static str {
        match self {
            Network::None => "none",
            Network::Exact => "exact",
            Network::Inherit => "inherit",
        }
    }
}

/// A TCP echo server and a UDP echo server on loopback, for one run of the guest; the
/// TCP one answers one connection (`echo: ` and what it read to the end), the UDP one two
/// datagrams.
fn echo_servers() -> (u16, u16) {
    use std::io::{Read, Write};
    let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let ports = (
        tcp.local_addr().unwrap().port(),
        udp.local_addr().unwrap().port(),
    );
    std::thread::spawn(move || {
        if let Ok((mut stream, _)) = tcp.accept() {
            let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(60)));
            let mut request = Vec::new();
            let _ = stream.read_to_end(&mut request);
            let _ = stream.write_all(&[b"echo: ".as_slice(), &request].concat());
        }
    });
    std::thread::spawn(move || {
        let _ = udp.set_read_timeout(Some(std::time::Duration::from_secs(60)));
        let mut buf = [0u8; 256];
        for _ in 0..2 {
            if let Ok((n, from)) = udp.recv_from(&mut buf) {
                let _ = udp.send_to(&[b"echo: ".as_slice(), &buf[..n]].concat(), from);
            }
        }
    });
    ports
}

/// Runs the socket guest under `command` (its arguments still to add), and talks to it
/// as a client of its listener; returns what to compare.
fn run_net_guest(mut command: Command, listen_port: u16, tcp: u16, udp: u16) -> String {
    use std::io::{Read, Write};
    use std::process::Stdio;
    let child = command
        .args([
            format!("127.0.0.1:{listen_port}"),
            format!("127.0.0.1:{tcp}"),
            format!("127.0.0.1:{udp}"),
            "localhost".to_string(),
        ])
        .env_clear()
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = child.unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    let start = std::time::Instant::now();
    let mut client = "client: the guest never listened\n".to_string();
    while start.elapsed() < std::time::Duration::from_secs(60) {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", listen_port)) {
            let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(60)));
            let _ = stream.write_all(b"hello guest\n");
            let _ = stream.shutdown(std::net::Shutdown::Write);
            let mut reply = String::new();
            let _ = stream.read_to_string(&mut reply);
            client = format!("client: got {reply:?}\n");
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let outcome: Outcome = child.wait_with_output().unwrap().into();
    format!(
        "exit: {}\n--- stdout\n{}--- {client}--- stderr\n{}",
        outcome.code, outcome.stdout, outcome.stderr
    )
}

/// A port nothing listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `wasi:sockets` through Rust's std: refusals without grants, TCP and UDP clients and a
/// TCP server with exactly the addresses granted, and everything (name lookup too) with
/// the whole network; on every target, against wasmtime where it can express the grants.
#[test]
fn sockets_as_granted() {
    let dir = common::scratch("components-net");
    let wasmtime = common::which("wasmtime");
    let compiled = toolchain::compile_all_for(
        &common::tests_dir().join("components"),
        &["rust/net.rs"],
        &dir,
        toolchain::WASIP2,
    );
    let wasm = &compiled[0].1;
    let mut failures = Failures::default();
    for target in common::test_targets() {
        for network in [Network::None, Network::Exact, Network::Inherit] {
            let (tcp, udp) = echo_servers();
            let listen = free_port();
            let mut flags: Vec<String> = Vec::new();
            match network {
                Network::None => {}
                Network::Exact => flags.extend([
                    "--listen".into(),
                    format!("127.0.0.1:{listen}"),
                    "--connect".into(),
                    format!("127.0.0.1:{tcp}"),
                    "--connect".into(),
                    format!("127.0.0.1:{udp}"),
                ]),
                Network::Inherit => flags.push("--inherit-network".into()),
            }
            flags.extend(["--target".into(), target.name.into()]);
            let image = dir.join(format!("net.{}.{}", network.name(), target.name));
            let flag_refs: Vec<&str> = flags.iter().map(String::as_str).collect();
            let build = common::wafer_build(wasm, &image, &flag_refs);
            if build.code != 0 {
                failures.push(format!("{}: build failed: {}", target.name, build.stderr));
                continue;
            }
            let actual = run_net_guest(target.command(&image), listen, tcp, udp);
            let golden = common::tests_dir()
                .join("components/expected")
                .join(format!("rust_net_{}.expected", network.name()));
            let result = if target.emulator.is_none() {
                common::check_golden(&golden, &actual)
            } else {
                let expected = std::fs::read_to_string(&golden).unwrap_or_default();
                (expected == actual)
                    .then_some(())
                    .ok_or_else(|| common::first_difference(&expected, &actual))
            };
            if let Err(e) = result {
                failures.push(format!("net {} ({}): {e}", network.name(), target.name));
            }
            let Some(wasmtime) = wasmtime.as_ref().filter(|_| target.emulator.is_none()) else {
                continue;
            };
            let mut command = Command::new(wasmtime);
            command.arg("run");
            match network {
                // wasmtime grants addresses only all at once.
                Network::Exact => continue,
                Network::None => {}
                Network::Inherit => {
                    command.args(["-S", "inherit-network", "-S", "allow-ip-name-lookup"]);
                }
            }
            command.arg(wasm);
            let (tcp, udp) = echo_servers();
            let listen = free_port();
            let reference = run_net_guest(command, listen, tcp, udp);
            if reference != actual {
                failures.push(format!(
                    "net {}: differs from wasmtime:\n{}",
                    network.name(),
                    common::first_difference(&reference, &actual)
                ));
            }
        }
    }
    failures.finish("socket checks");
}

/// A DNS server for the lookup test: answers A and AAAA queries from a table, with
/// NXDOMAIN for other names, on 127.0.0.1:53 of the test's network namespace.
const FAKE_DNS: &str = r#"import socket, struct
import time
RECORDS = {b"a.example.test": [(1, bytes([10, 1, 2, 3])), (28, bytes([0xfd] + [0] * 14 + [3]))],
           b"slow.example.test": [(1, bytes([10, 1, 2, 3]))],
           b"slowsvc.example.test": [(1, bytes([127, 0, 0, 1]))],
           b"v4only.example.test": [(1, bytes([10, 4, 4, 4]))]}
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 53))
open("READY", "w").close()
while True:
    data, peer = s.recvfrom(512)
    ident, flags, qd = struct.unpack(">HHH", data[:6])
    at, labels = 12, []
    while data[at]:
        labels.append(data[at + 1:at + 1 + data[at]]); at += 1 + data[at]
    qtype = struct.unpack(">H", data[at + 1:at + 3])[0]
    question = data[12:at + 5]
    name = b".".join(labels).lower()
    if name.startswith(b"slow."):
        time.sleep(0.3)
    if name not in RECORDS:
        s.sendto(struct.pack(">HHHHHH", ident, 0x8183, 1, 0, 0, 0) + question, peer); continue
    answers = [rdata for (t, rdata) in RECORDS[name] if t == qtype]
    body = b"".join(b"\xc0\x0c" + struct.pack(">HHIH", qtype, 1, 60, len(r)) + r for r in answers)
    s.sendto(struct.pack(">HHHHHH", ident, 0x8180, 1, len(answers), 0, 0) + question + body, peer)
"#;

/// Names the lookup test resolves: from /etc/hosts (and an alias in another case), from
/// DNS (both families, one family), a missing name, a literal and a malformed name.
const LOOKUP_NAMES: &[&str] = &[
    "fromhosts.test",
    "ALIAS.test",
    "a.example.test",
    "v4only.example.test",
    "missing.example.test",
    "10.0.0.1",
    "bad name",
];

/// `wasi:sockets/ip-name-lookup` through `/etc/hosts` and DNS: in a network and mount
/// namespace of its own, with a loopback, `/etc/hosts` and `/etc/resolv.conf` bound
/// over the host's and a DNS server on 127.0.0.1:53, so nothing leaves the machine.
/// wasmtime (the system's resolver) runs in the same namespace.
#[test]
fn name_lookup_through_hosts_and_dns() {
    let dir = common::scratch("components-lookup");
    let namespaces = Command::new("unshare")
        .args(["--net", "--mount", "true"])
        .status()
        .is_ok_and(|status| status.success());
    if !namespaces {
        eprintln!("note: cannot make network namespaces here (unshare); skipping the lookup test");
        return;
    }
    std::fs::write(dir.join("dns.py"), FAKE_DNS).unwrap();
    std::fs::write(dir.join("resolv.conf"), "nameserver 127.0.0.1\n").unwrap();
    std::fs::write(
        dir.join("hosts"),
        "127.0.0.1 localhost\n10.9.8.7 fromhosts.test alias.test\n",
    )
    .unwrap();
    let compiled = toolchain::compile_all_for(
        &common::tests_dir().join("components"),
        &["rust/lookup.rs"],
        &dir,
        toolchain::WASIP2,
    );
    let wasm = &compiled[0].1;
    // Runs `program` in a fresh namespace with the files and the DNS server.
    let in_namespace = |program: &[String]| -> Outcome {
        let script = "ip link set lo up && mount --bind resolv.conf /etc/resolv.conf && \
                      mount --bind hosts /etc/hosts || exit 99; rm -f READY; python3 dns.py & \
                      while [ ! -e READY ]; do sleep 0.02; done; \"$@\"; status=$?; kill $!; \
                      exit $status";
        common::run_command(
            Command::new("unshare")
                .args(["--net", "--mount", "sh", "-c", script, "sh"])
                .args(program)
                .current_dir(&dir),
        )
    };
    let mut failures = Failures::default();
    let mut reference = None;
    if let Some(wasmtime) = common::which("wasmtime") {
        let mut program = vec![
            wasmtime.display().to_string(),
            "run".into(),
            "-S".into(),
            "inherit-network".into(),
            "-S".into(),
            "allow-ip-name-lookup".into(),
            wasm.display().to_string(),
        ];
        program.extend(LOOKUP_NAMES.iter().map(|s| s.to_string()));
        reference = Some(in_namespace(&program));
    }
    for target in common::test_targets() {
        let image = dir.join(format!("lookup.{}", target.name));
        let build = common::wafer_build(
            wasm,
            &image,
            &["--inherit-network", "--target", target.name],
        );
        if build.code != 0 {
            failures.push(format!("{}: build failed: {}", target.name, build.stderr));
            continue;
        }
        let mut program = target.argv(&image);
        program.extend(LOOKUP_NAMES.iter().map(|s| s.to_string()));
        let outcome = in_namespace(&program);
        let actual = describe(&outcome);
        let golden = common::tests_dir().join("components/expected/rust_lookup.expected");
        let result = if target.emulator.is_none() {
            common::check_golden(&golden, &actual)
        } else {
            let expected = std::fs::read_to_string(&golden).unwrap_or_default();
            (expected == actual)
                .then_some(())
                .ok_or_else(|| common::first_difference(&expected, &actual))
        };
        if let Err(e) = result {
            failures.push(format!("lookup ({}): {e}\n{}", target.name, outcome.stderr));
        }
        agrees_with_reference(
            &mut failures,
            &format!("lookup ({})", target.name),
            reference.as_ref(),
            &outcome,
        );
    }
    // WASI 0.3 (`wat/p3_lookup.wat`): a name the server answers after 300 ms is looked
    // up as a subtask, and a 50 ms timer started after it resolves first.
    let p3 = common::tests_dir().join("components/wat/p3_lookup.wat");
    if let Some(wasmtime) = common::which("wasmtime") {
        let program: Vec<String> = [
            wasmtime.display().to_string(),
            "run".into(),
            "-W".into(),
            "component-model-async=y".into(),
            "-S".into(),
            "p3=y,inherit-network,allow-ip-name-lookup".into(),
            p3.display().to_string(),
        ]
        .into();
        let outcome = in_namespace(&program);
        if outcome.code != 0 {
            failures.push(format!(
                "p3 lookup (wasmtime): exit {}: {}",
                outcome.code, outcome.stderr
            ));
        }
    }
    for target in common::test_targets() {
        let image = dir.join(format!("p3-lookup.{}", target.name));
        let build =
            common::wafer_build(&p3, &image, &["--inherit-network", "--target", target.name]);
        if build.code != 0 {
            failures.push(format!(
                "p3 lookup ({}): build failed: {}",
                target.name, build.stderr
            ));
            continue;
        }
        let outcome = in_namespace(&target.argv(&image));
        if outcome.code != 0 {
            failures.push(format!(
                "p3 lookup ({}): exit {}: {}",
                target.name, outcome.code, outcome.stderr
            ));
        }
    }
    // The WASI 0.3 HTTP client reaches a server by a name only DNS knows (answered
    // after 300 ms, as a subtask): the Rust HTTP service, served by wafer in the
    // namespace.
    let client = toolchain::build_rust_async_guest("http-client", "p3_http_client");
    let service = toolchain::build_rust_async_guest("http-service", "p3_http_service");
    let image = dir.join("http-client");
    let server = dir.join("http-service");
    let build = common::wafer_build(&client, &image, &["--inherit-network"]);
    let served = common::wafer_build(&service, &server, &["--listen", "127.0.0.1:8080"]);
    if build.code != 0 || served.code != 0 {
        failures.push(format!(
            "http client: build failed: {}{}",
            build.stderr, served.stderr
        ));
    } else {
        let script = "\"$1\" 2>/dev/null & s=$!; shift; \
                      for i in $(seq 100); do python3 -c 'import socket; \
                      socket.create_connection((\"127.0.0.1\", 8080))' 2>/dev/null && break; \
                      sleep 0.05; done; \"$@\"; r=$?; kill $s; exit $r";
        let program: Vec<String> = ["sh", "-c", script, "sh"]
            .into_iter()
            .map(String::from)
            .chain([
                server.display().to_string(),
                image.display().to_string(),
                "slowsvc.example.test:8080".into(),
            ])
            .collect();
        let outcome = in_namespace(&program);
        let expected = std::fs::read_to_string(
            common::tests_dir().join("components/expected/http_client.expected"),
        )
        .unwrap_or_default();
        if outcome.code != 0 || !expected.starts_with(&outcome.stdout) || outcome.stdout.is_empty()
        {
            failures.push(format!(
                "http client by name: stdout {:?}, stderr {:?}",
                outcome.stdout, outcome.stderr
            ));
        }
    }
    failures.finish("lookup checks");
}

/// Runs `program` with `args`, panicking with its stderr if it fails.
fn run_tool(program: &Path, args: &[&std::ffi::OsStr]) {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    assert!(
        output.status.success(),
        "{} {args:?} failed:\n{}",
        program.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Two components composed into one, the way a user composes them: a provider exporting
/// `local:demo/api` (a `no_std` Rust library on the canonical ABI) and a command
/// importing it (Rust std through the preview1 adapter), embedded with their WIT,
/// made components and composed with `wasm-tools compose`. Strings, lists and records
/// cross between the two memories through fused adapters. On every target, against
/// wasmtime.
#[test]
fn composed_components_call_across_memories() {
    use std::ffi::OsStr;
    let dir = common::scratch("components-compose");
    let source = common::tests_dir().join("components/compose");
    let wit = source.join("api.wit");
    let wasm_tools = common::components::wasm_tools();
    let adapter = common::components::preview1_adapter();
    let rustc = |file: &str, out: &Path, extra: &[&str]| {
        let output = Command::new("rustc")
            .current_dir(&source)
            .args(["--edition=2024", "--target=wasm32-wasip1", "-O"])
            .args(extra)
            .arg(file)
            .arg("-o")
            .arg(out)
            .output()
            .expect("run rustc");
        assert!(
            output.status.success(),
            "rustc {file}: {}\n{}",
            String::from_utf8_lossy(&output.stderr),
            toolchain::RUST_HINT
        );
    };
    let path = |name: &str| dir.join(name);
    rustc(
        "provider.rs",
        &path("provider.core.wasm"),
        &["-Cpanic=abort", "--crate-type=cdylib"],
    );
    rustc("consumer.rs", &path("consumer.core.wasm"), &[]);
    for (world, core) in [("provider", "provider"), ("consumer", "consumer")] {
        run_tool(
            &wasm_tools,
            &[
                OsStr::new("component"),
                OsStr::new("embed"),
                wit.as_os_str(),
                OsStr::new("--world"),
                OsStr::new(world),
                path(&format!("{core}.core.wasm")).as_os_str(),
                OsStr::new("-o"),
                path(&format!("{core}.embed.wasm")).as_os_str(),
            ],
        );
    }
    run_tool(
        &wasm_tools,
        &[
            OsStr::new("component"),
            OsStr::new("new"),
            path("provider.embed.wasm").as_os_str(),
            OsStr::new("-o"),
            path("provider.wasm").as_os_str(),
        ],
    );
    let adapt = format!("wasi_snapshot_preview1={}", adapter.display());
    run_tool(
        &wasm_tools,
        &[
            OsStr::new("component"),
            OsStr::new("new"),
            path("consumer.embed.wasm").as_os_str(),
            OsStr::new("--adapt"),
            OsStr::new(&adapt),
            OsStr::new("-o"),
            path("consumer.wasm").as_os_str(),
        ],
    );
    run_tool(
        &wasm_tools,
        &[
            OsStr::new("compose"),
            path("consumer.wasm").as_os_str(),
            OsStr::new("-d"),
            path("provider.wasm").as_os_str(),
            OsStr::new("-o"),
            path("composed.wasm").as_os_str(),
        ],
    );
    let composed = path("composed.wasm");
    let reference = common::which("wasmtime").map(|wasmtime| {
        common::run_command(Command::new(wasmtime).arg("run").arg(&composed).env_clear())
    });
    let mut failures = Failures::default();
    for target in common::test_targets() {
        let image = dir.join(format!("composed.{}", target.name));
        let build = common::wafer_build(&composed, &image, &["--target", target.name]);
        if build.code != 0 {
            failures.push(format!("{}: build failed: {}", target.name, build.stderr));
            continue;
        }
        let outcome = common::run_image_on(&target, &image, &[], &[]);
        if let Err(e) = check_expected("composed", &target, &outcome) {
            failures.push(format!(
                "composed ({}): {e}\n{}",
                target.name, outcome.stderr
            ));
        }
        agrees_with_reference(
            &mut failures,
            &format!("composed ({})", target.name),
            reference.as_ref(),
            &outcome,
        );
    }
    failures.finish("composition checks");
}

const COMPONENTIZE_PY_HINT: &str =
    "install componentize-py (python3 -m pip install componentize-py==0.25.1)";

/// `tests/components/python/NAME.py` made a component by componentize-py, against the
/// WASI WIT of wasmtime-wasi's crate; cached by the tool's version and the sources.
fn componentize_py(name: &str, dir: &Path) -> PathBuf {
    let tool = common::which("componentize-py")
        .unwrap_or_else(|| panic!("componentize-py is not on PATH: {COMPONENTIZE_PY_HINT}"));
    let source = common::tests_dir().join("components/python");
    let version = common::run_command(Command::new(&tool).arg("--version")).stdout;
    let program = std::fs::read(source.join(format!("{name}.py"))).unwrap();
    let world = std::fs::read(source.join("world.wit")).unwrap();
    let key = toolchain::fnv1a(&[version.as_bytes(), &program, &world]);
    let cache = common::repo().join("target").join("guests-cache");
    let cached = cache.join(format!("python_{name}-{key:016x}.wasm"));
    let out = dir.join(format!("python_{name}.wasm"));
    if !cached.is_file() {
        let wit = dir.join("wit");
        std::fs::create_dir_all(&wit).unwrap();
        std::fs::write(wit.join("world.wit"), &world).unwrap();
        common::components::wasi_wit(&wit);
        let partial = dir.join(format!("python_{name}.partial.wasm"));
        let output = Command::new(&tool)
            .current_dir(&source)
            .arg("-d")
            .arg(&wit)
            .args(["-w", "app", "componentize", name, "-o"])
            .arg(&partial)
            .output()
            .unwrap_or_else(|e| panic!("cannot run componentize-py: {e}"));
        assert!(
            output.status.success(),
            "componentize-py {name}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        std::fs::create_dir_all(&cache).unwrap();
        std::fs::rename(&partial, &cached).expect("fill the cache");
    }
    std::fs::copy(&cached, &out).expect("copy the cached component");
    out
}

/// Python programs made components with componentize-py (CPython and the program in
/// about 18 MB): one printing its arguments and environment, one reading, writing and
/// renaming files in a granted directory; on every target, against wasmtime.
#[test]
fn componentize_py_programs() {
    let dir = common::scratch("components-python");
    let hello = componentize_py("hello", &dir);
    let files = componentize_py("files", &dir);
    let wasmtime = common::which("wasmtime");
    let input = "the quick brown fox\njumps over\nthe lazy dog today\n";
    // A fresh data directory; returns it.
    let data = |name: &str| -> PathBuf {
        let data = dir.join(name);
        let _ = std::fs::remove_dir_all(&data);
        std::fs::create_dir_all(&data).unwrap();
        std::fs::write(data.join("input.txt"), input).unwrap();
        data
    };
    let report =
        |data: &Path| std::fs::read_to_string(data.join("sub/report.txt")).unwrap_or_default();
    let mut failures = Failures::default();
    let reference = wasmtime.as_ref().map(|wasmtime| {
        let greeting = common::run_command(
            Command::new(wasmtime)
                .args(["run", "--env", "GREETING=hi"])
                .arg(&hello)
                .args(["one", "two words"])
                .env_clear(),
        );
        let data = data("data.wasmtime");
        let reading = common::run_command(
            Command::new(wasmtime)
                .arg("run")
                .arg("--dir")
                .arg(format!("{}::/data", data.display()))
                .arg(&files)
                .env_clear(),
        );
        (greeting, reading, report(&data))
    });
    for target in common::test_targets() {
        let image = dir.join(format!("hello.{}", target.name));
        let build = common::wafer_build(
            &hello,
            &image,
            &["--env", "GREETING=hi", "--target", target.name],
        );
        if build.code != 0 {
            failures.push(format!(
                "hello ({}): build failed: {}",
                target.name, build.stderr
            ));
            continue;
        }
        let greeting = common::run_image_on(&target, &image, &["one", "two words"], &[]);
        failures.check(
            check_expected("python_hello", &target, &greeting)
                .map_err(|e| format!("python hello ({}): {e}\n{}", target.name, greeting.stderr)),
        );
        let data = data(&format!("data.{}", target.name));
        let image = dir.join(format!("files.{}", target.name));
        let grant = format!("{}::/data", data.display());
        let build =
            common::wafer_build(&files, &image, &["--dir", &grant, "--target", target.name]);
        if build.code != 0 {
            failures.push(format!(
                "files ({}): build failed: {}",
                target.name, build.stderr
            ));
            continue;
        }
        let reading = common::run_image_on(&target, &image, &[], &[]);
        failures.check(
            check_expected("python_files", &target, &reading)
                .map_err(|e| format!("python files ({}): {e}\n{}", target.name, reading.stderr)),
        );
        if let Some((ref_greeting, ref_reading, ref_report)) = &reference {
            for (what, ours, theirs) in [
                ("hello", &greeting, ref_greeting),
                ("files", &reading, ref_reading),
            ] {
                if (ours.code, &ours.stdout) != (theirs.code, &theirs.stdout) {
                    failures.push(format!(
                        "python {what} ({}): differs from wasmtime:\n{}",
                        target.name,
                        common::first_difference(&theirs.stdout, &ours.stdout)
                    ));
                }
            }
            if report(&data) != *ref_report {
                failures.push(format!(
                    "python files ({}): the report differs from wasmtime's",
                    target.name
                ));
            }
        }
    }
    failures.finish("componentize-py checks");
}

/// A component on every board: the baked read-only tree through `wasi:filesystem`, and
/// `wasi:sockets` refused as a denied grant refuses on Linux; the output equals the same
/// component's on Linux with the same read-only grant and no network.
#[test]
fn components_on_boards() {
    let dir = common::scratch("components-boards");
    let tree = dir.join("tree");
    std::fs::create_dir_all(&tree).unwrap();
    std::fs::write(tree.join("hello.txt"), "baked into the image\n").unwrap();
    std::fs::write(tree.join("other.txt"), "second file\n").unwrap();
    let compiled = toolchain::compile_all_for(
        &common::tests_dir().join("components"),
        &["rust/board_fs_net.rs"],
        &dir,
        toolchain::WASIP2,
    );
    let wasm = &compiled[0].1;
    let grant = format!("{}::/data:ro", tree.display());
    let linux_image = dir.join("linux");
    let build = common::wafer_build(wasm, &linux_image, &["--dir", &grant]);
    assert_eq!(build.code, 0, "{}", build.stderr);
    let linux = common::run_image(&linux_image, &[], &[]);
    assert_eq!(linux.code, 0, "{}", linux.stderr);
    assert!(
        linux
            .stdout
            .contains("read Ok(\"baked into the image\\n\")"),
        "{}",
        linux.stdout
    );
    let mut failures = Failures::default();
    for board in common::boards::boards() {
        let image = dir.join(format!("{}.elf", board.name));
        let build = common::wafer_build(wasm, &image, &["--target", &board.name, "--dir", &grant]);
        if build.code != 0 {
            failures.push(format!("{}: build failed: {}", board.name, build.stderr));
            continue;
        }
        match board.boot(&image, None, std::time::Duration::from_secs(120)) {
            Ok(outcome) if (outcome.code, &outcome.stdout) == (0, &linux.stdout) => {}
            Ok(outcome) => failures.push(format!(
                "{}: differs from Linux (exit {}):\n{}\n{}",
                board.name,
                outcome.code,
                common::first_difference(&linux.stdout, &outcome.stdout),
                outcome.stderr
            )),
            Err(e) => failures.push(format!("{}: {e}", board.name)),
        }
    }
    failures.finish("board checks");
}

/// WASI 0.3 programs on every board (and on Linux), each exiting 0 only if it saw what
/// the component model says: `wat/p3_timer.wat` (an `async` run waiting on
/// `monotonic-clock.wait-for` through the runtime's reactor: its 20 ms wait must resolve
/// after 20 ms) and `wat/p3_fibers.wat` (calls between two components whose callee
/// blocks on a stack of its own: STARTED, STARTING, then the results) and
/// `wat/p3_threads.wat` (cooperative threads: yields, a blocked read, 4000 switches).
/// Each must exit 0 under wasmtime too.
#[test]
fn p3_timer_on_boards() {
    let dir = common::scratch("components-p3-boards");
    let mut failures = Failures::default();
    for program in ["p3_timer", "p3_fibers", "p3_threads"] {
        let wasm = common::tests_dir().join(format!("components/wat/{program}.wat"));
        let linux = dir.join(program);
        let build = common::wafer_build(&wasm, &linux, &[]);
        assert_eq!(build.code, 0, "{}", build.stderr);
        let outcome = common::run_image(&linux, &[], &[]);
        if outcome.code != 0 {
            failures.push(format!(
                "{program} on Linux: exit {}: {}",
                outcome.code, outcome.stderr
            ));
        }
        // The reference agrees.
        if let Some(wasmtime) = common::which("wasmtime") {
            let reference = common::run_command(
                Command::new(wasmtime)
                    .args(["run", "-W", "component-model-async=y", "-W"])
                    .args(["component-model-threading=y,component-model-more-async-builtins=y"])
                    .args(["-S", "p3=y"])
                    .arg(&wasm),
            );
            if reference.code != 0 {
                failures.push(format!("{program} under wasmtime: exit {}", reference.code));
            }
        }
        p3_program_on_boards(&dir, program, &wasm, &mut failures);
    }
    failures.finish("p3 programs on boards");
}

/// Builds `wasm` for every board and boots it: it must exit 0.
fn p3_program_on_boards(dir: &Path, program: &str, wasm: &Path, failures: &mut Failures) {
    for board in common::boards::boards() {
        let image = dir.join(format!("{program}.{}.elf", board.name));
        // Seven threads take 32 KiB of stack each from the heap.
        let heap: &[&str] = match program {
            "p3_threads" => &["--heap-size", "512K"],
            _ => &[],
        };
        let mut args = vec!["--target", board.name.as_str()];
        args.extend_from_slice(heap);
        let build = common::wafer_build(wasm, &image, &args);
        if build.code != 0 {
            failures.push(format!(
                "{program} on {}: build failed: {}",
                board.name, build.stderr
            ));
            continue;
        }
        match board.boot(&image, None, std::time::Duration::from_secs(120)) {
            Ok(outcome) if outcome.code == 0 => {}
            Ok(outcome) => failures.push(format!(
                "{program} on {}: exit {}:\n{}\n{}",
                board.name, outcome.code, outcome.stdout, outcome.stderr
            )),
            Err(e) => failures.push(format!("{program} on {}: {e}", board.name)),
        }
    }
}

/// The WASI 0.3 timer guest in Rust (`tests/components/rust-async/timer`: wit-bindgen's
/// async support, fetched from crates.io by cargo; `wasi:cli/run@0.3.0` exported
/// `async`, waits on `wasi:clocks/monotonic-clock@0.3.0`, prints through std's WASI
/// 0.2 stdout) on every Linux target and every board, against the golden file and
/// wasmtime (`-W component-model-async -S p3`).
#[test]
fn rust_async_timer() {
    let dir = common::scratch("components-rust-async");
    let wasm = toolchain::build_rust_async_guest("timer", "p3_timer");
    let reference = common::which("wasmtime").map(|wasmtime| {
        common::run_command(
            Command::new(wasmtime)
                .args(["run", "-W", "component-model-async=y", "-S", "p3=y"])
                .arg(&wasm)
                .env_clear(),
        )
    });
    let mut failures = Failures::default();
    for target in common::test_targets() {
        let image = dir.join(format!("timer.{}", target.name));
        let build = common::wafer_build(&wasm, &image, &["--target", target.name]);
        if build.code != 0 {
            failures.push(format!("{}: build failed: {}", target.name, build.stderr));
            continue;
        }
        let outcome = common::run_image_on(&target, &image, &[], &[]);
        if let Err(e) = check_expected("rust_async_timer", &target, &outcome) {
            failures.push(format!("timer ({}): {e}\n{}", target.name, outcome.stderr));
        }
        agrees_with_reference(
            &mut failures,
            &format!("timer ({})", target.name),
            reference.as_ref(),
            &outcome,
        );
    }
    let expected = std::fs::read_to_string(
        common::tests_dir().join("components/expected/rust_async_timer.expected"),
    )
    .unwrap_or_default();
    for board in common::boards::boards() {
        let image = dir.join(format!("timer.{}.elf", board.name));
        let build = common::wafer_build(&wasm, &image, &["--target", &board.name]);
        if build.code != 0 {
            failures.push(format!("{}: build failed: {}", board.name, build.stderr));
            continue;
        }
        match board.boot(&image, None, std::time::Duration::from_secs(120)) {
            Ok(outcome) if describe(&outcome) == expected => {}
            Ok(outcome) => failures.push(format!(
                "{}: differs from the golden file:\n{}\n{}",
                board.name,
                common::first_difference(&expected, &describe(&outcome)),
                outcome.stderr
            )),
            Err(e) => failures.push(format!("{}: {e}", board.name)),
        }
    }
    failures.finish("rust async timer");
}

/// The WASI 0.3 echo guest in Rust (`tests/components/rust-async/echo`: wit-bindgen's
/// streams over `wasi:cli/stdin@0.3.0` and `stdout@0.3.0`) on every Linux target: what
/// it writes must be its input byte for byte, and wasmtime's output for the same input
/// (`-W component-model-async -S p3`); its count of the bytes goes to stderr's stream. Two inputs: 320 KiB written at once, and 96 KiB
/// through a pipe that delivers it slowly in pieces of 1 byte to 7 KiB, so that reads
/// find stdin empty and wait for it in the reactor. Then on every board, with text on
/// the console.
#[test]
fn rust_async_echo() {
    let dir = common::scratch("components-rust-async-echo");
    let wasm = toolchain::build_rust_async_guest("echo", "p3_echo");
    let inputs = [
        ("at once", echo_input(320 * 1024), false),
        ("slowly", echo_input(96 * 1024), true),
    ];
    let wasmtime = common::which("wasmtime");
    let mut failures = Failures::default();
    for (what, input, slowly) in &inputs {
        if let Some(wasmtime) = &wasmtime {
            let mut command = Command::new(wasmtime);
            command
                .args(["run", "-W", "component-model-async=y", "-S", "p3=y"])
                .arg(&wasm)
                .env_clear();
            let (code, stdout, stderr) = run_fed(&mut command, input, *slowly);
            let note = format!("echoed {} bytes\n", input.len());
            if (code, &stdout, &stderr) != (0, input, &note) {
                failures.push(format!(
                    "wasmtime, input {what}: exit {code}, {} of {} bytes, {}; stderr {stderr:?}",
                    stdout.len(),
                    input.len(),
                    if input.starts_with(&stdout) {
                        "a prefix"
                    } else {
                        "differing"
                    }
                ));
            }
        }
    }
    for target in common::test_targets() {
        let image = dir.join(format!("echo.{}", target.name));
        let build = common::wafer_build(&wasm, &image, &["--target", target.name]);
        if build.code != 0 {
            failures.push(format!("{}: build failed: {}", target.name, build.stderr));
            continue;
        }
        for (what, input, slowly) in &inputs {
            let mut command = target.command(&image);
            command.env_clear();
            let (code, stdout, stderr) = run_fed(&mut command, input, *slowly);
            let note = format!("echoed {} bytes\n", input.len());
            if (code, &stdout, &stderr) != (0, input, &note) {
                failures.push(format!(
                    "{}, input {what}: exit {code}, {} of {} bytes, {}; stderr {stderr:?}",
                    target.name,
                    stdout.len(),
                    input.len(),
                    if input.starts_with(&stdout) {
                        "a prefix"
                    } else {
                        "differing"
                    }
                ));
            }
        }
    }
    // On a board stdin is the UART, where Ctrl-D ends the input: text, then Ctrl-D.
    let text: String = echo_input(6 * 1024)
        .iter()
        .map(|byte| match byte % 64 {
            0 => '\n',
            n => char::from(b' ' + n % 95),
        })
        .collect();
    let console = format!("{text}\u{4}");
    // The console is stdout and stderr at once.
    let console_echo = format!("{text}echoed {} bytes\n", text.len());
    for board in common::boards::boards() {
        let image = dir.join(format!("echo.{}.elf", board.name));
        let build = common::wafer_build(&wasm, &image, &["--target", &board.name]);
        if build.code != 0 {
            failures.push(format!("{}: build failed: {}", board.name, build.stderr));
            continue;
        }
        match board.boot(
            &image,
            Some(console.as_bytes()),
            std::time::Duration::from_secs(120),
        ) {
            Ok(outcome) if outcome.code == 0 && outcome.stdout == console_echo => {}
            Ok(outcome) => failures.push(format!(
                "{}: exit {}, differs from its input:\n{}\n{}",
                board.name,
                outcome.code,
                common::first_difference(&console_echo, &outcome.stdout),
                outcome.stderr
            )),
            Err(e) => failures.push(format!("{}: {e}", board.name)),
        }
    }
    failures.finish("rust async echo");
}

/// The WASI 0.3 files guest in Rust (`tests/components/rust-async/files`: wit-bindgen's
/// streams and `async` functions over `wasi:filesystem@0.3.0`) on every Linux target,
/// in a fresh directory granted as `work`: files written through `write-via-stream` and
/// `append-via-stream` in chunks larger than a buffer, read back from several offsets,
/// listed through `read-directory`, stat'ed, renamed, linked and removed, and what the
/// sandbox refuses. Its output must be the golden file's and wasmtime's with the same
/// grant (`-W component-model-async -S p3`), and the directory must end empty. Then
/// with a second, read-only grant `ro` (wasmtime's CLI has none), whose refusals are
/// 0.2's (`not-permitted`), against a golden file of its own; `ro` is left unchanged.
#[test]
fn rust_async_files() {
    let dir = common::scratch("components-rust-async-files");
    let wasm = toolchain::build_rust_async_guest("files", "p3_files");
    let fresh = |name: &str| -> PathBuf {
        let work = dir.join(name);
        let _ = std::fs::remove_dir_all(&work);
        std::fs::create_dir_all(&work).unwrap();
        work
    };
    let ro = fresh("ro");
    std::fs::write(ro.join("data.txt"), "read-only data\n").unwrap();
    let listing = |path: &Path| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(path)
            .map(|entries| {
                entries
                    .flatten()
                    .map(|entry| entry.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    };
    let reference = common::which("wasmtime").map(|wasmtime| {
        let work = fresh("work.wasmtime");
        common::run_command(
            Command::new(wasmtime)
                .args(["run", "-W", "component-model-async=y", "-S", "p3=y"])
                .arg("--dir")
                .arg(format!("{}::work", work.display()))
                .arg(&wasm)
                .env_clear(),
        )
    });
    let mut failures = Failures::default();
    if let Some(reference) = &reference
        && reference.code != 0
    {
        failures.push(format!(
            "wasmtime: exit {}:\n{}",
            reference.code, reference.stderr
        ));
    }
    let read_only = format!("{}::ro:ro", ro.display());
    for target in common::test_targets() {
        for (name, extra) in [
            ("rust_async_files", &[][..]),
            ("rust_async_files_ro", &["--dir", read_only.as_str()][..]),
        ] {
            let work = fresh(&format!("work.{name}.{}", target.name));
            let image = dir.join(format!("{name}.{}", target.name));
            let grant = format!("{}::work", work.display());
            let mut flags = vec!["--dir", grant.as_str(), "--target", target.name];
            flags.extend(extra);
            let build = common::wafer_build(&wasm, &image, &flags);
            if build.code != 0 {
                failures.push(format!(
                    "{name} ({}): build failed: {}",
                    target.name, build.stderr
                ));
                continue;
            }
            let outcome = common::run_image_on(&target, &image, &[], &[]);
            if let Err(e) = check_expected(name, &target, &outcome) {
                failures.push(format!("{name} ({}): {e}\n{}", target.name, outcome.stderr));
            }
            if !listing(&work).is_empty() {
                failures.push(format!(
                    "{name} ({}): `work` not left empty: {:?}",
                    target.name,
                    listing(&work)
                ));
            }
            agrees_with_reference(
                &mut failures,
                &format!("{name} ({})", target.name),
                reference.as_ref().filter(|_| extra.is_empty()),
                &outcome,
            );
        }
    }
    let unchanged = std::fs::read_to_string(ro.join("data.txt")).unwrap_or_default();
    if (listing(&ro), unchanged.as_str()) != (vec!["data.txt".to_string()], "read-only data\n") {
        failures.push(format!("the read-only grant changed: {:?}", listing(&ro)));
    }
    failures.finish("rust async files");
}

/// The WASI 0.3 sockets program (`tests/components/rust-async/sockets`: a TCP listener
/// and a connection to it on loopback, 200 kB streamed each way with the echo done by
/// the same program at once, addresses, options and the errors of out-of-order
/// operations, a UDP round trip whose receive waits before the datagram is sent, and
/// name lookup) built for every Linux target: with the whole network granted it prints
/// what wasmtime prints (`-S inherit-network`) and the golden file; granted only
/// loopback's `127.0.0.1` (`--listen`/`--connect` with port 0, any port) it is refused
/// `127.0.0.2` and name lookup; granted nothing, every socket is `access-denied` at
/// once (wasmtime, which cannot grant addresses, creates them and refuses the bind).
/// Where the host has IPv6 loopback, the program's IPv6 part (`ipv6`: `::1`) runs too,
/// against wasmtime and its golden file.
#[test]
fn rust_async_sockets() {
    let dir = common::scratch("components-rust-async-sockets");
    let wasm = toolchain::build_rust_async_guest("sockets", "p3_sockets");
    let ipv6 = std::net::TcpListener::bind("[::1]:0").is_ok();
    if !ipv6 {
        eprintln!("rust_async_sockets: no IPv6 loopback here: its IPv6 part is not run");
    }
    let reference = |args: &[&str]| {
        common::which("wasmtime").map(|wasmtime| {
            common::run_command(
                Command::new(wasmtime)
                    .args(["run", "-W", "component-model-async=y", "-S", "p3=y"])
                    .args(["-S", "inherit-network=y", "-S", "allow-ip-name-lookup=y"])
                    .arg(&wasm)
                    .args(args)
                    .env_clear(),
            )
        })
    };
    let mut failures = Failures::default();
    let references = [
        ("rust_async_sockets", reference(&[])),
        (
            "rust_async_sockets_ipv6",
            reference(&["ipv6"]).filter(|_| ipv6),
        ),
    ];
    for (name, reference) in &references {
        if let Some(reference) = reference
            && reference.code != 0
        {
            failures.push(format!(
                "{name}: wasmtime: exit {}:\n{}",
                reference.code, reference.stderr
            ));
        }
    }
    let runs: [(&str, &[&str], &[&str]); 4] = [
        ("rust_async_sockets", &["--inherit-network"], &[]),
        (
            "rust_async_sockets_granted",
            &["--listen", "127.0.0.1:0", "--connect", "127.0.0.1:0"],
            &[],
        ),
        ("rust_async_sockets_denied", &[], &[]),
        ("rust_async_sockets_ipv6", &["--inherit-network"], &["ipv6"]),
    ];
    for target in common::test_targets() {
        for (name, grants, args) in runs {
            if name == "rust_async_sockets_ipv6" && !ipv6 {
                continue;
            }
            let image = dir.join(format!("{name}.{}", target.name));
            let mut flags = grants.to_vec();
            flags.extend(["--target", target.name]);
            let build = common::wafer_build(&wasm, &image, &flags);
            if build.code != 0 {
                failures.push(format!(
                    "{name} ({}): build failed: {}",
                    target.name, build.stderr
                ));
                continue;
            }
            let outcome = common::run_image_on(&target, &image, args, &[]);
            if let Err(e) = check_expected(name, &target, &outcome) {
                failures.push(format!("{name} ({}): {e}\n{}", target.name, outcome.stderr));
            }
            let reference = references
                .iter()
                .find(|(reference, _)| *reference == name)
                .and_then(|(_, reference)| reference.as_ref());
            agrees_with_reference(
                &mut failures,
                &format!("{name} ({})", target.name),
                reference,
                &outcome,
            );
        }
    }
    failures.finish("rust async sockets");
}

/// A board has no network: the build refuses a component importing
/// `wasi:sockets@0.3` in one line, as it refuses an HTTP service.
#[test]
fn rust_async_sockets_are_refused_on_a_board() {
    let dir = common::scratch("components-rust-async-sockets-board");
    let wasm = toolchain::build_rust_async_guest("sockets", "p3_sockets");
    let build = common::wafer_build(
        &wasm,
        &dir.join("sockets.elf"),
        &["--target", "qemu-virt-riscv64"],
    );
    assert_ne!(build.code, 0);
    assert!(
        build
            .stderr
            .contains("on board `qemu-virt-riscv64`, which has no network")
            && build.stderr.lines().count() == 1,
        "{}",
        build.stderr
    );
}

/// `len` bytes of every value, in an order no simple pattern repeats.
fn echo_input(len: usize) -> Vec<u8> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// Runs `command` with `input` on a pipe to its stdin (at once, or `slowly`: pieces of
/// growing sizes, 2 ms apart): its exit code, stdout (bytes as written) and stderr.
fn run_fed(command: &mut Command, input: &[u8], slowly: bool) -> (i32, Vec<u8>, String) {
    use std::io::Write as _;
    use std::process::Stdio;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    let mut stdin = child.stdin.take().expect("piped stdin");
    let input = input.to_vec();
    let feeder = std::thread::spawn(move || {
        if !slowly {
            let _ = stdin.write_all(&input);
            return;
        }
        let mut rest = input.as_slice();
        let mut piece = 1usize;
        while !rest.is_empty() {
            let (now, later) = rest.split_at(piece.min(rest.len()));
            if stdin.write_all(now).and_then(|()| stdin.flush()).is_err() {
                return;
            }
            rest = later;
            piece = piece * 3 % 7171 + 1;
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    });
    let output = child.wait_with_output().expect("wait for the program");
    let _ = feeder.join();
    (
        output.status.code().unwrap_or(-1),
        output.stdout,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Records a failure labelled `label` unless `reference` (wasmtime's run of the same
/// program, when wasmtime is installed) exited as `outcome` did with the same stdout.
fn agrees_with_reference(
    failures: &mut Failures,
    label: &str,
    reference: Option<&common::Outcome>,
    outcome: &common::Outcome,
) {
    if let Some(reference) = reference
        && (reference.code, &reference.stdout) != (outcome.code, &outcome.stdout)
    {
        failures.push(format!(
            "{label}: differs from wasmtime:\n{}",
            common::first_difference(&reference.stdout, &outcome.stdout)
        ));
    }
}

/// A WASI 0.3 program whose stdout pipe is full does not stop its executor:
/// `wat/p3_stdout_full.wat` writes 1 MiB to stdout's stream while a 20 ms timer runs,
/// and says "tick" on stderr when the timer fires. The test reads nothing of stdout
/// until "tick" has come (so the pipe stays full and the inherited, blocking descriptor
/// would block a write), then all of it: 1 MiB of `x`, exit 0. On every Linux target.
/// wasmtime 49 writes the same when its stdout is read as it comes, but its timer does
/// not fire while stdout is held (so the reference is only the output here).
#[test]
fn p3_full_stdout_pipe_does_not_stop_the_executor() {
    let dir = common::scratch("components-p3-stdout-full");
    let wasm = common::tests_dir().join("components/wat/p3_stdout_full.wat");
    let mut failures = Failures::default();
    if let Some(wasmtime) = common::which("wasmtime") {
        let output = Command::new(wasmtime)
            .args(["run", "-W", "component-model-async=y", "-S", "p3=y"])
            .arg(&wasm)
            .output()
            .expect("run wasmtime");
        if output.status.code() != Some(0)
            || output.stdout.len() != 1 << 20
            || output.stderr != b"tick\n"
        {
            failures.push(format!(
                "wasmtime: exit {:?}, {} bytes of stdout, stderr {:?}",
                output.status.code(),
                output.stdout.len(),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
    }
    for target in common::test_targets() {
        let image = dir.join(format!("stdout-full.{}", target.name));
        let build = common::wafer_build(&wasm, &image, &["--target", target.name]);
        if build.code != 0 {
            failures.push(format!("{}: build failed: {}", target.name, build.stderr));
            continue;
        }
        if let Err(e) = run_holding_stdout(&mut target.command(&image)) {
            failures.push(format!("{}: {e}", target.name));
        }
    }
    failures.finish("a full stdout pipe");
}

/// Runs `command` with stdout and stderr piped, reading stdout only once stderr said
/// "tick": checks stdout is 1 MiB of `x` and the exit status 0.
fn run_holding_stdout(command: &mut Command) -> Result<(), String> {
    use std::io::Read as _;
    use std::process::Stdio;
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {command:?}: {e}"))?;
    let mut stderr = child.stderr.take().expect("piped stderr");
    let (told, heard) = std::sync::mpsc::channel();
    let listener = std::thread::spawn(move || {
        let mut text = Vec::new();
        let mut byte = [0u8; 1];
        while let Ok(1) = stderr.read(&mut byte) {
            text.push(byte[0]);
            if text.ends_with(b"tick\n") {
                let _ = told.send(());
            }
        }
        String::from_utf8_lossy(&text).into_owned()
    });
    let ticked = heard
        .recv_timeout(std::time::Duration::from_secs(30))
        .is_ok();
    let mut stdout = Vec::new();
    child
        .stdout
        .take()
        .expect("piped stdout")
        .read_to_end(&mut stdout)
        .map_err(|e| format!("reading stdout: {e}"))?;
    let status = child.wait().map_err(|e| format!("waiting: {e}"))?;
    let stderr = listener.join().unwrap_or_default();
    if !ticked {
        return Err(format!(
            "no \"tick\" on stderr within 30 s while stdout was held (stderr {stderr:?})"
        ));
    }
    if stdout.len() != 1 << 20 || stdout.iter().any(|&b| b != b'x') {
        return Err(format!(
            "stdout: {} bytes, expected 1 MiB of x",
            stdout.len()
        ));
    }
    if status.code() != Some(0) {
        return Err(format!("exit {:?}, stderr {stderr:?}", status.code()));
    }
    Ok(())
}
