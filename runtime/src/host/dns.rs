//! Name lookup without a C library: IP literals, then `/etc/hosts`, then one DNS query
//! per address family over UDP to the first `nameserver` of `/etc/resolv.conf`.
//!
//! Deliberately small: no search domains (names are taken as absolute), no TCP fallback
//! for truncated answers (the addresses of one name fit a UDP answer), no caching. The
//! parsers and the DNS message code are plain functions over bytes, tested here; only
//! [`start`], [`Lookup`] and [`resolve`] touch the platform.

use crate::errno::Errno;
use crate::sys::{Current, Interest, IoVec, OpenOptions, Platform, PollFd, SocketAddr};

/// The most addresses one lookup returns.
pub const MAX_ADDRESSES: usize = 8;

/// An IP address: IPv6 (16 bytes) or IPv4 (the first 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IpAddr {
    /// IPv6.
    pub ipv6: bool,
    /// The address in network byte order.
    pub bytes: [u8; 16],
}

/// The addresses a lookup found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Addresses {
    /// The first `len` are found.
    pub list: [IpAddr; MAX_ADDRESSES],
    /// How many.
    pub len: u8,
}

impl Addresses {
    fn push(&mut self, addr: IpAddr) {
        if self.as_slice().contains(&addr) {
            return;
        }
        if let Some(slot) = self.list.get_mut(self.len as usize) {
            *slot = addr;
            self.len += 1;
        }
    }

    /// The addresses found.
    pub fn as_slice(&self) -> &[IpAddr] {
        self.list.get(..self.len as usize).unwrap_or_default()
    }
}

/// Why a lookup failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookupError {
    /// Not a name or an address.
    InvalidName,
    /// No address has that name.
    Unresolvable,
    /// The resolver did not answer (in time).
    Temporary,
}

/// An IPv4 address in dotted decimal.
pub fn parse_ipv4(text: &[u8]) -> Option<[u8; 4]> {
    let mut out = [0u8; 4];
    let mut parts = text.split(|&b| b == b'.');
    for byte in out.iter_mut() {
        let part = parts.next()?;
        if part.is_empty() || part.len() > 3 || !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let value = part.iter().fold(0u32, |v, &d| v * 10 + u32::from(d - b'0'));
        *byte = u8::try_from(value).ok()?;
    }
    parts.next().is_none().then_some(out)
}

/// An IPv6 address in RFC 4291 text (`::` compression, an IPv4 tail), without brackets.
pub fn parse_ipv6(text: &[u8]) -> Option<[u8; 16]> {
    fn groups(text: &[u8], out: &mut [u16; 8]) -> Option<usize> {
        if text.is_empty() {
            return Some(0);
        }
        let mut n = 0;
        let parts: &mut dyn Iterator<Item = &[u8]> = &mut text.split(|&b| b == b':');
        let mut parts = parts.peekable();
        while let Some(part) = parts.next() {
            if parts.peek().is_none() && part.contains(&b'.') {
                let v4 = parse_ipv4(part)?;
                *out.get_mut(n)? = u16::from_be_bytes([v4[0], v4[1]]);
                *out.get_mut(n + 1)? = u16::from_be_bytes([v4[2], v4[3]]);
                return Some(n + 2);
            }
            if part.is_empty() || part.len() > 4 || !part.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            let value = part.iter().fold(0u16, |v, &d| {
                v << 4 | (d as char).to_digit(16).unwrap_or_default() as u16
            });
            *out.get_mut(n)? = value;
            n += 1;
        }
        Some(n)
    }
    let mut head = [0u16; 8];
    let mut tail = [0u16; 8];
    let (head_len, tail_len) = match text.windows(2).position(|w| w == b"::") {
        Some(at) => {
            let (before, after) = (text.get(..at)?, text.get(at + 2..)?);
            let h = groups(before, &mut head)?;
            let t = groups(after, &mut tail)?;
            if h + t > 7 {
                return None;
            }
            (h, t)
        }
        None => {
            let h = groups(text, &mut head)?;
            if h != 8 {
                return None;
            }
            (h, 0)
        }
    };
    let mut words = [0u16; 8];
    words
        .get_mut(..head_len)?
        .copy_from_slice(head.get(..head_len)?);
    words
        .get_mut(8 - tail_len..)?
        .copy_from_slice(tail.get(..tail_len)?);
    let mut out = [0u8; 16];
    for (pair, word) in out.chunks_exact_mut(2).zip(words) {
        pair.copy_from_slice(&word.to_be_bytes());
    }
    Some(out)
}

/// An IP literal: dotted IPv4, or IPv6 with or without brackets.
pub fn parse_ip(text: &[u8]) -> Option<IpAddr> {
    if let Some(v4) = parse_ipv4(text) {
        let mut bytes = [0u8; 16];
        bytes[..4].copy_from_slice(&v4);
        return Some(IpAddr { ipv6: false, bytes });
    }
    let inner = text
        .strip_prefix(b"[")
        .and_then(|t| t.strip_suffix(b"]"))
        .unwrap_or(text);
    parse_ipv6(inner).map(|bytes| IpAddr { ipv6: true, bytes })
}

/// Whether `name` is a host name DNS can carry: ASCII labels of letters, digits, `-`
/// and `_`, each 1 to 63 bytes, 253 in all (a trailing dot allowed).
pub fn is_valid_name(name: &[u8]) -> bool {
    let name = name.strip_suffix(b".").unwrap_or(name);
    !name.is_empty()
        && name.len() <= 253
        && name.split(|&b| b == b'.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .iter()
                    .all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// The addresses `/etc/hosts` (its text) gives `name`.
pub fn hosts_lookup(hosts: &[u8], name: &[u8], found: &mut Addresses) {
    let name = name.strip_suffix(b".").unwrap_or(name);
    for line in hosts.split(|&b| b == b'\n') {
        let line = line.split(|&b| b == b'#').next().unwrap_or_default();
        let mut fields = line
            .split(|b| b.is_ascii_whitespace())
            .filter(|field| !field.is_empty());
        let Some(addr) = fields.next().and_then(parse_ip) else {
            continue;
        };
        if fields.any(|alias| alias.eq_ignore_ascii_case(name)) {
            found.push(addr);
        }
    }
}

/// The first `nameserver` of `/etc/resolv.conf` (its text); 127.0.0.1 without one, as
/// the C libraries do.
pub fn nameserver(resolv_conf: &[u8]) -> IpAddr {
    for line in resolv_conf.split(|&b| b == b'\n') {
        let mut fields = line
            .split(|b| b.is_ascii_whitespace())
            .filter(|field| !field.is_empty());
        if fields.next() == Some(b"nameserver")
            && let Some(addr) = fields.next().and_then(parse_ip)
        {
            return addr;
        }
    }
    let mut bytes = [0u8; 16];
    bytes[..4].copy_from_slice(&[127, 0, 0, 1]);
    IpAddr { ipv6: false, bytes }
}

/// DNS record types.
const TYPE_A: u16 = 1;
const TYPE_AAAA: u16 = 28;

/// A DNS query for `name`'s records of type `qtype`, into `out`; returns its length.
pub fn encode_query(id: u16, name: &[u8], qtype: u16, out: &mut [u8; 512]) -> Option<usize> {
    let name = name.strip_suffix(b".").unwrap_or(name);
    let header = [
        id.to_be_bytes(),
        0x0100u16.to_be_bytes(), // a standard query, recursion desired
        1u16.to_be_bytes(),      // one question
        [0, 0],
        [0, 0],
        [0, 0],
    ];
    let mut at = 0;
    let mut put = |bytes: &[u8]| -> Option<()> {
        out.get_mut(at..at + bytes.len())?.copy_from_slice(bytes);
        at += bytes.len();
        Some(())
    };
    for pair in header {
        put(&pair)?;
    }
    for label in name.split(|&b| b == b'.') {
        put(&[u8::try_from(label.len()).ok()?])?;
        put(label)?;
    }
    put(&[0])?;
    put(&qtype.to_be_bytes())?;
    put(&1u16.to_be_bytes())?; // class IN
    Some(at)
}

/// Skips a (possibly compressed) name at `at`; returns where it ends.
fn skip_name(message: &[u8], mut at: usize) -> Option<usize> {
    loop {
        let len = *message.get(at)?;
        match len {
            0 => return Some(at + 1),
            l if l & 0xc0 == 0xc0 => return Some(at + 2),
            l => at += 1 + l as usize,
        }
    }
}

/// What an answer said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Records (those of type A or AAAA were added).
    Records,
    /// The name does not exist.
    NoSuchName,
    /// The server failed, or the message is not an answer to query `id`.
    Failed,
}

/// Reads a DNS answer to query `id`, adding its A and AAAA records to `found`.
pub fn decode_answer(message: &[u8], id: u16, found: &mut Addresses) -> Answer {
    let word = |at: usize| -> Option<u16> {
        Some(u16::from_be_bytes([
            *message.get(at)?,
            *message.get(at + 1)?,
        ]))
    };
    let parsed = (|| -> Option<Answer> {
        if word(0)? != id || word(2)? & 0x8000 == 0 {
            return Some(Answer::Failed);
        }
        match word(2)? & 0x000f {
            0 => {}
            3 => return Some(Answer::NoSuchName),
            _ => return Some(Answer::Failed),
        }
        let questions = word(4)?;
        let answers = word(6)?;
        let mut at = 12;
        for _ in 0..questions {
            at = skip_name(message, at)? + 4;
        }
        for _ in 0..answers {
            at = skip_name(message, at)?;
            let (kind, class, len) = (word(at)?, word(at + 2)?, word(at + 8)? as usize);
            let data = message.get(at + 10..at + 10 + len)?;
            at += 10 + len;
            let mut bytes = [0u8; 16];
            match (kind, class, len) {
                (TYPE_A, 1, 4) => {
                    bytes[..4].copy_from_slice(data);
                    found.push(IpAddr { ipv6: false, bytes });
                }
                (TYPE_AAAA, 1, 16) => {
                    bytes.copy_from_slice(data);
                    found.push(IpAddr { ipv6: true, bytes });
                }
                _ => {}
            }
        }
        Some(Answer::Records)
    })();
    parsed.unwrap_or(Answer::Failed)
}

/// Reads up to `buf.len()` bytes of host file `name` in `/etc` (a missing file reads as
/// empty).
fn read_etc(name: &[u8], buf: &mut [u8]) -> usize {
    let Ok(etc) = Current::open_granted_dir(b"/etc") else {
        return 0;
    };
    let options = OpenOptions {
        read: true,
        follow: true,
        ..OpenOptions::default()
    };
    let file = Current::open_at(etc, name, &options);
    Current::close(etc);
    let Ok(file) = file else {
        return 0;
    };
    let mut len = 0;
    while let Some(rest) = buf.get_mut(len..).filter(|rest| !rest.is_empty()) {
        let iov = [IoVec {
            base: rest.as_mut_ptr(),
            len: rest.len(),
        }];
        // SAFETY: `rest` is writable for its length.
        match unsafe { Current::read(file, &iov) } {
            Ok(0) | Err(_) => break,
            Ok(n) => len += n,
        }
    }
    Current::close(file);
    len
}

/// How long to wait for the resolver, per try.
const TIMEOUT_NS: u64 = 2_000_000_000;

/// How many times a query is sent before the lookup gives up on its answer.
const TRIES: u8 = 2;

/// The socket and deadline of every [`Lookup`] under way: what the executor's reactor
/// waits on for them, whoever started them.
static LIVE: crate::global::Global<alloc::vec::Vec<(crate::sys::RawHandle, u64)>> =
    crate::global::Global::new(alloc::vec::Vec::new());

/// The sockets of the lookups under way (wait for them to be readable).
pub fn live_handles() -> alloc::vec::Vec<crate::sys::RawHandle> {
    LIVE.with(|live| live.iter().map(|&(handle, _)| handle).collect())
}

/// When the earliest lookup under way next gives up waiting, if one is.
pub fn next_deadline() -> Option<u64> {
    LIVE.with(|live| live.iter().map(|&(_, deadline)| deadline).min())
}

/// Whether a lookup is under way (a task waiting on it is not deadlocked).
pub fn any_live() -> bool {
    LIVE.with(|live| !live.is_empty())
}

/// One query of a [`Lookup`]: its id, message and answer.
struct Query {
    id: u16,
    message: [u8; 512],
    len: usize,
    answer: Option<Answer>,
}

/// A DNS lookup under way: the A and the AAAA query of a name, sent together to the
/// nameserver over one UDP socket and answered in either order. Nothing waits in
/// place: [`Lookup::advance`] takes the replies that came, and a caller that can do
/// nothing else waits for [`Lookup::handle`] to be readable until [`Lookup::deadline`]
/// (as [`resolve`] does); the executor's reactor watches both.
pub struct Lookup {
    socket: crate::sys::RawHandle,
    server: SocketAddr,
    queries: [Query; 2],
    tries: u8,
    deadline: u64,
    found: Addresses,
}

/// How a lookup starts: answered at once (an IP literal, `/etc/hosts`, a bad name, no
/// socket), or with queries sent.
pub enum Start {
    /// Its outcome.
    Done(core::result::Result<Addresses, LookupError>),
    /// Its queries are out.
    Pending(alloc::boxed::Box<Lookup>),
}

fn monotonic_now() -> u64 {
    crate::host::now(crate::sys::Clock::Monotonic).unwrap_or(0)
}

/// Starts looking up `name`: an IP literal is itself; else `/etc/hosts`, else DNS.
pub fn start(name: &[u8]) -> Start {
    let mut found = Addresses::default();
    if let Some(addr) = parse_ip(name) {
        found.push(addr);
        return Start::Done(Ok(found));
    }
    if !is_valid_name(name) {
        return Start::Done(Err(LookupError::InvalidName));
    }
    let mut text = [0u8; 8192];
    let len = read_etc(b"hosts", &mut text);
    hosts_lookup(text.get(..len).unwrap_or_default(), name, &mut found);
    if found.len > 0 {
        return Start::Done(Ok(found));
    }
    let len = read_etc(b"resolv.conf", &mut text);
    let server = nameserver(text.get(..len).unwrap_or_default());
    let mut queries = [TYPE_A, TYPE_AAAA].map(|qtype| {
        let mut id = [0u8; 2];
        // SAFETY: `id` is writable for 2 bytes. Without randomness the id is 0, which
        // the answer must still echo.
        let _ = unsafe { Current::random(id.as_mut_ptr(), 2) };
        let mut query = Query {
            id: u16::from_ne_bytes(id),
            message: [0; 512],
            len: 0,
            answer: None,
        };
        match encode_query(query.id, name, qtype, &mut query.message) {
            Some(len) => query.len = len,
            None => query.answer = Some(Answer::Failed),
        }
        query
    });
    // The two queries are told apart by their ids.
    if queries[0].id == queries[1].id {
        queries[1].id = queries[0].id.wrapping_add(1);
        queries[1].message[..2].copy_from_slice(&queries[1].id.to_be_bytes());
    }
    let Ok(socket) = Current::socket(server.ipv6, true) else {
        return Start::Done(Err(LookupError::Temporary));
    };
    let mut lookup = alloc::boxed::Box::new(Lookup {
        socket,
        server: SocketAddr {
            ipv6: server.ipv6,
            ip: server.bytes,
            port: 53,
            ..SocketAddr::default()
        },
        queries,
        tries: 0,
        deadline: 0,
        found,
    });
    lookup.send();
    Start::Pending(lookup)
}

impl Lookup {
    /// The socket the answers come on (wait for it to be readable).
    pub fn handle(&self) -> crate::sys::RawHandle {
        self.socket
    }

    /// When the lookup next gives up waiting (it sends again, or fails).
    pub fn deadline(&self) -> u64 {
        self.deadline
    }

    /// Sends the queries not answered yet: another try.
    fn send(&mut self) {
        self.tries += 1;
        self.deadline = monotonic_now().saturating_add(TIMEOUT_NS);
        let (socket, deadline) = (self.socket, self.deadline);
        LIVE.with(
            |live| match live.iter_mut().find(|(handle, _)| *handle == socket) {
                Some(entry) => entry.1 = deadline,
                None => live.push((socket, deadline)),
            },
        );
        for query in self.queries.iter_mut().filter(|q| q.answer.is_none()) {
            let iov = [IoVec {
                base: query.message.as_mut_ptr(),
                len: query.len,
            }];
            // SAFETY: the message is readable for `len` bytes.
            if unsafe { Current::send_to(self.socket, &iov, Some(&self.server)) }.is_err() {
                query.answer = Some(Answer::Failed);
            }
        }
    }

    /// Takes the replies that came, and sends again (or gives up) past the deadline:
    /// the lookup's outcome once it has one.
    pub fn advance(&mut self) -> Option<core::result::Result<Addresses, LookupError>> {
        loop {
            let mut fds = [PollFd {
                handle: self.socket,
                interest: Interest::Read,
                ..PollFd::default()
            }];
            match Current::poll(&mut fds, Some(0)) {
                Ok(0) => break,
                Err(Errno::INTR) => continue,
                Err(_) => break,
                Ok(_) => {}
            }
            let mut reply = [0u8; 1500];
            let iov = [IoVec {
                base: reply.as_mut_ptr(),
                len: reply.len(),
            }];
            // SAFETY: `reply` is writable for its length.
            let Ok((n, from)) = (unsafe { Current::recv_from(self.socket, &iov) }) else {
                break;
            };
            // Only the server asked may answer, and only a query of this lookup.
            let reply = reply.get(..n).unwrap_or_default();
            if from.ip != self.server.ip || from.port != 53 || reply.len() < 2 {
                continue;
            }
            let id = u16::from_be_bytes([reply[0], reply[1]]);
            if let Some(query) = self
                .queries
                .iter_mut()
                .find(|q| q.id == id && q.answer.is_none())
            {
                query.answer = Some(decode_answer(reply, id, &mut self.found));
            }
        }
        if self.queries.iter().all(|q| q.answer.is_some()) {
            return Some(self.outcome());
        }
        if monotonic_now() >= self.deadline {
            if self.tries >= TRIES {
                return Some(self.outcome());
            }
            self.send();
        }
        None
    }

    fn outcome(&self) -> core::result::Result<Addresses, LookupError> {
        let failed = |q: &Query| q.answer.is_none_or(|a| a == Answer::Failed);
        match self.found.len {
            n if n > 0 => Ok(self.found),
            _ if self.queries.iter().all(failed) => Err(LookupError::Temporary),
            _ => Err(LookupError::Unresolvable),
        }
    }
}

impl Drop for Lookup {
    fn drop(&mut self) {
        let socket = self.socket;
        LIVE.with(|live| live.retain(|&(handle, _)| handle != socket));
        Current::close(socket);
    }
}

/// The addresses of `name`, waiting in place for the resolver (for callers that have
/// nothing else to do meanwhile: WASI 0.2's lookup, the HTTP client's connect).
pub fn resolve(name: &[u8]) -> core::result::Result<Addresses, LookupError> {
    let mut lookup = match start(name) {
        Start::Done(outcome) => return outcome,
        Start::Pending(lookup) => lookup,
    };
    loop {
        if let Some(outcome) = lookup.advance() {
            return outcome;
        }
        let mut fds = [PollFd {
            handle: lookup.handle(),
            interest: Interest::Read,
            ..PollFd::default()
        }];
        let wait = lookup.deadline().saturating_sub(monotonic_now());
        let _ = Current::poll(&mut fds, Some(wait));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(a: [u8; 4]) -> IpAddr {
        let mut bytes = [0u8; 16];
        bytes[..4].copy_from_slice(&a);
        IpAddr { ipv6: false, bytes }
    }

    #[test]
    fn ip_literals() {
        assert_eq!(parse_ipv4(b"127.0.0.1"), Some([127, 0, 0, 1]));
        for bad in [
            &b"256.0.0.1"[..],
            b"1.2.3",
            b"1.2.3.4.5",
            b"a.b.c.d",
            b"",
            b"1..2.3",
        ] {
            assert_eq!(parse_ipv4(bad), None, "{bad:?}");
        }
        let loopback = parse_ipv6(b"::1").unwrap();
        assert_eq!(loopback[15], 1);
        assert!(loopback[..15].iter().all(|&b| b == 0));
        assert_eq!(parse_ipv6(b"::"), Some([0; 16]));
        let full = parse_ipv6(b"2001:db8:0:0:1:0:0:1").unwrap();
        assert_eq!(parse_ipv6(b"2001:db8::1:0:0:1"), Some(full));
        assert_eq!(&full[..4], &[0x20, 0x01, 0x0d, 0xb8]);
        let mapped = parse_ipv6(b"::ffff:10.0.0.1").unwrap();
        assert_eq!(&mapped[10..], &[0xff, 0xff, 10, 0, 0, 1]);
        for bad in [
            &b":::"[..],
            b"1::2::3",
            b"12345::",
            b"1:2:3:4:5:6:7",
            b"g::",
        ] {
            assert_eq!(parse_ipv6(bad), None, "{bad:?}");
        }
        assert_eq!(parse_ip(b"[::1]").map(|a| a.ipv6), Some(true));
        assert_eq!(parse_ip(b"10.1.2.3"), Some(v4([10, 1, 2, 3])));
    }

    #[test]
    fn names_hosts_and_resolv_conf() {
        assert!(is_valid_name(b"example.test"));
        assert!(is_valid_name(b"example.test."));
        assert!(!is_valid_name(b"bad..name"));
        assert!(!is_valid_name(b"sp ace"));
        assert!(!is_valid_name(b""));
        let hosts = b"# comment\n127.0.0.1 localhost loopback\n::1 localhost ip6-localhost\n\
                      10.0.0.5\tdb.internal db # the database\nnonsense line\n";
        let mut found = Addresses::default();
        hosts_lookup(hosts, b"LOCALHOST", &mut found);
        assert_eq!(found.len, 2);
        assert_eq!(found.list[0], v4([127, 0, 0, 1]));
        assert!(found.list[1].ipv6);
        let mut found = Addresses::default();
        hosts_lookup(hosts, b"db", &mut found);
        assert_eq!(found.as_slice(), &[v4([10, 0, 0, 5])]);
        let mut found = Addresses::default();
        hosts_lookup(hosts, b"the", &mut found);
        assert_eq!(found.len, 0);
        assert_eq!(
            nameserver(b"search x\nnameserver 192.168.1.1\nnameserver 8.8.8.8\n"),
            v4([192, 168, 1, 1])
        );
        assert_eq!(nameserver(b""), v4([127, 0, 0, 1]));
    }

    #[test]
    fn dns_messages() {
        let mut query = [0u8; 512];
        let len = encode_query(0x1234, b"example.test", TYPE_A, &mut query).unwrap();
        assert_eq!(
            &query[..len],
            b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\
              \x07example\x04test\x00\x00\x01\x00\x01"
        );
        // The answer: the question echoed, a CNAME to skip, then an A and an AAAA record
        // named by compression pointers.
        let mut answer = Vec::from(&query[..len]);
        answer[2] = 0x81;
        answer[3] = 0x80;
        answer[7] = 3;
        answer.extend_from_slice(b"\xc0\x0c\x00\x05\x00\x01\x00\x00\x00\x3c\x00\x02\xc0\x0c");
        answer
            .extend_from_slice(b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x0a\x00\x00\x07");
        answer.extend_from_slice(b"\xc0\x0c\x00\x1c\x00\x01\x00\x00\x00\x3c\x00\x10");
        answer.extend_from_slice(&[0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7]);
        let mut found = Addresses::default();
        assert_eq!(decode_answer(&answer, 0x1234, &mut found), Answer::Records);
        assert_eq!(found.len, 2);
        assert_eq!(found.list[0], v4([10, 0, 0, 7]));
        assert_eq!(found.list[1].bytes[0], 0xfd);
        // Another query's answer, a failure and a missing name.
        let mut found = Addresses::default();
        assert_eq!(decode_answer(&answer, 0x4321, &mut found), Answer::Failed);
        answer[3] = 0x83;
        assert_eq!(
            decode_answer(&answer, 0x1234, &mut found),
            Answer::NoSuchName
        );
        answer[3] = 0x82;
        assert_eq!(decode_answer(&answer, 0x1234, &mut found), Answer::Failed);
        assert_eq!(
            decode_answer(&answer[..20], 0x1234, &mut found),
            Answer::Failed
        );
        assert_eq!(found.len, 0);
    }
}
