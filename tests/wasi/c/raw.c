// Preview1 calls made directly (wasi/api.h and raw imports), for the errnos and
// behaviours libc hides: preopen names, renumbering, descriptor kinds, path_open
// flag errors, readdir truncation, readlink truncation, trailing slashes, and the
// errors every runtime must agree on.
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <wasi/api.h>

// Raw imports, where the path length must be given explicitly (api.h uses strlen).
__attribute__((import_module("wasi_snapshot_preview1"), import_name("path_open")))
int raw_path_open(int fd, int dirflags, const char *path, int path_len, int oflags,
                  long long base, long long inheriting, int fdflags, int *opened);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("path_filestat_get")))
int raw_path_filestat_get(int fd, int flags, const char *path, int path_len, void *buf);

static const char *name(int e) {
    static char other[16];
    switch (e) {
    case 0: return "SUCCESS";
    case __WASI_ERRNO_BADF: return "BADF";
    case __WASI_ERRNO_BUSY: return "BUSY";
    case __WASI_ERRNO_EXIST: return "EXIST";
    case __WASI_ERRNO_ILSEQ: return "ILSEQ";
    case __WASI_ERRNO_INVAL: return "INVAL";
    case __WASI_ERRNO_ISDIR: return "ISDIR";
    case __WASI_ERRNO_LOOP: return "LOOP";
    case __WASI_ERRNO_NAMETOOLONG: return "NAMETOOLONG";
    case __WASI_ERRNO_NOENT: return "NOENT";
    case __WASI_ERRNO_NOTDIR: return "NOTDIR";
    case __WASI_ERRNO_NOTEMPTY: return "NOTEMPTY";
    case __WASI_ERRNO_NOTSOCK: return "NOTSOCK";
    case __WASI_ERRNO_PERM: return "PERM";
    case __WASI_ERRNO_SPIPE: return "SPIPE";
    default: snprintf(other, sizeof other, "errno %d", e); return other;
    }
}

static void show(const char *what, int e) { printf("%-52s %s\n", what, name(e)); }

static int open_at(int dir, const char *path, int oflags, long long rights, int fdflags, int *fd) {
    return __wasi_path_open(dir, 0, path, oflags, rights, rights, fdflags, fd);
}

#define ALL_RIGHTS 0x1fffffffLL
#define READ_RIGHTS (__WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_SEEK | __WASI_RIGHTS_FD_TELL)
// What a directory is opened with to be read and opened beneath.
#define DIR_READ_RIGHTS (READ_RIGHTS | __WASI_RIGHTS_FD_READDIR | __WASI_RIGHTS_PATH_OPEN)

int main(void) {
    // Preopens: names and errors. The grants are /sandbox (fd 3) and /second (fd 4).
    for (int fd = 3; fd <= 4; fd++) {
        __wasi_prestat_t prestat;
        int e = __wasi_fd_prestat_get(fd, &prestat);
        char buf[32] = {0};
        int e2 = __wasi_fd_prestat_dir_name(fd, (uint8_t *)buf, prestat.u.dir.pr_name_len);
        printf("fd %d: prestat %s, name %s \"%s\" (%zu bytes)\n", fd, name(e), name(e2), buf,
               (size_t)prestat.u.dir.pr_name_len);
        show("  dir_name into a buffer one byte short",
             __wasi_fd_prestat_dir_name(fd, (uint8_t *)buf, prestat.u.dir.pr_name_len - 1));
    }
    __wasi_prestat_t prestat;
    show("prestat_get(5), past the preopens", __wasi_fd_prestat_get(5, &prestat));
    show("prestat_get(1), stdout", __wasi_fd_prestat_get(1, &prestat));
    char small[8];
    show("prestat_dir_name(1), stdout", __wasi_fd_prestat_dir_name(1, (uint8_t *)small, 8));

    // Descriptor kinds.
    int file, dir, other;
    show("open given.txt", open_at(3, "given.txt", 0, ALL_RIGHTS, 0, &file));
    show("open sub (no O_DIRECTORY, read rights)", open_at(3, "sub", 0, DIR_READ_RIGHTS, 0, &dir));
    __wasi_fdstat_t stat;
    show("fdstat_get(file)", __wasi_fd_fdstat_get(file, &stat));
    printf("  filetype %d\n", stat.fs_filetype);
    show("fdstat_get(sub)", __wasi_fd_fdstat_get(dir, &stat));
    printf("  filetype %d\n", stat.fs_filetype);
    show("fdstat_get(preopen)", __wasi_fd_fdstat_get(3, &stat));
    printf("  filetype %d\n", stat.fs_filetype);
    show("prestat_get(a directory that is not a preopen)", __wasi_fd_prestat_get(dir, &prestat));
    show("path_open with a file as the directory", open_at(file, "x", 0, ALL_RIGHTS, 0, &other));
    show("path_filestat_get with a file as the directory",
         __wasi_path_filestat_get(file, 0, "x", &(__wasi_filestat_t){0}));
    show("path_create_directory with stdin as the directory", __wasi_path_create_directory(0, "x"));
    __wasi_filesize_t position;
    show("seek on a directory", __wasi_fd_seek(dir, 0, __WASI_WHENCE_SET, &position));
    size_t count;
    char byte;
    __wasi_iovec_t iov = {(uint8_t *)&byte, 1};
    show("read from a directory", __wasi_fd_read(dir, &iov, 1, &count));
    uint8_t entries[256];
    show("readdir on a file", __wasi_fd_readdir(file, entries, sizeof entries, 0, &count));
    show("sock_accept on a file", __wasi_sock_accept(file, 0, &other));
    show("read from stdout", __wasi_fd_read(1, &iov, 1, &count));
    __wasi_ciovec_t ciov = {(const uint8_t *)"x", 1};
    show("write to stdin", __wasi_fd_write(0, &ciov, 1, &count));
    show("pread from stdin (a pipe)", __wasi_fd_pread(0, &iov, 1, 0, &count));
    show("pwrite to stdout (a pipe)", __wasi_fd_pwrite(1, &ciov, 1, 0, &count));
    show("seek on stdout", __wasi_fd_seek(1, 0, __WASI_WHENCE_CUR, &position));
    __wasi_filestat_t stdout_stat;
    show("filestat_get(stdout)", __wasi_fd_filestat_get(1, &stdout_stat));
    printf("  filetype %d, ino %llu, size %llu (nothing of the host file)\n", stdout_stat.filetype,
           (unsigned long long)stdout_stat.ino, (unsigned long long)stdout_stat.size);
    show("tell on stdin (a pipe)", __wasi_fd_tell(0, &position));

    // Renumbering.
    int second;
    show("open sub/inner.txt", open_at(3, "sub/inner.txt", 0, ALL_RIGHTS, 0, &second));
    show("renumber given.txt onto inner.txt", __wasi_fd_renumber(file, second));
    char text[32] = {0};
    __wasi_iovec_t text_iov = {(uint8_t *)text, sizeof text - 1};
    show("read the renumbered descriptor", __wasi_fd_read(second, &text_iov, 1, &count));
    printf("  read: %s", text);
    show("the old number is closed", __wasi_fd_fdstat_get(file, &stat));
    show("renumber onto a descriptor that is not open", __wasi_fd_renumber(second, 200));
    show("renumber onto itself", __wasi_fd_renumber(second, second));
    show("close it", __wasi_fd_close(second));
    show("close it again", __wasi_fd_close(second));

    // path_open flags.
    show("DIRECTORY|CREAT", open_at(3, "newdir", __WASI_OFLAGS_DIRECTORY | __WASI_OFLAGS_CREAT, ALL_RIGHTS, 0, &other));
    show("DIRECTORY|TRUNC", open_at(3, "sub", __WASI_OFLAGS_DIRECTORY | __WASI_OFLAGS_TRUNC, ALL_RIGHTS, 0, &other));
    show("DIRECTORY on a file", open_at(3, "given.txt", __WASI_OFLAGS_DIRECTORY, READ_RIGHTS, 0, &other));
    show("CREAT|EXCL on an existing file", open_at(3, "given.txt", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_EXCL, ALL_RIGHTS, 0, &other));
    show("a directory with write rights", open_at(3, "sub", 0, ALL_RIGHTS, 0, &other));
    show("a symlink without SYMLINK_FOLLOW", open_at(3, "link_out", 0, READ_RIGHTS, 0, &other));
    show("a symlink without SYMLINK_FOLLOW, with DIRECTORY",
         open_at(3, "link_up", __WASI_OFLAGS_DIRECTORY, READ_RIGHTS, 0, &other));
    show("a trailing slash on a file", open_at(3, "given.txt/", 0, READ_RIGHTS, 0, &other));
    show("an empty path", open_at(3, "", 0, READ_RIGHTS, 0, &other));
    show("a path holding a NUL", raw_path_open(3, 0, "given.txt\0x", 11, 0, READ_RIGHTS, READ_RIGHTS, 0, &other));
    show("a path that is not UTF-8", raw_path_open(3, 0, "\xff\xfe", 2, 0, READ_RIGHTS, READ_RIGHTS, 0, &other));
    char long_name[300];
    memset(long_name, 'n', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = 0;
    show("a 299-byte name", open_at(3, long_name, 0, READ_RIGHTS, 0, &other));
    show("an escape through a non-preopen directory", open_at(dir, "../given.txt", 0, READ_RIGHTS, 0, &other));
    show("APPEND", open_at(3, "given.txt", 0, ALL_RIGHTS, __WASI_FDFLAGS_APPEND, &other));
    if (__wasi_fd_fdstat_get(other, &stat) == 0) printf("  fdflags %d\n", stat.fs_flags);
    show("fdstat_set_flags(NONBLOCK) replaces APPEND", __wasi_fd_fdstat_set_flags(other, __WASI_FDFLAGS_NONBLOCK));
    if (__wasi_fd_fdstat_get(other, &stat) == 0) printf("  fdflags %d\n", stat.fs_flags);
    show("fdstat_set_flags(SYNC)", __wasi_fd_fdstat_set_flags(other, __WASI_FDFLAGS_SYNC));
    show("set_times with both ATIM and ATIM_NOW",
         __wasi_fd_filestat_set_times(other, 0, 0, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_ATIM_NOW));
    show("close it", __wasi_fd_close(other));

    // fd_readdir: a buffer too small for one entry is filled to the last byte.
    size_t used;
    show("readdir into 10 bytes", __wasi_fd_readdir(dir, entries, 10, 0, &used));
    printf("  used %zu\n", used);
    show("readdir into 0 bytes", __wasi_fd_readdir(dir, entries, 0, 0, &used));
    printf("  used %zu\n", used);
    show("readdir into 256 bytes", __wasi_fd_readdir(dir, entries, sizeof entries, 0, &used));
    int names = 0;
    for (size_t at = 0; at + sizeof(__wasi_dirent_t) <= used;) {
        __wasi_dirent_t entry;
        memcpy(&entry, entries + at, sizeof entry);
        at += sizeof entry + entry.d_namlen;
        if (at <= used) names++;
    }
    printf("  complete entries: %d (., .., inner.txt, deep_out)\n", names);
    // `..` must not reveal the directory outside: it reports the directory itself.
    uint64_t dot_ino = 0, dotdot_ino = 1;
    for (size_t at = 0; at + sizeof(__wasi_dirent_t) <= used;) {
        __wasi_dirent_t entry;
        memcpy(&entry, entries + at, sizeof entry);
        const char *entry_name = (const char *)entries + at + sizeof entry;
        if (entry.d_namlen == 1 && entry_name[0] == '.') dot_ino = entry.d_ino;
        if (entry.d_namlen == 2 && entry_name[0] == '.' && entry_name[1] == '.') dotdot_ino = entry.d_ino;
        at += sizeof entry + entry.d_namlen;
    }
    printf("  .. has the inode of .: %s\n", dot_ino == dotdot_ino ? "yes" : "no");

    // Paths: readlink truncation, trailing slashes, dots.
    char target[64] = {0};
    show("readlink link_out into 6 bytes", __wasi_path_readlink(3, "link_out", (uint8_t *)target, 6, &used));
    printf("  %zu bytes: %s\n", used, target);
    show("readlink of a regular file", __wasi_path_readlink(3, "given.txt", (uint8_t *)target, 6, &used));
    __wasi_filestat_t filestat;
    show("filestat_get link_out without following", __wasi_path_filestat_get(3, 0, "link_out", &filestat));
    printf("  filetype %d\n", filestat.filetype);
    show("filestat_get link_out following", __wasi_path_filestat_get(3, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "link_out", &filestat));
    show("filestat_get given.txt/ (trailing slash)", __wasi_path_filestat_get(3, 0, "given.txt/", &filestat));
    show("filestat_get given.txt/ following",
         __wasi_path_filestat_get(3, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "given.txt/", &(__wasi_filestat_t){0}));
    printf("  filetype %d, size %llu\n", filestat.filetype, (unsigned long long)filestat.size);
    show("filestat_get sub/..", __wasi_path_filestat_get(3, 0, "sub/..", &filestat));
    show("filestat_get ..", __wasi_path_filestat_get(3, 0, "..", &filestat));
    show("create_directory .", __wasi_path_create_directory(3, "."));
    show("create_directory sub/..", __wasi_path_create_directory(3, "sub/.."));
    show("remove_directory .", __wasi_path_remove_directory(3, "."));
    show("remove_directory sub (not empty)", __wasi_path_remove_directory(3, "sub"));
    show("remove_directory given.txt", __wasi_path_remove_directory(3, "given.txt"));
    show("unlink_file sub", __wasi_path_unlink_file(3, "sub"));
    show("unlink_file given.txt/", __wasi_path_unlink_file(3, "given.txt/"));
    show("rename . to x", __wasi_path_rename(3, ".", 3, "x"));
    show("rename sub into itself", __wasi_path_rename(3, "sub", 3, "sub/inside"));
    show("link with SYMLINK_FOLLOW", __wasi_path_link(3, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "given.txt", 3, "hard"));
    show("link a directory", __wasi_path_link(3, 0, "sub", 3, "hardsub"));
    show("link across the two preopens", __wasi_path_link(3, 0, "given.txt", 4, "from_sandbox.txt"));
    show("link link_out/ (a trailing slash follows the link)", __wasi_path_link(3, 0, "link_out/", 3, "x"));
    show("link link_up/ (a directory outside)", __wasi_path_link(3, 0, "link_up/", 3, "x"));
    show("link sub/ (a directory)", __wasi_path_link(3, 0, "sub/", 3, "x"));
    show("link given.txt/", __wasi_path_link(3, 0, "given.txt/", 3, "x"));
    int readonly;
    show("open given.txt read-only", open_at(3, "given.txt", 0, READ_RIGHTS, 0, &readonly));
    show("  set_size on it", __wasi_fd_filestat_set_size(readonly, 0));
    show("  close it", __wasi_fd_close(readonly));
    show("rename across the two preopens", __wasi_path_rename(4, "from_sandbox.txt", 3, "back.txt"));
    show("symlink with an empty target", __wasi_path_symlink("", 3, "empty_link"));
    show("set_times with flags 0 on a missing file",
         __wasi_path_filestat_set_times(3, 0, "missing", 0, 0, 0));

    // poll_oneoff errors.
    __wasi_subscription_t subs[2] = {0};
    __wasi_event_t events[2];
    show("poll_oneoff with no subscriptions", __wasi_poll_oneoff(subs, events, 0, &used));
    subs[0].u.tag = __WASI_EVENTTYPE_FD_READ;
    subs[0].u.u.fd_read.file_descriptor = 99;
    show("poll_oneoff on a descriptor that is not open", __wasi_poll_oneoff(subs, events, 1, &used));
    subs[0].u.u.fd_read.file_descriptor = dir;
    show("poll_oneoff reading a directory", __wasi_poll_oneoff(subs, events, 1, &used));
    subs[0].u.tag = __WASI_EVENTTYPE_FD_WRITE;
    subs[0].u.u.fd_write.file_descriptor = 0;
    show("poll_oneoff writing stdin", __wasi_poll_oneoff(subs, events, 1, &used));
    subs[0].u.tag = __WASI_EVENTTYPE_CLOCK;
    subs[0].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
    subs[0].u.u.clock.timeout = 1000000;
    subs[0].userdata = 42;
    subs[1] = subs[0];
    subs[1].u.u.clock.timeout = 5000000000LL;
    subs[1].userdata = 43;
    show("poll_oneoff with a 1 ms and a 5 s clock", __wasi_poll_oneoff(subs, events, 2, &used));
    printf("  %zu event(s), first for userdata %llu, type %d, error %d\n", used,
           (unsigned long long)events[0].userdata, events[0].type, events[0].error);

    show("close the preopen /second", __wasi_fd_close(4));
    show("prestat_get on it afterwards", __wasi_fd_prestat_get(4, &prestat));
    return 0;
}
