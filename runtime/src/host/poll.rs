//! Waiting for descriptors and clocks.
//!
//! An ABI turns what its guest waits on into [`Target`]s (checked descriptors) and a
//! monotonic deadline, calls [`wait`], then asks each target what happened
//! ([`Target::event`]). Regular files never block: they are always ready.

use super::descriptor::{Descriptor, Kind};
use super::rights;
use crate::errno::{Errno, Result};
use crate::sys::{Clock, Current, FileKind, Interest, Platform, PollFd, Readiness, Whence};

/// A descriptor to wait on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Target {
    /// What to wait for, and (after [`wait`]) what was found.
    pub fd: PollFd,
    /// A regular file: ready at once, never handed to the platform.
    pub always_ready: bool,
}

/// What happened to a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Event {
    /// Bytes available to read (0 for writes: it says nothing about how much fits).
    pub nbytes: u64,
    /// The peer hung up.
    pub hangup: bool,
    /// The error to report instead of readiness, if any.
    pub error: Option<Errno>,
}

impl Descriptor {
    /// The descriptor as something to wait on for `interest`: directories cannot be
    /// waited on (`EBADF`), stdio only in the direction it was opened for.
    pub fn poll_target(self, interest: Interest) -> Result<Target> {
        let always_ready = match self.kind {
            Kind::Directory { .. } => return Err(Errno::BADF),
            Kind::Stdio => {
                match interest {
                    Interest::Read => self.check_readable()?,
                    Interest::Write => self.check_writable()?,
                };
                false
            }
            Kind::Socket { .. } => false,
            Kind::File => Current::kind(self.handle)? == FileKind::RegularFile,
        };
        self.require(rights::POLL_FD_READWRITE)?;
        Ok(Target {
            fd: PollFd {
                handle: self.handle,
                interest,
                ready: Readiness::default(),
            },
            always_ready,
        })
    }
}

impl Target {
    /// Whether the target has something to report after [`wait`].
    pub fn is_ready(&self) -> bool {
        self.always_ready || self.fd.ready.any()
    }

    /// What to report for a ready target.
    pub fn event(&self) -> Event {
        let handle = self.fd.handle;
        let reading = self.fd.interest == Interest::Read;
        if self.always_ready {
            // For a regular file: the bytes left to read from the current position.
            let nbytes = if reading {
                let size = Current::stat(handle).map_or(0, |stat| stat.size);
                let position = Current::seek(handle, 0, Whence::Current).unwrap_or(size);
                size.saturating_sub(position)
            } else {
                0
            };
            return Event {
                nbytes,
                ..Event::default()
            };
        }
        let ready = self.fd.ready;
        if ready.invalid {
            return Event {
                error: Some(Errno::BADF),
                ..Event::default()
            };
        }
        if ready.error && !ready.readable && !ready.writable {
            return Event {
                hangup: ready.hangup,
                error: Some(Errno::IO),
                ..Event::default()
            };
        }
        Event {
            nbytes: if reading {
                Current::bytes_readable(handle).unwrap_or(0)
            } else {
                0
            },
            hangup: ready.hangup,
            error: None,
        }
    }
}

/// Waits until a target is ready or the monotonic clock reaches `deadline` (`None`: no
/// limit; a target that is `always_ready` or a deadline already past makes it only
/// look). Fills each target's readiness.
pub fn wait(targets: &mut [Target], deadline: Option<u64>) -> Result {
    const BATCH: usize = 512;
    let ready_now = targets.iter().any(|t| t.always_ready);
    let mut fds = [PollFd::default(); BATCH];
    let mut count = 0;
    for target in targets.iter().filter(|t| !t.always_ready) {
        *fds.get_mut(count).ok_or(Errno::NOMEM)? = target.fd;
        count += 1;
    }
    let fds = fds.get_mut(..count).unwrap_or_default();
    loop {
        let now = Current::now(Clock::Monotonic)?;
        let timeout = if ready_now {
            Some(0)
        } else {
            deadline.map(|deadline| deadline.saturating_sub(now))
        };
        if fds.is_empty() {
            if let Some(deadline) = deadline.filter(|_| !ready_now) {
                Current::sleep_until(deadline)?;
            }
            break;
        }
        match Current::poll(fds, timeout) {
            Ok(_) => break,
            Err(Errno::INTR) => continue,
            Err(err) => return Err(err),
        }
    }
    let mut polled = fds.iter();
    for target in targets.iter_mut().filter(|t| !t.always_ready) {
        if let Some(fd) = polled.next() {
            target.fd.ready = fd.ready;
        }
    }
    Ok(())
}
