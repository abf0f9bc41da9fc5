//! The rights of descriptors opened through Rust's std and through raw preview1 calls
//! (as the `wasi` crate makes them): files opened each way, directories, hard links,
//! renumbered descriptors, stdio and sockets.
//!
//! Without arguments it prints what wasmtime decides too, and its output is compared with
//! wasmtime's; with `exact` it prints every right (see `tests/wasi/c/rights.c`).

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::fd::AsRawFd;

const RIGHTS_FD_READ: u64 = 1 << 1;
const RIGHTS_FD_WRITE: u64 = 1 << 6;
const RIGHTS_PATH_OPEN: u64 = 1 << 13;
const RIGHTS_FD_READDIR: u64 = 1 << 14;
const OFLAGS_CREAT: u16 = 1;
const OFLAGS_DIRECTORY: u16 = 2;
const FILETYPE_DIRECTORY: u8 = 3;
const FILETYPE_SOCKET_STREAM: u8 = 6;

mod raw {
    #[link(wasm_import_module = "wasi_snapshot_preview1")]
    unsafe extern "C" {
        pub fn fd_fdstat_get(fd: i32, stat: *mut u8) -> i32;
        pub fn fd_fdstat_set_rights(fd: i32, base: u64, inheriting: u64) -> i32;
        pub fn fd_prestat_get(fd: i32, prestat: *mut u8) -> i32;
        pub fn fd_renumber(from: i32, to: i32) -> i32;
        pub fn fd_close(fd: i32) -> i32;
        pub fn path_open(
            dir: i32,
            dirflags: i32,
            path: *const u8,
            path_len: usize,
            oflags: i32,
            base: u64,
            inheriting: u64,
            fdflags: i32,
            opened: *mut i32,
        ) -> i32;
        pub fn path_link(
            old_dir: i32,
            flags: i32,
            old: *const u8,
            old_len: usize,
            new_dir: i32,
            new: *const u8,
            new_len: usize,
        ) -> i32;
        pub fn sock_accept(fd: i32, flags: i32, opened: *mut i32) -> i32;
    }
}

struct Stat {
    filetype: u8,
    base: u64,
    inheriting: u64,
}

fn fdstat(fd: i32) -> Result<Stat, i32> {
    let mut buf = [0u64; 3];
    // SAFETY: the import writes a 24-byte fdstat into `buf`, which is that big.
    let errno = unsafe { raw::fd_fdstat_get(fd, buf.as_mut_ptr().cast()) };
    if errno != 0 {
        return Err(errno);
    }
    Ok(Stat {
        filetype: buf[0] as u8,
        base: buf[1],
        inheriting: buf[2],
    })
}

fn path_open(dir: i32, path: &str, oflags: u16, base: u64, inheriting: u64) -> Result<i32, i32> {
    let mut fd = -1;
    // SAFETY: `path` is valid for its length and `fd` is a valid out-pointer.
    let errno = unsafe {
        raw::path_open(
            dir,
            0,
            path.as_ptr(),
            path.len(),
            oflags as i32,
            base,
            inheriting,
            0,
            &mut fd,
        )
    };
    if errno == 0 { Ok(fd) } else { Err(errno) }
}

fn close(fd: i32) {
    // SAFETY: plain call; closing a descriptor std does not own.
    unsafe { raw::fd_close(fd) };
}

fn errno_name(errno: i32) -> String {
    match errno {
        0 => "SUCCESS".into(),
        8 => "BADF".into(),
        28 => "INVAL".into(),
        58 => "NOTSUP".into(),
        76 => "NOTCAPABLE".into(),
        other => format!("errno {other}"),
    }
}

fn result<T>(result: Result<T, i32>) -> String {
    errno_name(result.err().unwrap_or(0))
}

struct Report {
    exact: bool,
}

impl Report {
    fn describe(&self, what: &str, fd: i32) {
        match fdstat(fd) {
            Ok(stat) => {
                let has = |right| if stat.base & right != 0 { "yes" } else { "no" };
                if stat.filetype == FILETYPE_DIRECTORY {
                    println!(
                        "{what}: filetype {}, readdir {}, path_open {}",
                        stat.filetype,
                        has(RIGHTS_FD_READDIR),
                        has(RIGHTS_PATH_OPEN)
                    );
                } else {
                    println!(
                        "{what}: filetype {}, read {}, write {}",
                        stat.filetype,
                        has(RIGHTS_FD_READ),
                        has(RIGHTS_FD_WRITE)
                    );
                }
                if self.exact {
                    println!("    base {:#x}, inheriting {:#x}", stat.base, stat.inheriting);
                }
            }
            Err(errno) => println!("{what}: fdstat_get {}", errno_name(errno)),
        }
    }
}

fn io_result<T>(result: std::io::Result<T>) -> String {
    match result {
        Ok(_) => "ok".into(),
        Err(e) => format!("{:?}", e.kind()),
    }
}

/// The first preopen and the first listening socket among fds 3..15.
fn granted() -> (i32, Option<i32>) {
    let mut preopen = -1;
    let mut listener = None;
    for fd in 3..16 {
        let mut prestat = [0u32; 2];
        // SAFETY: the import writes an 8-byte prestat into `prestat`.
        if preopen < 0 && unsafe { raw::fd_prestat_get(fd, prestat.as_mut_ptr().cast()) } == 0 {
            preopen = fd;
        }
        if listener.is_none()
            && fdstat(fd).is_ok_and(|stat| stat.filetype == FILETYPE_SOCKET_STREAM)
        {
            listener = Some(fd);
        }
    }
    (preopen, listener)
}

fn main() {
    let report = Report {
        exact: std::env::args().nth(1).as_deref() == Some("exact"),
    };
    let (preopen, listener) = granted();
    report.describe("stdin", 0);
    report.describe("stdout", 1);
    report.describe("stderr", 2);
    report.describe("preopen", preopen);

    // std's ways of opening a file.
    let created = File::create("/sandbox/f").unwrap();
    report.describe("File::create", created.as_raw_fd());
    drop(created);
    let reading = File::open("/sandbox/f").unwrap();
    report.describe("File::open", reading.as_raw_fd());
    println!("    write: {}", io_result((&reading).write(b"x")));
    let writing = OpenOptions::new().write(true).open("/sandbox/f").unwrap();
    report.describe("OpenOptions write", writing.as_raw_fd());
    println!("    read: {}", io_result((&writing).read(&mut [0; 1])));
    let appending = OpenOptions::new().append(true).open("/sandbox/f").unwrap();
    report.describe("OpenOptions append", appending.as_raw_fd());
    let both = OpenOptions::new().read(true).write(true).open("/sandbox/f").unwrap();
    report.describe("OpenOptions read and write", both.as_raw_fd());
    drop((reading, writing, appending, both));

    // Raw path_open, as the `wasi` crate calls it.
    let write_only = path_open(preopen, "f", 0, RIGHTS_FD_WRITE, 0).unwrap();
    report.describe("path_open with fd_write", write_only);
    close(write_only);
    let read_only = path_open(preopen, "f", 0, RIGHTS_FD_READ, 0).unwrap();
    report.describe("path_open with fd_read", read_only);
    close(read_only);
    let dir = path_open(
        preopen,
        "sub",
        OFLAGS_DIRECTORY,
        RIGHTS_FD_READDIR | RIGHTS_PATH_OPEN,
        RIGHTS_FD_READ | RIGHTS_FD_WRITE,
    )
    .unwrap();
    report.describe("path_open of a directory", dir);
    let beneath = path_open(dir, "inner.txt", 0, RIGHTS_FD_READ | RIGHTS_FD_WRITE, 0);
    println!(
        "    open inner.txt for reading and writing: {}",
        result(beneath)
    );
    if let Ok(fd) = beneath {
        report.describe("  file beneath it", fd);
        close(fd);
    }
    close(dir);
    let listed = fs::read_dir("/sandbox/sub").unwrap().count();
    println!("fs::read_dir(/sandbox/sub): {listed} entries");

    // A hard link, opened the same way as the original: the same rights.
    // SAFETY: both names are valid for their lengths.
    let linked = unsafe { raw::path_link(preopen, 0, "f".as_ptr(), 1, preopen, "g".as_ptr(), 1) };
    println!("path_link f g: {}", errno_name(linked));
    let f = path_open(preopen, "f", OFLAGS_CREAT, RIGHTS_FD_READ | RIGHTS_FD_WRITE, 0).unwrap();
    let g = path_open(preopen, "g", OFLAGS_CREAT, RIGHTS_FD_READ | RIGHTS_FD_WRITE, 0).unwrap();
    let same = match (fdstat(f), fdstat(g)) {
        (Ok(a), Ok(b)) => a.base == b.base && a.inheriting == b.inheriting,
        _ => false,
    };
    println!("f and g have the same rights: {same}");

    // Renumbering keeps the rights.
    let write_only = path_open(preopen, "f", 0, RIGHTS_FD_WRITE, 0).unwrap();
    let before = fdstat(write_only).map(|s| s.base);
    // SAFETY: plain call on two open descriptors.
    let renumbered = unsafe { raw::fd_renumber(write_only, g) };
    println!(
        "fd_renumber: {}, same rights: {}",
        errno_name(renumbered),
        before == fdstat(g).map(|s| s.base)
    );
    report.describe("  renumbered", g);
    close(g);

    if report.exact {
        // SAFETY: plain calls.
        let dropped = unsafe { raw::fd_fdstat_set_rights(f, RIGHTS_FD_READ, 0) };
        println!("drop fd_write: {}", errno_name(dropped));
        report.describe("  after dropping", f);
        // SAFETY: plain call.
        let regained =
            unsafe { raw::fd_fdstat_set_rights(f, RIGHTS_FD_READ | RIGHTS_FD_WRITE, 0) };
        println!("  take it back: {}", errno_name(regained));
    }
    close(f);
    fs::remove_file("/sandbox/g").unwrap();
    fs::remove_file("/sandbox/f").unwrap();

    if let Some(listener) = listener {
        report.describe("listening socket", listener);
        let mut connection = -1;
        // SAFETY: `connection` is a valid out-pointer.
        let accepted = unsafe { raw::sock_accept(listener, 0, &mut connection) };
        println!("sock_accept: {}", errno_name(accepted));
        if accepted == 0 {
            report.describe("  connection", connection);
            close(connection);
        }
    }
}
