//! Capability grants: parsed from the command line, stored in the image, described by
//! `wafer inspect`. The record format is `wafer_abi::grants`.

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;

use wafer_abi::grants::{self, Grant, ListenAddr};

/// A granted directory: `--dir HOST[::GUEST][:ro]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirGrant {
    /// The host directory, opened when the image starts.
    pub host: String,
    /// The name the guest sees (the host path when not given).
    pub guest: String,
    /// Nothing in it may be created, changed or removed.
    pub read_only: bool,
}

impl FromStr for DirGrant {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        // `:ro` (or `:rw`, the default) in any case: a typo such as `:RO` must not
        // quietly grant write access under a strange guest name.
        let suffix = text.len().checked_sub(3).and_then(|at| text.get(at..));
        let (text, read_only) = match suffix.map(str::to_ascii_lowercase).as_deref() {
            Some(":ro") => (&text[..text.len() - 3], true),
            Some(":rw") => (&text[..text.len() - 3], false),
            _ => (text, false),
        };
        let (host, guest) = match text.split_once("::") {
            Some((host, guest)) => (host, guest),
            None => (text, text),
        };
        if host.is_empty() {
            return Err(format!("`{text}` names no host directory"));
        }
        if guest.is_empty() {
            return Err(format!("`{text}` gives an empty guest name"));
        }
        if host.contains('\0') || guest.contains('\0') {
            return Err("a directory name cannot contain a NUL byte".into());
        }
        Ok(DirGrant {
            host: host.into(),
            guest: guest.into(),
            read_only,
        })
    }
}

/// An address and port: `--listen ADDR` or `--connect ADDR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListenGrant(pub SocketAddr);

impl FromStr for ListenGrant {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        text.parse()
            .map(ListenGrant)
            .map_err(|_| format!("`{text}` is not an address like 127.0.0.1:8080 or [::1]:8080"))
    }
}

impl ListenGrant {
    fn to_abi(self) -> ListenAddr {
        let mut ip = [0u8; 16];
        let ipv6 = match self.0 {
            SocketAddr::V4(addr) => {
                ip[..4].copy_from_slice(&addr.ip().octets());
                false
            }
            SocketAddr::V6(addr) => {
                ip.copy_from_slice(&addr.ip().octets());
                true
            }
        };
        ListenAddr {
            ipv6,
            ip,
            port: self.0.port(),
        }
    }
}

/// Capabilities granted to the guest. Everything else is denied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grants {
    /// `KEY=VALUE` variables, or bare `KEY` to pass the host's value through.
    pub env: Vec<String>,
    /// Pass the whole host environment through.
    pub inherit_env: bool,
    /// Preopened directories, in order.
    pub dirs: Vec<DirGrant>,
    /// Addresses to listen on, in order.
    pub listen: Vec<ListenGrant>,
    /// Addresses a component may connect or send to, in order.
    pub connect: Vec<ListenGrant>,
    /// The host's network as a whole (components).
    pub inherit_network: bool,
    /// Arguments fixed at build time (firmware images; `argv[0]` first).
    pub args: Vec<String>,
    /// GPIO pins the guest may drive and read (firmware images).
    pub gpio: Vec<u32>,
}

impl Grants {
    /// The grants in the image format.
    pub fn encode(&self) -> Vec<u8> {
        let mut records: Vec<Grant<'_>> = self
            .env
            .iter()
            .map(|entry| {
                if entry.contains('=') {
                    Grant::Env(entry.as_bytes())
                } else {
                    Grant::InheritEnvVar(entry.as_bytes())
                }
            })
            .collect();
        if self.inherit_env {
            records.push(Grant::InheritEnv);
        }
        records.extend(self.dirs.iter().map(|dir| Grant::Preopen {
            host: dir.host.as_bytes(),
            guest: dir.guest.as_bytes(),
            read_only: dir.read_only,
        }));
        records.extend(self.listen.iter().map(|addr| Grant::Listen(addr.to_abi())));
        records.extend(
            self.connect
                .iter()
                .map(|addr| Grant::Connect(addr.to_abi())),
        );
        if self.inherit_network {
            records.push(Grant::InheritNetwork);
        }
        records.extend(self.args.iter().map(|arg| Grant::Arg(arg.as_bytes())));
        records.extend(self.gpio.iter().map(|&pin| Grant::Gpio(pin)));
        grants::encode(&records)
    }
}

/// How the guest sees its grants, for `wafer inspect`.
pub struct Description {
    lines: Vec<(&'static str, String)>,
}

impl fmt::Display for Description {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (label, text) in &self.lines {
            writeln!(f, "  {:<13}{text}", format!("{label}:"))?;
        }
        Ok(())
    }
}

fn listen_text(addr: &ListenAddr) -> String {
    let socket = if addr.ipv6 {
        SocketAddr::from((addr.ip, addr.port))
    } else {
        SocketAddr::from(([addr.ip[0], addr.ip[1], addr.ip[2], addr.ip[3]], addr.port))
    };
    socket.to_string()
}

/// Describes a grants blob (empty: nothing granted), with the descriptor numbers the
/// guest will see.
pub fn describe(blob: &[u8]) -> Result<Description, String> {
    let mut records = Vec::new();
    if !blob.is_empty() {
        for record in grants::parse(blob).map_err(|e| format!("grants are malformed: {e:?}"))? {
            records.push(record.map_err(|e| format!("grants are malformed: {e:?}"))?);
        }
    }
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    let mut lines = vec![(
        "stdio",
        "stdin (fd 0), stdout (fd 1), stderr (fd 2)".to_string(),
    )];
    let mut env = Vec::new();
    let mut inherit_all = false;
    for record in &records {
        match record {
            Grant::Env(entry) => env.push(text(entry)),
            Grant::InheritEnvVar(name) => {
                env.push(format!("{} (from the host at run time)", text(name)))
            }
            Grant::InheritEnv => inherit_all = true,
            _ => {}
        }
    }
    if inherit_all {
        lines.push(("environment", "the whole host environment".into()));
    }
    if env.is_empty() && !inherit_all {
        lines.push(("environment", "none".into()));
    }
    lines.extend(env.into_iter().map(|entry| ("environment", entry)));
    // Descriptor numbers follow the runtime's order: directories, then listeners.
    let mut fd = 3;
    let mut filesystem = Vec::new();
    for record in &records {
        if let Grant::Preopen {
            host,
            guest,
            read_only,
        } = record
        {
            filesystem.push(format!(
                "{} as {} ({}, fd {fd})",
                text(host),
                text(guest),
                if *read_only {
                    "read-only"
                } else {
                    "read-write"
                }
            ));
            fd += 1;
        }
    }
    let mut network = Vec::new();
    for record in &records {
        if let Grant::Listen(addr) = record {
            network.push(format!("listening on {} (fd {fd})", listen_text(addr)));
            fd += 1;
        }
    }
    for record in &records {
        match record {
            Grant::Connect(addr) => network.push(format!(
                "connecting to {} (a component may connect or send there)",
                listen_text(addr)
            )),
            Grant::InheritNetwork => network.push(
                "the host's whole network (a component may bind, listen, connect, send and \
                 look names up)"
                    .into(),
            ),
            _ => {}
        }
    }
    if filesystem.is_empty() {
        filesystem.push("none".into());
    }
    if network.is_empty() {
        network.push("none".into());
    }
    lines.extend(filesystem.into_iter().map(|line| ("filesystem", line)));
    lines.extend(network.into_iter().map(|line| ("network", line)));
    let args: Vec<String> = records
        .iter()
        .filter_map(|record| match record {
            Grant::Arg(arg) => Some(format!("{:?}", text(arg))),
            _ => None,
        })
        .collect();
    if !args.is_empty() {
        lines.push(("arguments", args.join(" ")));
    }
    let pins: Vec<String> = records
        .iter()
        .filter_map(|record| match record {
            Grant::Gpio(pin) => Some(pin.to_string()),
            _ => None,
        })
        .collect();
    if records.iter().any(|record| matches!(record, Grant::Arg(_))) {
        // A firmware image: its devices are granted too.
        lines.push((
            "gpio",
            if pins.is_empty() {
                "none".into()
            } else {
                format!("pins {}", pins.join(", "))
            },
        ));
    }
    Ok(Description { lines })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dir_grants_parse_every_form() {
        let dir = |text: &str| text.parse::<DirGrant>().unwrap();
        assert_eq!(
            dir("data"),
            DirGrant {
                host: "data".into(),
                guest: "data".into(),
                read_only: false
            }
        );
        assert_eq!(dir("/srv/x::/data").guest, "/data");
        let ro = dir("/srv/x::/data:ro");
        assert!(ro.read_only);
        assert_eq!((ro.host.as_str(), ro.guest.as_str()), ("/srv/x", "/data"));
        assert!(dir("/srv/x:ro").read_only);
        assert!(dir("/srv/x::/data:RO").read_only);
        assert_eq!(dir("/srv/x::/data:RO").guest, "/data");
        assert!(!dir("/srv/x::/data:rw").read_only);
        assert!("::/data".parse::<DirGrant>().is_err());
        assert!("/x::".parse::<DirGrant>().is_err());
    }

    #[test]
    fn listen_grants_need_an_address_and_port() {
        assert!("127.0.0.1:8080".parse::<ListenGrant>().is_ok());
        assert!("[::1]:9000".parse::<ListenGrant>().is_ok());
        assert!("localhost".parse::<ListenGrant>().is_err());
        assert!("8080".parse::<ListenGrant>().is_err());
    }

    #[test]
    fn every_grant_round_trips_into_the_description() {
        let grants = Grants {
            env: vec!["A=1".into(), "TERM".into()],
            inherit_env: true,
            dirs: vec!["/srv::/data:ro".parse().unwrap(), ".".parse().unwrap()],
            listen: vec![
                "127.0.0.1:8080".parse().unwrap(),
                "[::1]:80".parse().unwrap(),
            ],
            connect: vec!["10.0.0.1:5432".parse().unwrap()],
            inherit_network: true,
            args: vec![],
            gpio: vec![],
        };
        let text = describe(&grants.encode()).unwrap().to_string();
        for expected in [
            "environment: the whole host environment",
            "environment: A=1",
            "environment: TERM (from the host at run time)",
            "filesystem:  /srv as /data (read-only, fd 3)",
            "filesystem:  . as . (read-write, fd 4)",
            "network:     listening on 127.0.0.1:8080 (fd 5)",
            "network:     listening on [::1]:80 (fd 6)",
            "network:     connecting to 10.0.0.1:5432 (a component may connect or send there)",
            "network:     the host's whole network",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in\n{text}");
        }
        let empty = describe(&[]).unwrap().to_string();
        assert!(empty.contains("filesystem:  none"), "{empty}");
        assert!(empty.contains("network:     none"), "{empty}");
    }
}
