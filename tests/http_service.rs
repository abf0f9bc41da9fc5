//! The WASI 0.3 HTTP service (`tests/components/rust-async/http-service`, a Rust
//! wit-bindgen async component exporting `wasi:http/handler@0.3.0`) served by its wafer
//! image on every Linux target, driven by a plain HTTP/1.1 client over loopback under
//! bounded parallel load: keep-alive connections in parallel, bodies of many sizes
//! sent with `Content-Length` or chunked and in pieces, a body streamed both ways (the
//! client sends the next piece only after the echo of the last came back), pipelined
//! requests, and requests the server must refuse. Every answer is checked byte for
//! byte, and the same script run against `wasmtime serve` (the reference) must get the
//! same statuses and bodies.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::toolchain;

/// A server being driven: its process and the address from its first stderr line.
struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `command` and reads the URL it serves on from the first line of its stderr
/// (`Serving HTTP on http://127.0.0.1:PORT/`, as `wasmtime serve` writes it).
fn start(command: &mut Command) -> Result<Server, String> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start the server: {e}"))?;
    let stderr = child.stderr.take().expect("piped stderr");
    let mut reader = BufReader::new(stderr);
    let mut line = String::new();
    reader
        .read_line(&mut line)
        .map_err(|e| format!("reading the server's stderr: {e}"))?;
    // Keep draining stderr so the server never blocks on it.
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    let addr = line
        .trim()
        .strip_prefix("Serving HTTP on http://")
        .and_then(|rest| rest.strip_suffix('/'))
        .ok_or(format!("the first stderr line is not a URL: {line:?}"))?
        .to_string();
    Ok(Server { child, addr })
}

/// A response as the client read it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Response {
    status: u16,
    /// Lower-case names.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Reads one response from `reader` (the body by `Content-Length`, chunked, or to the
/// end of the stream), `head_request` saying the request was `HEAD`.
fn read_response(
    reader: &mut BufReader<TcpStream>,
    head_request: bool,
) -> std::io::Result<Response> {
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status = line
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line {line:?}")))?;
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let field = line.trim_end();
        if field.is_empty() {
            break;
        }
        let (name, value) = field
            .split_once(':')
            .ok_or_else(|| std::io::Error::other(format!("bad field {field:?}")))?;
        headers.push((name.to_ascii_lowercase(), value.trim().to_string()));
    }
    let mut response = Response {
        status,
        headers,
        body: Vec::new(),
    };
    if head_request || status == 204 || status == 304 {
        return Ok(response);
    }
    if let Some(length) = response.header("content-length") {
        let length: usize = length.parse().map_err(std::io::Error::other)?;
        response.body.resize(length, 0);
        reader.read_exact(&mut response.body)?;
    } else if response
        .header("transfer-encoding")
        .is_some_and(|te| te.eq_ignore_ascii_case("chunked"))
    {
        loop {
            line.clear();
            reader.read_line(&mut line)?;
            let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                .map_err(std::io::Error::other)?;
            if size == 0 {
                // Trailers, then the empty line.
                loop {
                    line.clear();
                    reader.read_line(&mut line)?;
                    if line.trim_end().is_empty() {
                        break;
                    }
                }
                break;
            }
            let start = response.body.len();
            response.body.resize(start + size, 0);
            reader.read_exact(&mut response.body[start..])?;
            line.clear();
            reader.read_line(&mut line)?;
        }
    } else {
        reader.read_to_end(&mut response.body)?;
    }
    Ok(response)
}

/// A connection to the server.
struct Client {
    writer: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Client {
    fn connect(addr: &str) -> std::io::Result<Client> {
        let stream = TcpStream::connect(addr)?;
        stream.set_read_timeout(Some(Duration::from_secs(60)))?;
        stream.set_nodelay(true)?;
        Ok(Client {
            writer: stream.try_clone()?,
            reader: BufReader::new(stream),
        })
    }

    fn get(&mut self, path: &str) -> std::io::Result<Response> {
        write!(self.writer, "GET {path} HTTP/1.1\r\nHost: test\r\n\r\n")?;
        read_response(&mut self.reader, false)
    }

    /// `POST /echo` with `body` sent in `pieces` writes, chunked or with a length.
    fn echo(&mut self, body: &[u8], pieces: usize, chunked: bool) -> std::io::Result<Response> {
        if chunked {
            write!(
                self.writer,
                "POST /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"
            )?;
        } else {
            write!(
                self.writer,
                "POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: {}\r\n\r\n",
                body.len()
            )?;
        }
        let piece = body.len().div_ceil(pieces.max(1)).max(1);
        for part in body.chunks(piece) {
            if chunked {
                write!(self.writer, "{:x}\r\n", part.len())?;
                self.writer.write_all(part)?;
                self.writer.write_all(b"\r\n")?;
            } else {
                self.writer.write_all(part)?;
            }
            self.writer.flush()?;
        }
        if chunked {
            self.writer.write_all(b"0\r\n\r\n")?;
        }
        read_response(&mut self.reader, false)
    }

    /// `POST /echo`, chunked, one piece at a time: each is sent only once the echo of
    /// the one before has come back, which only a server streaming the request body to
    /// the guest and the response body from it, as they go, can answer.
    fn interactive_echo(&mut self, pieces: &[Vec<u8>]) -> std::io::Result<Vec<u8>> {
        write!(
            self.writer,
            "POST /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"
        )?;
        let mut line = String::new();
        let mut head = Vec::new();
        let mut echoed = Vec::new();
        let mut pending = Vec::new();
        for (i, piece) in pieces.iter().enumerate() {
            write!(self.writer, "{:x}\r\n", piece.len())?;
            self.writer.write_all(piece)?;
            self.writer.write_all(b"\r\n")?;
            if i == 0 {
                // The head comes with the first echoed bytes.
                loop {
                    line.clear();
                    self.reader.read_line(&mut line)?;
                    if line.trim_end().is_empty() {
                        break;
                    }
                    head.push(line.clone());
                }
            }
            // Read chunks until this piece came back whole.
            let want = echoed.len() + pending.len() + piece.len();
            while echoed.len() + pending.len() < want {
                line.clear();
                self.reader.read_line(&mut line)?;
                let size = usize::from_str_radix(line.trim(), 16).map_err(std::io::Error::other)?;
                let mut chunk = vec![0u8; size];
                self.reader.read_exact(&mut chunk)?;
                pending.extend_from_slice(&chunk);
                line.clear();
                self.reader.read_line(&mut line)?;
            }
            echoed.append(&mut pending);
        }
        self.writer.write_all(b"0\r\n\r\n")?;
        // The last chunk and the end of the trailers.
        loop {
            line.clear();
            self.reader.read_line(&mut line)?;
            if line.trim() == "0" {
                break;
            }
            let size = usize::from_str_radix(line.trim(), 16).map_err(std::io::Error::other)?;
            let mut chunk = vec![0u8; size];
            self.reader.read_exact(&mut chunk)?;
            echoed.extend_from_slice(&chunk);
            line.clear();
            self.reader.read_line(&mut line)?;
        }
        line.clear();
        self.reader.read_line(&mut line)?;
        if !head
            .first()
            .is_some_and(|status| status.starts_with("HTTP/1.1 200"))
        {
            return Err(std::io::Error::other(format!("head {head:?}")));
        }
        Ok(echoed)
    }
}

/// A deterministic pseudo-random generator (xorshift), so the script is the same for
/// every server.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// What one connection of the load saw: per request, (what, status, body).
type Transcript = Vec<(String, u16, Vec<u8>)>;

/// One connection's share of the load: `requests` requests mixing `GET /`, echoes of
/// up to `max_body` bytes (with a length or chunked, in 1 to 8 pieces) and a 404;
/// every answer checked. Returns the transcript for comparison between servers.
fn connection_load(
    addr: &str,
    seed: u64,
    requests: usize,
    max_body: usize,
) -> Result<Transcript, String> {
    let mut rng = Rng(seed);
    let mut client = Client::connect(addr).map_err(|e| format!("connect: {e}"))?;
    let mut transcript = Vec::new();
    for i in 0..requests {
        let (what, response, expected) = match rng.next() % 4 {
            0 => (
                "GET /".to_string(),
                client.get("/"),
                b"hello from wasi:http 0.3\n".to_vec(),
            ),
            1 => (
                "GET /missing".to_string(),
                client.get("/missing"),
                b"not found\n".to_vec(),
            ),
            kind => {
                let len = (rng.next() as usize) % (max_body + 1);
                let body = rng.bytes(len);
                let pieces = 1 + (rng.next() as usize) % 8;
                let chunked = kind == 3;
                let what = format!("echo {len} bytes in {pieces} pieces, chunked {chunked}");
                (what, client.echo(&body, pieces, chunked), body)
            }
        };
        let response = response.map_err(|e| format!("request {i} ({what}): {e}"))?;
        if response.body != expected {
            return Err(format!(
                "request {i} ({what}): status {}, a body of {} bytes differing from the {} expected",
                response.status,
                response.body.len(),
                expected.len()
            ));
        }
        transcript.push((what, response.status, response.body));
    }
    Ok(transcript)
}

/// The whole script against the server at `addr`: `connections` keep-alive
/// connections in parallel, then the special cases. Returns the transcripts.
fn drive(
    addr: &str,
    connections: u64,
    requests: usize,
    max_body: usize,
) -> Result<Vec<Transcript>, String> {
    let loads: Vec<_> = (0..connections)
        .map(|c| {
            let addr = addr.to_string();
            std::thread::spawn(move || {
                connection_load(&addr, 0x9e37_79b9_7f4a_7c15 ^ (c + 1), requests, max_body)
            })
        })
        .collect();
    let mut transcripts = Vec::new();
    for (c, load) in loads.into_iter().enumerate() {
        let transcript = load
            .join()
            .map_err(|_| format!("connection {c} panicked"))?
            .map_err(|e| format!("connection {c}: {e}"))?;
        transcripts.push(transcript);
    }

    // Streamed both ways: 8 pieces of 16 KiB, each sent after the last came back.
    let mut rng = Rng(7);
    let pieces: Vec<Vec<u8>> = (0..8).map(|_| rng.bytes(16 * 1024)).collect();
    let mut client = Client::connect(addr).map_err(|e| e.to_string())?;
    let echoed = client
        .interactive_echo(&pieces)
        .map_err(|e| format!("interactive echo: {e}"))?;
    if echoed != pieces.concat() {
        return Err(format!(
            "interactive echo: {} bytes back, differing",
            echoed.len()
        ));
    }

    // Two requests in one write (pipelined), answered in order.
    let mut client = Client::connect(addr).map_err(|e| e.to_string())?;
    client
        .writer
        .write_all(b"GET /missing HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let first = read_response(&mut client.reader, false).map_err(|e| e.to_string())?;
    let second = read_response(&mut client.reader, false).map_err(|e| e.to_string())?;
    if (first.status, second.status, &second.body[..]) != (404, 200, b"hello from wasi:http 0.3\n")
    {
        return Err(format!("pipelined: {first:?} then {second:?}"));
    }

    // `Connection: close`: answered, then the server closes.
    let mut client = Client::connect(addr).map_err(|e| e.to_string())?;
    client
        .writer
        .write_all(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let response = read_response(&mut client.reader, false).map_err(|e| e.to_string())?;
    let mut rest = Vec::new();
    let closed = client
        .reader
        .read_to_end(&mut rest)
        .map_err(|e| e.to_string())?;
    if response.status != 200 || closed != 0 {
        return Err(format!(
            "connection close: {response:?}, then {closed} more bytes"
        ));
    }
    Ok(transcripts)
}

/// `count` connections open at once (more than one `poll` call could watch), each
/// sending `GET /` only after all are open, every answer checked.
fn many_connections(addr: &str, count: usize) -> Result<(), String> {
    let mut clients = Vec::new();
    for i in 0..count {
        clients.push(Client::connect(addr).map_err(|e| format!("connection {i}: {e}"))?);
    }
    for client in &mut clients {
        client
            .writer
            .write_all(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            .map_err(|e| e.to_string())?;
    }
    for (i, client) in clients.iter_mut().enumerate() {
        let response =
            read_response(&mut client.reader, false).map_err(|e| format!("connection {i}: {e}"))?;
        if response.body != b"hello from wasi:http 0.3\n" {
            return Err(format!("connection {i}: {response:?}"));
        }
    }
    Ok(())
}

/// Clients that go away in the middle of a request (of its head, of a body with a
/// length, of a chunked body) or without reading the answer: the service goes on
/// answering others.
fn abandoned_requests(addr: &str) -> Result<(), String> {
    let starts: [&[u8]; 4] = [
        b"GET / HTTP/1.1\r\nHost: a\r\nX-Half: ",
        b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\nsome of it",
        b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
        b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
    ];
    for start in starts {
        let mut client = Client::connect(addr).map_err(|e| e.to_string())?;
        client.writer.write_all(start).map_err(|e| e.to_string())?;
        std::thread::sleep(Duration::from_millis(20));
        drop(client);
    }
    let mut client = Client::connect(addr).map_err(|e| e.to_string())?;
    let response = client
        .get("/")
        .map_err(|e| format!("after abandoned requests: {e}"))?;
    if response.body != b"hello from wasi:http 0.3\n" {
        return Err(format!("after abandoned requests: {response:?}"));
    }
    Ok(())
}

/// Requests no server may take: each is refused with its status, and the connection
/// closed. (Only wafer's are checked: wasmtime's hyper words them differently.)
fn refusals(addr: &str) -> Result<(), String> {
    let cases: [(&[u8], u16); 4] = [
        (b"GET / HTTP/1.1\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nBad Field : x\r\n\r\n", 400),
        (
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n",
            501,
        ),
        (b"GET / HTTP/3.0\r\nHost: a\r\n\r\n", 505),
    ];
    for (request, status) in cases {
        let mut client = Client::connect(addr).map_err(|e| e.to_string())?;
        client
            .writer
            .write_all(request)
            .map_err(|e| e.to_string())?;
        let response = read_response(&mut client.reader, false).map_err(|e| e.to_string())?;
        if response.status != status || response.header("connection") != Some("close") {
            return Err(format!(
                "{:?}: {} {:?}, expected {status} and connection: close",
                String::from_utf8_lossy(request),
                response.status,
                response.header("connection")
            ));
        }
    }
    Ok(())
}

/// The load natively and against the reference: (connections, requests on each, the
/// largest echoed body).
const NATIVE_LOAD: (u64, usize, usize) = (16, 30, 256 * 1024);

/// The load under qemu-user, some ten times slower.
const EMULATED_LOAD: (u64, usize, usize) = (8, 10, 64 * 1024);

#[test]
fn http_service_under_parallel_load() {
    let dir = common::scratch("http-service");
    let wasm = toolchain::build_rust_async_guest("http-service", "p3_http_service");
    let mut failures = common::Failures::default();

    // The reference: the same script against wasmtime serve.
    let reference = common::which("wasmtime").map(|wasmtime| {
        let server = start(
            Command::new(wasmtime)
                .args(["serve", "-S", "p3,cli", "--addr", "127.0.0.1:0"])
                .arg(&wasm),
        )?;
        drive(&server.addr, NATIVE_LOAD.0, NATIVE_LOAD.1, NATIVE_LOAD.2)
    });
    if let Some(Err(why)) = &reference {
        failures.push(format!("wasmtime serve: {why}"));
    }

    for target in common::test_targets() {
        let image = dir.join(format!("http-service.{}", target.name));
        let build = common::wafer_build(
            &wasm,
            &image,
            &["--target", target.name, "--listen", "127.0.0.1:0"],
        );
        if build.code != 0 {
            failures.push(format!("{}: build failed: {}", target.name, build.stderr));
            continue;
        }
        let server = match start(&mut target.command(&image)) {
            Ok(server) => server,
            Err(why) => {
                failures.push(format!("{}: {why}", target.name));
                continue;
            }
        };
        // Under qemu-user fewer, smaller requests; the same script shape.
        let native = target.emulator.is_none();
        let (connections, requests, max_body) = if native { NATIVE_LOAD } else { EMULATED_LOAD };
        match drive(&server.addr, connections, requests, max_body) {
            Ok(transcripts) => {
                if native
                    && let Some(Ok(reference)) = &reference
                    && let Some((ours, theirs)) = transcripts
                        .iter()
                        .flatten()
                        .zip(reference.iter().flatten())
                        .find(|(ours, theirs)| ours != theirs)
                {
                    failures.push(format!(
                        "{}: {} answered {} with {} bytes; wasmtime serve {} with {} bytes",
                        target.name,
                        ours.0,
                        ours.1,
                        ours.2.len(),
                        theirs.1,
                        theirs.2.len()
                    ));
                }
            }
            Err(why) => failures.push(format!("{}: {why}", target.name)),
        }
        if let Err(why) = refusals(&server.addr) {
            failures.push(format!("{}: {why}", target.name));
        }
        if let Err(why) = abandoned_requests(&server.addr) {
            failures.push(format!("{}: {why}", target.name));
        }
        if let Err(why) = many_connections(&server.addr, if native { 700 } else { 100 }) {
            failures.push(format!("{}: {why}", target.name));
        }
    }
    failures.finish("http service");
}

/// `wafer inspect` says an HTTP service image serves; built without an address to
/// listen on, it says so when run, in one line.
#[test]
fn http_service_without_listen_grant_says_what_to_grant() {
    let dir = common::scratch("http-service-no-grant");
    let wasm = toolchain::build_rust_async_guest("http-service", "p3_http_service");
    let image = dir.join("http-service");
    let build = common::wafer_build(&wasm, &image, &[]);
    assert_eq!(build.code, 0, "{}", build.stderr);
    let inspect = common::run_command(Command::new(common::wafer()).arg("inspect").arg(&image));
    assert!(
        inspect.stdout.contains(
            "entry point: the wasi:http/handler export: an HTTP service on the granted --listen addresses\n"
        ) && inspect.stdout.contains("  export wasi:http/handler@0.3.0\n    handle\n"),
        "{}",
        inspect.stdout
    );
    let outcome = common::run_image(&image, &[], &[]);
    assert_ne!(outcome.code, 0);
    assert_eq!(
        outcome.stderr,
        "wafer: error: an HTTP service needs an address to listen on: grant one with --listen ADDR (e.g. --listen 127.0.0.1:8080; port 0 picks a free one)\n"
    );
}

/// A board has no network: the build refuses an HTTP service in one line.
#[test]
fn http_service_on_a_board_is_refused_at_build() {
    let dir = common::scratch("http-service-board");
    let wasm = toolchain::build_rust_async_guest("http-service", "p3_http_service");
    let build = common::wafer_build(
        &wasm,
        &dir.join("svc.elf"),
        &["--target", "qemu-virt-aarch64"],
    );
    assert_ne!(build.code, 0);
    assert!(
        build
            .stderr
            .contains("on board `qemu-virt-aarch64`, which has no network")
            && build.stderr.lines().count() == 1,
        "{}",
        build.stderr
    );
}

/// The WASI 0.3 HTTP client (`tests/components/rust-async/http-client`: requests through
/// `wasi:http/client@0.3.0`, a 100 kB body streamed out while the echo streams back)
/// built for every Linux target, granted `--connect` to the service only, against the
/// service served by wafer and by wasmtime serve (the reference server): the same
/// output, the golden file's, from both; an address it was not granted is refused, and
/// a request to a granted server that never answers is given up by a timeout (its
/// `send` cancelled while in flight).
/// (wasmtime 49's own p3 client cannot be the reference: run against either server it
/// gets truncated bodies.)
#[test]
fn http_client_talks_to_the_service() {
    let dir = common::scratch("http-client");
    let service = toolchain::build_rust_async_guest("http-service", "p3_http_service");
    let client = toolchain::build_rust_async_guest("http-client", "p3_http_client");
    let expected = std::fs::read_to_string(
        common::tests_dir().join("components/expected/http_client.expected"),
    )
    .unwrap_or_default();
    let mut failures = common::Failures::default();
    // Connections to it are accepted by the kernel, and nothing is ever answered.
    let silent_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a listener");
    let silent = silent_listener
        .local_addr()
        .expect("its address")
        .to_string();
    let image = dir.join("http-service");
    let build = common::wafer_build(&service, &image, &["--listen", "127.0.0.1:0"]);
    assert_eq!(build.code, 0, "{}", build.stderr);
    let mut servers = vec![("wafer", start(&mut Command::new(&image)))];
    if let Some(wasmtime) = common::which("wasmtime") {
        servers.push((
            "wasmtime serve",
            start(
                Command::new(wasmtime)
                    .args(["serve", "-S", "p3,cli", "--addr", "127.0.0.1:0"])
                    .arg(&service),
            ),
        ));
    }
    for (name, server) in &servers {
        let server = match server {
            Ok(server) => server,
            Err(why) => {
                failures.push(format!("{name}: {why}"));
                continue;
            }
        };
        for target in common::test_targets() {
            let image = dir.join(format!("http-client.{}", target.name));
            let build = common::wafer_build(
                &client,
                &image,
                &[
                    "--target",
                    target.name,
                    "--connect",
                    &server.addr,
                    "--connect",
                    &silent,
                ],
            );
            if build.code != 0 {
                failures.push(format!("{}: build failed: {}", target.name, build.stderr));
                continue;
            }
            let output = target
                .command(&image)
                .args([&server.addr, "127.0.0.1:1", &silent])
                .output()
                .expect("run the client");
            let stdout = String::from_utf8_lossy(&output.stdout);
            if common::bless() && *name == "wafer" && target.emulator.is_none() {
                std::fs::write(
                    common::tests_dir().join("components/expected/http_client.expected"),
                    stdout.as_bytes(),
                )
                .expect("bless");
            } else if stdout != expected || !output.status.success() {
                failures.push(format!(
                    "{} against {name}: exit {:?}, {}\n{}",
                    target.name,
                    output.status.code(),
                    common::first_difference(&expected, &stdout),
                    String::from_utf8_lossy(&output.stderr)
                ));
            }
        }
    }
    drop(silent_listener);
    failures.finish("http client");
}
