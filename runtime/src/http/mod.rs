//! `wasi:http@0.3` for components: the `types` interface's resources (fields, requests,
//! responses, request options) and the `service` world's server ([`server`]).
//!
//! The resources are host objects kept here (not in the WASI 0.2 host's object table:
//! they own variable-sized data, field lists and strings). A guest handle of one of
//! `wasi_abi::wasi_p2::is_http_resource`'s types holds the index of its object. Bodies
//! are `stream<u8>`s and trailers `future`s of the component model
//! (`crate::component::streams`): a request the server received gets a stream the
//! host writes from the connection, a response the guest returns a stream the host
//! reads and sends. `wire` is HTTP/1.1 on the wire.

pub mod client;
pub mod server;
pub mod wire;

use alloc::boxed::Box;
use alloc::vec::Vec;

use wafer_abi::trap::TrapKind;
use wafer_abi::wasi_p2::resource;

use crate::component::streams::{self, HostRef, HttpEnd};
use crate::global::Global;
use crate::p2::{Call, HostResult, host_fns};

/// One field: its name and value.
pub type Field = (Box<[u8]>, Box<[u8]>);

/// A list of fields (headers or trailers).
#[derive(Debug, Clone, Default)]
pub struct Fields {
    /// (name, value) in order; names as given (compared without case).
    pub entries: Vec<Field>,
    /// Whether the guest may change it (`header-error.immutable` otherwise).
    pub immutable: bool,
}

impl Fields {
    /// The values of `name`.
    pub fn values<'a>(&'a self, name: &'a [u8]) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.entries
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| &**v)
    }
}

/// A method: one of `wasi:http/types.method`'s cases (its discriminant), or `other`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Method {
    /// A case without payload: get (0) ... patch (8).
    Known(u8),
    /// `other(string)`.
    Other(Box<[u8]>),
}

/// The methods `method`'s cases name, in discriminant order.
pub(crate) const METHODS: [&[u8]; 9] = [
    b"GET", b"HEAD", b"POST", b"PUT", b"DELETE", b"CONNECT", b"OPTIONS", b"TRACE", b"PATCH",
];

impl Method {
    /// The method of a request line's token (matched exactly: methods are
    /// case-sensitive).
    pub fn from_token(token: &[u8]) -> Method {
        match METHODS.iter().position(|m| *m == token) {
            Some(i) => Method::Known(i as u8),
            None => Method::Other(token.into()),
        }
    }

    /// Whether it is `HEAD` (whose response has no body).
    pub fn is_head(&self) -> bool {
        *self == Method::Known(1)
    }
}

/// A scheme: `HTTP`, `HTTPS` or `other(string)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scheme {
    /// `HTTP` (0) or `HTTPS` (1).
    Known(u8),
    /// `other(string)`.
    Other(Box<[u8]>),
}

/// Where a body comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// The request the server received on connection `conn`, not yet taken.
    Incoming {
        /// The connection.
        conn: u32,
    },
    /// The guest's: the stream (if any) and trailers future it gave, held by the host.
    Guest {
        /// The contents stream.
        contents: Option<HostRef>,
        /// The trailers future.
        trailers: HostRef,
    },
    /// `consume-body` took it.
    Consumed,
    /// It came on a connection that closed before the guest took it: the guest gets a
    /// stream that has ended and trailers that say `connection-terminated`.
    Broken,
}

/// Request options: timeouts in nanoseconds.
#[derive(Debug, Clone, Default)]
pub struct RequestOptions {
    /// connect, first-byte and between-bytes timeouts.
    pub timeouts: [Option<u64>; 3],
    /// Whether the guest may change them (options of a request it received are not).
    pub immutable: bool,
}

/// A message's trailers as the guest wrote them: `Ok` with the fields object if any,
/// `Err` when it reported an error instead.
pub type Trailers = Result<Option<u32>, ()>;

/// How far the host has sent a message the guest made (a response it returned, a
/// request it sends).
#[derive(Debug, Clone, Default)]
pub struct Outgoing {
    /// The connection sending it, once the host sends it.
    pub conn: Option<u32>,
    /// The guest dropped the contents stream's writer: the body is complete.
    pub body_done: bool,
    /// The trailers, once the guest wrote the trailers future.
    pub trailers: Option<Trailers>,
}

/// A request.
#[derive(Debug, Clone)]
pub struct Request {
    /// Its method.
    pub method: Method,
    /// The path with query.
    pub path: Option<Box<[u8]>>,
    /// The scheme.
    pub scheme: Option<Scheme>,
    /// The authority.
    pub authority: Option<Box<[u8]>>,
    /// Its headers.
    pub headers: Fields,
    /// Its options.
    pub options: Option<RequestOptions>,
    /// Its body.
    pub body: Body,
    /// How far the client sent it.
    pub out: Outgoing,
}

/// A response.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Its headers.
    pub headers: Fields,
    /// Its body.
    pub body: Body,
    /// The future the guest got to learn whether it was sent.
    pub sent: Option<HostRef>,
    /// How far the service sent it.
    pub out: Outgoing,
}

/// One of the HTTP host's objects.
#[derive(Debug)]
pub enum Object {
    /// `fields`
    Fields(Fields),
    /// `request`
    Request(Request),
    /// `response`
    Response(Response),
    /// `request-options`
    Options(RequestOptions),
}

/// The objects; `None` is a free slot.
static OBJECTS: Global<Vec<Option<Object>>> = Global::new(Vec::new());

/// Adds `object`; returns its index.
pub fn insert(object: Object) -> u32 {
    OBJECTS.with(|objects| crate::slots::insert(objects, object))
}

/// Runs `f` on object `index`.
pub fn with<T>(index: u32, f: impl FnOnce(&mut Object) -> T) -> Option<T> {
    OBJECTS.with(|objects| objects.get_mut(index as usize)?.as_mut().map(f))
}

/// Takes object `index` out of the table.
fn take(index: u32) -> Option<Object> {
    OBJECTS.with(|objects| objects.get_mut(index as usize)?.take())
}

/// Releases object `index` (its last handle was dropped, or the host is done with it):
/// a body stream it still holds is dropped at the host's end, so the guest's other end
/// learns it.
pub fn release(index: u32) {
    let Some(object) = take(index) else {
        return;
    };
    let body = match object {
        Object::Request(request) => {
            if let Some(Ok(Some(trailers))) = request.out.trailers {
                release(trailers);
            }
            Some(request.body)
        }
        Object::Response(response) => {
            if let Some(Ok(Some(trailers))) = response.out.trailers {
                release(trailers);
            }
            if let Some(sent) = response.sent {
                streams::host_drop(sent);
            }
            Some(response.body)
        }
        _ => None,
    };
    match body {
        Some(Body::Guest { contents, trailers }) => {
            if let Some(contents) = contents {
                streams::host_drop(contents);
            }
            streams::host_drop(trailers);
        }
        Some(Body::Incoming { conn }) => server::request_dropped(conn),
        _ => {}
    }
}

/// Connection `conn` closed: a request or response still waiting to be taken from it
/// is broken (its id may name another connection next).
pub fn detach_conn(conn: u32) {
    OBJECTS.with(|objects| {
        for object in objects.iter_mut().flatten() {
            let body = match object {
                Object::Request(request) => &mut request.body,
                Object::Response(response) => &mut response.body,
                _ => continue,
            };
            if *body == (Body::Incoming { conn }) {
                *body = Body::Broken;
            }
        }
    });
}

/// `header-error` cases.
mod header_error {
    pub const INVALID_SYNTAX: u8 = 0;
    pub const FORBIDDEN: u8 = 1;
    pub const IMMUTABLE: u8 = 2;
}

/// `error-code` cases the host reports.
pub mod error_code {
    /// `connection-terminated`
    pub const CONNECTION_TERMINATED: u8 = 7;
    /// `HTTP-protocol-error`
    pub const PROTOCOL_ERROR: u8 = 35;
}

/// Fields a guest may not set (wasmtime's default list: they belong to the connection).
fn is_forbidden(name: &[u8]) -> bool {
    [
        &b"connection"[..],
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"transfer-encoding",
        b"upgrade",
        b"host",
        b"http2-settings",
    ]
    .iter()
    .any(|f| name.eq_ignore_ascii_case(f))
}

/// The longest field name or value the host takes, and the most bytes of fields.
const MAX_FIELD: usize = 64 * 1024;

impl Call {
    /// The bytes of a `list<u8>` argument, copied.
    fn lift_bytes(&self, ptr: u32, len: u32) -> HostResult<Box<[u8]>> {
        let base = self
            .memory()
            .range(ptr, len)
            .map_err(|_| TrapKind::ListOutOfBounds)?;
        // SAFETY: `range` checked the bytes; they stay valid during the call.
        Ok(unsafe { core::slice::from_raw_parts(base, len as usize) }.into())
    }

    /// A `string` argument as UTF-8, copied; `None` when it is longer than the host
    /// takes.
    fn lift_text(&self, ptr: u32, len: u32) -> HostResult<Option<Box<[u8]>>> {
        let mut buf = alloc::vec![0u8; MAX_FIELD];
        Ok(self
            .lift_string(ptr as i32, len as i32, &mut buf)?
            .ok()
            .map(Into::into))
    }

    /// The object behind `handle`, of host resource type `ty`, borrowed.
    fn http_index(&self, handle: u32, ty: u32) -> HostResult<u32> {
        Ok(self.borrow(handle, ty)? as u32)
    }

    /// Takes the own handle `handle` of type `ty` from the caller: its object's index.
    fn take_own(&self, handle: u32, ty: u32) -> HostResult<u32> {
        self.with_handles(|table| table.lift_own(crate::component::host_resource(ty), handle))
    }

    /// A new own handle of `object` for the caller.
    fn new_http(&self, ty: u32, object: Object) -> HostResult<u32> {
        let index = insert(object);
        self.new_own(ty, u64::from(index))
            .inspect_err(|_| release(index))
    }

    /// Lowers `Some(text)` / `None` as an `option<string>` at `ret`.
    fn store_option_string(&self, ret: u32, text: Option<&[u8]>) -> HostResult<()> {
        match text {
            Some(text) => {
                let (ptr, len) = self.lower_string(text)?;
                self.store_u8(ret, 1)?;
                self.store_u32(ret + 4, ptr)?;
                self.store_u32(ret + 8, len)
            }
            None => self.store_u8(ret, 0),
        }
    }

    /// Lowers `list<list<u8>>` at `ret`.
    fn store_values<'a>(
        &self,
        ret: u32,
        values: impl Iterator<Item = &'a [u8]> + Clone,
    ) -> HostResult<()> {
        let count = values.clone().count() as u32;
        let array = self.allocate(4, count.saturating_mul(8))?;
        for (i, value) in values.enumerate() {
            let (ptr, len) = self.lower_bytes(value)?;
            self.store_u32(array + i as u32 * 8, ptr)?;
            self.store_u32(array + i as u32 * 8 + 4, len)?;
        }
        self.store_u32(ret, array)?;
        self.store_u32(ret + 4, count)
    }
}

/// Runs `f` on the part of object `index` that `part` picks (`None`: the handle names
/// an object of another kind).
fn with_part<P, T>(
    index: u32,
    part: fn(&mut Object) -> Option<&mut P>,
    f: impl FnOnce(&mut P) -> T,
) -> HostResult<T> {
    with(index, |object| part(object).map(f))
        .flatten()
        .ok_or(TrapKind::InvalidHandle)
}

/// Runs `f` on the fields object `index`.
fn with_fields<T>(index: u32, f: impl FnOnce(&mut Fields) -> T) -> HostResult<T> {
    fn part(object: &mut Object) -> Option<&mut Fields> {
        match object {
            Object::Fields(fields) => Some(fields),
            _ => None,
        }
    }
    with_part(index, part, f)
}

/// Runs `f` on the request object `index`.
pub(crate) fn with_request<T>(index: u32, f: impl FnOnce(&mut Request) -> T) -> HostResult<T> {
    fn part(object: &mut Object) -> Option<&mut Request> {
        match object {
            Object::Request(request) => Some(request),
            _ => None,
        }
    }
    with_part(index, part, f)
}

/// Runs `f` on the response object `index`.
pub(crate) fn with_response<T>(index: u32, f: impl FnOnce(&mut Response) -> T) -> HostResult<T> {
    fn part(object: &mut Object) -> Option<&mut Response> {
        match object {
            Object::Response(response) => Some(response),
            _ => None,
        }
    }
    with_part(index, part, f)
}

/// Runs `f` on how far the host sent the request or response `index`.
pub(crate) fn with_outgoing<T>(index: u32, f: impl FnOnce(&mut Outgoing) -> T) -> HostResult<T> {
    fn part(object: &mut Object) -> Option<&mut Outgoing> {
        match object {
            Object::Request(request) => Some(&mut request.out),
            Object::Response(response) => Some(&mut response.out),
            _ => None,
        }
    }
    with_part(index, part, f)
}

/// Runs `f` on the options object `index`.
fn with_options<T>(index: u32, f: impl FnOnce(&mut RequestOptions) -> T) -> HostResult<T> {
    fn part(object: &mut Object) -> Option<&mut RequestOptions> {
        match object {
            Object::Options(options) => Some(options),
            _ => None,
        }
    }
    with_part(index, part, f)
}

/// Stores `result<_, header-error>` (or `result<T, header-error>` whose `ok` the caller
/// stored at `ret + 4`) at `ret`.
fn store_header_result(call: &Call, ret: u32, result: Result<(), u8>) -> HostResult<()> {
    match result {
        Ok(()) => call.store_u8(ret, 0),
        Err(case) => {
            call.store_u8(ret, 1)?;
            call.store_u8(ret + 4, case)?;
            // `other(option<string>)` carries none from this host.
            call.store_u8(ret + 8, 0)
        }
    }
}

/// A field (name, value) checked as `fields` takes one.
fn check_field(name: &[u8], value: &[u8]) -> Result<(), u8> {
    if !wire::is_field_name(name) || !wire::is_field_value(value) {
        return Err(header_error::INVALID_SYNTAX);
    }
    if is_forbidden(name) {
        return Err(header_error::FORBIDDEN);
    }
    Ok(())
}

/// A field name argument: `Err` the header error for an unusable one.
fn field_name(call: &Call, ptr: u32, len: u32) -> HostResult<Result<Box<[u8]>, u8>> {
    Ok(match call.lift_text(ptr, len)? {
        Some(name) if wire::is_field_name(&name) => Ok(name),
        _ => Err(header_error::INVALID_SYNTAX),
    })
}

/// `list<list<u8>>` argument values.
fn lift_values(call: &Call, ptr: u32, count: u32) -> HostResult<Vec<Box<[u8]>>> {
    let memory = call.memory();
    let mut values = Vec::new();
    for i in 0..count {
        let at = ptr.wrapping_add(i.wrapping_mul(8));
        let (Ok(vptr), Ok(vlen)) = (memory.read_u32(at), memory.read_u32(at.wrapping_add(4)))
        else {
            return Err(TrapKind::ListOutOfBounds);
        };
        values.push(call.lift_bytes(vptr, vlen)?);
    }
    Ok(values)
}

fn fields_from_list(call: &Call, ptr: i32, count: i32, ret: i32) -> HostResult<()> {
    let (ptr, count, ret) = (ptr as u32, count as u32, ret as u32);
    let memory = call.memory();
    let mut fields = Fields::default();
    let mut failure = None;
    for i in 0..count {
        let at = ptr.wrapping_add(i.wrapping_mul(16));
        let word = |offset: u32| {
            memory
                .read_u32(at.wrapping_add(offset))
                .map_err(|_| TrapKind::ListOutOfBounds)
        };
        let (nptr, nlen, vptr, vlen) = (word(0)?, word(4)?, word(8)?, word(12)?);
        let name = call.lift_text(nptr, nlen)?;
        let value = call.lift_bytes(vptr, vlen)?;
        let Some(name) = name else {
            failure.get_or_insert(header_error::INVALID_SYNTAX);
            continue;
        };
        if let Err(case) = check_field(&name, &value) {
            failure.get_or_insert(case);
        }
        fields.entries.push((name, value));
    }
    if let Some(case) = failure {
        return store_header_result(call, ret, Err(case));
    }
    let handle = call.new_http(resource::HTTP_FIELDS, Object::Fields(fields))?;
    call.store_u32(ret + 4, handle)?;
    call.store_u8(ret, 0)
}

fn fields_get(call: &Call, this: i32, ptr: i32, len: i32, ret: i32) -> HostResult<()> {
    let index = call.http_index(this as u32, resource::HTTP_FIELDS)?;
    let name = call.lift_text(ptr as u32, len as u32)?.unwrap_or_default();
    let fields = with_fields(index, |fields| fields.clone())?;
    let values: Vec<&[u8]> = fields.values(&name).collect();
    call.store_values(ret as u32, values.iter().copied())
}

fn fields_has(call: &Call, this: i32, ptr: i32, len: i32) -> HostResult<u32> {
    let index = call.http_index(this as u32, resource::HTTP_FIELDS)?;
    let name = call.lift_text(ptr as u32, len as u32)?.unwrap_or_default();
    with_fields(index, |fields| {
        u32::from(fields.values(&name).next().is_some())
    })
}

/// Changes the fields `this` with `change` after checking it may change; stores the
/// `result<_, header-error>` at `ret`.
fn change_fields(
    call: &Call,
    this: i32,
    ret: i32,
    change: impl FnOnce(&mut Fields) -> Result<(), u8>,
) -> HostResult<()> {
    let index = call.http_index(this as u32, resource::HTTP_FIELDS)?;
    let result = with_fields(index, |fields| {
        if fields.immutable {
            return Err(header_error::IMMUTABLE);
        }
        change(fields)
    })?;
    store_header_result(call, ret as u32, result)
}

#[allow(
    clippy::too_many_arguments,
    reason = "the flat canonical-ABI parameters"
)]
fn fields_set(
    call: &Call,
    this: i32,
    nptr: i32,
    nlen: i32,
    vptr: i32,
    vcount: i32,
    ret: i32,
) -> HostResult<()> {
    let name = field_name(call, nptr as u32, nlen as u32)?;
    let values = lift_values(call, vptr as u32, vcount as u32)?;
    change_fields(call, this, ret, |fields| {
        let name = name?;
        for value in &values {
            check_field(&name, value)?;
        }
        fields
            .entries
            .retain(|(n, _)| !n.eq_ignore_ascii_case(&name));
        for value in values {
            fields.entries.push((name.clone(), value));
        }
        Ok(())
    })
}

fn fields_delete(call: &Call, this: i32, nptr: i32, nlen: i32, ret: i32) -> HostResult<()> {
    let name = field_name(call, nptr as u32, nlen as u32)?;
    change_fields(call, this, ret, |fields| {
        let name = name?;
        if is_forbidden(&name) {
            return Err(header_error::FORBIDDEN);
        }
        fields
            .entries
            .retain(|(n, _)| !n.eq_ignore_ascii_case(&name));
        Ok(())
    })
}

fn fields_get_and_delete(call: &Call, this: i32, nptr: i32, nlen: i32, ret: i32) -> HostResult<()> {
    let name = field_name(call, nptr as u32, nlen as u32)?;
    let index = call.http_index(this as u32, resource::HTTP_FIELDS)?;
    let taken = with_fields(index, |fields| {
        let name = name?;
        if fields.immutable {
            return Err(header_error::IMMUTABLE);
        }
        if is_forbidden(&name) {
            return Err(header_error::FORBIDDEN);
        }
        let (taken, kept) = core::mem::take(&mut fields.entries)
            .into_iter()
            .partition(|(n, _)| n.eq_ignore_ascii_case(&name));
        fields.entries = kept;
        Ok(taken)
    })?;
    match taken {
        Ok(taken) => {
            let taken: Vec<Field> = taken;
            call.store_values(ret as u32 + 4, taken.iter().map(|(_, v)| &**v))?;
            call.store_u8(ret as u32, 0)
        }
        Err(case) => store_header_result(call, ret as u32, Err(case)),
    }
}

#[allow(
    clippy::too_many_arguments,
    reason = "the flat canonical-ABI parameters"
)]
fn fields_append(
    call: &Call,
    this: i32,
    nptr: i32,
    nlen: i32,
    vptr: i32,
    vlen: i32,
    ret: i32,
) -> HostResult<()> {
    let name = field_name(call, nptr as u32, nlen as u32)?;
    let value = call.lift_bytes(vptr as u32, vlen as u32)?;
    change_fields(call, this, ret, |fields| {
        let name = name?;
        check_field(&name, &value)?;
        fields.entries.push((name, value));
        Ok(())
    })
}

fn fields_copy_all(call: &Call, this: i32, ret: i32) -> HostResult<()> {
    let index = call.http_index(this as u32, resource::HTTP_FIELDS)?;
    let fields = with_fields(index, |fields| fields.clone())?;
    let count = fields.entries.len() as u32;
    let array = call.allocate(4, count.saturating_mul(16))?;
    for (i, (name, value)) in fields.entries.iter().enumerate() {
        let (nptr, nlen) = call.lower_string(name)?;
        let (vptr, vlen) = call.lower_bytes(value)?;
        let at = array + i as u32 * 16;
        call.store_u32(at, nptr)?;
        call.store_u32(at + 4, nlen)?;
        call.store_u32(at + 8, vptr)?;
        call.store_u32(at + 12, vlen)?;
    }
    call.store_u32(ret as u32, array)?;
    call.store_u32(ret as u32 + 4, count)
}

fn fields_clone(call: &Call, this: i32) -> HostResult<u32> {
    let index = call.http_index(this as u32, resource::HTTP_FIELDS)?;
    let mut fields = with_fields(index, |fields| fields.clone())?;
    fields.immutable = false;
    call.new_http(resource::HTTP_FIELDS, Object::Fields(fields))
}

/// A `fields` handle given away (`own`): its fields, now the host's.
fn take_fields(call: &Call, handle: i32) -> HostResult<Fields> {
    let index = call.take_own(handle as u32, resource::HTTP_FIELDS)?;
    match take(index) {
        Some(Object::Fields(fields)) => Ok(fields),
        _ => Err(TrapKind::InvalidHandle),
    }
}

/// The body a guest gives a new request or response: its optional contents stream
/// and its trailers future, taken from the guest.
fn guest_body(call: &Call, has_contents: i32, contents: i32, trailers: i32) -> HostResult<Body> {
    let contents = match has_contents {
        0 => None,
        _ => Some(streams::take_readable(
            call.instance(),
            contents as u32,
            false,
        )?),
    };
    let trailers = streams::take_readable(call.instance(), trailers as u32, true)?;
    Ok(Body::Guest { contents, trailers })
}

#[allow(
    clippy::too_many_arguments,
    reason = "the flat canonical-ABI parameters"
)]
fn request_new(
    call: &Call,
    headers: i32,
    has_contents: i32,
    contents: i32,
    trailers: i32,
    has_options: i32,
    options: i32,
    ret: i32,
) -> HostResult<()> {
    let mut headers = take_fields(call, headers)?;
    headers.immutable = true;
    let options = match has_options {
        0 => None,
        _ => {
            let index = call.take_own(options as u32, resource::HTTP_REQUEST_OPTIONS)?;
            match take(index) {
                Some(Object::Options(mut options)) => {
                    options.immutable = true;
                    Some(options)
                }
                _ => return Err(TrapKind::InvalidHandle),
            }
        }
    };
    let body = guest_body(call, has_contents, contents, trailers)?;
    let request = Request {
        method: Method::Known(0),
        path: None,
        scheme: None,
        authority: None,
        headers,
        options,
        body,
        out: Outgoing::default(),
    };
    let handle = call.new_http(resource::HTTP_REQUEST, Object::Request(request))?;
    // The transmission future: only `wasi:http/client` sends a request, and this host
    // has none, so it never resolves and its reader sees the host drop it.
    let (_, future) = streams::new_host_future(call.instance())?;
    call.store_u32(ret as u32, handle)?;
    call.store_u32(ret as u32 + 4, future)
}

fn request_get_method(call: &Call, this: i32, ret: i32) -> HostResult<()> {
    let index = call.http_index(this as u32, resource::HTTP_REQUEST)?;
    match with_request(index, |request| request.method.clone())? {
        Method::Known(case) => call.store_u8(ret as u32, case),
        Method::Other(text) => {
            let (ptr, len) = call.lower_string(&text)?;
            call.store_u8(ret as u32, 9)?;
            call.store_u32(ret as u32 + 4, ptr)?;
            call.store_u32(ret as u32 + 8, len)
        }
    }
}

fn request_set_method(call: &Call, this: i32, case: i32, ptr: i32, len: i32) -> HostResult<u32> {
    let index = call.http_index(this as u32, resource::HTTP_REQUEST)?;
    let method = match case {
        0..=8 => Method::Known(case as u8),
        9 => match call.lift_text(ptr as u32, len as u32)? {
            Some(text) if wire::is_field_name(&text) => Method::Other(text),
            _ => return Ok(1),
        },
        _ => return Err(TrapKind::InvalidDiscriminant),
    };
    with_request(index, |request| request.method = method)?;
    Ok(0)
}

/// An `option<string>` argument; `Err` when the text is too long.
fn option_text(
    call: &Call,
    some: i32,
    ptr: i32,
    len: i32,
) -> HostResult<Result<Option<Box<[u8]>>, ()>> {
    match some {
        0 => Ok(Ok(None)),
        1 => Ok(call.lift_text(ptr as u32, len as u32)?.map(Some).ok_or(())),
        _ => Err(TrapKind::InvalidDiscriminant),
    }
}

fn request_get_path(call: &Call, this: i32, ret: i32) -> HostResult<()> {
    let index = call.http_index(this as u32, resource::HTTP_REQUEST)?;
    let path = with_request(index, |request| request.path.clone())?;
    call.store_option_string(ret as u32, path.as_deref())
}

fn request_set_path(call: &Call, this: i32, some: i32, ptr: i32, len: i32) -> HostResult<u32> {
    let index = call.http_index(this as u32, resource::HTTP_REQUEST)?;
    let Ok(path) = option_text(call, some, ptr, len)? else {
        return Ok(1);
    };
    // A path is sent on the request line: no whitespace or control characters.
    if path
        .as_deref()
        .is_some_and(|p| p.iter().any(|&b| b <= b' ' || b == 0x7f))
    {
        return Ok(1);
    }
    with_request(index, |request| request.path = path)?;
    Ok(0)
}

fn request_get_scheme(call: &Call, this: i32, ret: i32) -> HostResult<()> {
    let index = call.http_index(this as u32, resource::HTTP_REQUEST)?;
    let ret = ret as u32;
    match with_request(index, |request| request.scheme.clone())? {
        None => call.store_u8(ret, 0),
        Some(Scheme::Known(case)) => {
            call.store_u8(ret, 1)?;
            call.store_u8(ret + 4, case)
        }
        Some(Scheme::Other(text)) => {
            let (ptr, len) = call.lower_string(&text)?;
            call.store_u8(ret, 1)?;
            call.store_u8(ret + 4, 2)?;
            call.store_u32(ret + 8, ptr)?;
            call.store_u32(ret + 12, len)
        }
    }
}

fn request_set_scheme(
    call: &Call,
    this: i32,
    some: i32,
    case: i32,
    ptr: i32,
    len: i32,
) -> HostResult<u32> {
    let index = call.http_index(this as u32, resource::HTTP_REQUEST)?;
    let scheme = match (some, case) {
        (0, _) => None,
        (1, 0 | 1) => Some(Scheme::Known(case as u8)),
        (1, 2) => match call.lift_text(ptr as u32, len as u32)? {
            Some(text)
                if !text.is_empty()
                    && text
                        .iter()
                        .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(b)) =>
            {
                Some(Scheme::Other(text))
            }
            _ => return Ok(1),
        },
        _ => return Err(TrapKind::InvalidDiscriminant),
    };
    with_request(index, |request| request.scheme = scheme)?;
    Ok(0)
}

fn request_get_authority(call: &Call, this: i32, ret: i32) -> HostResult<()> {
    let index = call.http_index(this as u32, resource::HTTP_REQUEST)?;
    let authority = with_request(index, |request| request.authority.clone())?;
    call.store_option_string(ret as u32, authority.as_deref())
}

fn request_set_authority(call: &Call, this: i32, some: i32, ptr: i32, len: i32) -> HostResult<u32> {
    let index = call.http_index(this as u32, resource::HTTP_REQUEST)?;
    let Ok(authority) = option_text(call, some, ptr, len)? else {
        return Ok(1);
    };
    if authority.as_deref().is_some_and(|a| {
        a.iter()
            .any(|&b| b <= b' ' || b"/?#@".contains(&b) || b == 0x7f)
    }) {
        return Ok(1);
    }
    with_request(index, |request| request.authority = authority)?;
    Ok(0)
}

fn request_get_options(call: &Call, this: i32, ret: i32) -> HostResult<()> {
    let index = call.http_index(this as u32, resource::HTTP_REQUEST)?;
    match with_request(index, |request| request.options.clone())? {
        None => call.store_u8(ret as u32, 0),
        Some(options) => {
            let handle = call.new_http(resource::HTTP_REQUEST_OPTIONS, Object::Options(options))?;
            call.store_u8(ret as u32, 1)?;
            call.store_u32(ret as u32 + 4, handle)
        }
    }
}

fn request_get_headers(call: &Call, this: i32) -> HostResult<u32> {
    let index = call.http_index(this as u32, resource::HTTP_REQUEST)?;
    let mut headers = with_request(index, |request| request.headers.clone())?;
    headers.immutable = true;
    call.new_http(resource::HTTP_FIELDS, Object::Fields(headers))
}

/// `consume-body` of a request or response: its body as a stream and trailers future
/// for the guest.
fn consume_body(call: &Call, ty: u32, this: i32, res: i32, ret: i32) -> HostResult<()> {
    let index = call.take_own(this as u32, ty)?;
    // The guest's future saying when it is done with the body: the host has no use for
    // it beyond holding it until then.
    let done = streams::take_readable(call.instance(), res as u32, true)?;
    streams::host_drop(done);
    let body = with(index, |object| match object {
        Object::Request(request) => Ok(core::mem::replace(&mut request.body, Body::Consumed)),
        Object::Response(response) => Ok(core::mem::replace(&mut response.body, Body::Consumed)),
        _ => Err(TrapKind::InvalidHandle),
    })
    .unwrap_or(Err(TrapKind::InvalidHandle))?;
    let (stream, trailers) = match body {
        Body::Incoming { conn } => {
            let (held, stream, trailers) = streams::new_http_body(call.instance(), conn)?;
            server::body_taken(conn, held);
            (stream, trailers)
        }
        Body::Guest { contents, trailers } => {
            let stream = match contents {
                Some(held) => streams::give_readable(call.instance(), held)?,
                None => streams::new_empty_stream(call.instance())?,
            };
            (stream, streams::give_readable(call.instance(), trailers)?)
        }
        Body::Broken => {
            let stream = streams::new_empty_stream(call.instance())?;
            let (held, trailers) = streams::new_host_future(call.instance())?;
            streams::resolve_future(held, Err(error_code::CONNECTION_TERMINATED))?;
            (stream, trailers)
        }
        Body::Consumed => return Err(TrapKind::InvalidHandle),
    };
    // Taken as `own`: the object is gone with its handle.
    release(index);
    call.store_u32(ret as u32, stream)?;
    call.store_u32(ret as u32 + 4, trailers)
}

fn response_new(
    call: &Call,
    headers: i32,
    has_contents: i32,
    contents: i32,
    trailers: i32,
    ret: i32,
) -> HostResult<()> {
    let mut headers = take_fields(call, headers)?;
    headers.immutable = true;
    let body = guest_body(call, has_contents, contents, trailers)?;
    let index = insert(Object::Response(Response {
        status: 200,
        headers,
        body,
        sent: None,
        out: Outgoing::default(),
    }));
    let handle = call
        .new_own(resource::HTTP_RESPONSE, u64::from(index))
        .inspect_err(|_| release(index))?;
    let (sent, future) = streams::new_host_future(call.instance())?;
    with_response(index, |response| response.sent = Some(sent))?;
    if let Body::Guest { contents, trailers } = body {
        if let Some(contents) = contents {
            streams::attach_http(contents, HttpEnd::OutgoingBody { message: index })?;
        }
        streams::attach_http(trailers, HttpEnd::OutgoingTrailers { message: index })?;
    }
    call.store_u32(ret as u32, handle)?;
    call.store_u32(ret as u32 + 4, future)
}

fn response_get_status(call: &Call, this: i32) -> HostResult<u32> {
    let index = call.http_index(this as u32, resource::HTTP_RESPONSE)?;
    with_response(index, |response| u32::from(response.status))
}

fn response_set_status(call: &Call, this: i32, status: i32) -> HostResult<u32> {
    let index = call.http_index(this as u32, resource::HTTP_RESPONSE)?;
    if !(100..=999).contains(&status) {
        return Ok(1);
    }
    with_response(index, |response| response.status = status as u16)?;
    Ok(0)
}

fn response_get_headers(call: &Call, this: i32) -> HostResult<u32> {
    let index = call.http_index(this as u32, resource::HTTP_RESPONSE)?;
    let mut headers = with_response(index, |response| response.headers.clone())?;
    headers.immutable = true;
    call.new_http(resource::HTTP_FIELDS, Object::Fields(headers))
}

fn options_get(call: &Call, this: i32, which: usize, ret: i32) -> HostResult<()> {
    let index = call.http_index(this as u32, resource::HTTP_REQUEST_OPTIONS)?;
    match with_options(index, |options| options.timeouts[which])? {
        None => call.store_u8(ret as u32, 0),
        Some(nanos) => {
            call.store_u8(ret as u32, 1)?;
            call.store_u64(ret as u32 + 8, nanos)
        }
    }
}

fn options_set(
    call: &Call,
    this: i32,
    which: usize,
    some: i32,
    nanos: i64,
    ret: i32,
) -> HostResult<()> {
    let index = call.http_index(this as u32, resource::HTTP_REQUEST_OPTIONS)?;
    let value = match some {
        0 => None,
        1 => Some(nanos as u64),
        _ => return Err(TrapKind::InvalidDiscriminant),
    };
    let changed = with_options(index, |options| {
        if options.immutable {
            return false;
        }
        options.timeouts[which] = value;
        true
    })?;
    if changed {
        call.store_u8(ret as u32, 0)
    } else {
        // `request-options-error.immutable`.
        call.store_u8(ret as u32, 1)?;
        call.store_u8(ret as u32 + 4, 1)
    }
}

fn options_clone(call: &Call, this: i32) -> HostResult<u32> {
    let index = call.http_index(this as u32, resource::HTTP_REQUEST_OPTIONS)?;
    let mut options = with_options(index, |options| options.clone())?;
    options.immutable = false;
    call.new_http(resource::HTTP_REQUEST_OPTIONS, Object::Options(options))
}

host_fns! {
    /// `[constructor]fields`.
    wafer_p3_http_fields_new() -> u32 => |call: &Call| call.new_http(resource::HTTP_FIELDS, Object::Fields(Fields::default()));
    /// `[static]fields.from-list`.
    wafer_p3_http_fields_from_list(ptr: i32, count: i32, ret: i32) => fields_from_list;
    /// `[method]fields.get`.
    wafer_p3_http_fields_get(this: i32, ptr: i32, len: i32, ret: i32) => fields_get;
    /// `[method]fields.has`.
    wafer_p3_http_fields_has(this: i32, ptr: i32, len: i32) -> u32 => fields_has;
    /// `[method]fields.set`.
    wafer_p3_http_fields_set(this: i32, nptr: i32, nlen: i32, vptr: i32, vcount: i32, ret: i32) => fields_set;
    /// `[method]fields.delete`.
    wafer_p3_http_fields_delete(this: i32, nptr: i32, nlen: i32, ret: i32) => fields_delete;
    /// `[method]fields.get-and-delete`.
    wafer_p3_http_fields_get_and_delete(this: i32, nptr: i32, nlen: i32, ret: i32) => fields_get_and_delete;
    /// `[method]fields.append`.
    wafer_p3_http_fields_append(this: i32, nptr: i32, nlen: i32, vptr: i32, vlen: i32, ret: i32) => fields_append;
    /// `[method]fields.copy-all`.
    wafer_p3_http_fields_copy_all(this: i32, ret: i32) => fields_copy_all;
    /// `[method]fields.clone`.
    wafer_p3_http_fields_clone(this: i32) -> u32 => fields_clone;
    /// `[static]request.new`.
    wafer_p3_http_request_new(headers: i32, has_contents: i32, contents: i32, trailers: i32, has_options: i32, options: i32, ret: i32) => request_new;
    /// `[method]request.get-method`.
    wafer_p3_http_request_get_method(this: i32, ret: i32) => request_get_method;
    /// `[method]request.set-method`.
    wafer_p3_http_request_set_method(this: i32, case: i32, ptr: i32, len: i32) -> u32 => request_set_method;
    /// `[method]request.get-path-with-query`.
    wafer_p3_http_request_get_path_with_query(this: i32, ret: i32) => request_get_path;
    /// `[method]request.set-path-with-query`.
    wafer_p3_http_request_set_path_with_query(this: i32, some: i32, ptr: i32, len: i32) -> u32 => request_set_path;
    /// `[method]request.get-scheme`.
    wafer_p3_http_request_get_scheme(this: i32, ret: i32) => request_get_scheme;
    /// `[method]request.set-scheme`.
    wafer_p3_http_request_set_scheme(this: i32, some: i32, case: i32, ptr: i32, len: i32) -> u32 => request_set_scheme;
    /// `[method]request.get-authority`.
    wafer_p3_http_request_get_authority(this: i32, ret: i32) => request_get_authority;
    /// `[method]request.set-authority`.
    wafer_p3_http_request_set_authority(this: i32, some: i32, ptr: i32, len: i32) -> u32 => request_set_authority;
    /// `[method]request.get-options`.
    wafer_p3_http_request_get_options(this: i32, ret: i32) => request_get_options;
    /// `[method]request.get-headers`.
    wafer_p3_http_request_get_headers(this: i32) -> u32 => request_get_headers;
    /// `[static]request.consume-body`.
    wafer_p3_http_request_consume_body(this: i32, res: i32, ret: i32) => |call, this, res, ret| consume_body(call, resource::HTTP_REQUEST, this, res, ret);
    /// `[constructor]request-options`.
    wafer_p3_http_options_new() -> u32 => |call: &Call| call.new_http(resource::HTTP_REQUEST_OPTIONS, Object::Options(RequestOptions::default()));
    /// `[method]request-options.get-connect-timeout`.
    wafer_p3_http_options_get_connect_timeout(this: i32, ret: i32) => |call, this, ret| options_get(call, this, 0, ret);
    /// `[method]request-options.set-connect-timeout`.
    wafer_p3_http_options_set_connect_timeout(this: i32, some: i32, nanos: i64, ret: i32) => |call, this, some, nanos, ret| options_set(call, this, 0, some, nanos, ret);
    /// `[method]request-options.get-first-byte-timeout`.
    wafer_p3_http_options_get_first_byte_timeout(this: i32, ret: i32) => |call, this, ret| options_get(call, this, 1, ret);
    /// `[method]request-options.set-first-byte-timeout`.
    wafer_p3_http_options_set_first_byte_timeout(this: i32, some: i32, nanos: i64, ret: i32) => |call, this, some, nanos, ret| options_set(call, this, 1, some, nanos, ret);
    /// `[method]request-options.get-between-bytes-timeout`.
    wafer_p3_http_options_get_between_bytes_timeout(this: i32, ret: i32) => |call, this, ret| options_get(call, this, 2, ret);
    /// `[method]request-options.set-between-bytes-timeout`.
    wafer_p3_http_options_set_between_bytes_timeout(this: i32, some: i32, nanos: i64, ret: i32) => |call, this, some, nanos, ret| options_set(call, this, 2, some, nanos, ret);
    /// `[method]request-options.clone`.
    wafer_p3_http_options_clone(this: i32) -> u32 => options_clone;
    /// `[static]response.new`.
    wafer_p3_http_response_new(headers: i32, has_contents: i32, contents: i32, trailers: i32, ret: i32) => response_new;
    /// `[method]response.get-status-code`.
    wafer_p3_http_response_get_status_code(this: i32) -> u32 => response_get_status;
    /// `[method]response.set-status-code`.
    wafer_p3_http_response_set_status_code(this: i32, status: i32) -> u32 => response_set_status;
    /// `[method]response.get-headers`.
    wafer_p3_http_response_get_headers(this: i32) -> u32 => response_get_headers;
    /// `[static]response.consume-body`.
    wafer_p3_http_response_consume_body(this: i32, res: i32, ret: i32) => |call, this, res, ret| consume_body(call, resource::HTTP_RESPONSE, this, res, ret);
}
