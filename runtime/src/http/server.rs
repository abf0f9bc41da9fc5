//! The `wasi:http/service` world: an HTTP/1.1 server on the granted listening
//! addresses, one task of the guest's `handle` export per request, all on one thread.
//!
//! The loop: accept connections; read request heads; start a task per request (its
//! request a host resource whose body is a `stream<u8>` the host writes from the
//! connection); when the task returns a response, send its head, then its body as
//! the guest writes it (chunked unless it gave a `Content-Length`), then its trailers;
//! then the next request on the connection. Between these steps the executor gives
//! every task that can make progress its turn (`crate::component::tasks::run_ready`),
//! and when nothing can, it sleeps in the reactor until a socket is ready or a timer
//! due.
//!
//! Body bytes go straight between the socket and guest memory where the framing
//! allows (a request body with a length is received into the guest's buffer; a
//! response chunk is sent from it with its framing in one `writev`). Only what the
//! kernel does not take at once is copied, into the connection's output, and the
//! guest's next write waits until that is sent: backpressure, with at most one write
//! buffered per connection.

use alloc::vec::Vec;

use wafer_abi::trap::TrapKind;
use wafer_abi::wasi_p2::resource;

use super::wire::{self, Chunked, Framing, HeadError, Step};
use super::{Body, Fields, Method, Object, Request, Scheme};
use crate::component::tasks::{self, ValueSlot};
use crate::component::{Component, host_resource, host_trap, streams};
use crate::errno::Errno;
use crate::global::Global;
use crate::host::Descriptor;
use crate::host::poll::Target;
use crate::sys::{Interest, IoVec};

/// What a read of a request body found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyRead {
    /// This many bytes were stored.
    Data(usize),
    /// Nothing yet: the connection must bring more.
    Pending,
    /// The body has ended.
    End,
    /// The connection failed or broke the framing before the body ended.
    Failed,
}

/// What a write of a response body did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyWrite {
    /// It took this many bytes (sent, or kept to send next).
    Sent(usize),
    /// The connection cannot take more yet.
    Pending,
    /// The response cannot be sent (the connection failed, or the body outgrew its
    /// `Content-Length`).
    Failed,
}

/// Where a request's body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyIn {
    /// This many bytes are left.
    Length(u64),
    /// Chunked, decoded so far.
    Chunked(Chunked),
    /// Delimited by the end of the connection (a response without framing).
    UntilClose,
    /// Ended.
    Done,
    /// Broken: the connection cannot carry another request.
    Failed,
}

/// Where a connection is in its current exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Reading a request head.
    Head,
    /// The guest's task handles the request.
    Handling {
        /// The task.
        task: u32,
    },
    /// Sending the response.
    Sending {
        /// The response object.
        response: u32,
    },
    /// Sending what is left of the output, then closing.
    Closing,
    /// A client's request: connecting, then sending its head and body.
    Requesting {
        /// The exchange (`super::client`).
        exchange: u32,
    },
    /// A client's request is sent: reading the response's head.
    AwaitingResponse {
        /// The exchange.
        exchange: u32,
    },
    /// A client's response: the guest reads its body; the connection closes when the
    /// guest drops it.
    Receiving,
}

/// An accepted connection.
struct Conn {
    socket: Descriptor,
    /// Received bytes not yet used.
    input: Vec<u8>,
    /// Bytes to send before anything else.
    output: Vec<u8>,
    phase: Phase,
    /// The connection carries another request after this one.
    keep_alive: bool,
    /// The request is `HEAD`: its response has no body.
    head_request: bool,
    body_in: BodyIn,
    /// The request's body stream, once the guest took it.
    body_stream: Option<streams::HostRef>,
    /// The response's framing, once its head is written.
    framing: Framing,
    /// For a `Content-Length` response, the bytes still to send.
    length_left: u64,
    /// A read of the request body waits for the socket.
    wants_read: bool,
    /// The reactor said the socket has something to read (or it was not asked yet):
    /// a receive is worth its system call.
    readable: bool,
    /// The connection is established (a client's connects without blocking).
    connected: bool,
}

impl Conn {
    fn new(socket: Descriptor) -> Conn {
        Conn {
            socket,
            input: Vec::new(),
            output: Vec::new(),
            phase: Phase::Head,
            keep_alive: true,
            head_request: false,
            body_in: BodyIn::Done,
            body_stream: None,
            framing: Framing::Chunked,
            length_left: 0,
            wants_read: false,
            readable: true,
            connected: true,
        }
    }
}

/// The connections; `None` is a free slot.
static CONNS: Global<Vec<Option<Conn>>> = Global::new(Vec::new());

/// The service loop's reactor (epoll on Linux), once it runs: connections are added to
/// it as they open (edge-triggered: a connection is read until it would block), and
/// closing one removes it.
static REACTOR: Global<Option<crate::sys::RawHandle>> = Global::new(None);

/// Reactor tokens from here on name listeners (by index); below, connections.
const LISTENER_TOKENS: u64 = 1 << 32;

/// The reactor token of the guest's own sockets (`wasi:sockets`): their readiness only
/// wakes the loop, which then retries what waits on them.
const SOCKET_TOKEN: u64 = u64::MAX;

/// Adds a socket the guest made (`wasi:sockets`) to the service loop's reactor, if
/// one runs (edge-triggered: what waits on it is retried on every turn, and the
/// reactor only has to wake the loop when it changes). A closed socket leaves the
/// reactor by itself.
pub fn watch(handle: crate::sys::RawHandle) {
    use crate::sys::{Current, Platform};
    if let Some(reactor) = REACTOR.with(|r| *r) {
        let _ = Current::reactor_add(reactor, handle, SOCKET_TOKEN, true);
    }
}

/// Adds `conn` in a free slot (and to the reactor, if the service loop runs); its id.
fn add_conn(conn: Conn) -> u32 {
    use crate::sys::{Current, Platform};
    let handle = conn.socket.handle;
    let id = CONNS.with(|conns| crate::slots::insert(conns, conn));
    if let Some(reactor) = REACTOR.with(|r| *r) {
        let _ = Current::reactor_add(reactor, handle, u64::from(id), true);
    }
    id
}

/// Runs `f` on connection `id`, if it is open.
fn with_conn<T>(id: u32, f: impl FnOnce(&mut Conn) -> T) -> Option<T> {
    CONNS.with(|conns| conns.get_mut(id as usize)?.as_mut().map(f))
}

/// The most bytes kept in a connection's output before the guest's writes wait.
const OUTPUT_HIGH_WATER: usize = 64 * 1024;

/// The most bytes received at once into a connection's input.
const RECEIVE_CHUNK: usize = 16 * 1024;

/// Receives into `buf` without blocking: `Ok(0)` at the end of the stream.
fn receive(socket: Descriptor, buf: &mut [u8]) -> Result<usize, Errno> {
    let iov = [IoVec {
        base: buf.as_mut_ptr(),
        len: buf.len(),
    }];
    loop {
        // SAFETY: `buf` is a live, writable slice for the call.
        match unsafe { socket.recv(&iov, false, false) } {
            Err(Errno::INTR) => continue,
            other => return other.map(|(n, _)| n),
        }
    }
}

/// Sends `parts` in one `writev` without blocking: the bytes sent.
fn send(socket: Descriptor, parts: &[&[u8]]) -> Result<usize, Errno> {
    let mut iov = [IoVec {
        base: core::ptr::null_mut(),
        len: 0,
    }; 4];
    let mut count = 0;
    for part in parts.iter().filter(|p| !p.is_empty()) {
        iov[count] = IoVec {
            base: part.as_ptr().cast_mut(),
            len: part.len(),
        };
        count += 1;
    }
    if count == 0 {
        return Ok(0);
    }
    loop {
        // SAFETY: every vector is a live slice for the call, and a send only reads.
        match unsafe { socket.send(&iov[..count]) } {
            Err(Errno::INTR) => continue,
            Err(Errno::AGAIN) => return Ok(0),
            other => return other,
        }
    }
}

impl Conn {
    /// Receives what the socket has into the input: `Ok(false)` when nothing came yet,
    /// `Err` at the end of the stream or on a failure.
    fn fill(&mut self) -> Result<bool, ()> {
        if !self.readable {
            return Ok(false);
        }
        let start = self.input.len();
        self.input.resize(start + RECEIVE_CHUNK, 0);
        let received = receive(self.socket, &mut self.input[start..]);
        self.input
            .truncate(start + *received.as_ref().unwrap_or(&0));
        match received {
            Ok(0) => Err(()),
            Ok(_) => Ok(true),
            Err(Errno::AGAIN) => {
                self.readable = false;
                Ok(false)
            }
            Err(_) => Err(()),
        }
    }

    /// Sends `parts` after the output, keeping what the socket does not take in the
    /// output. `Err` when the connection failed.
    fn send_after_output(&mut self, parts: &[&[u8]]) -> Result<(), ()> {
        let mut all: [&[u8]; 4] = [&[]; 4];
        all[0] = &self.output;
        for (slot, part) in all[1..].iter_mut().zip(parts) {
            *slot = part;
        }
        let total: usize = all.iter().map(|p| p.len()).sum();
        let sent = send(self.socket, &all).map_err(|_| ())?;
        if sent == total {
            self.output.clear();
            return Ok(());
        }
        // Keep the rest: the output's unsent tail, then each part's.
        let mut skip = sent;
        let mut rest = Vec::with_capacity(total - sent);
        for part in all {
            let taken = skip.min(part.len());
            rest.extend_from_slice(&part[taken..]);
            skip -= taken;
        }
        self.output = rest;
        Ok(())
    }

    /// Sends as much of the output as the socket takes.
    fn flush(&mut self) -> Result<(), ()> {
        if self.output.is_empty() {
            return Ok(());
        }
        self.send_after_output(&[])
    }
}

/// Reads the body of the request on connection `conn` into `dst`.
pub fn read_body(conn: u32, dst: &mut [u8]) -> BodyRead {
    with_conn(conn, |conn| read_body_of(conn, dst)).unwrap_or(BodyRead::Failed)
}

fn read_body_of(conn: &mut Conn, dst: &mut [u8]) -> BodyRead {
    conn.wants_read = false;
    if dst.is_empty() {
        return BodyRead::Data(0);
    }
    loop {
        match conn.body_in {
            BodyIn::Done => return BodyRead::End,
            BodyIn::Failed => return BodyRead::Failed,
            BodyIn::Length(0) => {
                conn.body_in = BodyIn::Done;
                return BodyRead::End;
            }
            BodyIn::UntilClose => {
                if !conn.input.is_empty() {
                    let n = dst.len().min(conn.input.len());
                    dst[..n].copy_from_slice(&conn.input[..n]);
                    conn.input.drain(..n);
                    return BodyRead::Data(n);
                }
                if !conn.readable {
                    conn.wants_read = true;
                    return BodyRead::Pending;
                }
                return match receive(conn.socket, dst) {
                    Ok(0) => {
                        conn.body_in = BodyIn::Done;
                        BodyRead::End
                    }
                    Ok(n) => BodyRead::Data(n),
                    Err(Errno::AGAIN) => {
                        conn.readable = false;
                        conn.wants_read = true;
                        BodyRead::Pending
                    }
                    Err(_) => {
                        conn.body_in = BodyIn::Failed;
                        BodyRead::Failed
                    }
                };
            }
            BodyIn::Length(left) => {
                let want = (dst.len() as u64).min(left) as usize;
                if !conn.input.is_empty() {
                    let n = want.min(conn.input.len());
                    dst[..n].copy_from_slice(&conn.input[..n]);
                    conn.input.drain(..n);
                    conn.body_in = BodyIn::Length(left - n as u64);
                    return BodyRead::Data(n);
                }
                if !conn.readable {
                    conn.wants_read = true;
                    return BodyRead::Pending;
                }
                // Straight from the socket into the guest's buffer.
                return match receive(conn.socket, &mut dst[..want]) {
                    Ok(n) if n > 0 => {
                        conn.body_in = BodyIn::Length(left - n as u64);
                        BodyRead::Data(n)
                    }
                    Err(Errno::AGAIN) => {
                        conn.readable = false;
                        conn.wants_read = true;
                        BodyRead::Pending
                    }
                    // The peer closed (or the connection failed) before the body ended.
                    _ => {
                        conn.body_in = BodyIn::Failed;
                        BodyRead::Failed
                    }
                };
            }
            BodyIn::Chunked(mut decoder) => {
                let window = conn.input.len().min(dst.len());
                let step = if decoder == Chunked::Data(0) {
                    Step::More
                } else {
                    match decoder {
                        Chunked::Data(_) => decoder.step(&conn.input[..window]),
                        _ => decoder.step(&conn.input),
                    }
                };
                match step {
                    Step::Framing(n) => {
                        conn.input.drain(..n);
                        conn.body_in = match decoder {
                            Chunked::Done => BodyIn::Done,
                            decoder => BodyIn::Chunked(decoder),
                        };
                    }
                    Step::Data(n) => {
                        dst[..n].copy_from_slice(&conn.input[..n]);
                        conn.input.drain(..n);
                        conn.body_in = BodyIn::Chunked(decoder);
                        return BodyRead::Data(n);
                    }
                    Step::Invalid => {
                        conn.body_in = BodyIn::Failed;
                        return BodyRead::Failed;
                    }
                    Step::More => match conn.fill() {
                        Ok(true) => {}
                        Ok(false) => {
                            conn.wants_read = true;
                            return BodyRead::Pending;
                        }
                        Err(()) => {
                            conn.body_in = BodyIn::Failed;
                            return BodyRead::Failed;
                        }
                    },
                }
            }
        }
    }
}

/// Sends `data` as the body of `message` (a response or request the host sends).
pub fn write_body(message: u32, data: &[u8]) -> BodyWrite {
    let Ok(Some(conn)) = super::with_outgoing(message, |out| out.conn) else {
        // Not returned from `handle` yet: the write waits for the connection.
        return BodyWrite::Pending;
    };
    with_conn(conn, |conn| write_body_to(conn, data)).unwrap_or(BodyWrite::Failed)
}

fn write_body_to(conn: &mut Conn, data: &[u8]) -> BodyWrite {
    if !conn.connected {
        return BodyWrite::Pending;
    }
    if conn.output.len() >= OUTPUT_HIGH_WATER && conn.flush().is_err() {
        return BodyWrite::Failed;
    }
    if conn.output.len() >= OUTPUT_HIGH_WATER {
        return BodyWrite::Pending;
    }
    if conn.head_request || data.is_empty() {
        // A HEAD response has no body: what the guest writes is dropped.
        return BodyWrite::Sent(data.len());
    }
    let sent = match conn.framing {
        Framing::Length(_) => {
            if data.len() as u64 > conn.length_left {
                return BodyWrite::Failed;
            }
            conn.length_left -= data.len() as u64;
            conn.send_after_output(&[data])
        }
        Framing::Chunked => {
            let mut header = [0u8; 18];
            let n = wire::chunk_header(data.len(), &mut header);
            conn.send_after_output(&[&header[..n], data, b"\r\n"])
        }
    };
    match sent {
        Ok(()) => BodyWrite::Sent(data.len()),
        Err(()) => BodyWrite::Failed,
    }
}

/// The guest dropped the writer of `message`'s body: it is complete.
pub fn body_finished(message: u32) {
    let _ = super::with_outgoing(message, |out| out.body_done = true);
}

/// The guest dropped the request on `conn` (or its body stream) before reading its
/// body to the end: the connection cannot carry another request.
pub fn request_dropped(conn: u32) {
    with_conn(conn, |conn| {
        if conn.phase == Phase::Receiving {
            // A client's response the guest is done with: the connection goes.
            conn.phase = Phase::Closing;
        } else if conn.body_in != BodyIn::Done {
            conn.keep_alive = false;
        }
    });
}

/// The guest took the body of the request on `conn`: the host writes `stream`.
pub fn body_taken(conn: u32, stream: streams::HostRef) {
    with_conn(conn, |conn| conn.body_stream = Some(stream));
}

/// What the server needs of the image.
#[derive(Clone, Copy)]
struct Service {
    component: Component,
    instance: u32,
    start: extern "C" fn(*mut ValueSlot),
    callback: extern "C" fn(*mut ValueSlot),
}

/// Serves until a trap (returned) ends the process.
pub fn serve(
    component: Component,
    instance: u32,
    start: extern "C" fn(*mut ValueSlot),
    callback: extern "C" fn(*mut ValueSlot),
) -> Result<(), TrapKind> {
    let service = Service {
        component,
        instance,
        start,
        callback,
    };
    let mut listeners = Vec::new();
    crate::host::grants::open_granted_listeners(|_, listener| listeners.push(listener));
    if listeners.is_empty() {
        let mut line = crate::out::Line::new();
        line.str(b"wafer: error: an HTTP service needs an address to listen on: grant one with --listen ADDR (e.g. --listen 127.0.0.1:8080; port 0 picks a free one)\n");
        line.write_to(2);
        crate::host::exit(wafer_abi::INTERNAL_ERROR_EXIT_CODE);
    }
    use crate::sys::{Current, Platform};
    let reactor = match Current::reactor_new() {
        Ok(reactor) => reactor,
        Err(err) => {
            let mut line = crate::out::Line::new();
            line.str(b"wafer: error: cannot watch connections: ");
            crate::host::describe(&mut line, err);
            line.str(b"\n").write_to(2);
            crate::host::exit(wafer_abi::INTERNAL_ERROR_EXIT_CODE);
        }
    };
    REACTOR.with(|r| *r = Some(reactor));
    for (index, listener) in listeners.iter().enumerate() {
        // Level-triggered: one connection is accepted a turn, and the rest stay
        // reported.
        let _ = Current::reactor_add(
            reactor,
            listener.handle,
            LISTENER_TOKENS + index as u64,
            false,
        );
        announce(*listener);
    }
    let mut pending = alloc::vec![true; listeners.len()];
    loop {
        let mut busy = accept(&listeners, &mut pending);
        busy |= advance_connections(service)?;
        busy |= streams::progress_http()?;
        busy |= crate::p2::sockets_p3::advance()?;
        busy |= super::client::advance_lookups()?;
        busy |= tasks::run_ready(component)?;
        // One look at the reactor a turn: waiting when nothing moved, else only
        // learning what became ready meanwhile.
        react(reactor, &mut pending, busy);
    }
}

/// Serves HTTP with the image's `wasi:http/handler` export: see
/// `wafer_abi::symbols::SERVE_HTTP`.
///
/// # Safety
/// `descriptor` must be the image's component descriptor, and `start` and `callback`
/// the export's trampolines.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wafer_rt_serve_http(
    descriptor: *const crate::component::Descriptor,
    instance: u32,
    start: extern "C" fn(*mut ValueSlot),
    callback: extern "C" fn(*mut ValueSlot),
) -> u64 {
    use wafer_abi::component::BuiltinResult;
    // SAFETY: forwarded from the caller.
    let component = unsafe { Component::new(descriptor) };
    match serve(component, instance, start, callback) {
        Ok(()) => BuiltinResult::value(0).encode(),
        Err(kind) => BuiltinResult::trap(kind).encode(),
    }
}

/// Writes `Serving HTTP on http://ADDR:PORT/` for `listener` on stderr, the line
/// `wasmtime serve` writes, so the tools that drive it find the port a grant of port 0
/// got.
fn announce(listener: Descriptor) {
    use crate::sys::{Current, Platform};
    let Ok(addr) = Current::socket_address(listener.handle, false) else {
        return;
    };
    let addr = wafer_abi::grants::ListenAddr {
        ipv6: addr.ipv6,
        ip: addr.ip,
        port: addr.port,
    };
    let mut line = crate::out::Line::new();
    line.str(b"Serving HTTP on http://");
    crate::host::grants::write_listen_addr(&mut line, &addr);
    line.str(b"/\n");
    line.write_to(2);
}

/// Accepts a waiting connection on each listener the reactor found ready (`ready`):
/// whether one came.
fn accept(listeners: &[Descriptor], ready: &mut [bool]) -> bool {
    let mut accepted = false;
    for (listener, ready) in listeners.iter().zip(ready) {
        if !core::mem::take(ready) {
            continue;
        }
        if let Ok(socket) = listener.accept(true) {
            // Responses go out in whole pieces (a head with its body, a chunk with its
            // framing): holding small segments back for coalescing only delays them,
            // up to a delayed ACK's 40 ms.
            let _ = socket.set_socket_option(crate::sys::SocketOption::NoDelay, false, 1);
            add_conn(Conn::new(socket));
            accepted = true;
        }
    }
    accepted
}

/// Takes each connection a step: whether any moved.
fn advance_connections(service: Service) -> Result<bool, TrapKind> {
    let count = CONNS.with(|conns| conns.len()) as u32;
    let mut moved = false;
    for id in 0..count {
        while let Some(phase) = with_conn(id, |conn| conn.phase) {
            let step = match phase {
                Phase::Head => read_head(service, id)?,
                Phase::Handling { task } => await_response(service, id, task)?,
                Phase::Sending { response } => send_response(id, response)?,
                Phase::Closing => close_when_sent(id),
                Phase::Requesting { .. } | Phase::AwaitingResponse { .. } | Phase::Receiving => {
                    advance_client(id, phase)?
                }
            };
            if !step {
                break;
            }
            moved = true;
        }
    }
    Ok(moved)
}

/// Reads a request head on connection `id`, and starts the guest's task for it once
/// it is whole: whether the connection moved.
fn read_head(service: Service, id: u32) -> Result<bool, TrapKind> {
    enum Found {
        Nothing,
        Closed,
        Refused(HeadError),
        Request(Request),
    }
    let found = with_conn(id, |conn| {
        loop {
            match wire::parse_request_head(&conn.input) {
                Ok(Some(head)) => return Found::Request(take_request(conn, head, id)),
                Ok(None) => {}
                Err(err) => return Found::Refused(err),
            }
            match conn.fill() {
                Ok(true) => {}
                Ok(false) => return Found::Nothing,
                Err(()) => return Found::Closed,
            }
        }
    })
    .unwrap_or(Found::Nothing);
    match found {
        Found::Nothing => Ok(false),
        Found::Closed => {
            close(id);
            Ok(true)
        }
        Found::Refused(err) => {
            let (status, reason) = err.status();
            with_conn(id, |conn| {
                let mut body = reason.to_vec();
                body.push(b'\n');
                wire::write_plain_response(&mut conn.output, status, &body, false);
                conn.phase = Phase::Closing;
            });
            Ok(true)
        }
        Found::Request(request) => {
            let index = super::insert(Object::Request(request));
            let handle = service
                .component
                .with_table(service.instance, |table| {
                    table.lower_own(host_resource(resource::HTTP_REQUEST), index)
                })
                .and_then(|handle| handle)
                .map_err(host_trap)?;
            let task = tasks::spawn(
                service.component,
                service.instance,
                service.start,
                service.callback,
                &[handle],
            )?;
            with_conn(id, |conn| conn.phase = Phase::Handling { task });
            Ok(true)
        }
    }
}

/// The fields a head parsed from `input` names (ranges of it), as the guest sees
/// received ones: immutable.
fn received_fields(input: &[u8], ranges: &[wire::FieldRange]) -> Fields {
    let text =
        |(start, end): (usize, usize)| -> alloc::boxed::Box<[u8]> { input[start..end].into() };
    Fields {
        entries: ranges
            .iter()
            .map(|&(name, value)| (text(name), text(value)))
            .collect(),
        immutable: true,
    }
}

/// The request of `head` (parsed from the start of `conn`'s input), taken out of the
/// input; its body stays to be read.
fn take_request(conn: &mut Conn, head: wire::RequestHead, id: u32) -> Request {
    let text =
        |range: (usize, usize)| -> alloc::boxed::Box<[u8]> { conn.input[range.0..range.1].into() };
    let method = Method::from_token(&conn.input[head.method.0..head.method.1]);
    let headers = received_fields(&conn.input, &head.fields);
    let request = Request {
        method,
        path: Some(text(head.target)),
        scheme: Some(Scheme::Known(0)),
        authority: head.host.map(text),
        headers,
        options: None,
        body: Body::Incoming { conn: id },
        out: super::Outgoing::default(),
    };
    conn.head_request = request.method.is_head();
    conn.keep_alive = head.keep_alive;
    conn.body_in = match head.framing {
        Framing::Length(0) => BodyIn::Done,
        Framing::Length(n) => BodyIn::Length(n),
        Framing::Chunked => BodyIn::Chunked(Chunked::Size),
    };
    conn.body_stream = None;
    conn.input.drain(..head.len);
    if head.expect_continue && conn.body_in != BodyIn::Length(0) {
        conn.output
            .extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
    }
    request
}

/// Waits for task `task` handling connection `id`'s request to return its response,
/// and writes the response's head: whether the connection moved.
fn await_response(service: Service, id: u32, task: u32) -> Result<bool, TrapKind> {
    let Some(results) = tasks::take_results(task) else {
        if tasks::exited(task)? {
            return Err(TrapKind::TaskNotReturned);
        }
        return Ok(false);
    };
    // `result<response, error-code>`: the discriminant, then the response's handle.
    let word =
        |slot: Option<&ValueSlot>| slot.map_or(0, |s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]));
    let response = match word(results.first()) {
        0 => Some(
            service
                .component
                .with_table(service.instance, |table| {
                    table.lift_own(host_resource(resource::HTTP_RESPONSE), word(results.get(1)))
                })
                .and_then(|rep| rep)
                .map_err(host_trap)?,
        ),
        1 => None,
        _ => return Err(TrapKind::InvalidDiscriminant),
    };
    reap(task)?;
    let Some(response) = response else {
        // The handler failed: answer as `wasmtime serve` does.
        with_conn(id, |conn| {
            wire::write_plain_response(&mut conn.output, 500, b"internal server error\n", false);
            conn.phase = Phase::Closing;
        });
        return Ok(true);
    };
    let (status, headers) = super::with_response(response, |r| {
        r.out.conn = Some(id);
        (r.status, r.headers.clone())
    })?;
    with_conn(id, |conn| {
        let length = headers
            .values(b"content-length")
            .next()
            .and_then(|v| core::str::from_utf8(v).ok()?.trim().parse::<u64>().ok());
        let bodiless = conn.head_request || status == 204 || status == 304 || status < 200;
        conn.framing = match length {
            Some(n) => Framing::Length(n),
            None => Framing::Chunked,
        };
        conn.length_left = length.unwrap_or(0);
        let entries = headers.entries.iter().map(|(n, v)| (&**n, &**v));
        wire::write_response_head(
            &mut conn.output,
            status,
            entries,
            conn.framing,
            bodiless,
            conn.keep_alive,
        );
        if bodiless {
            conn.head_request = true;
        }
        conn.phase = Phase::Sending { response };
    });
    Ok(true)
}

/// Forgets task `task` once it exited (a task may run on after `task.return`, writing
/// the body; it is reaped by [`reap_exited`] then).
fn reap(task: u32) -> Result<(), TrapKind> {
    if !tasks::exited(task)? {
        LINGERING.with(|tasks| tasks.push(task));
    }
    Ok(())
}

/// Tasks that returned their response and run on.
static LINGERING: Global<Vec<u32>> = Global::new(Vec::new());

/// Forgets the lingering tasks that exited.
fn reap_exited() -> Result<(), TrapKind> {
    let lingering = LINGERING.with(core::mem::take);
    let mut kept = Vec::with_capacity(lingering.len());
    for task in lingering {
        if !tasks::exited(task)? {
            kept.push(task);
        }
    }
    LINGERING.with(|tasks| tasks.extend(kept));
    Ok(())
}

/// Whether the guest finished the body of `message` it sends, and its trailers (for a
/// message without contents, none to wait for).
fn outgoing_state(message: u32) -> Result<(bool, Option<super::Trailers>), TrapKind> {
    let body = super::with(message, |object| match object {
        Object::Request(request) => Ok(request.body),
        Object::Response(response) => Ok(response.body),
        _ => Err(TrapKind::InvalidHandle),
    })
    .unwrap_or(Err(TrapKind::InvalidHandle))?;
    super::with_outgoing(message, |out| match body {
        Body::Guest {
            contents: Some(_), ..
        } => (out.body_done, out.trailers),
        // No contents: nothing to wait for (a trailers future the guest still writes is
        // taken, and has nothing to go with).
        _ => (true, Some(Ok(None))),
    })
}

/// Ends the body connection `conn` sends once the guest finished it (`finished`) and
/// its trailers are known: the last chunk with the trailers, then the output. `None`
/// while it is still being sent; then `Ok`, or the `error-code` case ending it.
fn finish_outgoing(
    conn: &mut Conn,
    finished: bool,
    trailers: Option<super::Trailers>,
) -> Option<Result<(), u8>> {
    let terminated = Err(super::error_code::CONNECTION_TERMINATED);
    // The output (the head, at first) goes with the next body write, or before the
    // loop sleeps: one segment, not two.
    let trailers = match (finished, trailers) {
        (true, Some(trailers)) => trailers,
        _ => return None,
    };
    let Ok(trailers) = trailers else {
        // The guest reported an error instead of trailers: the message is cut short,
        // which only closing the connection can say.
        conn.keep_alive = false;
        return Some(terminated);
    };
    if conn.head_request {
        // No body was sent.
    } else if conn.framing == Framing::Chunked {
        conn.output.extend_from_slice(b"0\r\n");
        if let Some(fields) = trailers {
            let _ = super::with(fields, |object| {
                if let Object::Fields(fields) = object {
                    for (name, value) in &fields.entries {
                        conn.output.extend_from_slice(name);
                        conn.output.extend_from_slice(b": ");
                        conn.output.extend_from_slice(value);
                        conn.output.extend_from_slice(b"\r\n");
                    }
                }
            });
        }
        conn.output.extend_from_slice(b"\r\n");
    } else if conn.length_left > 0 {
        // Shorter than its `Content-Length`: the peer would wait for the rest.
        conn.keep_alive = false;
        return Some(terminated);
    }
    if conn.flush().is_err() {
        conn.keep_alive = false;
        return Some(terminated);
    }
    Some(Ok(()))
}

/// Sends response `response` on connection `id` as far as it can: the head and what
/// is buffered, and once the guest has finished the body and written the trailers,
/// the end of the body. Whether the connection moved.
fn send_response(id: u32, response: u32) -> Result<bool, TrapKind> {
    let (finished, trailers) = outgoing_state(response)?;
    let Some(outcome) = with_conn(id, |conn| finish_outgoing(conn, finished, trailers)).flatten()
    else {
        return Ok(false);
    };
    if let Some(sent) = super::with_response(response, |r| r.sent)? {
        streams::resolve_future(sent, outcome)?;
    }
    super::release(response);
    // The exchange is over: with keep-alive (and the request's body read), the next
    // request's head; else close once the output is out.
    with_conn(id, |conn| {
        conn.phase = if conn.keep_alive && conn.body_in == BodyIn::Done {
            Phase::Head
        } else {
            Phase::Closing
        };
        conn.body_stream = None;
    });
    Ok(true)
}

// --- The client side (`super::client`) ---

/// A client connection on `socket` (connecting) that will send `head` and a body
/// framed as `framing` (`None`: none); returns its id.
pub fn open_client(
    socket: Descriptor,
    head: Vec<u8>,
    framing: Option<Framing>,
    head_request: bool,
) -> u32 {
    let _ = socket.set_socket_option(crate::sys::SocketOption::NoDelay, false, 1);
    let mut conn = Conn::new(socket);
    conn.output = head;
    conn.connected = false;
    conn.keep_alive = false;
    conn.head_request = head_request;
    conn.framing = framing.unwrap_or(Framing::Length(0));
    conn.length_left = match framing {
        Some(Framing::Length(n)) => n,
        _ => 0,
    };
    conn.phase = Phase::Closing;
    add_conn(conn)
}

/// Starts exchange `exchange` on client connection `id`.
pub fn start_exchange(id: u32, exchange: u32) {
    with_conn(id, |conn| conn.phase = Phase::Requesting { exchange });
}

/// Takes client connection `id` a step in `phase`: whether it moved.
fn advance_client(id: u32, phase: Phase) -> Result<bool, TrapKind> {
    match phase {
        Phase::Requesting { exchange } => {
            let connected = with_conn(id, |conn| {
                if conn.connected {
                    return Ok(true);
                }
                match conn.socket.socket_address(true) {
                    Ok(_) => {
                        conn.connected = true;
                        Ok(true)
                    }
                    // Still connecting, unless it failed.
                    Err(Errno::NOTCONN) => match conn.socket.socket_error() {
                        Ok(None) => Ok(false),
                        Ok(Some(err)) | Err(err) => Err(err),
                    },
                    Err(err) => Err(err),
                }
            });
            match connected {
                None | Some(Ok(false)) => return Ok(false),
                Some(Err(err)) => {
                    fail_exchange(id, exchange, super::client::connect_error(err))?;
                    return Ok(true);
                }
                Some(Ok(true)) => {}
            }
            let request = super::client::request_of(exchange);
            let (finished, trailers) = outgoing_state(request)?;
            let outcome = with_conn(id, |conn| {
                let outcome = finish_outgoing(conn, finished, trailers);
                if outcome.is_none() && conn.flush().is_err() {
                    return Some(Err(super::error_code::CONNECTION_TERMINATED));
                }
                outcome
            })
            .flatten();
            match outcome {
                None => Ok(false),
                Some(Ok(())) => {
                    super::release(request);
                    with_conn(id, |conn| conn.phase = Phase::AwaitingResponse { exchange });
                    Ok(true)
                }
                Some(Err(case)) => {
                    fail_exchange(id, exchange, case)?;
                    Ok(true)
                }
            }
        }
        Phase::AwaitingResponse { exchange } => {
            let head_request = super::client::is_head(exchange);
            let found = with_conn(id, |conn| {
                loop {
                    match wire::parse_response_head(&conn.input, head_request) {
                        Ok(Some(head)) => break Ok(Some(take_response(conn, head, id))),
                        Ok(None) => {}
                        Err(wire::MalformedResponse) => {
                            break Err(super::error_code::PROTOCOL_ERROR);
                        }
                    }
                    match conn.fill() {
                        Ok(true) => {}
                        Ok(false) => break Ok(None),
                        Err(()) => break Err(super::error_code::CONNECTION_TERMINATED),
                    }
                }
            });
            match found {
                None | Some(Ok(None)) => Ok(false),
                Some(Ok(Some(response))) => {
                    let index = super::insert(Object::Response(response));
                    with_conn(id, |conn| conn.phase = Phase::Receiving);
                    super::client::complete(exchange, Ok(index))?;
                    Ok(true)
                }
                Some(Err(case)) => {
                    fail_exchange(id, exchange, case)?;
                    Ok(true)
                }
            }
        }
        _ => Ok(false),
    }
}

/// The response of `head` (parsed from the start of `conn`'s input), taken out of the
/// input; its body stays to be read.
fn take_response(conn: &mut Conn, head: wire::ResponseHead, id: u32) -> super::Response {
    let headers = received_fields(&conn.input, &head.fields);
    conn.body_in = match head.framing {
        wire::ResponseFraming::Framed(Framing::Length(0)) => BodyIn::Done,
        wire::ResponseFraming::Framed(Framing::Length(n)) => BodyIn::Length(n),
        wire::ResponseFraming::Framed(Framing::Chunked) => BodyIn::Chunked(Chunked::Size),
        wire::ResponseFraming::UntilClose => BodyIn::UntilClose,
    };
    conn.input.drain(..head.len);
    super::Response {
        status: head.status,
        headers,
        body: Body::Incoming { conn: id },
        sent: None,
        out: super::Outgoing::default(),
    }
}

/// Cancels the client exchange whose caller's subtask is `subtask` (`subtask.cancel`
/// of a `send` in flight): its connection closes, its request is released, and no
/// result is stored. Answers whether there was one.
pub fn cancel_exchange(subtask: u32) -> bool {
    let count = CONNS.with(|conns| conns.len()) as u32;
    for id in 0..count {
        let exchange = with_conn(id, |conn| match conn.phase {
            Phase::Requesting { exchange } | Phase::AwaitingResponse { exchange } => Some(exchange),
            _ => None,
        })
        .flatten();
        if let Some(exchange) = exchange
            && super::client::subtask_of(exchange) == Some(subtask)
        {
            super::release(super::client::request_of(exchange));
            close(id);
            super::client::forget(exchange);
            return true;
        }
    }
    false
}

/// Ends exchange `exchange` on connection `id` with `error-code` case `case`.
fn fail_exchange(id: u32, exchange: u32, case: u8) -> Result<(), TrapKind> {
    let request = super::client::request_of(exchange);
    super::release(request);
    close(id);
    super::client::complete(exchange, Err(case))
}

/// Takes every client connection a step (when no service loop does): whether any moved.
pub fn advance_clients() -> Result<bool, TrapKind> {
    let mut moved = super::client::advance_lookups()?;
    let count = CONNS.with(|conns| conns.len()) as u32;
    for id in 0..count {
        while let Some(phase) = with_conn(id, |conn| conn.phase) {
            let step = match phase {
                Phase::Requesting { .. } | Phase::AwaitingResponse { .. } => {
                    advance_client(id, phase)?
                }
                Phase::Closing => close_when_sent(id),
                _ => false,
            };
            if !step {
                break;
            }
            moved = true;
        }
    }
    Ok(moved)
}

/// Whether any connection is open (a task waiting may still be woken by one).
pub fn has_connections() -> bool {
    CONNS.with(|conns| conns.iter().any(Option::is_some))
}

/// The reactor of a command (no service loop): sends what waits in the outputs, then
/// sleeps until stdin (if `stdin`), a connection or a socket something waits on
/// (`wasi:sockets@0.3`) is ready, or `deadline`.
pub fn sleep_with(stdin: bool, deadline: Option<u64>) {
    let mut targets: Vec<Target> = Vec::new();
    if stdin {
        targets.push(Target {
            fd: crate::sys::PollFd {
                handle: 0,
                interest: Interest::Read,
                ..crate::sys::PollFd::default()
            },
            always_ready: false,
        });
    }
    CONNS.with(|conns| {
        for conn in conns.iter_mut().flatten() {
            if conn.flush().is_err() {
                conn.output.clear();
            }
            let reading = matches!(conn.phase, Phase::AwaitingResponse { .. }) || conn.wants_read;
            if reading && let Ok(target) = conn.socket.poll_target(Interest::Read) {
                targets.push(target);
            }
            if (!conn.output.is_empty() || !conn.connected)
                && let Ok(target) = conn.socket.poll_target(Interest::Write)
            {
                targets.push(target);
            }
        }
    });
    crate::p2::sockets_p3::reactor_targets(&mut targets);
    let outputs = crate::component::streams::waiting_outputs().into_iter();
    let lookups = crate::host::dns::live_handles().into_iter();
    let waits = outputs
        .map(|fd| (fd, Interest::Write))
        .chain(lookups.map(|fd| (fd, Interest::Read)));
    for (handle, interest) in waits {
        targets.push(Target {
            fd: crate::sys::PollFd {
                handle,
                interest,
                ..crate::sys::PollFd::default()
            },
            always_ready: false,
        });
    }
    let _ = crate::host::poll::wait(&mut targets, deadline);
    CONNS.with(|conns| {
        for conn in conns.iter_mut().flatten() {
            conn.readable = true;
        }
    });
}

/// Sends the rest of connection `id`'s output and closes it: whether it moved.
fn close_when_sent(id: u32) -> bool {
    let Some(done) = with_conn(id, |conn| conn.flush().is_err() || conn.output.is_empty()) else {
        return false;
    };
    if done {
        close(id);
    }
    done
}

/// Closes connection `id`; a body stream still reading from it ends as failed.
fn close(id: u32) {
    let Some(conn) = CONNS.with(|conns| conns.get_mut(id as usize).and_then(Option::take)) else {
        return;
    };
    if let Some(sid) = conn.body_stream
        && conn.body_in != BodyIn::Done
    {
        streams::host_drop(sid);
    }
    super::detach_conn(id);
    conn.socket.close();
}

/// The reactor: waits until a listener or connection is ready or the next timer a task
/// waits for is due (only looks, when `busy`), and records what is ready: listeners in
/// `listeners_ready`, connections in their `readable`.
fn react(reactor: crate::sys::RawHandle, listeners_ready: &mut [bool], busy: bool) {
    use crate::sys::{Clock, Current, Platform, Readiness};
    let _ = reap_exited();
    if !busy {
        // What waits in the outputs goes out now: nothing else will come with it.
        let failed = CONNS.with(|conns| {
            let mut failed = Vec::new();
            for (id, conn) in conns.iter_mut().enumerate() {
                if let Some(conn) = conn
                    && conn.flush().is_err()
                {
                    failed.push(id as u32);
                }
            }
            failed
        });
        for id in failed {
            // The peer is gone: what the exchange sends next fails too, and ends it.
            with_conn(id, |conn| {
                conn.keep_alive = false;
                conn.output.clear();
            });
        }
    }
    let timeout = if busy {
        Some(0)
    } else {
        tasks::next_deadline().map(|deadline| {
            deadline.saturating_sub(Current::now(Clock::Monotonic).unwrap_or(deadline))
        })
    };
    let mut events = [(0u64, Readiness::default()); 64];
    let Ok(ready) = Current::reactor_wait(reactor, &mut events, timeout) else {
        return;
    };
    for &(token, readiness) in &events[..ready] {
        if token == SOCKET_TOKEN {
            // The guest's socket: the next turn retries what waits on it.
        } else if token >= LISTENER_TOKENS {
            if let Some(ready) = listeners_ready.get_mut((token - LISTENER_TOKENS) as usize) {
                *ready = true;
            }
        } else if readiness.readable || readiness.hangup || readiness.error {
            with_conn(token as u32, |conn| conn.readable = true);
        }
    }
}
