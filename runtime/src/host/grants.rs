//! The image's grants, and the guest's environment: exactly what they allow.
//!
//! Environment precedence: explicit `KEY=VALUE` grants first (in grant order), then
//! variables named for inheritance that the host has, then, with `--inherit-env`, every
//! other host variable. A key appears at most once.

use super::Descriptor;
use crate::sys::{Current, Platform};
use wafer_abi::grants::{self, Grant};

fn key(entry: &[u8]) -> &[u8] {
    let end = entry.iter().position(|&b| b == b'=').unwrap_or(entry.len());
    entry.get(..end).unwrap_or(entry)
}

/// The image's grants (validated at start-up).
pub fn grants() -> impl Iterator<Item = Grant<'static>> + Clone {
    let blob = crate::image::descriptor().grants;
    // Validity was checked at start-up (`check_grants`); skip anything unreadable.
    grants::parse(blob)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
}

/// Whether the grants are readable by this runtime; checked once at start-up.
pub fn check_grants(blob: &[u8]) -> bool {
    if blob.is_empty() {
        return true;
    }
    match grants::parse(blob) {
        Ok(mut iter) => iter.all(|grant| grant.is_ok()),
        Err(_) => false,
    }
}

/// Calls `f` with each `KEY=VALUE` entry of the guest environment.
pub fn for_each_env(mut f: impl FnMut(&[u8])) {
    for_each_with(grants(), Current::host_env(), &mut f);
}

/// The guest's arguments, its name first: the process's own.
pub fn args() -> impl Iterator<Item = &'static [u8]> + Clone {
    Current::args()
}

/// The preopen grants, in order: host path, guest path, read-only.
pub fn preopens() -> impl Iterator<Item = (&'static [u8], &'static [u8], bool)> + Clone {
    grants().filter_map(|grant| match grant {
        Grant::Preopen {
            host,
            guest,
            read_only,
        } => Some((host, guest, read_only)),
        _ => None,
    })
}

/// The granted listening addresses, in order.
pub fn listeners() -> impl Iterator<Item = grants::ListenAddr> + Clone {
    grants().filter_map(|grant| match grant {
        Grant::Listen(addr) => Some(addr),
        _ => None,
    })
}

/// Opens each granted directory in grant order and hands it to `store` with its index
/// among the directory grants. A grant that cannot be honoured ends the process:
/// running without a directory the program was promised would only fail later and less
/// clearly.
pub fn open_granted_dirs(mut store: impl FnMut(usize, Descriptor)) {
    for (index, (host, _, read_only)) in preopens().enumerate() {
        let handle = match Current::open_granted_dir(host) {
            Ok(handle) => handle,
            Err(err) => grant_failed(b"cannot open the granted directory ", host, err),
        };
        store(
            index,
            Descriptor::granted_dir(handle, index as u16, read_only),
        );
    }
}

/// Opens a socket listening on each granted address, in grant order, and hands it to
/// `store` with its index among the listen grants (preview1's pre-opened listeners).
pub fn open_granted_listeners(mut store: impl FnMut(usize, Descriptor)) {
    for (index, addr) in listeners().enumerate() {
        let handle = match Current::listen(&addr) {
            Ok(handle) => handle,
            Err(err) => {
                let mut text = crate::out::Line::new();
                write_listen_addr(&mut text, &addr);
                grant_failed(
                    b"cannot listen on the granted address ",
                    text.as_bytes(),
                    err,
                )
            }
        };
        store(index, Descriptor::granted_listener(handle));
    }
}

/// `addr` as `1.2.3.4:80` or `[0:0:0:0:0:0:0:1]:80`.
pub fn write_listen_addr(line: &mut crate::out::Line, addr: &grants::ListenAddr) {
    if addr.ipv6 {
        line.str(b"[");
        for (i, pair) in addr.ip.chunks_exact(2).enumerate() {
            if i > 0 {
                line.str(b":");
            }
            let word = u16::from_be_bytes(pair.try_into().unwrap_or_default());
            line.digits(word as u64, 16);
        }
        line.str(b"]");
    } else {
        for (i, byte) in addr.ip.iter().take(4).enumerate() {
            if i > 0 {
                line.str(b".");
            }
            line.dec(*byte as u64);
        }
    }
    line.str(b":").dec(addr.port as u64);
}

fn grant_failed(what: &[u8], name: &[u8], err: crate::errno::Errno) -> ! {
    let mut line = crate::out::Line::new();
    line.str(b"wafer: error: ").str(what).str(name).str(b": ");
    super::describe(&mut line, err);
    line.str(b"\n");
    line.write_to(2);
    Current::exit(wafer_abi::INTERNAL_ERROR_EXIT_CODE)
}

fn for_each_with<'a>(
    grants: impl Iterator<Item = Grant<'a>> + Clone,
    host: impl Iterator<Item = &'a [u8]> + Clone,
    f: &mut impl FnMut(&[u8]),
) {
    let explicit = || {
        grants.clone().filter_map(|grant| match grant {
            Grant::Env(entry) => Some(entry),
            _ => None,
        })
    };
    let named = || {
        grants.clone().filter_map(|grant| match grant {
            Grant::InheritEnvVar(name) => Some(name),
            _ => None,
        })
    };
    let set_explicitly = |k: &[u8]| explicit().any(|entry| key(entry) == k);
    for (i, entry) in explicit().enumerate() {
        if !explicit().take(i).any(|earlier| key(earlier) == key(entry)) {
            f(entry);
        }
    }
    for (i, name) in named().enumerate() {
        if set_explicitly(name) || named().take(i).any(|earlier| earlier == name) {
            continue;
        }
        if let Some(entry) = host.clone().find(|entry| key(entry) == name) {
            f(entry);
        }
    }
    if grants.clone().any(|grant| grant == Grant::InheritEnv) {
        for entry in host.clone() {
            let k = key(entry);
            if !set_explicitly(k) && !named().any(|name| name == k) {
                f(entry);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(grants: &[Grant<'static>], host: &[&'static [u8]]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for_each_with(grants.iter().copied(), host.iter().copied(), &mut |e| {
            out.push(e.to_vec())
        });
        out
    }

    #[test]
    fn nothing_is_granted_by_default() {
        assert!(collect(&[], &[b"SECRET=1"]).is_empty());
    }

    #[test]
    fn explicit_named_and_inherited_entries_with_precedence() {
        let host: &[&'static [u8]] = &[b"HOME=/root", b"TERM=xterm", b"PATH=/bin"];
        let grants = [
            Grant::Env(b"HOME=/guest"),
            Grant::InheritEnvVar(b"TERM"),
            Grant::InheritEnvVar(b"MISSING"),
        ];
        assert_eq!(
            collect(&grants, host),
            vec![b"HOME=/guest".to_vec(), b"TERM=xterm".to_vec()]
        );
        let all = [Grant::Env(b"HOME=/guest"), Grant::InheritEnv];
        assert_eq!(
            collect(&all, host),
            vec![
                b"HOME=/guest".to_vec(),
                b"TERM=xterm".to_vec(),
                b"PATH=/bin".to_vec()
            ]
        );
    }

    #[test]
    fn a_repeated_key_keeps_the_first_value() {
        let grants = [Grant::Env(b"A=1"), Grant::Env(b"A=2")];
        assert_eq!(collect(&grants, &[]), vec![b"A=1".to_vec()]);
    }
}
