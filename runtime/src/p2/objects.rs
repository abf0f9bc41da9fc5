//! Host objects: the state behind the resources the WASI 0.2 host hands out.
//!
//! A component instance's handle table maps its handles to a representation; for most
//! host resources that representation is the index of an object here: a filesystem
//! descriptor (a `host::Descriptor`), a stream and where it reads or writes, a pollable
//! and what it waits for, a socket and its state. Objects are shared by every component
//! instance of the image, so a host resource passed from one instance to another keeps
//! its object.
//!
//! Each object counts its references: the guest handles that name it and the objects
//! that depend on it (a file stream holds its descriptor, a pollable what it waits on,
//! a directory listing its directory). Dropping the last reference tears the object
//! down: it releases what it held and closes its platform handle. So a guest may drop a
//! descriptor before the streams it made, as wasmtime allows, and a parent before its
//! pollables, where wasmtime traps: the pollable keeps the parent alive.
//!
//! The table lives in memory reserved on first use and committed as it grows, like the
//! handle tables; free slots form a list, so a freed index is reused first.

use wafer_abi::trap::TrapKind;

use super::io::{Stream, Wait};
use super::sockets::{Addresses, Datagrams, TcpSocket, UdpSocket};
use crate::global::Global;
use crate::host::Descriptor;

/// The most objects alive at once.
const MAX_OBJECTS: u32 = 1 << 16;

/// What an object is.
#[derive(Debug, Clone, Copy)]
pub enum Object {
    /// A free slot; `next` is the next free index plus one (0: none).
    Free {
        /// The next free slot.
        next: u32,
    },
    /// A `wasi:filesystem` descriptor.
    Descriptor(Descriptor),
    /// A `directory-entry-stream`: the directory (an object) and where the listing is.
    Entries {
        /// The directory's object.
        dir: u32,
        /// The platform's cookie of the next entry.
        cookie: u64,
    },
    /// An `input-stream` or `output-stream`.
    Stream(Stream),
    /// A `pollable`.
    Pollable(Wait),
    /// A `tcp-socket`.
    Tcp(TcpSocket),
    /// A `udp-socket`.
    Udp(UdpSocket),
    /// An `incoming-datagram-stream` or `outgoing-datagram-stream`.
    Datagrams(Datagrams),
    /// A `resolve-address-stream`.
    Addresses(Addresses),
}

impl Object {
    /// The objects this one holds a reference to (at most one), and the platform handle
    /// it owns, if any: what tearing it down releases.
    fn parts(&self) -> (Option<u32>, Option<Descriptor>) {
        match *self {
            Object::Free { .. } | Object::Addresses(_) => (None, None),
            Object::Descriptor(desc) => (None, Some(desc)),
            Object::Entries { dir, .. } => (Some(dir), None),
            Object::Stream(stream) => (stream.holds(), None),
            Object::Pollable(wait) => (wait.holds(), None),
            Object::Tcp(socket) => (None, socket.descriptor()),
            Object::Udp(socket) => (None, socket.descriptor()),
            Object::Datagrams(streams) => (Some(streams.socket), None),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    /// References: guest handles and dependent objects.
    refs: u32,
    object: Object,
}

struct Table {
    slots: *mut Slot,
    /// Slots ever used.
    len: u32,
    /// Slots committed.
    capacity: u32,
    /// Bytes committed.
    committed_bytes: usize,
    /// Bytes reserved.
    reserved_bytes: usize,
    /// The first free index plus one, 0 when none.
    free: u32,
}

static OBJECTS: Global<Table> = Global::new(Table {
    slots: core::ptr::null_mut(),
    len: 0,
    capacity: 0,
    committed_bytes: 0,
    reserved_bytes: 0,
    free: 0,
});

impl Table {
    fn slot(&mut self, index: u32) -> Option<&mut Slot> {
        if index >= self.len {
            return None;
        }
        // SAFETY: `index < len <= capacity`: a committed slot of this table's
        // reservation, which nothing else references while the table is borrowed.
        Some(unsafe { &mut *self.slots.add(index as usize) })
    }

    /// Commits another page of slots, reserving the address space first.
    fn grow(&mut self) -> Result<(), TrapKind> {
        use crate::sys::{Current, Platform};
        let size = core::mem::size_of::<Slot>();
        let page = Current::page_size();
        if self.slots.is_null() {
            match Current::reserve_growable(page, MAX_OBJECTS as usize * size) {
                Some((base, bytes)) => {
                    self.slots = base as *mut Slot;
                    self.reserved_bytes = bytes;
                }
                None => crate::fatal(b"cannot reserve memory for host objects"),
            }
        }
        if self.committed_bytes + page > self.reserved_bytes || self.capacity >= MAX_OBJECTS {
            return Err(TrapKind::HandleTableFull);
        }
        let at = (self.slots as *mut u8).wrapping_add(self.committed_bytes);
        // SAFETY: the page lies inside the table's reservation, past every slot in use.
        if !unsafe { Current::commit(at, page) } {
            crate::fatal(b"cannot commit memory for host objects");
        }
        self.committed_bytes += page;
        // A slot may straddle two pages: only whole committed slots count.
        self.capacity = (self.committed_bytes / size).min(MAX_OBJECTS as usize) as u32;
        Ok(())
    }

    /// Drops a reference to the object at `index`; returns the object when that was the
    /// last (its slot is free again), for the caller to tear down.
    fn release(&mut self, index: u32) -> Option<Object> {
        let free = self.free;
        let slot = self.slot(index)?;
        if slot.refs == 0 {
            return None;
        }
        slot.refs -= 1;
        if slot.refs > 0 {
            return None;
        }
        let object = core::mem::replace(&mut slot.object, Object::Free { next: free });
        self.free = index + 1;
        Some(object)
    }

    fn insert(&mut self, object: Object) -> Result<u32, TrapKind> {
        let index = if self.free != 0 {
            let index = self.free - 1;
            let next = match self.slot(index) {
                Some(Slot {
                    object: Object::Free { next },
                    ..
                }) => *next,
                _ => crate::fatal(b"host object free list broken"),
            };
            self.free = next;
            index
        } else {
            while self.len >= self.capacity {
                self.grow()?;
            }
            self.len += 1;
            self.len - 1
        };
        if let Some(slot) = self.slot(index) {
            *slot = Slot { refs: 1, object };
        }
        Ok(index)
    }
}

/// A new object with one reference (its first handle, or the host's own); `None` when
/// the table is full.
pub fn insert(object: Object) -> Result<u32, TrapKind> {
    OBJECTS.with(|table| table.insert(object))
}

/// The object at `index` (a free slot is `Object::Free`).
pub fn get(index: u32) -> Option<Object> {
    OBJECTS.with(|table| table.slot(index).map(|slot| slot.object))
}

/// Replaces the object at `index` (which must be live).
pub fn set(index: u32, object: Object) {
    OBJECTS.with(|table| {
        if let Some(slot) = table.slot(index)
            && slot.refs > 0
        {
            slot.object = object;
        }
    });
}

/// Adds a reference to the object at `index`.
pub fn retain(index: u32) {
    OBJECTS.with(|table| {
        if let Some(slot) = table.slot(index) {
            slot.refs = slot.refs.saturating_add(1);
        }
    });
}

/// Drops a reference to the object at `index`; the last one tears it down.
pub fn release(index: u32) {
    let mut next = Some(index);
    // A chain of dependants is short (a pollable on a stream on a descriptor): a loop,
    // not recursion, all the same.
    while let Some(index) = next.take() {
        if let Some(object) = OBJECTS.with(|table| table.release(index)) {
            let (held, owned) = object.parts();
            if let Some(desc) = owned {
                close(desc);
            }
            next = held;
        }
    }
}

/// Closes a descriptor no object uses any more: granted directories stay open for the
/// next `get-directories`, and stdio for the runtime.
fn close(desc: Descriptor) {
    if let crate::host::Kind::Directory { preopen: Some(_) } = desc.kind {
        return;
    }
    desc.close();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::p2::io::{Stream, Wait};

    fn table() -> Table {
        Table {
            slots: core::ptr::null_mut(),
            len: 0,
            capacity: 0,
            committed_bytes: 0,
            reserved_bytes: 0,
            free: 0,
        }
    }

    fn pollable(deadline: u64) -> Object {
        Object::Pollable(Wait::Deadline(deadline))
    }

    #[test]
    fn the_last_reference_frees_and_the_slot_is_reused() {
        let mut table = table();
        let a = table.insert(pollable(1)).unwrap();
        let b = table.insert(pollable(2)).unwrap();
        assert_eq!((a, b), (0, 1));
        table.slot(a).unwrap().refs += 1;
        assert!(table.release(a).is_none(), "one reference is left");
        assert!(matches!(
            table.release(a),
            Some(Object::Pollable(Wait::Deadline(1)))
        ));
        assert!(
            table.release(a).is_none(),
            "a free slot has no reference to drop"
        );
        assert!(matches!(table.slot(a).unwrap().object, Object::Free { .. }));
        // The freed slot comes back first, then the table grows.
        assert_eq!(table.insert(pollable(3)).unwrap(), a);
        assert_eq!(table.insert(pollable(4)).unwrap(), 2);
        assert!(table.slot(7).is_none());
    }

    #[test]
    fn dependants_name_what_they_hold() {
        let stream = Object::Stream(Stream::File { desc: 4, offset: 9 });
        assert_eq!(stream.parts().0, Some(4));
        let on = Object::Pollable(Wait::On {
            object: 6,
            interest: crate::sys::Interest::Read,
        });
        assert_eq!(on.parts().0, Some(6));
        assert_eq!(pollable(5).parts(), (None, None));
        assert_eq!(Object::Entries { dir: 2, cookie: 0 }.parts().0, Some(2));
        assert_eq!(Object::Stream(Stream::Stdio(1)).parts().0, None);
    }

    #[test]
    fn tables_grow_past_a_page() {
        let mut table = table();
        for i in 0..3000u32 {
            assert_eq!(table.insert(pollable(u64::from(i))).unwrap(), i);
        }
        for i in (0..3000u32).step_by(97) {
            assert!(matches!(
                table.slot(i).unwrap().object,
                Object::Pollable(Wait::Deadline(d)) if d == u64::from(i)
            ));
        }
    }
}
