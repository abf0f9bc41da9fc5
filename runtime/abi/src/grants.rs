//! Capability grants stored in an image.
//!
//! An image may touch only what its build granted. The grants are a list of records, read
//! by the runtime at start-up and printed by `wafer inspect`:
//!
//! ```text
//! magic "WGNT" | version
//! records: kind (u32) | payload length (u32) | payload
//! ```
//!
//! Unknown record kinds are an error for the runtime (an image from a newer wafer), so a
//! grant is never silently dropped.

use crate::bytes::Reader;

const MAGIC: u32 = u32::from_le_bytes(*b"WGNT");
const VERSION: u32 = 1;

/// An IP address and port (a `Listen` or `Connect` grant): IPv4 or IPv6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListenAddr {
    /// Whether `ip` is IPv6 (all 16 bytes) or IPv4 (the first 4).
    pub ipv6: bool,
    /// The address in network byte order.
    pub ip: [u8; 16],
    /// The port.
    pub port: u16,
}

const LISTEN_PAYLOAD_LEN: usize = 20;

impl ListenAddr {
    #[cfg(feature = "alloc")]
    fn encode(&self) -> [u8; LISTEN_PAYLOAD_LEN] {
        let mut out = [0u8; LISTEN_PAYLOAD_LEN];
        out[0] = if self.ipv6 { 6 } else { 4 };
        out[2..4].copy_from_slice(&self.port.to_le_bytes());
        out[4..].copy_from_slice(&self.ip);
        out
    }

    fn decode(bytes: &[u8]) -> Option<ListenAddr> {
        if bytes.len() != LISTEN_PAYLOAD_LEN {
            return None;
        }
        let ipv6 = match bytes.first()? {
            4 => false,
            6 => true,
            _ => return None,
        };
        let ip: [u8; 16] = bytes.get(4..)?.try_into().ok()?;
        let port: [u8; 2] = bytes.get(2..4)?.try_into().ok()?;
        Some(ListenAddr {
            ipv6,
            ip,
            port: u16::from_le_bytes(port),
        })
    }
}

/// One grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant<'a> {
    /// An environment variable with a fixed value: the payload is `KEY=VALUE`.
    Env(&'a [u8]),
    /// An environment variable whose value is read from the host at run time: `KEY`.
    InheritEnvVar(&'a [u8]),
    /// The guest sees the whole host environment (explicit `Env` grants override it).
    InheritEnv,
    /// A host directory the guest sees as a preopen named `guest`.
    Preopen {
        /// The host path, opened when the image starts (relative to its working
        /// directory).
        host: &'a [u8],
        /// The name the guest sees.
        guest: &'a [u8],
        /// Nothing in it may be created, changed or removed.
        read_only: bool,
    },
    /// An address the guest may listen on: a core module (preview1) gets a socket
    /// listening there for `sock_accept`; a component may bind and listen to exactly it
    /// (TCP), or bind to it (UDP).
    Listen(ListenAddr),
    /// An address a component may connect to (TCP) or send to (UDP).
    Connect(ListenAddr),
    /// The host's network as a whole: any address to bind, listen, connect or send to,
    /// and name lookup (wasmtime's `-S inherit-network`).
    InheritNetwork,
    /// A command-line argument fixed at build time, for platforms without a command
    /// line (boards); the first one is the program's name.
    Arg(&'a [u8]),
    /// A GPIO pin the guest may drive and read.
    Gpio(u32),
}

#[cfg(feature = "alloc")]
impl Grant<'_> {
    fn kind(&self) -> u32 {
        match self {
            Grant::Env(_) => 1,
            Grant::InheritEnvVar(_) => 2,
            Grant::InheritEnv => 3,
            Grant::Preopen { .. } => 4,
            Grant::Listen(_) => 5,
            Grant::Arg(_) => 6,
            Grant::Gpio(_) => 7,
            Grant::Connect(_) => 8,
            Grant::InheritNetwork => 9,
        }
    }

    fn payload(&self) -> alloc::vec::Vec<u8> {
        match self {
            Grant::Env(bytes) | Grant::InheritEnvVar(bytes) | Grant::Arg(bytes) => bytes.to_vec(),
            Grant::Gpio(pin) => pin.to_le_bytes().to_vec(),
            Grant::InheritEnv | Grant::InheritNetwork => alloc::vec::Vec::new(),
            Grant::Preopen {
                host,
                guest,
                read_only,
            } => {
                let mut out = alloc::vec::Vec::new();
                crate::bytes::push_u32(&mut out, u32::from(*read_only));
                crate::bytes::push_u32(&mut out, host.len() as u32);
                out.extend_from_slice(host);
                out.extend_from_slice(guest);
                out
            }
            Grant::Listen(addr) | Grant::Connect(addr) => addr.encode().to_vec(),
        }
    }
}

/// Why grants could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantsError {
    /// Not a grants blob, or a truncated one.
    Malformed,
    /// A record kind this runtime does not know.
    UnknownKind(u32),
}

/// Iterates over the grants in `bytes`, validating the header first.
pub fn parse(bytes: &[u8]) -> Result<GrantIter<'_>, GrantsError> {
    let mut reader = Reader::new(bytes);
    if reader.u32() != Some(MAGIC) || reader.u32() != Some(VERSION) {
        return Err(GrantsError::Malformed);
    }
    Ok(GrantIter { reader })
}

/// Iterator over the records of a grants blob.
#[derive(Clone)]
pub struct GrantIter<'a> {
    reader: Reader<'a>,
}

impl<'a> Iterator for GrantIter<'a> {
    type Item = Result<Grant<'a>, GrantsError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.reader.is_empty() {
            return None;
        }
        let record = (|| {
            let kind = self.reader.u32().ok_or(GrantsError::Malformed)?;
            let len = self.reader.u32().ok_or(GrantsError::Malformed)? as usize;
            let payload = self.reader.take(len).ok_or(GrantsError::Malformed)?;
            match kind {
                1 => Ok(Grant::Env(payload)),
                2 => Ok(Grant::InheritEnvVar(payload)),
                3 => Ok(Grant::InheritEnv),
                4 => {
                    let mut fields = Reader::new(payload);
                    let flags = fields.u32().ok_or(GrantsError::Malformed)?;
                    let host_len = fields.u32().ok_or(GrantsError::Malformed)? as usize;
                    let host = fields.take(host_len).ok_or(GrantsError::Malformed)?;
                    let guest = payload.get(8 + host_len..).ok_or(GrantsError::Malformed)?;
                    Ok(Grant::Preopen {
                        host,
                        guest,
                        read_only: flags & 1 != 0,
                    })
                }
                // One decode for both address kinds: it is the largest piece of this
                // function, which every image carries.
                5 | 8 => {
                    let addr = ListenAddr::decode(payload).ok_or(GrantsError::Malformed)?;
                    Ok(if kind == 5 {
                        Grant::Listen(addr)
                    } else {
                        Grant::Connect(addr)
                    })
                }
                6 => Ok(Grant::Arg(payload)),
                7 => payload
                    .try_into()
                    .map(|pin| Grant::Gpio(u32::from_le_bytes(pin)))
                    .map_err(|_| GrantsError::Malformed),
                9 => Ok(Grant::InheritNetwork),
                other => Err(GrantsError::UnknownKind(other)),
            }
        })();
        if record.is_err() {
            // Stop after the first error: the rest cannot be framed reliably.
            self.reader = Reader::new(&[]);
        }
        Some(record)
    }
}

/// Encodes `grants` in the format [`parse`] reads.
#[cfg(feature = "alloc")]
pub fn encode(grants: &[Grant<'_>]) -> alloc::vec::Vec<u8> {
    use crate::bytes::push_u32;
    let mut out = alloc::vec::Vec::new();
    push_u32(&mut out, MAGIC);
    push_u32(&mut out, VERSION);
    for grant in grants {
        let payload = grant.payload();
        push_u32(&mut out, grant.kind());
        push_u32(&mut out, payload.len() as u32);
        out.extend_from_slice(&payload);
    }
    out
}

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn grants_round_trip() {
        let grants = [
            Grant::Env(b"HOME=/"),
            Grant::InheritEnvVar(b"TERM"),
            Grant::InheritEnv,
            Grant::Preopen {
                host: b"/srv/data",
                guest: b"/data",
                read_only: true,
            },
            Grant::Preopen {
                host: b".",
                guest: b".",
                read_only: false,
            },
            Grant::Listen(ListenAddr {
                ipv6: false,
                ip: [127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
                port: 8080,
            }),
            Grant::Arg(b"app"),
            Grant::Arg(b""),
            Grant::Gpio(3),
            Grant::Connect(ListenAddr {
                ipv6: true,
                ip: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
                port: 53,
            }),
            Grant::InheritNetwork,
        ];
        let bytes = encode(&grants);
        let decoded: Vec<_> = parse(&bytes).unwrap().map(Result::unwrap).collect();
        assert_eq!(decoded, grants);
    }

    #[test]
    fn truncated_and_unknown_records_are_errors() {
        let mut bytes = encode(&[Grant::Env(b"A=1")]);
        bytes.pop();
        assert_eq!(
            parse(&bytes).unwrap().next(),
            Some(Err(GrantsError::Malformed))
        );
        let mut bytes = encode(&[]);
        bytes.extend_from_slice(&[99, 0, 0, 0, 0, 0, 0, 0]);
        let mut iter = parse(&bytes).unwrap();
        assert_eq!(iter.next(), Some(Err(GrantsError::UnknownKind(99))));
        assert_eq!(iter.next(), None);
        assert!(parse(b"nope").is_err());
    }
}
