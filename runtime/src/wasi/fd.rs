//! The guest's file descriptor table.

use crate::global::Global;
use wafer_abi::wasi::{errno, rights};

use super::{Errno, WasiResult};

/// How many descriptors a guest may have open at once.
pub const MAX_FDS: usize = 128;

/// What a guest descriptor refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FdKind {
    /// Host stdin, stdout or stderr.
    Stdio,
}

/// One open guest descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FdEntry {
    /// The host descriptor behind it.
    pub host_fd: i32,
    /// What it is.
    pub kind: FdKind,
    /// Rights on this descriptor.
    pub rights_base: u64,
    /// Rights passed on to descriptors opened through it.
    pub rights_inheriting: u64,
}

const fn stdio(host_fd: i32) -> Option<FdEntry> {
    Some(FdEntry {
        host_fd,
        kind: FdKind::Stdio,
        rights_base: rights::ALL,
        rights_inheriting: rights::ALL,
    })
}

/// Starts empty (so it costs no bytes in the image file); [`init`] opens stdio.
static FDS: Global<[Option<FdEntry>; MAX_FDS]> = Global::new([None; MAX_FDS]);

/// Opens descriptors 0, 1 and 2 on the host's stdio; called once before the guest runs.
pub fn init() {
    FDS.with(|table| {
        for (fd, slot) in table.iter_mut().take(3).enumerate() {
            *slot = stdio(fd as i32);
        }
    });
}

/// The entry for guest descriptor `fd`, if it has every right in `required`.
pub fn get(fd: i32, required: u64) -> WasiResult<FdEntry> {
    let entry = usize::try_from(fd)
        .ok()
        .and_then(|fd| FDS.with(|table| table.get(fd).copied().flatten()))
        .ok_or(Errno(errno::BADF))?;
    if entry.rights_base & required != required {
        return Err(Errno(errno::NOTCAPABLE));
    }
    Ok(entry)
}

/// Removes guest descriptor `fd`, returning what it was.
pub fn remove(fd: i32) -> WasiResult<FdEntry> {
    usize::try_from(fd)
        .ok()
        .and_then(|fd| FDS.with(|table| table.get_mut(fd).and_then(Option::take)))
        .ok_or(Errno(errno::BADF))
}
