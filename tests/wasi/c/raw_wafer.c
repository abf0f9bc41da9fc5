// What wafer implements beyond the reference runtime (wasmtime 49 answers NOTSUP or
// EBADF for these): fd_allocate, shrinking rights with fd_fdstat_set_rights, the
// CPU-time clocks, proc_raise, opening with the sync flags, syncing a directory, setting
// a preopen's times, poll byte counts for files, and resuming readdir from any cookie.
// It checks arguments wasmtime would trap on (undefined flag bits, overlapping
// poll_oneoff arrays) and ends by raising SIGQUIT, whose default action ends the process
// (status 131) and would dump core: the test allows core dumps and checks that no core
// file appears in the working directory.
#include <stdio.h>
#include <string.h>
#include <wasi/api.h>

// wasi-libc no longer declares proc_raise.
__attribute__((import_module("wasi_snapshot_preview1"), import_name("proc_raise")))
int proc_raise(int signal);
// Raw imports taking whole i32s, to pass bits api.h's narrow types cannot carry.
__attribute__((import_module("wasi_snapshot_preview1"), import_name("fd_fdstat_set_flags")))
int raw_fd_fdstat_set_flags(int fd, int flags);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("sock_shutdown")))
int raw_sock_shutdown(int fd, int how);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("fd_advise")))
int raw_fd_advise(int fd, long long offset, long long len, int advice);
enum { SIGNAL_QUIT = 3, SIGNAL_CHLD = 16, SIGNAL_URG = 22 };

static const char *name(int e) {
    static char other[16];
    switch (e) {
    case 0: return "SUCCESS";
    case __WASI_ERRNO_BADF: return "BADF";
    case __WASI_ERRNO_INVAL: return "INVAL";
    case __WASI_ERRNO_NOTCAPABLE: return "NOTCAPABLE";
    default: snprintf(other, sizeof other, "errno %d", e); return other;
    }
}

static void show(const char *what, int e) { printf("%-52s %s\n", what, name(e)); }

#define ALL_RIGHTS 0x1fffffffLL

static __wasi_filesize_t size_of(int fd) {
    __wasi_filestat_t stat;
    return __wasi_fd_filestat_get(fd, &stat) == 0 ? stat.size : (__wasi_filesize_t)-1;
}

int main(void) {
    int fd, ro;
    show("create alloc.bin", __wasi_path_open(3, 0, "alloc.bin", __WASI_OFLAGS_CREAT, ALL_RIGHTS, ALL_RIGHTS, 0, &fd));
    show("fd_allocate(0, 1000)", __wasi_fd_allocate(fd, 0, 1000));
    printf("  size %llu\n", (unsigned long long)size_of(fd));
    show("fd_allocate(4000, 96)", __wasi_fd_allocate(fd, 4000, 96));
    printf("  size %llu\n", (unsigned long long)size_of(fd));
    show("fd_allocate(0, 10) leaves the size alone", __wasi_fd_allocate(fd, 0, 10));
    printf("  size %llu\n", (unsigned long long)size_of(fd));
    show("open given.txt read-only", __wasi_path_open(3, 0, "given.txt", 0, __WASI_RIGHTS_FD_READ, 0, 0, &ro));
    show("fd_allocate on it", __wasi_fd_allocate(ro, 0, 10));

    // Rights can be given up, never taken back.
    __wasi_fdstat_t stat;
    show("fdstat_get", __wasi_fd_fdstat_get(fd, &stat));
    __wasi_rights_t without_write = stat.fs_rights_base & ~__WASI_RIGHTS_FD_WRITE;
    show("set_rights: drop FD_WRITE", __wasi_fd_fdstat_set_rights(fd, without_write, stat.fs_rights_inheriting));
    size_t count;
    __wasi_ciovec_t ciov = {(const uint8_t *)"x", 1};
    show("  then write", __wasi_fd_write(fd, &ciov, 1, &count));
    show("  and take FD_WRITE back", __wasi_fd_fdstat_set_rights(fd, stat.fs_rights_base, stat.fs_rights_inheriting));
    show("set_rights: drop FD_SEEK", __wasi_fd_fdstat_set_rights(fd, without_write & ~__WASI_RIGHTS_FD_SEEK, 0));
    __wasi_filesize_t position;
    show("  then seek", __wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &position));
    show("  tell still works (FD_TELL)", __wasi_fd_tell(fd, &position));
    show("set_rights: an undefined bit", __wasi_fd_fdstat_set_rights(fd, 1ULL << 40, 0));
    show("close", __wasi_fd_close(fd));

    // The CPU-time clocks.
    for (int id = 2; id <= 3; id++) {
        __wasi_timestamp_t resolution, before, after;
        int e = __wasi_clock_res_get(id, &resolution);
        int e1 = __wasi_clock_time_get(id, 0, &before);
        volatile unsigned long spin = 0;
        for (unsigned long i = 0; i < 20000000; i++) spin = spin + i;
        (void)spin;
        int e2 = __wasi_clock_time_get(id, 0, &after);
        printf("clock %d: res %s, time %s %s, advances with work: %s\n", id, name(e), name(e1),
               name(e2), after > before ? "yes" : "no");
    }
    __wasi_timestamp_t ignored;
    show("clock 4", __wasi_clock_time_get(4, 0, &ignored));

    // proc_raise: signal 0 does nothing; SIGCHLD and SIGURG are ignored by default.
    show("proc_raise(0)", proc_raise(0));
    show("proc_raise(SIGCHLD)", proc_raise(SIGNAL_CHLD));
    show("proc_raise(SIGURG)", proc_raise(SIGNAL_URG));
    show("proc_raise(99)", proc_raise(99));

    // The sync flags at open.
    show("open with DSYNC", __wasi_path_open(3, 0, "given.txt", 0, ALL_RIGHTS, ALL_RIGHTS, __WASI_FDFLAGS_DSYNC, &fd));
    if (__wasi_fd_fdstat_get(fd, &stat) == 0) printf("  fdflags %d\n", stat.fs_flags);
    show("fdstat_set_flags keeping DSYNC, adding APPEND",
         __wasi_fd_fdstat_set_flags(fd, __WASI_FDFLAGS_DSYNC | __WASI_FDFLAGS_APPEND));
    if (__wasi_fd_fdstat_get(fd, &stat) == 0) printf("  fdflags %d\n", stat.fs_flags);
    show("close", __wasi_fd_close(fd));
    show("open with SYNC", __wasi_path_open(3, 0, "given.txt", 0, ALL_RIGHTS, ALL_RIGHTS, __WASI_FDFLAGS_SYNC, &fd));
    if (__wasi_fd_fdstat_get(fd, &stat) == 0) printf("  fdflags %d\n", stat.fs_flags);

    // poll_oneoff reports how much of a file is left to read.
    __wasi_filesize_t at;
    show("seek to 5", __wasi_fd_seek(fd, 5, __WASI_WHENCE_SET, &at));
    __wasi_subscription_t sub = {.userdata = 7, .u = {.tag = __WASI_EVENTTYPE_FD_READ}};
    sub.u.u.fd_read.file_descriptor = fd;
    __wasi_event_t event;
    show("poll the file for reading", __wasi_poll_oneoff(&sub, &event, 1, &count));
    printf("  %zu event, userdata %llu, nbytes %llu\n", count, (unsigned long long)event.userdata,
           (unsigned long long)event.fd_readwrite.nbytes);
    show("close", __wasi_fd_close(fd));

    // Directories: sync, and timestamps on a preopen.
    show("fd_sync on the preopen", __wasi_fd_sync(3));
    show("set_times on the preopen", __wasi_fd_filestat_set_times(3, 0, 1234567890000000000ULL, __WASI_FSTFLAGS_MTIM));
    __wasi_filestat_t filestat;
    if (__wasi_fd_filestat_get(3, &filestat) == 0)
        printf("  mtime %llu\n", (unsigned long long)filestat.mtim);

    // readdir one entry at a time, resuming from each entry's cookie.
    show("mkdir many", __wasi_path_create_directory(3, "many"));
    for (int i = 0; i < 40; i++) {
        char path[32];
        snprintf(path, sizeof path, "many/%02d", i);
        int f;
        if (__wasi_path_open(3, 0, path, __WASI_OFLAGS_CREAT, ALL_RIGHTS, ALL_RIGHTS, 0, &f) == 0)
            (void)__wasi_fd_close(f);
    }
    int many;
    show("open many", __wasi_path_open(3, 0, "many", __WASI_OFLAGS_DIRECTORY, __WASI_RIGHTS_FD_READDIR, 0, 0, &many));
    __wasi_dircookie_t cookie = 0;
    int seen = 0, dots = 0, sum = 0, calls = 0;
    for (;;) {
        uint8_t buf[sizeof(__wasi_dirent_t) + 2];
        size_t used;
        calls++;
        if (__wasi_fd_readdir(many, buf, sizeof buf, cookie, &used) != 0 || used < sizeof(__wasi_dirent_t))
            break;
        __wasi_dirent_t entry;
        memcpy(&entry, buf, sizeof entry);
        const char *entry_name = (const char *)buf + sizeof entry;
        if (entry.d_namlen == 2 && entry_name[0] >= '0' && entry_name[0] <= '9') {
            seen++;
            sum += (entry_name[0] - '0') * 10 + entry_name[1] - '0';
        } else {
            dots++;
        }
        cookie = entry.d_next;
    }
    printf("readdir one at a time: %d names summing to %d, %d dot entries, %d calls\n", seen, sum, dots, calls);
    for (int i = 0; i < 40; i++) {
        char path[32];
        snprintf(path, sizeof path, "many/%02d", i);
        (void)__wasi_path_unlink_file(3, path);
    }
    (void)__wasi_fd_close(many);
    show("rmdir many", __wasi_path_remove_directory(3, "many"));

    // Flags with bits beyond their type are refused, not truncated.
    show("fd_fdstat_set_flags with bit 16", raw_fd_fdstat_set_flags(3, 0x10000));
    show("sock_shutdown(stdout, 0x101)", raw_sock_shutdown(1, 0x101));
    show("fd_advise with advice 0x100", raw_fd_advise(3, 0, 0, 0x100));

    // poll_oneoff with events written over the subscriptions.
    __wasi_subscription_t subs[3] = {0};
    subs[0].userdata = 0xa;
    subs[0].u.tag = __WASI_EVENTTYPE_CLOCK;
    subs[0].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
    subs[1] = subs[0];
    subs[1].userdata = 0xb;
    subs[1].u.u.clock.timeout = 10000000000ULL;
    show("poll_oneoff, events overlapping the subscriptions",
         __wasi_poll_oneoff(subs, (__wasi_event_t *)&subs[1], 2, &count));

    // SIGQUIT's default action ends the process, without a core file.
    printf("raising SIGQUIT\n");
    fflush(stdout);
    proc_raise(SIGNAL_QUIT);
    printf("not reached\n");
    return 0;
}
