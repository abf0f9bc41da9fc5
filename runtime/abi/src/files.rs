//! Read-only file trees baked into firmware images.
//!
//! On a board, `--dir HOST::GUEST:ro` copies the host directory into the image; the
//! runtime serves `path_open`, `fd_read`, `fd_readdir` and friends from it. One blob
//! holds every granted tree, in grant order:
//!
//! ```text
//! magic "WFS1" | version | node count | root count        (u32 each)
//! roots: node index per tree                               (u32 each)
//! nodes: kind | name offset | name length | a | b | mtime  (5 × u32, u64: 28 bytes)
//!        a directory's a, b: its first child's index, its child count (children are
//!        consecutive and sorted by name); a file's: its data's offset and length
//! blob:  names and file contents, offsets relative to the blob's start
//! ```
//!
//! The reader never panics and checks every index and range against the blob.

use crate::bytes::Reader;

const MAGIC: u32 = u32::from_le_bytes(*b"WFS1");
const VERSION: u32 = 1;
const HEADER: usize = 16;
const NODE: usize = 28;

/// What a node is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// A directory.
    Directory,
    /// A regular file.
    File,
}

/// A parsed file-tree blob.
#[derive(Debug, Clone, Copy)]
pub struct FileTree<'a> {
    bytes: &'a [u8],
    nodes: u32,
    roots: u32,
    blob_start: usize,
}

/// One file or directory of a [`FileTree`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Node<'a> {
    /// Its index in the tree (stable: a handle can keep it).
    pub index: u32,
    /// What it is.
    pub kind: NodeKind,
    /// Its name (empty for a root).
    pub name: &'a [u8],
    /// Directory: first child index. File: data offset in the blob.
    a: u32,
    /// Directory: number of children. File: data length.
    b: u32,
    /// Last modification, nanoseconds since the epoch.
    pub mtime: u64,
}

impl<'a> FileTree<'a> {
    /// Parses `bytes`; `None` if they are not a file tree of this version.
    pub fn parse(bytes: &'a [u8]) -> Option<FileTree<'a>> {
        let mut reader = Reader::new(bytes);
        if reader.u32()? != MAGIC || reader.u32()? != VERSION {
            return None;
        }
        let nodes = reader.u32()?;
        let roots = reader.u32()?;
        let blob_start = HEADER
            .checked_add((roots as usize).checked_mul(4)?)?
            .checked_add((nodes as usize).checked_mul(NODE)?)?;
        if blob_start > bytes.len() {
            return None;
        }
        Some(FileTree {
            bytes,
            nodes,
            roots,
            blob_start,
        })
    }

    /// The number of trees.
    pub fn root_count(&self) -> u32 {
        self.roots
    }

    /// The root directory of tree `index`.
    pub fn root(&self, index: u32) -> Option<Node<'a>> {
        if index >= self.roots {
            return None;
        }
        let at = HEADER + index as usize * 4;
        let node = u32::from_le_bytes(self.bytes.get(at..at + 4)?.try_into().ok()?);
        self.node(node)
    }

    /// Node `index`.
    pub fn node(&self, index: u32) -> Option<Node<'a>> {
        if index >= self.nodes {
            return None;
        }
        let at = HEADER + self.roots as usize * 4 + index as usize * NODE;
        let mut reader = Reader::new(self.bytes.get(at..at + NODE)?);
        let kind = match reader.u32()? {
            1 => NodeKind::Directory,
            2 => NodeKind::File,
            _ => return None,
        };
        let name_offset = reader.u32()?;
        let name_len = reader.u32()?;
        let a = reader.u32()?;
        let b = reader.u32()?;
        let mtime = reader.u64()?;
        Some(Node {
            index,
            kind,
            name: self.blob(name_offset, name_len)?,
            a,
            b,
            mtime,
        })
    }

    fn blob(&self, offset: u32, len: u32) -> Option<&'a [u8]> {
        let start = self.blob_start.checked_add(offset as usize)?;
        self.bytes.get(start..start.checked_add(len as usize)?)
    }

    /// The contents of a file (empty for a directory).
    pub fn data(&self, node: &Node<'a>) -> &'a [u8] {
        match node.kind {
            NodeKind::File => self.blob(node.a, node.b).unwrap_or_default(),
            NodeKind::Directory => &[],
        }
    }

    /// The children of a directory, in name order (none for a file).
    pub fn children(&self, node: &Node<'a>) -> impl Iterator<Item = Node<'a>> + 'a {
        let tree = *self;
        let (first, count) = match node.kind {
            NodeKind::Directory => (node.a, node.b),
            NodeKind::File => (0, 0),
        };
        (0..count).filter_map(move |i| tree.node(first.checked_add(i)?))
    }

    /// The child of directory `dir` called `name`.
    pub fn child(&self, dir: &Node<'a>, name: &[u8]) -> Option<Node<'a>> {
        self.children(dir).find(|child| child.name == name)
    }
}

impl Node<'_> {
    /// A file's size in bytes (0 for a directory).
    pub fn size(&self) -> u64 {
        match self.kind {
            NodeKind::File => self.b as u64,
            NodeKind::Directory => 0,
        }
    }
}

/// A file or directory to put into a tree.
#[cfg(feature = "alloc")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A file with its contents and modification time.
    File {
        /// Its name.
        name: alloc::vec::Vec<u8>,
        /// Its contents.
        data: alloc::vec::Vec<u8>,
        /// Nanoseconds since the epoch.
        mtime: u64,
    },
    /// A directory.
    Directory {
        /// Its name (ignored for a root).
        name: alloc::vec::Vec<u8>,
        /// What it holds (sorted by name when written).
        children: alloc::vec::Vec<Entry>,
        /// Nanoseconds since the epoch.
        mtime: u64,
    },
}

/// Encodes `roots` (directories) as a file-tree blob; `None` if it would exceed the
/// format's 4 GiB offsets.
#[cfg(feature = "alloc")]
pub fn encode(roots: &[Entry]) -> Option<alloc::vec::Vec<u8>> {
    use alloc::vec::Vec;
    struct Flat {
        kind: u32,
        name: Vec<u8>,
        a: u32,
        b: u32,
        mtime: u64,
        data: Option<Vec<u8>>,
    }
    // Breadth-first, so every directory's children are consecutive.
    let mut nodes: Vec<Flat> = Vec::new();
    let mut queue: Vec<(usize, &Entry)> = Vec::new();
    let mut root_indexes = Vec::new();
    for root in roots {
        root_indexes.push(nodes.len() as u32);
        nodes.push(Flat {
            kind: 1,
            name: Vec::new(),
            a: 0,
            b: 0,
            mtime: 0,
            data: None,
        });
        queue.push((nodes.len() - 1, root));
    }
    let mut next = 0;
    while next < queue.len() {
        let (index, entry) = queue[next];
        next += 1;
        match entry {
            Entry::File { data, mtime, .. } => {
                nodes[index].kind = 2;
                nodes[index].mtime = *mtime;
                nodes[index].data = Some(data.clone());
            }
            Entry::Directory {
                children, mtime, ..
            } => {
                let mut sorted: Vec<&Entry> = children.iter().collect();
                sorted.sort_by(|x, y| entry_name(x).cmp(entry_name(y)));
                nodes[index].mtime = *mtime;
                nodes[index].a = u32::try_from(nodes.len()).ok()?;
                nodes[index].b = u32::try_from(sorted.len()).ok()?;
                for child in sorted {
                    nodes.push(Flat {
                        kind: 1,
                        name: entry_name(child).to_vec(),
                        a: 0,
                        b: 0,
                        mtime: 0,
                        data: None,
                    });
                    queue.push((nodes.len() - 1, child));
                }
            }
        }
    }
    let mut blob = Vec::new();
    let mut out = Vec::new();
    crate::bytes::push_u32(&mut out, MAGIC);
    crate::bytes::push_u32(&mut out, VERSION);
    crate::bytes::push_u32(&mut out, u32::try_from(nodes.len()).ok()?);
    crate::bytes::push_u32(&mut out, u32::try_from(root_indexes.len()).ok()?);
    for root in root_indexes {
        crate::bytes::push_u32(&mut out, root);
    }
    for node in &nodes {
        let name_offset = u32::try_from(blob.len()).ok()?;
        blob.extend_from_slice(&node.name);
        let (a, b) = match &node.data {
            Some(data) => {
                let offset = u32::try_from(blob.len()).ok()?;
                blob.extend_from_slice(data);
                (offset, u32::try_from(data.len()).ok()?)
            }
            None => (node.a, node.b),
        };
        crate::bytes::push_u32(&mut out, node.kind);
        crate::bytes::push_u32(&mut out, name_offset);
        crate::bytes::push_u32(&mut out, u32::try_from(node.name.len()).ok()?);
        crate::bytes::push_u32(&mut out, a);
        crate::bytes::push_u32(&mut out, b);
        out.extend_from_slice(&node.mtime.to_le_bytes());
    }
    u32::try_from(blob.len()).ok()?;
    out.extend_from_slice(&blob);
    Some(out)
}

#[cfg(feature = "alloc")]
fn entry_name(entry: &Entry) -> &[u8] {
    match entry {
        Entry::File { name, .. } | Entry::Directory { name, .. } => name,
    }
}

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;

    fn file(name: &str, data: &str) -> Entry {
        Entry::File {
            name: name.as_bytes().to_vec(),
            data: data.as_bytes().to_vec(),
            mtime: 7,
        }
    }

    #[test]
    fn trees_round_trip_with_sorted_children() {
        let roots = vec![
            Entry::Directory {
                name: vec![],
                children: vec![
                    file("b.txt", "bee"),
                    Entry::Directory {
                        name: b"sub".to_vec(),
                        children: vec![file("inner", "x")],
                        mtime: 3,
                    },
                    file("a.txt", "ay"),
                ],
                mtime: 1,
            },
            Entry::Directory {
                name: vec![],
                children: vec![],
                mtime: 2,
            },
        ];
        let blob = encode(&roots).unwrap();
        let tree = FileTree::parse(&blob).unwrap();
        assert_eq!(tree.root_count(), 2);
        let root = tree.root(0).unwrap();
        let names: Vec<&[u8]> = tree.children(&root).map(|n| n.name).collect();
        assert_eq!(names, vec![&b"a.txt"[..], b"b.txt", b"sub"]);
        let b = tree.child(&root, b"b.txt").unwrap();
        assert_eq!((tree.data(&b), b.size(), b.mtime), (&b"bee"[..], 3, 7));
        let sub = tree.child(&root, b"sub").unwrap();
        assert_eq!(sub.kind, NodeKind::Directory);
        let inner = tree.child(&sub, b"inner").unwrap();
        assert_eq!(tree.data(&inner), b"x");
        assert!(tree.child(&root, b"missing").is_none());
        assert_eq!(tree.children(&tree.root(1).unwrap()).count(), 0);
        assert!(tree.root(2).is_none());
    }

    #[test]
    fn damaged_blobs_are_refused_or_read_safely() {
        let blob = encode(&[Entry::Directory {
            name: vec![],
            children: vec![file("f", "data")],
            mtime: 0,
        }])
        .unwrap();
        for cut in 0..blob.len() {
            if let Some(tree) = FileTree::parse(&blob[..cut])
                && let Some(root) = tree.root(0)
            {
                for child in tree.children(&root) {
                    let _ = tree.data(&child);
                }
            }
        }
        let mut bad = blob.clone();
        bad[0] ^= 1;
        assert!(FileTree::parse(&bad).is_none());
    }
}
