//! `--http`: the WASI 0.3 HTTP service (`tests/components/rust-async/http-service`) under
//! each server that can run it, driven over loopback by the plain HTTP/1.1 client below:
//! start-up (from exec to the first answered request), then requests per second and
//! latency percentiles over keep-alive connections, for a small `GET /` and for a
//! `POST /echo` whose body streams both ways. Every answer is checked (status, and the
//! body byte for byte), so a dropped or garbled request counts as an error, not as speed.
//! Writes `target/bench/HTTP.md` (also printed).
//!
//! A server prints the URL it serves on as the first line of its stderr, as
//! `wasmtime serve` does (`Serving HTTP on http://127.0.0.1:PORT/`), and listens on a
//! port the kernel picks.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::measure::build_step;
use crate::report::Table;
use crate::tools;

/// Where the guest's cargo project is, relative to the repository.
const GUEST: &str = "tests/components/rust-async/http-service";
/// What `GET /` answers.
const GREETING: &[u8] = b"hello from wasi:http 0.3\n";
/// The body of each `POST /echo`.
const ECHO_BODY_BYTES: usize = 64 * 1024;
/// Concurrent keep-alive connections.
const CONNECTIONS: usize = 16;
/// How long each load runs.
const LOAD_TIME: Duration = Duration::from_secs(5);
/// How long a server may take to answer its first request.
const START_LIMIT: Duration = Duration::from_secs(60);

/// A way to serve the component: a name and the command that serves it.
struct Server {
    name: String,
    /// The command, or why there is none (a build that failed).
    command: Result<Vec<OsString>, String>,
}

/// What one load measured.
#[derive(Default)]
struct Load {
    requests: usize,
    errors: usize,
    first_error: Option<String>,
    /// Latencies of the answered requests, in seconds, sorted.
    latencies: Vec<f64>,
    seconds: f64,
}

impl Load {
    fn per_second(&self) -> f64 {
        self.requests as f64 / self.seconds
    }

    fn percentile(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let rank = ((p / 100.0) * self.latencies.len() as f64).ceil() as usize;
        self.latencies[rank.clamp(1, self.latencies.len()) - 1]
    }
}

/// Builds the guest and the servers, measures each, writes the report; `Ok(false)`
/// when a server answered wrongly or not at all.
pub fn run(root: &Path, work: &Path) -> Result<bool, String> {
    let mut versions = Vec::new();
    let mut notes = Vec::new();
    tools::rustc(&mut versions)?;
    let wafer = tools::pin_wafer(root, work, &mut versions, &mut notes)?;
    let wasmtime = tools::wasmtime(
        &root.join("target").join("bench-tools"),
        &mut versions,
        &mut notes,
    )?;
    for note in &notes {
        eprintln!("wafer-bench: note: {note}");
    }
    let component = build_guest(root, work)?;
    let image = work.join("http-service.wafer");
    let wafer_command = build_step(
        Command::new(&wafer)
            .arg("build")
            .arg(&component)
            .args(["--listen", "127.0.0.1:0", "-o"])
            .arg(&image),
    )
    .map(|()| vec![image.into_os_string()]);
    let servers = [
        Server {
            name: "wafer".into(),
            command: wafer_command,
        },
        Server {
            name: "wasmtime serve".into(),
            command: Ok(vec![
                wasmtime.into_os_string(),
                "serve".into(),
                "-S".into(),
                "p3,cli".into(),
                "--addr".into(),
                "127.0.0.1:0".into(),
                component.clone().into_os_string(),
            ]),
        },
    ];
    let echo_body: Vec<u8> = (0..ECHO_BODY_BYTES)
        .map(|i| (i * 7 + i / 251) as u8)
        .collect();
    let mut table = Table::new(
        [
            "server",
            "start-up (ms)",
            "GET / (req/s)",
            "GET p50 (ms)",
            "GET p99 (ms)",
            "POST /echo 64 KiB (req/s)",
            "echo p50 (ms)",
            "echo p99 (ms)",
            "errors",
        ]
        .map(String::from)
        .to_vec(),
    );
    let mut all_good = true;
    for server in &servers {
        eprint!("wafer-bench: serving with {} ...", server.name);
        let command = match &server.command {
            Ok(command) => command,
            Err(why) => {
                eprintln!(" cannot: {why}");
                // The tool's own one-line error, without the command line before it.
                let short = why.rfind("error: ").map_or(why.as_str(), |at| &why[at..]);
                table.row(not_measured(
                    &server.name,
                    &format!("cannot serve: {short}"),
                ));
                all_good = false;
                continue;
            }
        };
        match measure_server(command, &echo_body) {
            Ok((startup, get, echo)) => {
                let errors = get.errors + echo.errors;
                eprintln!(
                    " {:.0} req/s GET, {:.0} req/s echo, {errors} errors",
                    get.per_second(),
                    echo.per_second()
                );
                if errors > 0 {
                    all_good = false;
                    for load in [&get, &echo] {
                        if let Some(first) = &load.first_error {
                            eprintln!("wafer-bench: {}: {first}", server.name);
                        }
                    }
                }
                table.row(vec![
                    server.name.clone(),
                    format!("{:.1}", startup.as_secs_f64() * 1e3),
                    format!("{:.0}", get.per_second()),
                    format!("{:.2}", get.percentile(50.0) * 1e3),
                    format!("{:.2}", get.percentile(99.0) * 1e3),
                    format!("{:.0}", echo.per_second()),
                    format!("{:.2}", echo.percentile(50.0) * 1e3),
                    format!("{:.2}", echo.percentile(99.0) * 1e3),
                    errors.to_string(),
                ]);
            }
            Err(why) => {
                eprintln!(" failed: {why}");
                table.row(not_measured(&server.name, &why));
                all_good = false;
            }
        }
    }
    let mut text = format!(
        "# The WASI 0.3 HTTP service\n\n\
         `cargo run --release -p wafer-bench -- --http`: `{GUEST}` (a Rust wit-bindgen \
         async component exporting `wasi:http/handler@0.3.0`) under each server, on \
         loopback; start-up is from exec to the first answered `GET /`; then {CONNECTIONS} \
         keep-alive connections for {} s each of `GET /` ({} bytes) and of `POST /echo` \
         with a {} KiB body streamed back, every answer checked; latencies per request. \
         Client and server share this machine's {} cores.\n\n",
        LOAD_TIME.as_secs(),
        GREETING.len(),
        ECHO_BODY_BYTES / 1024,
        tools::cores(),
    );
    for (name, version) in &versions {
        text.push_str(&format!("- {name}: {version}\n"));
    }
    text.push('\n');
    text.push_str(&table.render());
    let out = work.join("HTTP.md");
    std::fs::write(&out, &text).map_err(|e| format!("{}: {e}", out.display()))?;
    println!("{text}");
    eprintln!("wafer-bench: wrote {}", out.display());
    Ok(all_good)
}

fn not_measured(name: &str, why: &str) -> Vec<String> {
    let mut row = vec![name.to_string(), why.replace('|', "\\|")];
    row.extend(std::iter::repeat_n(String::new(), 7));
    row
}

/// The guest, built by cargo for `wasm32-wasip2` (its dependencies from crates.io).
fn build_guest(root: &Path, work: &Path) -> Result<std::path::PathBuf, String> {
    let target_dir = work.join("http-service-target");
    eprintln!("wafer-bench: building {GUEST}");
    build_step(
        Command::new("cargo")
            .current_dir(root.join(GUEST))
            .args(["build", "--release", "--quiet", "--target", "wasm32-wasip2"])
            .arg("--target-dir")
            .arg(&target_dir),
    )?;
    Ok(target_dir.join("wasm32-wasip2/release/p3_http_service.wasm"))
}

/// Starts the server, times its start-up, loads it, stops it.
fn measure_server(
    command: &[OsString],
    echo_body: &[u8],
) -> Result<(Duration, Load, Load), String> {
    let started = Instant::now();
    let mut child = Command::new(&command[0])
        .args(&command[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{}: {e}", command[0].to_string_lossy()))?;
    let result = (|| {
        let addr = served_address(&mut child)?;
        let startup = first_answer(addr, started)?;
        let get = load(addr, &Request::Get);
        let echo = load(addr, &Request::Echo(echo_body));
        Ok((startup, get, echo))
    })();
    let _ = child.kill();
    let _ = child.wait();
    result
}

/// The address in the first line of the server's stderr.
fn served_address(child: &mut Child) -> Result<SocketAddr, String> {
    let stderr = child.stderr.take().ok_or("no stderr")?;
    let mut reader = BufReader::new(stderr);
    let mut line = String::new();
    reader
        .read_line(&mut line)
        .map_err(|e| format!("reading the server's stderr: {e}"))?;
    // Drain the rest, so the server never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    let url = line
        .split_whitespace()
        .find(|word| word.starts_with("http://"))
        .ok_or_else(|| {
            format!(
                "the server's first stderr line names no URL: {:?}",
                line.trim()
            )
        })?;
    url.trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .map_err(|e| format!("{url}: {e}"))
}

/// Retries `GET /` until it is answered; the time since `started`.
fn first_answer(addr: SocketAddr, started: Instant) -> Result<Duration, String> {
    loop {
        if let Ok(mut connection) = Connection::open(addr)
            && connection.exchange(&Request::Get).is_ok()
        {
            return Ok(started.elapsed());
        }
        if started.elapsed() > START_LIMIT {
            return Err(format!("no answer within {} s", START_LIMIT.as_secs()));
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

enum Request<'a> {
    Get,
    Echo(&'a [u8]),
}

/// [`CONNECTIONS`] threads, each on its own connection, for [`LOAD_TIME`].
fn load(addr: SocketAddr, request: &Request<'_>) -> Load {
    let start = Instant::now();
    let deadline = start + LOAD_TIME;
    let loads: Vec<Load> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..CONNECTIONS)
            .map(|_| scope.spawn(move || connection_load(addr, request, deadline)))
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().unwrap_or_default())
            .collect()
    });
    let mut total = Load {
        seconds: start.elapsed().as_secs_f64(),
        ..Load::default()
    };
    for load in loads {
        total.requests += load.requests;
        total.errors += load.errors;
        total.first_error = total.first_error.or(load.first_error);
        total.latencies.extend(load.latencies);
    }
    total.latencies.sort_by(f64::total_cmp);
    total
}

fn connection_load(addr: SocketAddr, request: &Request<'_>, deadline: Instant) -> Load {
    let mut load = Load::default();
    let mut connection = None;
    while Instant::now() < deadline {
        let begin = Instant::now();
        let outcome = match &mut connection {
            Some(open) => Ok(open),
            None => Connection::open(addr).map(|open| connection.insert(open)),
        }
        .and_then(|open| open.exchange(request));
        match outcome {
            Ok(()) => {
                load.requests += 1;
                load.latencies.push(begin.elapsed().as_secs_f64());
            }
            Err(why) => {
                load.errors += 1;
                load.first_error.get_or_insert(why);
                connection = None;
            }
        }
    }
    load
}

/// One keep-alive HTTP/1.1 connection.
struct Connection {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Connection {
    fn open(addr: SocketAddr) -> Result<Connection, String> {
        let stream = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .map_err(|e| e.to_string())?;
        let writer = stream.try_clone().map_err(|e| e.to_string())?;
        Ok(Connection {
            reader: BufReader::new(stream),
            writer,
        })
    }

    /// Sends `request`, reads and checks its answer. A 64 KiB echo body fits the
    /// loopback socket's buffers, so the client may send it whole before reading while
    /// the server streams it back.
    fn exchange(&mut self, request: &Request<'_>) -> Result<(), String> {
        match request {
            Request::Get => self
                .writer
                .write_all(b"GET / HTTP/1.1\r\nhost: localhost\r\n\r\n"),
            Request::Echo(body) => {
                let mut message = format!(
                    "POST /echo HTTP/1.1\r\nhost: localhost\r\ncontent-length: {}\r\n\r\n",
                    body.len()
                )
                .into_bytes();
                message.extend_from_slice(body);
                self.writer.write_all(&message)
            }
        }
        .map_err(|e| format!("send: {e}"))?;
        let (status, received) = self.read_response()?;
        check(status, &received, body_of(request))
    }

    /// The status and body of the next response (by content-length or chunked).
    fn read_response(&mut self) -> Result<(u16, Vec<u8>), String> {
        let mut line = String::new();
        self.read_line(&mut line)?;
        let status = line
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| format!("bad status line {:?}", line.trim_end()))?;
        let mut length = None;
        let mut chunked = false;
        loop {
            line.clear();
            self.read_line(&mut line)?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            let (name, value) = header.split_once(':').unwrap_or((header, ""));
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = Some(
                    value
                        .parse::<usize>()
                        .map_err(|e| format!("content-length: {e}"))?,
                );
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.eq_ignore_ascii_case("chunked");
            }
        }
        let mut body = Vec::new();
        if chunked {
            loop {
                line.clear();
                self.read_line(&mut line)?;
                let size =
                    usize::from_str_radix(line.trim_end().split(';').next().unwrap_or(""), 16)
                        .map_err(|e| format!("chunk size {:?}: {e}", line.trim_end()))?;
                if size == 0 {
                    // Trailers, then the empty line.
                    loop {
                        line.clear();
                        self.read_line(&mut line)?;
                        if line.trim_end().is_empty() {
                            break;
                        }
                    }
                    break;
                }
                let start = body.len();
                body.resize(start + size, 0);
                self.reader
                    .read_exact(&mut body[start..])
                    .map_err(|e| format!("chunk: {e}"))?;
                line.clear();
                self.read_line(&mut line)?;
            }
        } else if let Some(length) = length {
            body.resize(length, 0);
            self.reader
                .read_exact(&mut body)
                .map_err(|e| format!("body: {e}"))?;
        } else {
            return Err("a response with neither content-length nor chunked encoding".into());
        }
        Ok((status, body))
    }

    fn read_line(&mut self, line: &mut String) -> Result<(), String> {
        match self.reader.read_line(line) {
            Ok(0) => Err("the server closed the connection".into()),
            Ok(_) => Ok(()),
            Err(e) => Err(format!("receive: {e}")),
        }
    }
}

fn body_of<'a>(request: &Request<'a>) -> &'a [u8] {
    match request {
        Request::Get => GREETING,
        Request::Echo(body) => body,
    }
}

fn check(status: u16, received: &[u8], expected: &[u8]) -> Result<(), String> {
    if status != 200 {
        return Err(format!("status {status}"));
    }
    if received != expected {
        return Err(format!(
            "a body of {} bytes where {} were expected{}",
            received.len(),
            expected.len(),
            if received.len() == expected.len() {
                " (different bytes)"
            } else {
                ""
            }
        ));
    }
    Ok(())
}
