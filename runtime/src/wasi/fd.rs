//! The guest's file descriptor table.
//!
//! Guest descriptor numbers are indexes into a fixed table of host [`Descriptor`]s. At
//! start-up the table holds stdio (0–2), then one entry per granted directory in grant
//! order, then the granted listening sockets. Nothing else is reachable: every other
//! host descriptor the process might have inherited is invisible to the guest.

use core::mem::MaybeUninit;

use crate::errno::{Errno, Result};
use crate::global::Global;
use crate::host::{Descriptor, grants};

/// How many descriptors a guest may have open at once.
#[cfg(not(target_os = "none"))]
pub const MAX_FDS: usize = 1024;
/// How many descriptors a guest may have open at once: a board has a console and the
/// files baked into it, and RAM to spare.
#[cfg(target_os = "none")]
pub const MAX_FDS: usize = 64;

/// The table, in `.bss`: `None` is not an all-zero bit pattern, so an initialised
/// `[Option<Descriptor>; MAX_FDS]` would put tens of kilobytes of `.data` into every image.
/// It starts as zeroed bytes and becomes `None`s on first use.
struct Table {
    slots: MaybeUninit<[Option<Descriptor>; MAX_FDS]>,
    ready: bool,
}

static FDS: Global<Table> = Global::new(Table {
    slots: MaybeUninit::zeroed(),
    ready: false,
});

/// Runs `f` on the table.
fn with_table<R>(f: impl FnOnce(&mut [Option<Descriptor>; MAX_FDS]) -> R) -> R {
    FDS.with(|table| {
        if !table.ready {
            let first = table.slots.as_mut_ptr() as *mut Option<Descriptor>;
            for index in 0..MAX_FDS {
                // SAFETY: `index` is within the array `first` points to, which `table`
                // owns; writing a value needs no valid old one.
                unsafe { first.add(index).write(None) };
            }
            table.ready = true;
        }
        // SAFETY: every slot was written above, on this or an earlier call.
        f(unsafe { table.slots.assume_init_mut() })
    })
}

/// Sets up the standard streams (fds 0-2); called once before the guest runs.
pub fn init_stdio() {
    for fd in 0..3 {
        store(fd, Descriptor::stdio(fd));
    }
}

/// Checks the image's grants. A grant that cannot be honoured ends the process: running
/// without a directory the program was promised would only fail later and less clearly.
///
/// Compiled code calls it first thing (from `wafer_image_init`) only when the image has
/// grants, and the functions that open directories and listeners only when it grants
/// them, so an image carries only the grant code it needs.
#[unsafe(no_mangle)]
pub extern "C" fn wafer_rt_apply_grants() {
    if !grants::check_grants(crate::image::descriptor().grants) {
        crate::fatal(b"the image's grants are unreadable (an image from another wafer version?)");
    }
}

/// Opens the granted directories as fds 3 and up.
#[unsafe(no_mangle)]
pub extern "C" fn wafer_rt_open_granted_dirs() {
    grants::open_granted_dirs(|index, desc| store(3 + index as i32, desc));
}

/// Opens the granted listeners after the directories. Listeners come after them:
/// wasi-libc finds its preopens by asking fd 3, 4, ... until one is not a preopen, so a
/// listener before them would hide them. Without directory grants, the first listener
/// is fd 3 (as systemd's LISTEN_FDS).
#[unsafe(no_mangle)]
pub extern "C" fn wafer_rt_open_granted_listeners() {
    let first = 3 + grants::preopens().count() as i32;
    grants::open_granted_listeners(|index, desc| store(first + index as i32, desc));
}

fn store(fd: i32, desc: Descriptor) {
    with_table(|table| {
        if let Some(slot) = table.get_mut(fd as usize) {
            *slot = Some(desc);
        }
    });
}

/// The descriptor `fd` names, or `EBADF`.
pub fn get(fd: i32) -> Result<Descriptor> {
    usize::try_from(fd)
        .ok()
        .and_then(|fd| with_table(|table| table.get(fd).copied().flatten()))
        .ok_or(Errno::BADF)
}

/// Adds `desc` at the lowest free descriptor, as POSIX `open` does; closes it and
/// fails with `EMFILE` if the table is full.
pub fn insert(desc: Descriptor) -> Result<i32> {
    let slot = with_table(|table| {
        let free = table.iter().position(Option::is_none)?;
        *table.get_mut(free)? = Some(desc);
        Some(free as i32)
    });
    slot.ok_or_else(|| {
        desc.close();
        Errno::MFILE
    })
}

/// Replaces the descriptor of an open fd.
pub fn update(fd: i32, desc: Descriptor) {
    with_table(|table| {
        if let Some(slot) = usize::try_from(fd).ok().and_then(|fd| table.get_mut(fd)) {
            *slot = Some(desc);
        }
    });
}

/// Removes `fd`, returning what it was.
pub fn remove(fd: i32) -> Result<Descriptor> {
    usize::try_from(fd)
        .ok()
        .and_then(|fd| with_table(|table| table.get_mut(fd).and_then(Option::take)))
        .ok_or(Errno::BADF)
}

/// `fd_renumber`: moves `from` onto `to`, closing what `to` was. Both must be open.
pub fn renumber(from: i32, to: i32) -> Result {
    let desc = get(from)?;
    let previous = get(to)?;
    if from == to {
        return Ok(());
    }
    remove(from)?;
    update(to, desc);
    previous.close();
    Ok(())
}
