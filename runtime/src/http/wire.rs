//! HTTP/1.1 on the wire (RFC 9112): request heads, body framing, chunked coding, and
//! response heads. Pure functions over byte slices, so the server's state machine
//! ([`super::server`]) does the I/O and these can be tested alone.

use alloc::vec::Vec;

/// The most bytes a request head may take (request line and fields).
pub const MAX_HEAD: usize = 64 * 1024;

/// The most fields a request head may have.
pub const MAX_FIELDS: usize = 128;

/// A field of a parsed head: the (start, end) ranges of its name and value.
pub type FieldRange = ((usize, usize), (usize, usize));

/// How a message's body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// `Content-Length`: exactly this many bytes (0: no body).
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// A parsed request head. Ranges index the buffer it was parsed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead {
    /// The method token.
    pub method: (usize, usize),
    /// The request target (origin form: the path and query).
    pub target: (usize, usize),
    /// The fields in order: (name, value), value without surrounding whitespace.
    pub fields: Vec<FieldRange>,
    /// How the body is delimited.
    pub framing: Framing,
    /// Whether the connection stays open after the response (HTTP/1.1 without
    /// `Connection: close`, or HTTP/1.0 with `Connection: keep-alive`).
    pub keep_alive: bool,
    /// The `Host` field's value, if any.
    pub host: Option<(usize, usize)>,
    /// Bytes the head took, with its final empty line.
    pub len: usize,
    /// Whether the client sent `Expect: 100-continue`.
    pub expect_continue: bool,
}

/// Why a request head is refused, with the status to answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadError {
    /// Malformed (400).
    BadRequest,
    /// Longer than [`MAX_HEAD`] or with more than [`MAX_FIELDS`] fields (431).
    TooLarge,
    /// A version other than HTTP/1.0 or 1.1 (505).
    Version,
    /// A transfer coding other than `chunked` alone (501).
    NotImplemented,
}

impl HeadError {
    /// The status line's code and reason.
    pub fn status(self) -> (u16, &'static [u8]) {
        match self {
            HeadError::BadRequest => (400, b"Bad Request"),
            HeadError::TooLarge => (431, b"Request Header Fields Too Large"),
            HeadError::Version => (505, b"HTTP Version Not Supported"),
            HeadError::NotImplemented => (501, b"Not Implemented"),
        }
    }
}

/// The `tchar`s of RFC 9110 tokens (methods and field names).
fn is_token(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

/// Whether `name` is a field name (a token).
pub fn is_field_name(name: &[u8]) -> bool {
    !name.is_empty() && name.iter().all(|&b| is_token(b))
}

/// Whether `value` may be a field value: visible characters, spaces and tabs, and
/// obsolete text, with no leading or trailing whitespace (no CR, LF or NUL).
pub fn is_field_value(value: &[u8]) -> bool {
    let allowed = |b: u8| b == b'\t' || b == b' ' || (0x21..=0x7e).contains(&b) || b >= 0x80;
    value.iter().all(|&b| allowed(b))
        && !value.first().is_some_and(|&b| b == b' ' || b == b'\t')
        && !value.last().is_some_and(|&b| b == b' ' || b == b'\t')
}

/// Where the head in `buf` ends (after its empty line), if it is all there.
fn head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|at| at + 4)
}

fn trim(buf: &[u8], mut start: usize, mut end: usize) -> (usize, usize) {
    while start < end && (buf[start] == b' ' || buf[start] == b'\t') {
        start += 1;
    }
    while end > start && (buf[end - 1] == b' ' || buf[end - 1] == b'\t') {
        end -= 1;
    }
    (start, end)
}

/// Parses the request head at the start of `buf`: `Ok(None)` while it is incomplete.
pub fn parse_request_head(buf: &[u8]) -> Result<Option<RequestHead>, HeadError> {
    // Leading empty lines before a request line are allowed (RFC 9112 2.2).
    let mut start = 0;
    while buf[start..].starts_with(b"\r\n") {
        start += 2;
    }
    let Some(len) = head_end(&buf[start..]) else {
        return if buf.len() > MAX_HEAD {
            Err(HeadError::TooLarge)
        } else {
            Ok(None)
        };
    };
    let len = start + len;
    if len > MAX_HEAD {
        return Err(HeadError::TooLarge);
    }
    let mut lines = Vec::new();
    let mut at = start;
    while at < len - 2 {
        let end = at + buf[at..].windows(2).position(|w| w == b"\r\n").unwrap_or(0);
        lines.push((at, end));
        at = end + 2;
    }
    let (line_start, line_end) = *lines.first().ok_or(HeadError::BadRequest)?;
    let line = &buf[line_start..line_end];
    let mut parts = line.split(|&b| b == b' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(HeadError::BadRequest);
    };
    if method.is_empty() || !method.iter().all(|&b| is_token(b)) || target.is_empty() {
        return Err(HeadError::BadRequest);
    }
    if target.iter().any(|&b| b <= b' ' || b == 0x7f) {
        return Err(HeadError::BadRequest);
    }
    let http11 = match version {
        b"HTTP/1.1" => true,
        b"HTTP/1.0" => false,
        v if v.starts_with(b"HTTP/") => return Err(HeadError::Version),
        _ => return Err(HeadError::BadRequest),
    };
    let method = (line_start, line_start + method.len());
    let target = (method.1 + 1, method.1 + 1 + target.len());
    let mut head = RequestHead {
        method,
        target,
        fields: Vec::new(),
        framing: Framing::Length(0),
        keep_alive: http11,
        host: None,
        len,
        expect_continue: false,
    };
    let mut length = None::<u64>;
    let mut chunked = false;
    for &(start, end) in &lines[1..] {
        let colon = buf[start..end]
            .iter()
            .position(|&b| b == b':')
            .ok_or(HeadError::BadRequest)?;
        let name = (start, start + colon);
        if !is_field_name(&buf[name.0..name.1]) {
            // Also refuses whitespace before the colon and obsolete line folding.
            return Err(HeadError::BadRequest);
        }
        let value = trim(buf, start + colon + 1, end);
        if !is_field_value(&buf[value.0..value.1]) {
            return Err(HeadError::BadRequest);
        }
        if head.fields.len() == MAX_FIELDS {
            return Err(HeadError::TooLarge);
        }
        head.fields.push((name, value));
        let name = &buf[name.0..name.1];
        let text = &buf[value.0..value.1];
        if name.eq_ignore_ascii_case(b"content-length") {
            let n = parse_decimal(text).ok_or(HeadError::BadRequest)?;
            if length.is_some_and(|l| l != n) {
                return Err(HeadError::BadRequest);
            }
            length = Some(n);
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            // Only `chunked`, and only once, last: anything else this server cannot
            // decode.
            if !text.eq_ignore_ascii_case(b"chunked") || chunked {
                return Err(HeadError::NotImplemented);
            }
            chunked = true;
        } else if name.eq_ignore_ascii_case(b"connection") {
            for option in text.split(|&b| b == b',') {
                let (s, e) = trim(option, 0, option.len());
                let option = &option[s..e];
                if option.eq_ignore_ascii_case(b"close") {
                    head.keep_alive = false;
                } else if option.eq_ignore_ascii_case(b"keep-alive") && !http11 {
                    head.keep_alive = true;
                }
            }
        } else if name.eq_ignore_ascii_case(b"host") {
            if head.host.is_some() {
                return Err(HeadError::BadRequest);
            }
            head.host = Some(value);
        } else if name.eq_ignore_ascii_case(b"expect") && text.eq_ignore_ascii_case(b"100-continue")
        {
            head.expect_continue = http11;
        }
    }
    if http11 && head.host.is_none() {
        return Err(HeadError::BadRequest);
    }
    head.framing = match (chunked, length) {
        // Both: a request smuggling vector; RFC 9112 6.1 lets a server refuse it.
        (true, Some(_)) => return Err(HeadError::BadRequest),
        (true, None) => Framing::Chunked,
        (false, length) => Framing::Length(length.unwrap_or(0)),
    };
    Ok(Some(head))
}

/// How a response's body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseFraming {
    /// As a request's.
    Framed(Framing),
    /// By the end of the connection.
    UntilClose,
}

/// A parsed response head. Ranges index the buffer it was parsed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// The status code.
    pub status: u16,
    /// The fields in order: (name, value).
    pub fields: Vec<FieldRange>,
    /// How the body is delimited.
    pub framing: ResponseFraming,
    /// Bytes the head took.
    pub len: usize,
}

/// A response head that is not HTTP/1.x.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MalformedResponse;

/// Parses the response head at the start of `buf` (`head_request`: the request was
/// `HEAD`): `Ok(None)` while it is incomplete. Interim (1xx) responses are skipped.
pub fn parse_response_head(
    buf: &[u8],
    head_request: bool,
) -> Result<Option<ResponseHead>, MalformedResponse> {
    let mut start = 0;
    loop {
        let Some(len) = head_end(&buf[start..]) else {
            return if buf.len() - start > MAX_HEAD {
                Err(MalformedResponse)
            } else {
                Ok(None)
            };
        };
        let end = start + len;
        let head = &buf[start..end - 2];
        let mut lines = head
            .split(|&b| b == b'\n')
            .map(|line| line.strip_suffix(b"\r").unwrap_or(line));
        let status_line = lines.next().ok_or(MalformedResponse)?;
        let mut parts = status_line.splitn(3, |&b| b == b' ');
        let (Some(version), Some(code)) = (parts.next(), parts.next()) else {
            return Err(MalformedResponse);
        };
        if !matches!(version, b"HTTP/1.1" | b"HTTP/1.0") || code.len() != 3 {
            return Err(MalformedResponse);
        }
        let status = parse_decimal(code).ok_or(MalformedResponse)? as u16;
        if !(100..=999).contains(&status) {
            return Err(MalformedResponse);
        }
        if (100..200).contains(&status) && status != 101 {
            start = end;
            continue;
        }
        let mut fields = Vec::new();
        let mut length = None::<u64>;
        let mut chunked = false;
        let mut at = start + status_line.len() + 2;
        for line in lines {
            let line_start = at;
            at += line.len() + 2;
            if line.is_empty() {
                break;
            }
            let colon = line
                .iter()
                .position(|&b| b == b':')
                .ok_or(MalformedResponse)?;
            if !is_field_name(&line[..colon]) {
                return Err(MalformedResponse);
            }
            let value = trim(buf, line_start + colon + 1, line_start + line.len());
            let name = &line[..colon];
            let text = &buf[value.0..value.1];
            if name.eq_ignore_ascii_case(b"content-length") {
                length = Some(parse_decimal(text).ok_or(MalformedResponse)?);
            } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
                chunked = text.rsplit(|&b| b == b',').next().is_some_and(|last| {
                    let (s, e) = trim(last, 0, last.len());
                    last[s..e].eq_ignore_ascii_case(b"chunked")
                });
            }
            fields.push(((line_start, line_start + colon), value));
        }
        let bodiless = head_request || status == 204 || status == 304;
        let framing = match (bodiless, chunked, length) {
            (true, ..) => ResponseFraming::Framed(Framing::Length(0)),
            (false, true, _) => ResponseFraming::Framed(Framing::Chunked),
            (false, false, Some(n)) => ResponseFraming::Framed(Framing::Length(n)),
            (false, false, None) => ResponseFraming::UntilClose,
        };
        return Ok(Some(ResponseHead {
            status,
            fields,
            framing,
            len: end,
        }));
    }
}

/// Appends a request head: the request line, `Host`, the guest's fields (except
/// hop-by-hop ones and `Host`) and the framing fields (none for a request without a
/// body).
pub fn write_request_head<'a>(
    out: &mut Vec<u8>,
    method: &[u8],
    target: &[u8],
    authority: &[u8],
    fields: impl Iterator<Item = (&'a [u8], &'a [u8])>,
    framing: Option<Framing>,
) {
    out.extend_from_slice(method);
    out.push(b' ');
    out.extend_from_slice(target);
    out.extend_from_slice(b" HTTP/1.1\r\nhost: ");
    out.extend_from_slice(authority);
    out.extend_from_slice(b"\r\n");
    for (name, value) in fields {
        if is_hop_by_hop(name)
            || name.eq_ignore_ascii_case(b"content-length")
            || name.eq_ignore_ascii_case(b"host")
        {
            continue;
        }
        out.extend_from_slice(name);
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    match framing {
        Some(Framing::Length(n)) => {
            out.extend_from_slice(b"content-length: ");
            push_decimal(out, n);
            out.extend_from_slice(b"\r\n");
        }
        Some(Framing::Chunked) => out.extend_from_slice(b"transfer-encoding: chunked\r\n"),
        None => {}
    }
    out.extend_from_slice(b"\r\n");
}

/// A decimal number of at most 19 digits.
fn parse_decimal(text: &[u8]) -> Option<u64> {
    if text.is_empty() || text.len() > 19 || !text.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(text.iter().fold(0u64, |n, &d| n * 10 + u64::from(d - b'0')))
}

/// Where a chunked body's decoder is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chunked {
    /// Before a chunk-size line.
    Size,
    /// In a chunk's data: bytes left.
    Data(u64),
    /// After a chunk's data: its CRLF.
    DataEnd,
    /// After the last chunk: trailer fields until an empty line.
    Trailers,
    /// The body has ended.
    Done,
}

/// What one step of the chunked decoder found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// It consumed this many bytes of framing; go on.
    Framing(usize),
    /// This many bytes from the start of the input are data.
    Data(usize),
    /// It needs more input.
    More,
    /// The coding is malformed.
    Invalid,
}

impl Chunked {
    /// Decodes from `input` (which starts where the last step stopped).
    pub fn step(&mut self, input: &[u8]) -> Step {
        let line = |input: &[u8]| input.windows(2).position(|w| w == b"\r\n");
        match *self {
            Chunked::Done => Step::More,
            Chunked::Data(left) => {
                if input.is_empty() {
                    return Step::More;
                }
                let n = (input.len() as u64).min(left) as usize;
                *self = if left == n as u64 {
                    Chunked::DataEnd
                } else {
                    Chunked::Data(left - n as u64)
                };
                Step::Data(n)
            }
            Chunked::DataEnd => match input {
                [b'\r', b'\n', ..] => {
                    *self = Chunked::Size;
                    Step::Framing(2)
                }
                [] | [b'\r'] => Step::More,
                _ => Step::Invalid,
            },
            Chunked::Size => {
                let Some(end) = line(input) else {
                    return if input.len() > 1024 {
                        Step::Invalid
                    } else {
                        Step::More
                    };
                };
                // The size, then optional extensions after `;`, which mean nothing here.
                let digits = input[..end]
                    .iter()
                    .take_while(|b| b.is_ascii_hexdigit())
                    .count();
                let rest = &input[digits..end];
                if digits == 0
                    || digits > 15
                    || !(rest.is_empty() || rest[0] == b';' || rest[0] == b' ' || rest[0] == b'\t')
                {
                    return Step::Invalid;
                }
                let size = input[..digits].iter().fold(0u64, |n, &d| {
                    n * 16 + u64::from((d as char).to_digit(16).unwrap_or(0))
                });
                *self = if size == 0 {
                    Chunked::Trailers
                } else {
                    Chunked::Data(size)
                };
                Step::Framing(end + 2)
            }
            Chunked::Trailers => {
                let Some(end) = line(input) else {
                    return if input.len() > MAX_HEAD {
                        Step::Invalid
                    } else {
                        Step::More
                    };
                };
                if end == 0 {
                    *self = Chunked::Done;
                }
                // Trailer fields are read and dropped: the request's trailers future
                // reports none.
                Step::Framing(end + 2)
            }
        }
    }
}

/// The reason phrase of `status` (empty for codes without a registered one).
pub fn reason(status: u16) -> &'static [u8] {
    match status {
        100 => b"Continue",
        101 => b"Switching Protocols",
        200 => b"OK",
        201 => b"Created",
        202 => b"Accepted",
        204 => b"No Content",
        206 => b"Partial Content",
        301 => b"Moved Permanently",
        302 => b"Found",
        303 => b"See Other",
        304 => b"Not Modified",
        307 => b"Temporary Redirect",
        308 => b"Permanent Redirect",
        400 => b"Bad Request",
        401 => b"Unauthorized",
        403 => b"Forbidden",
        404 => b"Not Found",
        405 => b"Method Not Allowed",
        408 => b"Request Timeout",
        409 => b"Conflict",
        411 => b"Length Required",
        413 => b"Content Too Large",
        414 => b"URI Too Long",
        415 => b"Unsupported Media Type",
        422 => b"Unprocessable Content",
        429 => b"Too Many Requests",
        431 => b"Request Header Fields Too Large",
        500 => b"Internal Server Error",
        501 => b"Not Implemented",
        502 => b"Bad Gateway",
        503 => b"Service Unavailable",
        504 => b"Gateway Timeout",
        505 => b"HTTP Version Not Supported",
        _ => b"",
    }
}

/// Appends `n` in decimal.
pub fn push_decimal(out: &mut Vec<u8>, n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut n = n;
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// A chunk's size line for `n` bytes (`{n:x}\r\n`), in `buf`; returns its length.
pub fn chunk_header(n: usize, buf: &mut [u8; 18]) -> usize {
    let mut digits = [0u8; 16];
    let mut at = digits.len();
    let mut n = n;
    loop {
        at -= 1;
        digits[at] = b"0123456789abcdef"[n % 16];
        n /= 16;
        if n == 0 {
            break;
        }
    }
    let len = digits.len() - at;
    buf[..len].copy_from_slice(&digits[at..]);
    buf[len..len + 2].copy_from_slice(b"\r\n");
    len + 2
}

/// Fields the server frames itself and so drops from a guest's response (RFC 9110
/// 7.6.1's connection-specific fields, and the framing ones).
pub fn is_hop_by_hop(name: &[u8]) -> bool {
    [
        &b"connection"[..],
        b"keep-alive",
        b"proxy-connection",
        b"transfer-encoding",
        b"upgrade",
        b"te",
    ]
    .iter()
    .any(|hop| name.eq_ignore_ascii_case(hop))
}

/// Appends a response head: the status line, the guest's `fields` (except hop-by-hop
/// ones), the framing fields, and `Connection: close` when the connection ends.
/// `length` is the guest's `Content-Length`, if it gave one; otherwise the body is
/// chunked (or empty, for a response that may have none).
pub fn write_response_head<'a>(
    out: &mut Vec<u8>,
    status: u16,
    fields: impl Iterator<Item = (&'a [u8], &'a [u8])>,
    framing: Framing,
    bodiless: bool,
    keep_alive: bool,
) {
    out.extend_from_slice(b"HTTP/1.1 ");
    push_decimal(out, u64::from(status));
    out.push(b' ');
    out.extend_from_slice(reason(status));
    out.extend_from_slice(b"\r\n");
    for (name, value) in fields {
        if is_hop_by_hop(name) || name.eq_ignore_ascii_case(b"content-length") {
            continue;
        }
        out.extend_from_slice(name);
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    if !bodiless {
        match framing {
            Framing::Length(n) => {
                out.extend_from_slice(b"content-length: ");
                push_decimal(out, n);
                out.extend_from_slice(b"\r\n");
            }
            Framing::Chunked => out.extend_from_slice(b"transfer-encoding: chunked\r\n"),
        }
    }
    if !keep_alive {
        out.extend_from_slice(b"connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// A whole response with a short text body, for what the server answers itself
/// (malformed requests, a handler that failed).
pub fn write_plain_response(out: &mut Vec<u8>, status: u16, body: &[u8], keep_alive: bool) {
    let fields = [(&b"content-type"[..], &b"text/plain"[..])];
    write_response_head(
        out,
        status,
        fields.iter().copied(),
        Framing::Length(body.len() as u64),
        false,
        keep_alive,
    );
    out.extend_from_slice(body);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(buf: &[u8], range: (usize, usize)) -> &[u8] {
        &buf[range.0..range.1]
    }

    #[test]
    fn a_request_head_parses_with_fields_and_framing() {
        let buf =
            b"POST /echo?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length:  12 \r\nX-A: b c\r\n\r\nhello";
        let head = parse_request_head(buf).unwrap().unwrap();
        assert_eq!(text(buf, head.method), b"POST");
        assert_eq!(text(buf, head.target), b"/echo?x=1");
        assert_eq!(head.framing, Framing::Length(12));
        assert!(head.keep_alive);
        assert_eq!(head.fields.len(), 3);
        assert_eq!(text(buf, head.fields[1].1), b"12");
        assert_eq!(text(buf, head.fields[2].1), b"b c");
        assert_eq!(&buf[head.len..], b"hello");
    }

    #[test]
    fn incomplete_heads_wait_and_bad_ones_are_refused() {
        assert_eq!(
            parse_request_head(b"GET / HTTP/1.1\r\nHost: a\r\n"),
            Ok(None)
        );
        let refused = |buf: &[u8]| parse_request_head(buf).unwrap_err();
        assert_eq!(refused(b"GET / HTTP/1.1\r\n\r\n"), HeadError::BadRequest);
        assert_eq!(
            refused(b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n"),
            HeadError::BadRequest
        );
        assert_eq!(
            refused(b"GET / HTTP/2.0\r\nHost: a\r\n\r\n"),
            HeadError::Version
        );
        assert_eq!(
            refused(b"GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n"),
            HeadError::BadRequest
        );
        assert_eq!(
            refused(b"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n"),
            HeadError::NotImplemented
        );
        assert_eq!(
            refused(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"),
            HeadError::BadRequest
        );
        assert_eq!(
            refused(
                b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n"
            ),
            HeadError::BadRequest
        );
        let mut long = b"GET / HTTP/1.1\r\nHost: a\r\nX: ".to_vec();
        long.resize(MAX_HEAD + 10, b'a');
        assert_eq!(refused(&long), HeadError::TooLarge);
    }

    #[test]
    fn connection_options_decide_keep_alive() {
        let head = |buf: &[u8]| parse_request_head(buf).unwrap().unwrap();
        assert!(!head(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").keep_alive);
        assert!(!head(b"GET / HTTP/1.0\r\n\r\n").keep_alive);
        assert!(head(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keep_alive);
    }

    #[test]
    fn chunked_bodies_decode_across_any_split() {
        let body = b"4\r\nWiki\r\n5;ext=1\r\npedia\r\n0\r\nX-T: 1\r\n\r\nNEXT";
        for split in 0..body.len() {
            let mut decoder = Chunked::Size;
            let mut data = Vec::new();
            let mut pending = Vec::new();
            for part in [&body[..split], &body[split..]] {
                pending.extend_from_slice(part);
                loop {
                    if decoder == Chunked::Done {
                        break;
                    }
                    match decoder.step(&pending) {
                        Step::Framing(n) => {
                            pending.drain(..n);
                        }
                        Step::Data(n) => {
                            data.extend(pending.drain(..n));
                        }
                        Step::More => break,
                        Step::Invalid => panic!("invalid at split {split}"),
                    }
                }
            }
            assert_eq!(decoder, Chunked::Done, "split {split}");
            assert_eq!(data, b"Wikipedia");
            assert_eq!(pending, b"NEXT");
        }
        assert_eq!(Chunked::Size.step(b"zz\r\n"), Step::Invalid);
        assert_eq!(Chunked::DataEnd.step(b"xx"), Step::Invalid);
    }

    #[test]
    fn response_heads_parse_past_interim_ones() {
        let buf =
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\nX: y\r\n\r\nabc";
        let head = parse_response_head(buf, false).unwrap().unwrap();
        assert_eq!(head.status, 200);
        assert_eq!(head.framing, ResponseFraming::Framed(Framing::Length(3)));
        assert_eq!(&buf[head.len..], b"abc");
        assert_eq!(text(buf, head.fields[1].0), b"X");
        assert_eq!(text(buf, head.fields[1].1), b"y");
        let buf = b"HTTP/1.1 200 OK\r\n\r\n";
        let head = parse_response_head(buf, false).unwrap().unwrap();
        assert_eq!(head.framing, ResponseFraming::UntilClose);
        let head = parse_response_head(buf, true).unwrap().unwrap();
        assert_eq!(head.framing, ResponseFraming::Framed(Framing::Length(0)));
        assert_eq!(parse_response_head(b"HTTP/1.1 200 OK\r\n", false), Ok(None));
        assert!(parse_response_head(b"SPDY 200 OK\r\n\r\n", false).is_err());
        let mut out = Vec::new();
        let fields = [(&b"host"[..], &b"evil"[..]), (b"x-a", b"1")];
        write_request_head(
            &mut out,
            b"POST",
            b"/e",
            b"h:1",
            fields.into_iter(),
            Some(Framing::Chunked),
        );
        assert_eq!(
            out,
            b"POST /e HTTP/1.1\r\nhost: h:1\r\nx-a: 1\r\ntransfer-encoding: chunked\r\n\r\n"
        );
    }

    #[test]
    fn response_heads_frame_the_body_and_drop_hop_by_hop_fields() {
        let mut out = Vec::new();
        let fields = [
            (&b"content-type"[..], &b"text/plain"[..]),
            (b"transfer-encoding", b"gzip"),
            (b"content-length", b"5"),
        ];
        write_response_head(
            &mut out,
            200,
            fields.into_iter(),
            Framing::Length(5),
            false,
            true,
        );
        assert_eq!(
            out,
            b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 5\r\n\r\n"
        );
        out.clear();
        write_response_head(
            &mut out,
            404,
            [].into_iter(),
            Framing::Chunked,
            false,
            false,
        );
        assert_eq!(
            out,
            b"HTTP/1.1 404 Not Found\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n"
        );
        let mut header = [0u8; 18];
        let n = chunk_header(0x4000, &mut header);
        assert_eq!(&header[..n], b"4000\r\n");
    }
}
