//! The platform layer: the one interface between the runtime and what it runs on.
//!
//! [`Platform`] is everything the host core and the rest of the runtime need from an
//! operating system or a board: descriptors and the filesystem beneath a directory,
//! sockets, waiting, clocks, randomness, the process, and memory for linear memories
//! and tables. Each platform implements it once in its own folder (`linux/`), and
//! [`Current`] names the one this build is for. Nothing outside this folder names an
//! OS: the WASI code above is written once against this trait.
//!
//! Errors are WASI errnos ([`Errno`]); a platform translates its own codes. What a
//! platform cannot do at all (sockets on a board) it answers with the errno a denied
//! grant would give on Linux.

pub mod catch;
pub mod isa;
#[cfg(target_os = "linux")]
pub mod linux;
#[cfg(target_os = "linux")]
pub use linux::Linux as Current;
#[cfg(target_os = "none")]
pub mod baremetal;
#[cfg(target_os = "none")]
pub use baremetal::BareMetal as Current;

pub use crate::errno::{Errno, Result};

/// A platform's name for an open descriptor: a Linux file descriptor, or an index into
/// a board's table of open files.
pub type RawHandle = i32;

/// Longest path the platform accepts, terminating NUL included.
pub const PATH_MAX: usize = 4096;

/// One buffer of a vectored read or write (`struct iovec` on Linux).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct IoVec {
    /// Start of the buffer.
    pub base: *mut u8,
    /// Length of the buffer.
    pub len: usize,
}

/// What a directory entry or a descriptor is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FileKind {
    /// Something else.
    #[default]
    Unknown,
    /// A block device.
    BlockDevice,
    /// A character device (a terminal, `/dev/null`).
    CharacterDevice,
    /// A directory.
    Directory,
    /// A regular file.
    RegularFile,
    /// A datagram socket.
    SocketDgram,
    /// A stream socket.
    SocketStream,
    /// A symbolic link.
    SymbolicLink,
    /// A named pipe.
    Fifo,
}

/// A file's metadata, times in nanoseconds since the epoch (0 for earlier times).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FileStat {
    /// Device id.
    pub dev: u64,
    /// Inode number.
    pub ino: u64,
    /// What it is.
    pub kind: FileKind,
    /// Hard link count.
    pub nlink: u64,
    /// Size in bytes.
    pub size: u64,
    /// Last access.
    pub atime: u64,
    /// Last modification.
    pub mtime: u64,
    /// Last status change.
    pub ctime: u64,
}

/// One timestamp to set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetTime {
    /// Leave it unchanged.
    Omit,
    /// The current time.
    Now,
    /// Nanoseconds since the epoch.
    At(u64),
}

/// Flags of an open descriptor that can be read back (and the first two changed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StatusFlags {
    /// Every write appends.
    pub append: bool,
    /// Operations that would block fail with `EAGAIN`.
    pub nonblock: bool,
    /// Writes wait for the data to be stored.
    pub dsync: bool,
    /// Reads wait for pending writes of what they read.
    pub rsync: bool,
    /// Writes wait for data and metadata to be stored.
    pub sync: bool,
}

/// How to open a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OpenOptions {
    /// Open for reading.
    pub read: bool,
    /// Open for writing.
    pub write: bool,
    /// Create the file if it does not exist.
    pub create: bool,
    /// With `create`: fail if it exists.
    pub exclusive: bool,
    /// Truncate to length 0.
    pub truncate: bool,
    /// Fail unless it is a directory.
    pub directory: bool,
    /// Follow a symlink in the last component.
    pub follow: bool,
    /// The descriptor's flags.
    pub status: StatusFlags,
}

/// Where a seek offset counts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Whence {
    /// The start of the file.
    Start,
    /// The current position.
    Current,
    /// The end of the file.
    End,
}

/// Expected access pattern, for `advise`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Advice {
    /// No advice.
    Normal,
    /// Sequential access.
    Sequential,
    /// Random access.
    Random,
    /// Needed soon.
    WillNeed,
    /// Not needed soon.
    DontNeed,
    /// Read once.
    NoReuse,
}

/// One entry of a directory listing.
#[derive(Debug, Clone, Copy)]
pub struct DirEntry<'a> {
    /// Where the entry after this one starts (a cookie for `read_dir`).
    pub next: u64,
    /// Inode number.
    pub ino: u64,
    /// What it is.
    pub kind: FileKind,
    /// Its name.
    pub name: &'a [u8],
}

/// A clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// Wall-clock time since the epoch.
    Realtime,
    /// A clock that never jumps, from an arbitrary start.
    Monotonic,
    /// CPU time of the process.
    ProcessCpuTime,
    /// CPU time of the thread.
    ThreadCpuTime,
}

/// What a waiter wants of a descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Interest {
    /// Data to read (or a connection to accept).
    #[default]
    Read,
    /// Room to write.
    Write,
}

/// What `poll` found about a descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Readiness {
    /// Reading would not block.
    pub readable: bool,
    /// Writing would not block.
    pub writable: bool,
    /// The peer hung up.
    pub hangup: bool,
    /// An error is pending.
    pub error: bool,
    /// The descriptor is not open.
    pub invalid: bool,
}

impl Readiness {
    /// Whether anything was reported.
    pub fn any(&self) -> bool {
        self.readable || self.writable || self.hangup || self.error || self.invalid
    }
}

/// One descriptor to wait on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PollFd {
    /// The descriptor.
    pub handle: RawHandle,
    /// What to wait for.
    pub interest: Interest,
    /// What was found (set by `poll`).
    pub ready: Readiness,
}

/// Which directions of a connection to shut down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shutdown {
    /// No more receiving.
    Read,
    /// No more sending.
    Write,
    /// Neither.
    Both,
}

/// An IP socket address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SocketAddr {
    /// IPv6 (all 16 bytes of `ip`) or IPv4 (the first 4).
    pub ipv6: bool,
    /// The address, in network byte order.
    pub ip: [u8; 16],
    /// The port.
    pub port: u16,
    /// IPv6 flow information.
    pub flow_info: u32,
    /// IPv6 scope.
    pub scope_id: u32,
}

/// A socket option with an integer value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketOption {
    /// TCP keep-alive on (1) or off (0).
    KeepAlive,
    /// Seconds idle before the first keep-alive probe.
    KeepIdle,
    /// Seconds between keep-alive probes.
    KeepInterval,
    /// Probes before the connection is given up.
    KeepCount,
    /// The unicast hop limit (IPv4 TTL).
    HopLimit,
    /// The receive buffer's size in bytes (as the platform reports it).
    ReceiveBuffer,
    /// The send buffer's size in bytes (as the platform reports it).
    SendBuffer,
    /// The pending error, as an errno of the platform's own, read once (0: none).
    Error,
    /// TCP segments go out at once (1), not held back to coalesce small ones (0).
    NoDelay,
}

/// Everything the runtime needs from what it runs on.
///
/// Every function that names a path resolves it beneath the directory descriptor it is
/// given and never outside: an absolute path, `..` past the directory, or a symlink
/// leading out fails with `EPERM` (wasmtime's errno for an escape). Functions taking
/// [`IoVec`]s are `unsafe` because the buffers are raw memory (guest memory, checked by
/// the caller).
pub trait Platform {
    // --- the process ---

    /// Ends the process (or stops the board) with `code`.
    fn exit(code: i32) -> !;
    /// The command-line arguments, `argv[0]` first.
    fn args() -> impl Iterator<Item = &'static [u8]> + Clone;
    /// The host environment as `KEY=VALUE` entries (what grants may pass on).
    fn host_env() -> impl Iterator<Item = &'static [u8]> + Clone;
    /// Lets other work run.
    fn yield_now();
    /// Raises a WASI signal's default action on the process (which may end it).
    fn raise(signal: u8) -> Result;
    /// Writes all of `bytes` to the console stream `stream` (1 = stdout, 2 = stderr),
    /// for the runtime's own reports; errors are ignored.
    fn console_write(stream: RawHandle, bytes: &[u8]);

    /// The lowest address of the stack compiled code runs on (just above its guard
    /// region, where there is one), or 0 while there is none: the stack limit of
    /// prologue checks is measured from it (see `crate::stack`).
    fn stack_bottom() -> usize;
    /// A new stack for a fiber (a component task that blocks on a stack of its own) of
    /// `size` bytes, or less where memory is scarce: (start of its guard region, lowest
    /// usable address, top); a platform without guard regions gives the lowest address
    /// twice. `None` when there is none to give.
    fn fiber_stack(size: usize) -> Option<(usize, usize, usize)>;
    /// Tells the fault handler the guard region of the fiber stack compiled code now
    /// runs on (`None`: the guest stack), so that an overflow there is reported as one.
    fn set_fiber_guard(guard: Option<(usize, usize)>);

    // --- traps and exceptions ---

    /// Runs `f`; a trap inside it ends `f` and is returned instead of ending the
    /// process (for the test harness).
    fn catch_traps<F: FnOnce()>(f: F) -> core::result::Result<(), crate::trap::TrapKind>;
    /// If [`Platform::catch_traps`] is running guest code, ends it with `kind` (as a
    /// trap would); returns otherwise.
    fn land_if_catching(kind: crate::trap::TrapKind);
    /// Continues at an exception handler of compiled code: jumps to `pc` with the stack
    /// pointer `sp`, frame pointer `fp` and `exception` in the first payload register.
    ///
    /// # Safety
    /// `pc` must be a landing pad of the frame at `fp`, whose stack pointer at the call
    /// was `sp`.
    unsafe fn resume(pc: usize, sp: usize, fp: usize, exception: *mut u8) -> !;

    // --- memory for linear memories, tables and exception objects ---

    /// Reserves address space for a linear memory that may grow to `max_bytes`;
    /// returns its base and the bytes it can really reach. A platform with guard
    /// regions reserves far more than that around it (wafer's 64-bit Linux images need
    /// no bounds checks); a board carves it from the RAM the image left free (images for
    /// it check bounds explicitly).
    fn reserve_linear_memory(max_bytes: u64) -> Option<(*mut u8, u64)>;
    /// Reserves a region that starts at `initial` bytes and may grow to `wanted`;
    /// returns its base and capacity (at least `initial`; less than `wanted` where
    /// memory is scarce).
    fn reserve_growable(initial: usize, wanted: usize) -> Option<(*mut u8, usize)>;
    /// Whether a table reserves its maximum up front and grows in place (address space
    /// is cheap: Linux), or holds only what it has and moves to a bigger block to grow
    /// ([`Platform::move_block`]; a board, where whatever is reserved is RAM taken from
    /// everything else). Compiled code for such a platform reloads a table's base after
    /// every call.
    const TABLES_MOVE: bool;
    /// Allocates a block of `len` bytes for a table that moves, zeroed. Only where
    /// [`Platform::TABLES_MOVE`].
    fn allocate_block(len: usize) -> Option<*mut u8>;
    /// Moves the block of `len` bytes at `base` (from [`Platform::allocate_block`]) to a
    /// new one of `new_len >= len` bytes, zeroed past `len`, and frees the old one; on
    /// failure the old block stays.
    ///
    /// # Safety
    /// `base` and `len` must describe a live block of this platform's, which nothing
    /// uses once this returns a new one.
    unsafe fn move_block(base: *mut u8, len: usize, new_len: usize) -> Option<*mut u8>;
    /// The granularity of [`Platform::commit`].
    fn page_size() -> usize;
    /// Reserves `len` bytes of address space, inaccessible until committed.
    fn reserve(len: usize) -> Option<*mut u8>;
    /// Reserves `len` bytes at exactly `addr`.
    ///
    /// # Safety
    /// With `replace`, an earlier reservation there is discarded: nothing may use it.
    unsafe fn reserve_at(addr: usize, len: usize, replace: bool) -> bool;
    /// Makes `len` bytes at `addr` (page-aligned, inside a reservation) usable, zeroed.
    ///
    /// # Safety
    /// The range must lie in a reservation of this process that no Rust reference
    /// points into.
    unsafe fn commit(addr: *mut u8, len: usize) -> bool;

    // --- descriptors ---

    /// Reads into `bufs` in one call: what is there, up to their total length.
    ///
    /// # Safety
    /// Every buffer must be writable for its length.
    unsafe fn read(handle: RawHandle, bufs: &[IoVec]) -> Result<usize>;
    /// Writes from `bufs` in one call; may write less than all of them.
    ///
    /// # Safety
    /// Every buffer must be readable for its length.
    unsafe fn write(handle: RawHandle, bufs: &[IoVec]) -> Result<usize>;
    /// Reads at `offset` without moving the position.
    ///
    /// # Safety
    /// As [`Platform::read`].
    unsafe fn pread(handle: RawHandle, bufs: &[IoVec], offset: u64) -> Result<usize>;
    /// Writes at `offset` without moving the position.
    ///
    /// # Safety
    /// As [`Platform::write`].
    unsafe fn pwrite(handle: RawHandle, bufs: &[IoVec], offset: u64) -> Result<usize>;
    /// Writes at the end of the file, whatever its flags, without moving the position.
    ///
    /// # Safety
    /// As [`Platform::write`].
    unsafe fn append(handle: RawHandle, bufs: &[IoVec]) -> Result<usize>;
    /// Moves the position; returns the new one.
    fn seek(handle: RawHandle, offset: i64, whence: Whence) -> Result<u64>;
    /// Closes the descriptor.
    fn close(handle: RawHandle);
    /// The descriptor's metadata.
    fn stat(handle: RawHandle) -> Result<FileStat>;
    /// What the descriptor is (cheaper than [`Platform::stat`]).
    fn kind(handle: RawHandle) -> Result<FileKind>;
    /// Whether the descriptor is a terminal.
    fn is_terminal(handle: RawHandle) -> bool;
    /// Sets the file's size.
    fn set_size(handle: RawHandle, size: u64) -> Result;
    /// Sets the file's access and modification times.
    fn set_times(handle: RawHandle, atime: SetTime, mtime: SetTime) -> Result;
    /// Stores the file's data and metadata.
    fn sync(handle: RawHandle) -> Result;
    /// Stores the file's data.
    fn datasync(handle: RawHandle) -> Result;
    /// Advises on how a range will be accessed.
    fn advise(handle: RawHandle, offset: u64, len: u64, advice: Advice) -> Result;
    /// Allocates storage for a range, extending the file if needed (`ENOTSUP` where
    /// the filesystem cannot).
    fn allocate(handle: RawHandle, offset: u64, len: u64) -> Result;
    /// The descriptor's flags.
    fn status_flags(handle: RawHandle) -> Result<StatusFlags>;
    /// Changes `append` and `nonblock` (the others are fixed at open).
    fn set_status_flags(handle: RawHandle, flags: StatusFlags) -> Result;
    /// Bytes that can be read now without blocking (for a pipe, socket or terminal).
    fn bytes_readable(handle: RawHandle) -> Result<u64>;
    /// Lists directory `handle` from `cookie` (0: the start; else an entry's `next`),
    /// calling `each` until it returns `false` or the listing ends. `..` of a directory
    /// reports the directory's own inode: its parent may be outside what was granted.
    fn read_dir(
        handle: RawHandle,
        cookie: u64,
        each: &mut dyn FnMut(DirEntry<'_>) -> bool,
    ) -> Result;

    // --- paths beneath a directory ---

    /// Opens the host directory `path` as the root of a grant.
    fn open_granted_dir(path: &[u8]) -> Result<RawHandle>;
    /// Opens `path` beneath `dir`.
    fn open_at(dir: RawHandle, path: &[u8], options: &OpenOptions) -> Result<RawHandle>;
    /// The metadata of what `path` names; without `follow` a final symlink is the link
    /// itself (and a trailing slash is ignored).
    fn stat_at(dir: RawHandle, path: &[u8], follow: bool) -> Result<FileStat>;
    /// Sets the times of what `path` names.
    fn set_times_at(
        dir: RawHandle,
        path: &[u8],
        follow: bool,
        atime: SetTime,
        mtime: SetTime,
    ) -> Result;
    /// Creates directory `path`.
    fn create_dir_at(dir: RawHandle, path: &[u8]) -> Result;
    /// Removes the empty directory `path`.
    fn remove_dir_at(dir: RawHandle, path: &[u8]) -> Result;
    /// Removes the file (or symlink) `path`.
    fn unlink_file_at(dir: RawHandle, path: &[u8]) -> Result;
    /// Reads symlink `path` into `target` (which holds [`PATH_MAX`] bytes); returns its
    /// length. A link pointing at an absolute path is refused (`EPERM`): it could never
    /// be followed beneath the directory.
    fn readlink_at(dir: RawHandle, path: &[u8], target: &mut [u8; PATH_MAX]) -> Result<usize>;
    /// Creates a hard link `new_path` beneath `new_dir` to `old_path` beneath `old_dir`
    /// (never following a symlink at the source).
    fn link_at(old_dir: RawHandle, old_path: &[u8], new_dir: RawHandle, new_path: &[u8]) -> Result;
    /// Renames `old_path` to `new_path`.
    fn rename_at(
        old_dir: RawHandle,
        old_path: &[u8],
        new_dir: RawHandle,
        new_path: &[u8],
    ) -> Result;
    /// Creates a symlink `path` pointing at the relative `target`.
    fn symlink_at(target: &[u8], dir: RawHandle, path: &[u8]) -> Result;

    // --- sockets ---

    /// A socket listening on a granted address.
    fn listen(addr: &wafer_abi::grants::ListenAddr) -> Result<RawHandle>;
    /// Accepts a connection.
    fn accept(listener: RawHandle, nonblock: bool) -> Result<RawHandle>;
    /// Receives into `bufs`; returns the bytes received and whether a datagram was cut
    /// short.
    ///
    /// # Safety
    /// As [`Platform::read`].
    unsafe fn recv(
        handle: RawHandle,
        bufs: &[IoVec],
        peek: bool,
        wait_all: bool,
    ) -> Result<(usize, bool)>;
    /// Sends from `bufs`.
    ///
    /// # Safety
    /// As [`Platform::write`].
    unsafe fn send(handle: RawHandle, bufs: &[IoVec]) -> Result<usize>;
    /// Shuts down one or both directions.
    fn shutdown(handle: RawHandle, how: Shutdown) -> Result;

    /// A new TCP (`datagram`: UDP) socket, non-blocking; an IPv6 one takes no IPv4
    /// traffic.
    fn socket(ipv6: bool, datagram: bool) -> Result<RawHandle>;
    /// Binds the socket to `addr`.
    fn bind(handle: RawHandle, addr: &SocketAddr) -> Result;
    /// Makes a TCP socket listen.
    fn listen_on(handle: RawHandle, backlog: u32) -> Result;
    /// Connects to `addr` (`EINPROGRESS` while a TCP connection is under way; `None`:
    /// dissolves a UDP socket's association).
    fn connect(handle: RawHandle, addr: Option<&SocketAddr>) -> Result;
    /// The socket's own address (`peer`: its peer's).
    fn socket_address(handle: RawHandle, peer: bool) -> Result<SocketAddr>;
    /// An option's value (`ipv6`: the socket's family, for the hop limit).
    fn socket_option(handle: RawHandle, option: SocketOption, ipv6: bool) -> Result<i32>;
    /// Sets an option.
    fn set_socket_option(handle: RawHandle, option: SocketOption, ipv6: bool, value: i32)
    -> Result;
    /// The pending error of a socket, as an errno (a connection that failed).
    fn socket_error(handle: RawHandle) -> Result<Option<Errno>>;
    /// Sends one datagram (or stream bytes) from `bufs` to `to`, or to the peer.
    ///
    /// # Safety
    /// As [`Platform::write`].
    unsafe fn send_to(handle: RawHandle, bufs: &[IoVec], to: Option<&SocketAddr>) -> Result<usize>;
    /// Receives one datagram into `bufs` (cut short if longer), with its sender.
    ///
    /// # Safety
    /// As [`Platform::read`].
    unsafe fn recv_from(handle: RawHandle, bufs: &[IoVec]) -> Result<(usize, SocketAddr)>;

    // --- waiting, time and randomness ---

    /// Waits until one of `fds` is ready or `timeout` nanoseconds pass (`None`: no
    /// limit); fills each one's `ready`. May return `EINTR`.
    fn poll(fds: &mut [PollFd], timeout: Option<u64>) -> Result<usize>;
    /// A readiness queue (epoll on Linux), for a loop watching many descriptors: each
    /// added once, then [`Platform::reactor_wait`] reports what became ready.
    fn reactor_new() -> Result<RawHandle>;
    /// Adds `handle` to `reactor` for reads and writes, reported with `token`;
    /// `edge`: only when its readiness changes (the caller reads or writes until it
    /// would block), else as long as it lasts.
    fn reactor_add(reactor: RawHandle, handle: RawHandle, token: u64, edge: bool) -> Result;
    /// Waits until something in `reactor` is ready or `timeout` nanoseconds pass
    /// (`None`: no limit); fills `events` with (token, readiness); returns how many.
    fn reactor_wait(
        reactor: RawHandle,
        events: &mut [(u64, Readiness)],
        timeout: Option<u64>,
    ) -> Result<usize>;
    /// Sleeps until the monotonic clock reaches `deadline`.
    fn sleep_until(deadline: u64) -> Result;
    /// The time of `clock`, in nanoseconds.
    fn now(clock: Clock) -> Result<u64>;
    /// The resolution of `clock`, in nanoseconds.
    fn resolution(clock: Clock) -> Result<u64>;
    /// Makes GPIO `pin` an output (`ENOSYS` where there is no GPIO).
    fn gpio_make_output(pin: u32) -> Result;
    /// Drives output `pin`.
    fn gpio_set(pin: u32, high: bool) -> Result;
    /// Reads `pin`'s level.
    fn gpio_get(pin: u32) -> Result<bool>;

    /// Fills `len` bytes at `dst` with random bytes from the best source there is.
    ///
    /// # Safety
    /// `dst` must be writable for `len` bytes.
    unsafe fn random(dst: *mut u8, len: usize) -> Result;
}
