//! The read-only file trees baked into the image (`wafer_abi::files`), served as
//! descriptors: each open file or directory is a slot of a small table holding its node
//! and position. Paths resolve within the tree they start in: `..` never leaves the
//! root, and an absolute path is refused, as beneath a granted directory on Linux.

use wafer_abi::files::{FileTree, Node, NodeKind};

use crate::errno::{Errno, Result};
use crate::global::Global;
use crate::sys::{DirEntry, FileKind, FileStat, IoVec, RawHandle, Whence};

/// Open files and directories at once (handles from 3 up).
const SLOTS: usize = 32;
const FIRST_HANDLE: RawHandle = 3;
/// Directory depth a path may reach.
const MAX_DEPTH: usize = 24;

#[derive(Clone, Copy)]
struct Open {
    /// The node.
    node: u32,
    /// Read position (files) or the next entry's index (directories).
    position: u64,
    /// The path of directories from the root to the node (node indexes), for `..`.
    depth: usize,
    ancestors: [u32; MAX_DEPTH],
}

static TABLE: Global<[Option<Open>; SLOTS]> = Global::new([None; SLOTS]);

fn tree() -> Result<FileTree<'static>> {
    FileTree::parse(crate::image::descriptor().files).ok_or(Errno::NOENT)
}

fn slot_index(handle: RawHandle) -> Result<usize> {
    usize::try_from(handle - FIRST_HANDLE)
        .ok()
        .filter(|&index| index < SLOTS)
        .ok_or(Errno::BADF)
}

fn get(handle: RawHandle) -> Result<Open> {
    let index = slot_index(handle)?;
    TABLE
        .with(|table| table.get(index).copied().flatten())
        .ok_or(Errno::BADF)
}

fn insert(open: Open) -> Result<RawHandle> {
    TABLE.with(|table| {
        let free = table.iter().position(Option::is_none).ok_or(Errno::MFILE)?;
        *table.get_mut(free).ok_or(Errno::MFILE)? = Some(open);
        Ok(free as RawHandle + FIRST_HANDLE)
    })
}

fn node(open: &Open) -> Result<Node<'static>> {
    tree()?.node(open.node).ok_or(Errno::IO)
}

fn stat_of(node: &Node<'_>) -> FileStat {
    FileStat {
        dev: 1,
        ino: node.index as u64 + 1,
        kind: match node.kind {
            NodeKind::Directory => FileKind::Directory,
            NodeKind::File => FileKind::RegularFile,
        },
        nlink: 1,
        size: node.size(),
        atime: node.mtime,
        mtime: node.mtime,
        ctime: node.mtime,
    }
}

/// Opens the root of the granted tree whose host path is `path`: trees are stored in
/// the order of the directory grants.
pub fn open_root(path: &[u8]) -> Result<RawHandle> {
    let tree = tree()?;
    let index = crate::host::grants::preopens()
        .position(|(host, _, _)| host == path)
        .ok_or(Errno::NOENT)? as u32;
    let root = tree.root(index).ok_or(Errno::NOENT)?;
    insert(Open {
        node: root.index,
        position: 0,
        depth: 0,
        ancestors: [0; MAX_DEPTH],
    })
}

/// Resolves `path` from directory `dir`.
fn resolve(dir: &Open, path: &[u8]) -> Result<Open> {
    if path.first() == Some(&b'/') {
        return Err(Errno::PERM);
    }
    if path.is_empty() {
        return Err(Errno::NOENT);
    }
    let tree = tree()?;
    let mut at = *dir;
    let ends_in_slash = path.last() == Some(&b'/');
    for component in path.split(|&b| b == b'/') {
        let here = tree.node(at.node).ok_or(Errno::IO)?;
        match component {
            b"" | b"." => {
                if here.kind != NodeKind::Directory {
                    return Err(Errno::NOTDIR);
                }
            }
            b".." => {
                if here.kind != NodeKind::Directory {
                    return Err(Errno::NOTDIR);
                }
                if at.depth == 0 {
                    return Err(Errno::PERM);
                }
                at.depth -= 1;
                at.node = *at.ancestors.get(at.depth).ok_or(Errno::IO)?;
            }
            name => {
                if here.kind != NodeKind::Directory {
                    return Err(Errno::NOTDIR);
                }
                let child = tree.child(&here, name).ok_or(Errno::NOENT)?;
                *at.ancestors.get_mut(at.depth).ok_or(Errno::NAMETOOLONG)? = at.node;
                at.depth += 1;
                at.node = child.index;
            }
        }
    }
    if ends_in_slash && tree.node(at.node).ok_or(Errno::IO)?.kind != NodeKind::Directory {
        return Err(Errno::NOTDIR);
    }
    at.position = 0;
    Ok(at)
}

/// Opens `path` beneath `dir`.
pub fn open_at(dir: RawHandle, path: &[u8], directory: bool) -> Result<RawHandle> {
    let opened = resolve(&get(dir)?, path)?;
    if directory && node(&opened)?.kind != NodeKind::Directory {
        return Err(Errno::NOTDIR);
    }
    insert(opened)
}

/// The metadata of what `path` names beneath `dir`.
pub fn stat_at(dir: RawHandle, path: &[u8]) -> Result<FileStat> {
    Ok(stat_of(&node(&resolve(&get(dir)?, path)?)?))
}

/// The metadata of an open file or directory.
pub fn stat(handle: RawHandle) -> Result<FileStat> {
    Ok(stat_of(&node(&get(handle)?)?))
}

/// Closes a handle.
pub fn close(handle: RawHandle) {
    if let Ok(index) = slot_index(handle) {
        TABLE.with(|table| {
            if let Some(slot) = table.get_mut(index) {
                *slot = None;
            }
        });
    }
}

/// Reads from the position (moving it) or at `offset`.
///
/// # Safety
/// Every buffer must be writable for its length.
pub unsafe fn read(handle: RawHandle, bufs: &[IoVec], offset: Option<u64>) -> Result<usize> {
    let open = get(handle)?;
    let file = node(&open)?;
    if file.kind == NodeKind::Directory {
        return Err(Errno::ISDIR);
    }
    let data = tree()?.data(&file);
    let start = offset.unwrap_or(open.position);
    let mut at = usize::try_from(start).unwrap_or(usize::MAX).min(data.len());
    let mut total = 0;
    for buf in bufs {
        let rest = data.get(at..).unwrap_or_default();
        let count = rest.len().min(buf.len);
        // SAFETY: `count` bytes fit the caller's buffer and come from the image.
        unsafe { core::ptr::copy_nonoverlapping(rest.as_ptr(), buf.base, count) };
        at += count;
        total += count;
        if count < buf.len {
            break;
        }
    }
    if offset.is_none() {
        let index = slot_index(handle)?;
        TABLE.with(|table| {
            if let Some(Some(slot)) = table.get_mut(index) {
                slot.position = at as u64;
            }
        });
    }
    Ok(total)
}

/// Moves a file's position.
pub fn seek(handle: RawHandle, offset: i64, whence: Whence) -> Result<u64> {
    let open = get(handle)?;
    let file = node(&open)?;
    if file.kind == NodeKind::Directory {
        return Err(Errno::BADF);
    }
    let base = match whence {
        Whence::Start => 0,
        Whence::Current => open.position as i64,
        Whence::End => file.size() as i64,
    };
    let position = base
        .checked_add(offset)
        .filter(|&p| p >= 0)
        .ok_or(Errno::INVAL)? as u64;
    let index = slot_index(handle)?;
    TABLE.with(|table| {
        if let Some(Some(slot)) = table.get_mut(index) {
            slot.position = position;
        }
    });
    Ok(position)
}

/// Lists a directory: entries `.` and `..` (cookies 1 and 2), then the children
/// (cookie 3 + index).
pub fn read_dir(
    handle: RawHandle,
    cookie: u64,
    each: &mut dyn FnMut(DirEntry<'_>) -> bool,
) -> Result {
    let open = get(handle)?;
    let tree = tree()?;
    let dir = tree.node(open.node).ok_or(Errno::IO)?;
    if dir.kind != NodeKind::Directory {
        return Err(Errno::NOTDIR);
    }
    let own_ino = dir.index as u64 + 1;
    let parent_ino = match open.depth {
        // The parent of a granted root is outside the grant: report the root itself.
        0 => own_ino,
        depth => *open.ancestors.get(depth - 1).ok_or(Errno::IO)? as u64 + 1,
    };
    let dots = [(b".".as_slice(), own_ino), (b"..".as_slice(), parent_ino)];
    for (index, (name, ino)) in dots.into_iter().enumerate() {
        if cookie <= index as u64
            && !each(DirEntry {
                next: index as u64 + 1,
                ino,
                kind: FileKind::Directory,
                name,
            })
        {
            return Ok(());
        }
    }
    for (index, child) in tree.children(&dir).enumerate() {
        let position = index as u64 + 2;
        if cookie > position {
            continue;
        }
        let entry = DirEntry {
            next: position + 1,
            ino: child.index as u64 + 1,
            kind: stat_of(&child).kind,
            name: child.name,
        };
        if !each(entry) {
            return Ok(());
        }
    }
    Ok(())
}
