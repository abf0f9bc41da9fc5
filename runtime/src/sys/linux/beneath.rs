//! Resolving a guest path beneath a preopened directory, race-free.
//!
//! A guest names files by paths relative to a directory it was granted. No path may lead
//! out of that directory: not by `..`, not by an absolute path, not through a symlink
//! (whatever its target). Checking a path string and then opening it would race with
//! a concurrent rename or symlink swap, so resolution itself is confined:
//!
//! - **`openat2(RESOLVE_BENEATH)`** (Linux 5.6+): the kernel walks the path and fails
//!   with `EXDEV` at any step that would leave the directory.
//! - **The fallback walk**, where `openat2` is missing (old kernels, some seccomp
//!   profiles, some emulators): one `openat(O_PATH | O_NOFOLLOW)` per component, each
//!   relative to the descriptor of the one before, so a rename elsewhere cannot
//!   redirect the walk. `..` pops back to a descriptor held open (never `openat(..)`),
//!   and symlinks are read and spliced into the remaining path by hand, with the same
//!   limit of 40 the kernel applies.
//!
//! Both report an escape as [`Errno::XDEV`].

use core::sync::atomic::{AtomicU8, Ordering};

use super::Errno;
use super::fs::{
    self, CPath, O_DIRECTORY, O_NOFOLLOW, O_PATH, OwnedFd, PATH_MAX, PathBuf, RESOLVE_BENEATH,
    RESOLVE_NO_MAGICLINKS, S_IFDIR, S_IFLNK,
};

/// Directories the fallback walk may hold open at once (the depth below the root that
/// a path may reach).
const MAX_DEPTH: usize = 128;
/// Symlinks followed while resolving one path, the kernel's own limit.
const MAX_SYMLINKS: u32 = 40;

const UNKNOWN: u8 = 0;
const AVAILABLE: u8 = 1;
const MISSING: u8 = 2;
/// Whether this kernel has `openat2`.
static OPENAT2: AtomicU8 = AtomicU8::new(UNKNOWN);

/// Opens `path` beneath the directory `root` with `open(2)` `flags` (`O_NOFOLLOW`: do
/// not follow a symlink in the last component) and `mode` for a created file.
pub fn open_beneath(root: i32, path: &[u8], flags: u32, mode: u32) -> Result<OwnedFd, Errno> {
    check_relative(path)?;
    if OPENAT2.load(Ordering::Relaxed) != MISSING {
        let mut buf = PathBuf::new();
        let c_path = buf.c_path(path)?;
        // `EAGAIN`: a rename or mount raced with the walk; the kernel asks for a retry.
        for _ in 0..8 {
            match fs::openat2(
                root,
                c_path,
                flags,
                mode,
                RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
            ) {
                Ok(fd) => {
                    OPENAT2.store(AVAILABLE, Ordering::Relaxed);
                    return Ok(OwnedFd::new(fd));
                }
                Err(Errno::NOSYS) => {
                    OPENAT2.store(MISSING, Ordering::Relaxed);
                    break;
                }
                Err(Errno::AGAIN) => continue,
                // Old seccomp profiles deny unknown system calls with EPERM; the walk
                // gives the real answer either way.
                Err(Errno::PERM) => break,
                Err(err) => return Err(err),
            }
        }
    }
    walk(root, path, flags, mode)
}

/// The walk without `openat2`, public for tests that compare the two.
pub fn open_beneath_by_walk(
    root: i32,
    path: &[u8],
    flags: u32,
    mode: u32,
) -> Result<OwnedFd, Errno> {
    check_relative(path)?;
    walk(root, path, flags, mode)
}

fn check_relative(path: &[u8]) -> Result<(), Errno> {
    match path.first() {
        None => Err(Errno::NOENT),
        Some(b'/') => Err(Errno::XDEV),
        Some(_) => Ok(()),
    }
}

/// The directories entered so far, each relative to the one before; closed on drop.
/// (Written with `get` rather than indexing: a panic path would pull `core::fmt` into
/// every image.)
struct DirStack {
    root: i32,
    fds: [i32; MAX_DEPTH],
    depth: usize,
}

impl DirStack {
    fn current(&self) -> i32 {
        self.depth
            .checked_sub(1)
            .and_then(|top| self.fds.get(top))
            .copied()
            .unwrap_or(self.root)
    }

    fn push(&mut self, fd: OwnedFd) -> Result<(), Errno> {
        let slot = self.fds.get_mut(self.depth).ok_or(Errno::NAMETOOLONG)?;
        *slot = fd.into_raw();
        self.depth += 1;
        Ok(())
    }

    /// Goes back to the parent; `..` at the root would leave it.
    fn pop(&mut self) -> Result<(), Errno> {
        let top = self.depth.checked_sub(1).ok_or(Errno::XDEV)?;
        if let Some(&fd) = self.fds.get(top) {
            fs::close(fd);
        }
        self.depth = top;
        Ok(())
    }
}

impl Drop for DirStack {
    fn drop(&mut self) {
        for &fd in self.fds.iter().take(self.depth) {
            fs::close(fd);
        }
    }
}

/// The part of the path still to resolve: `bytes[start..end]` of the active buffer. The
/// other buffer receives the path rewritten when a symlink is spliced in.
struct Pending {
    active: [u8; PATH_MAX],
    spare: [u8; PATH_MAX],
    start: usize,
    end: usize,
}

impl Pending {
    fn new(path: &[u8]) -> Result<Pending, Errno> {
        let mut pending = Pending {
            active: [0; PATH_MAX],
            spare: [0; PATH_MAX],
            start: 0,
            end: path.len(),
        };
        pending
            .active
            .get_mut(..path.len())
            .ok_or(Errno::NAMETOOLONG)?
            .copy_from_slice(path);
        Ok(pending)
    }

    /// The next component (skipping slashes) as a range of the active buffer, and
    /// whether it is the last one; `None` when only slashes remain.
    fn next_component(&mut self) -> Option<(usize, usize, bool)> {
        let bytes = self.active.get(..self.end)?;
        let begin = self.start + bytes.get(self.start..)?.iter().position(|&b| b != b'/')?;
        let stop = bytes
            .get(begin..)?
            .iter()
            .position(|&b| b == b'/')
            .map_or(self.end, |at| begin + at);
        self.start = stop;
        Some((begin, stop, stop == self.end))
    }

    /// Whether only slashes remain: the component just taken was the last name, with a
    /// trailing slash.
    fn only_slashes_left(&self) -> bool {
        self.active
            .get(self.start..self.end)
            .is_some_and(|rest| rest.iter().all(|&b| b == b'/'))
    }

    fn component(&self, begin: usize, stop: usize) -> &[u8] {
        self.active.get(begin..stop).unwrap_or_default()
    }

    /// Replaces what is pending with the target of the symlink `name` in `dir`,
    /// followed by the rest of the path.
    fn splice_symlink(&mut self, dir: i32, name: CPath<'_>) -> Result<(), Errno> {
        let target_len = fs::readlinkat(dir, name, &mut self.spare)?;
        match self.spare.first() {
            _ if target_len == 0 => return Err(Errno::NOENT),
            _ if target_len >= PATH_MAX => return Err(Errno::NAMETOOLONG),
            Some(b'/') => return Err(Errno::XDEV),
            _ => {}
        }
        // The rest starts with its separating slash (or is empty).
        let rest = self.active.get(self.start..self.end).unwrap_or_default();
        let total = target_len + rest.len();
        self.spare
            .get_mut(target_len..total)
            .ok_or(Errno::NAMETOOLONG)?
            .copy_from_slice(rest);
        core::mem::swap(&mut self.active, &mut self.spare);
        self.start = 0;
        self.end = total;
        Ok(())
    }
}

fn walk(root: i32, path: &[u8], flags: u32, mode: u32) -> Result<OwnedFd, Errno> {
    let mut pending = Pending::new(path)?;
    let mut dirs = DirStack {
        root,
        fds: [0; MAX_DEPTH],
        depth: 0,
    };
    let follow_last = flags & O_NOFOLLOW == 0;
    let mut symlinks = 0;
    let mut name = PathBuf::new();
    loop {
        let Some((begin, stop, last)) = pending.next_component() else {
            // Only slashes were left: the path names the directory reached so far.
            return fs::openat(dirs.current(), CPath::DOT, flags, mode).map(OwnedFd::new);
        };
        let component = pending.component(begin, stop);
        match component {
            b"." => {
                if last {
                    return fs::openat(dirs.current(), CPath::DOT, flags, mode).map(OwnedFd::new);
                }
                continue;
            }
            b".." => {
                dirs.pop()?;
                if last {
                    return fs::openat(dirs.current(), CPath::DOT, flags, mode).map(OwnedFd::new);
                }
                continue;
            }
            _ => {}
        }
        // As the kernel: creating a name with a trailing slash is EISDIR, whatever the
        // name turns out to be.
        if !last && flags & fs::O_CREAT != 0 && pending.only_slashes_left() {
            return Err(Errno::ISDIR);
        }
        let c_name = name.c_path(component)?;
        let is_symlink = if last {
            match fs::openat(dirs.current(), c_name, flags | O_NOFOLLOW, mode) {
                Ok(fd) => {
                    let fd = OwnedFd::new(fd);
                    // With O_PATH, O_NOFOLLOW opens the link itself instead of failing.
                    if !(follow_last
                        && flags & O_PATH != 0
                        && fs::fstat(fd.raw())?.file_type() == S_IFLNK)
                    {
                        return Ok(fd);
                    }
                    true
                }
                // O_NOFOLLOW fails on a symlink: with ELOOP, or with ENOTDIR when
                // O_DIRECTORY is also set. Only reading the link tells which.
                Err(err @ (Errno::LOOP | Errno::NOTDIR)) if follow_last => {
                    let mut probe = [0u8; 1];
                    if fs::readlinkat(dirs.current(), c_name, &mut probe).is_err() {
                        return Err(err);
                    }
                    true
                }
                Err(err) => return Err(err),
            }
        } else {
            let fd = OwnedFd::new(fs::openat(dirs.current(), c_name, O_PATH | O_NOFOLLOW, 0)?);
            match fs::fstat(fd.raw())?.file_type() {
                S_IFDIR => {
                    dirs.push(fd)?;
                    false
                }
                S_IFLNK => true,
                _ => return Err(Errno::NOTDIR),
            }
        };
        if is_symlink {
            symlinks += 1;
            if symlinks > MAX_SYMLINKS {
                return Err(Errno::LOOP);
            }
            pending.splice_symlink(dirs.current(), c_name)?;
        }
    }
}

/// Opens the directory `path` names, beneath `root`, for use as the `dirfd` of other
/// `*at` calls.
pub fn open_dir_beneath(root: i32, path: &[u8]) -> Result<OwnedFd, Errno> {
    open_beneath(root, path, O_PATH | O_DIRECTORY, 0)
}

/// A path split into the directory holding its last component, opened beneath the
/// root, and that component.
#[derive(Debug)]
pub struct Located<'p> {
    root: i32,
    dir: Option<OwnedFd>,
    /// The last component, with any trailing slashes (which the kernel interprets); `.`
    /// when the path ends in `.` or `..` (then `dir` is the directory the path names).
    pub name: &'p [u8],
    dot: bool,
}

impl Located<'_> {
    /// The directory to pass as `dirfd`.
    pub fn dir(&self) -> i32 {
        self.dir.as_ref().map_or(self.root, OwnedFd::raw)
    }

    /// Whether the name ends in a slash (it then must be a directory, and the kernel
    /// follows a symlink there even without being asked to).
    pub fn has_trailing_slash(&self) -> bool {
        self.name.last() == Some(&b'/')
    }

    /// Whether the path ended in `.` or `..`.
    pub fn is_dot(&self) -> bool {
        self.dot
    }
}

/// Splits `path` into its directory (opened beneath `root`) and last component.
///
/// A last component of `.` or `..` is resolved with the rest of the path, in one
/// confined walk: the result is the directory the path names, with the name `.`. (Had
/// `..` been left for the `*at` call, a directory renamed out of the sandbox between
/// the check and the call would lead it outside.)
pub fn locate(root: i32, path: &[u8]) -> Result<Located<'_>, Errno> {
    check_relative(path)?;
    let trimmed = path.iter().rposition(|&b| b != b'/').map_or(0, |at| at + 1);
    let name_start = path
        .iter()
        .take(trimmed)
        .rposition(|&b| b == b'/')
        .map_or(0, |at| at + 1);
    let (dir_part, name) = path.split_at_checked(name_start).unwrap_or((&[], path));
    let bare = name
        .get(..trimmed.saturating_sub(name_start))
        .unwrap_or(name);
    if matches!(bare, b"." | b"..") {
        return Ok(Located {
            root,
            dir: Some(open_dir_beneath(root, path)?),
            name: b".",
            dot: true,
        });
    }
    let dir = if dir_part.is_empty() {
        None
    } else {
        Some(open_dir_beneath(root, dir_part)?)
    };
    Ok(Located {
        root,
        dir,
        name,
        dot: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::symlink;
    use std::path::Path;

    /// A scratch tree: `root/` (the preopen) holding `dir/file`, a symlink farm, and
    /// `outside` next to it.
    fn scratch() -> (tempdir::Dir, OwnedFd) {
        let dir = tempdir::Dir::new();
        let root = dir.path().join("root");
        std::fs::create_dir_all(root.join("dir/sub")).unwrap();
        std::fs::write(root.join("dir/file"), b"inside").unwrap();
        std::fs::write(dir.path().join("outside"), b"outside").unwrap();
        symlink("dir/file", root.join("good")).unwrap();
        symlink("../outside", root.join("up")).unwrap();
        symlink("/etc/passwd", root.join("abs")).unwrap();
        symlink("sub/..", root.join("dir/self")).unwrap();
        symlink("loop2", root.join("loop1")).unwrap();
        symlink("loop1", root.join("loop2")).unwrap();
        symlink("../../outside", root.join("dir/deep_up")).unwrap();
        let mut buf = PathBuf::new();
        let c = buf.c_path(root.as_os_str().as_bytes()).unwrap();
        let fd = fs::openat(-100, c, fs::O_RDONLY | O_DIRECTORY, 0).unwrap();
        (dir, OwnedFd::new(fd))
    }

    fn read_all(fd: &OwnedFd) -> Vec<u8> {
        let mut out = vec![0u8; 64];
        // SAFETY: `out` is writable for its length.
        let n = unsafe { super::super::read(fd.raw(), out.as_mut_ptr(), out.len()) }.unwrap();
        out.truncate(n);
        out
    }

    type Open = fn(i32, &[u8], u32, u32) -> Result<OwnedFd, Errno>;

    /// A NUL-terminated copy of `path`.
    struct Owned(Vec<u8>);

    impl Owned {
        fn c(&self) -> CPath<'_> {
            CPath::new(&self.0).unwrap()
        }
    }

    fn buf_path(path: &[u8]) -> Owned {
        let mut bytes = path.to_vec();
        bytes.push(0);
        Owned(bytes)
    }

    fn both(check: impl Fn(Open)) {
        check(open_beneath);
        check(open_beneath_by_walk);
    }

    #[test]
    fn paths_inside_resolve() {
        let (_tmp, root) = scratch();
        both(|open| {
            for path in [
                &b"dir/file"[..],
                b"good",
                b"dir/sub/../file",
                b"./dir//file",
                b"dir/self/file",
            ] {
                let fd = open(root.raw(), path, fs::O_RDONLY, 0)
                    .unwrap_or_else(|e| panic!("{}: {e:?}", String::from_utf8_lossy(path)));
                assert_eq!(read_all(&fd), b"inside");
            }
            assert!(open(root.raw(), b"dir/sub/", fs::O_RDONLY | O_DIRECTORY, 0).is_ok());
        });
    }

    #[test]
    fn escapes_fail_with_exdev() {
        let (_tmp, root) = scratch();
        both(|open| {
            for path in [
                &b"../outside"[..],
                b"dir/../../outside",
                b"/etc/passwd",
                b"up",
                b"abs",
                b"dir/deep_up",
                b"dir/sub/../../..",
                b"..",
            ] {
                assert_eq!(
                    open(root.raw(), path, fs::O_RDONLY, 0).err(),
                    Some(Errno::XDEV),
                    "{}",
                    String::from_utf8_lossy(path)
                );
            }
        });
    }

    #[test]
    fn symlinks_as_the_last_component() {
        let (_tmp, root) = scratch();
        both(|open| {
            // Not following: the link itself (O_PATH) or ELOOP.
            assert_eq!(
                open(root.raw(), b"up", fs::O_RDONLY | O_NOFOLLOW, 0).err(),
                Some(Errno::LOOP)
            );
            let link = open(root.raw(), b"up", O_PATH | O_NOFOLLOW, 0).unwrap();
            assert_eq!(fs::fstat(link.raw()).unwrap().file_type(), S_IFLNK);
            // Following: the target, beneath.
            let target = open(root.raw(), b"good", O_PATH, 0).unwrap();
            assert_eq!(fs::fstat(target.raw()).unwrap().file_type(), fs::S_IFREG);
            assert_eq!(
                open(root.raw(), b"loop1", fs::O_RDONLY, 0).err(),
                Some(Errno::LOOP)
            );
            // O_DIRECTORY with O_NOFOLLOW reports a symlink as ENOTDIR, not ELOOP.
            assert_eq!(
                open(root.raw(), b"up", fs::O_RDONLY | O_DIRECTORY, 0).err(),
                Some(Errno::XDEV)
            );
            assert!(open(root.raw(), b"dir/self", fs::O_RDONLY | O_DIRECTORY, 0).is_ok());
            assert_eq!(
                open(root.raw(), b"dir/file", fs::O_RDONLY | O_DIRECTORY, 0).err(),
                Some(Errno::NOTDIR)
            );
        });
    }

    #[test]
    fn missing_and_wrong_types() {
        let (_tmp, root) = scratch();
        both(|open| {
            assert_eq!(
                open(root.raw(), b"nope", fs::O_RDONLY, 0).err(),
                Some(Errno::NOENT)
            );
            assert_eq!(
                open(root.raw(), b"dir/file/x", fs::O_RDONLY, 0).err(),
                Some(Errno::NOTDIR)
            );
            assert_eq!(
                open(root.raw(), b"", fs::O_RDONLY, 0).err(),
                Some(Errno::NOENT)
            );
        });
    }

    #[test]
    fn creation_through_a_symlink_stays_beneath() {
        let (tmp, root) = scratch();
        symlink("../created_outside", tmp.path().join("root/dangling_up")).unwrap();
        symlink("dir/created", tmp.path().join("root/dangling_in")).unwrap();
        both(|open| {
            let flags = fs::O_WRONLY | fs::O_CREAT;
            assert_eq!(
                open(root.raw(), b"dangling_up", flags, 0o644).err(),
                Some(Errno::XDEV)
            );
            assert!(open(root.raw(), b"dangling_in", flags, 0o644).is_ok());
        });
        assert!(!Path::new(&tmp.path().join("created_outside")).exists());
        assert!(tmp.path().join("root/dir/created").exists());
    }

    #[test]
    fn locate_splits_and_confines_dots() {
        let (_tmp, root) = scratch();
        let located = locate(root.raw(), b"dir/sub/").unwrap();
        assert_eq!(located.name, b"sub/");
        assert!(located.has_trailing_slash());
        assert_eq!(locate(root.raw(), b"file").unwrap().dir(), root.raw());
        // `..` is resolved with the path: the directory it names, and the name `.`.
        let dots = locate(root.raw(), b"dir/sub/..").unwrap();
        assert!(dots.is_dot());
        assert_eq!(dots.name, b".");
        let stat = fs::statx(dots.dir(), CPath::DOT, 0).unwrap();
        let dir = fs::statx(root.raw(), buf_path(b"dir").c(), 0).unwrap();
        assert_eq!(stat.ino, dir.ino);
        assert_eq!(locate(root.raw(), b"..").err(), Some(Errno::XDEV));
        assert_eq!(locate(root.raw(), b"dir/../..").err(), Some(Errno::XDEV));
        assert_eq!(locate(root.raw(), b"/x").err(), Some(Errno::XDEV));
        assert_eq!(locate(root.raw(), b"up/x").err(), Some(Errno::XDEV));
    }

    /// A temporary directory removed on drop (std only, for the tests).
    mod tempdir {
        pub struct Dir(std::path::PathBuf);

        impl Dir {
            pub fn new() -> Dir {
                use std::sync::atomic::{AtomicU32, Ordering};
                static NEXT: AtomicU32 = AtomicU32::new(0);
                let path = std::env::temp_dir().join(format!(
                    "wafer-beneath-{}-{}",
                    std::process::id(),
                    NEXT.fetch_add(1, Ordering::Relaxed)
                ));
                std::fs::create_dir_all(&path).unwrap();
                Dir(path)
            }

            pub fn path(&self) -> &std::path::Path {
                &self.0
            }
        }

        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }
}
