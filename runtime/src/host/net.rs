//! Sockets, deny by default: the network grants and the socket operations every ABI
//! shares, each checked against them.
//!
//! What the grants allow:
//! - `Listen(ADDR)`: binding to exactly ADDR and listening there (a grant's port 0 stands
//!   for any port of that address);
//! - `Connect(ADDR)`: connecting (TCP) or sending (UDP) to exactly ADDR, and binding to
//!   an unspecified address with port 0 first, as a client does (the platform then picks
//!   the port; a socket bound so may not listen);
//! - `InheritNetwork`: every address, and name lookup.
//!
//! Without any of them no socket can even be created (`EACCES`), which is also what a
//! platform without a network (a board, where the build refuses these grants) answers.

use wafer_abi::grants::{Grant, ListenAddr};

use super::descriptor::{Access, Descriptor, Kind};
use super::grants::grants;
use super::rights::SOCKET_RIGHTS;
use crate::errno::{Errno, Result};
use crate::sys::{Current, IoVec, Platform, SocketAddr, SocketOption};

/// What a bind was allowed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// A listen grant (or the whole network): the socket may listen.
    Server,
    /// A client's ephemeral bind: it may only connect or send where it is granted.
    Client,
}

/// The length of the address bytes of `addr`'s family.
fn ip_len(ipv6: bool) -> usize {
    if ipv6 { 16 } else { 4 }
}

/// Whether `addr` is the unspecified address of its family (`0.0.0.0`, `::`).
pub fn is_unspecified(addr: &SocketAddr) -> bool {
    addr.ip.iter().take(ip_len(addr.ipv6)).all(|&b| b == 0)
}

/// Whether `grant` names `addr` (a grant's port 0: any port).
fn grant_names(grant: &ListenAddr, addr: &SocketAddr) -> bool {
    let len = ip_len(addr.ipv6);
    grant.ipv6 == addr.ipv6
        && grant.ip.get(..len) == addr.ip.get(..len)
        && (grant.port == addr.port || grant.port == 0)
}

/// Whether any network grant exists.
pub fn network_granted() -> bool {
    grants().any(|grant| {
        matches!(
            grant,
            Grant::Listen(_) | Grant::Connect(_) | Grant::InheritNetwork
        )
    })
}

/// Whether the whole network is granted (and with it name lookup).
pub fn whole_network() -> bool {
    grants().any(|grant| grant == Grant::InheritNetwork)
}

/// What a bind to `addr` is allowed as, or `EACCES`.
pub fn check_bind(addr: &SocketAddr) -> Result<Bound> {
    bind_allowed(grants(), addr)
}

/// [`check_bind`] against `grants`.
fn bind_allowed<'a>(grants: impl Iterator<Item = Grant<'a>>, addr: &SocketAddr) -> Result<Bound> {
    let mut may_connect = false;
    for grant in grants {
        match grant {
            Grant::InheritNetwork => return Ok(Bound::Server),
            Grant::Listen(granted) if grant_names(&granted, addr) => return Ok(Bound::Server),
            Grant::Connect(_) => may_connect = true,
            _ => {}
        }
    }
    if may_connect && addr.port == 0 && is_unspecified(addr) {
        return Ok(Bound::Client);
    }
    Err(Errno::ACCES)
}

/// `Ok` if connecting or sending to `addr` is granted, else `EACCES`.
pub fn check_connect(addr: &SocketAddr) -> Result {
    connect_allowed(grants(), addr)
}

/// [`check_connect`] against `grants`.
fn connect_allowed<'a>(mut grants: impl Iterator<Item = Grant<'a>>, addr: &SocketAddr) -> Result {
    let allowed = grants.any(|grant| match grant {
        Grant::InheritNetwork => true,
        Grant::Connect(granted) => grant_names(&granted, addr),
        _ => false,
    });
    if allowed { Ok(()) } else { Err(Errno::ACCES) }
}

impl Descriptor {
    /// A new TCP (`datagram`: UDP) socket, non-blocking; `EACCES` without any network
    /// grant.
    pub fn socket(ipv6: bool, datagram: bool) -> Result<Descriptor> {
        if !network_granted() {
            return Err(Errno::ACCES);
        }
        let handle = Current::socket(ipv6, datagram)?;
        Ok(Descriptor {
            handle,
            kind: Kind::Socket { listening: false },
            access: Access::READ_WRITE,
            read_only: false,
            rights_base: SOCKET_RIGHTS,
            rights_inheriting: SOCKET_RIGHTS,
        })
    }

    /// Binds the socket to `addr`, as the grants allow.
    pub fn bind(self, addr: &SocketAddr) -> Result<Bound> {
        let (desc, _) = self.check_socket()?;
        let bound = check_bind(addr)?;
        Current::bind(desc.handle, addr)?;
        Ok(bound)
    }

    /// Makes a socket bound as a [`Bound::Server`] listen; returns it as a listener.
    pub fn listen(self, bound: Bound, backlog: u32) -> Result<Descriptor> {
        let (desc, _) = self.check_socket()?;
        if bound != Bound::Server {
            return Err(Errno::ACCES);
        }
        Current::listen_on(desc.handle, backlog)?;
        Ok(Descriptor {
            kind: Kind::Socket { listening: true },
            ..desc
        })
    }

    /// Connects to `addr` (`EINPROGRESS` while a TCP connection is under way), as the
    /// grants allow; `None` dissolves a UDP socket's association.
    pub fn connect(self, addr: Option<&SocketAddr>) -> Result {
        let (desc, _) = self.check_socket()?;
        if let Some(addr) = addr {
            check_connect(addr)?;
        }
        Current::connect(desc.handle, addr)
    }

    /// The socket's own address (`peer`: its peer's).
    pub fn socket_address(self, peer: bool) -> Result<SocketAddr> {
        let (desc, _) = self.check_socket()?;
        Current::socket_address(desc.handle, peer)
    }

    /// A socket option (`ipv6`: the socket's family).
    pub fn socket_option(self, option: SocketOption, ipv6: bool) -> Result<i32> {
        let (desc, _) = self.check_socket()?;
        Current::socket_option(desc.handle, option, ipv6)
    }

    /// Sets a socket option.
    pub fn set_socket_option(self, option: SocketOption, ipv6: bool, value: i32) -> Result {
        let (desc, _) = self.check_socket()?;
        Current::set_socket_option(desc.handle, option, ipv6, value)
    }

    /// The socket's pending error (how a connection failed), if any.
    pub fn socket_error(self) -> Result<Option<Errno>> {
        let (desc, _) = self.check_socket()?;
        Current::socket_error(desc.handle)
    }

    /// Sends one datagram to `to` (as the grants allow) or to the connected peer.
    ///
    /// # Safety
    /// As [`Descriptor::write`].
    pub unsafe fn send_to(self, bufs: &[IoVec], to: Option<&SocketAddr>) -> Result<usize> {
        let desc = self.check_send()?;
        if let Some(to) = to {
            check_connect(to)?;
        }
        // SAFETY: forwarded from the caller.
        unsafe { Current::send_to(desc.handle, bufs, to) }
    }

    /// Receives one datagram, with its sender.
    ///
    /// # Safety
    /// As [`Descriptor::read`].
    pub unsafe fn recv_from(self, bufs: &[IoVec]) -> Result<(usize, SocketAddr)> {
        let desc = self.check_recv()?;
        // SAFETY: forwarded from the caller.
        unsafe { Current::recv_from(desc.handle, bufs) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(ip: [u8; 4], port: u16) -> SocketAddr {
        let mut addr = SocketAddr {
            port,
            ..SocketAddr::default()
        };
        addr.ip[..4].copy_from_slice(&ip);
        addr
    }

    #[test]
    fn grants_name_exact_addresses_and_port_zero_any_port() {
        let mut ip = [0u8; 16];
        ip[..4].copy_from_slice(&[127, 0, 0, 1]);
        let grant = ListenAddr {
            ipv6: false,
            ip,
            port: 8080,
        };
        assert!(grant_names(&grant, &v4([127, 0, 0, 1], 8080)));
        assert!(!grant_names(&grant, &v4([127, 0, 0, 1], 8081)));
        assert!(!grant_names(&grant, &v4([127, 0, 0, 2], 8080)));
        let mut v6 = v4([127, 0, 0, 1], 8080);
        v6.ipv6 = true;
        assert!(!grant_names(&grant, &v6));
        let any_port = ListenAddr { port: 0, ..grant };
        assert!(grant_names(&any_port, &v4([127, 0, 0, 1], 1234)));
        assert!(is_unspecified(&v4([0, 0, 0, 0], 0)));
        assert!(!is_unspecified(&v4([0, 0, 0, 1], 0)));
    }

    fn grant(ip: [u8; 4], port: u16) -> ListenAddr {
        let mut bytes = [0u8; 16];
        bytes[..4].copy_from_slice(&ip);
        ListenAddr {
            ipv6: false,
            ip: bytes,
            port,
        }
    }

    #[test]
    fn binds_and_connects_as_the_grants_allow() {
        let listen = [Grant::Listen(grant([127, 0, 0, 1], 8080))];
        let connect = [Grant::Connect(grant([10, 0, 0, 5], 5432))];
        let all = [Grant::InheritNetwork];
        let bind = |grants: &[Grant<'static>], addr| bind_allowed(grants.iter().copied(), &addr);
        let conn = |grants: &[Grant<'static>], addr| connect_allowed(grants.iter().copied(), &addr);
        // Nothing granted: nothing at all.
        assert_eq!(bind(&[], v4([0, 0, 0, 0], 0)), Err(Errno::ACCES));
        assert_eq!(conn(&[], v4([10, 0, 0, 5], 5432)), Err(Errno::ACCES));
        // A listen grant: exactly its address, as a server; no connecting.
        assert_eq!(bind(&listen, v4([127, 0, 0, 1], 8080)), Ok(Bound::Server));
        assert_eq!(bind(&listen, v4([127, 0, 0, 1], 8081)), Err(Errno::ACCES));
        assert_eq!(bind(&listen, v4([0, 0, 0, 0], 0)), Err(Errno::ACCES));
        assert_eq!(conn(&listen, v4([127, 0, 0, 1], 8080)), Err(Errno::ACCES));
        // A connect grant: exactly its address, and a client's ephemeral bind.
        assert_eq!(conn(&connect, v4([10, 0, 0, 5], 5432)), Ok(()));
        assert_eq!(conn(&connect, v4([10, 0, 0, 5], 5433)), Err(Errno::ACCES));
        assert_eq!(bind(&connect, v4([0, 0, 0, 0], 0)), Ok(Bound::Client));
        assert_eq!(bind(&connect, v4([0, 0, 0, 0], 80)), Err(Errno::ACCES));
        assert_eq!(bind(&connect, v4([127, 0, 0, 1], 0)), Err(Errno::ACCES));
        // The whole network.
        assert_eq!(bind(&all, v4([0, 0, 0, 0], 80)), Ok(Bound::Server));
        assert_eq!(conn(&all, v4([192, 0, 2, 1], 1)), Ok(()));
    }
}
