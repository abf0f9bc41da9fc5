// The rights of every kind of descriptor: stdio, preopens, files and directories from
// path_open, hard-linked files, renumbered descriptors and sockets.
//
// Without arguments it prints what wasmtime decides too (which access rights a
// descriptor reports, the errnos of reading and writing outside them), so its output is
// compared with wasmtime's. With `exact` it prints every right as preview1 defines them:
// a new descriptor has the rights asked for in path_open, limited by the directory's
// inheriting rights and by what the descriptor can do; fd_fdstat_set_rights only drops
// them. wasmtime 49 reports all rights but those of the access mode a file was not
// opened for, and has no fd_fdstat_set_rights, so that half has its own expected file.
#include <stdio.h>
#include <string.h>
#include <wasi/api.h>

static int exact;

static const char *errno_name(int e) {
    static char other[16];
    switch (e) {
    case 0: return "SUCCESS";
    case __WASI_ERRNO_BADF: return "BADF";
    case __WASI_ERRNO_INVAL: return "INVAL";
    case __WASI_ERRNO_ISDIR: return "ISDIR";
    case __WASI_ERRNO_NOTCAPABLE: return "NOTCAPABLE";
    case __WASI_ERRNO_NOTSUP: return "NOTSUP";
    default: snprintf(other, sizeof other, "errno %d", e); return other;
    }
}

static const char *const right_names[] = {
    "fd_datasync", "fd_read", "fd_seek", "fd_fdstat_set_flags", "fd_sync", "fd_tell",
    "fd_write", "fd_advise", "fd_allocate", "path_create_directory", "path_create_file",
    "path_link_source", "path_link_target", "path_open", "fd_readdir", "path_readlink",
    "path_rename_source", "path_rename_target", "path_filestat_get",
    "path_filestat_set_size", "path_filestat_set_times", "fd_filestat_get",
    "fd_filestat_set_size", "fd_filestat_set_times", "path_symlink",
    "path_remove_directory", "path_unlink_file", "poll_fd_readwrite", "sock_shutdown",
    "sock_accept",
};

static void print_rights(const char *label, __wasi_rights_t rights) {
    printf("    %s %#llx:", label, (unsigned long long)rights);
    for (unsigned bit = 0; bit < sizeof right_names / sizeof *right_names; bit++) {
        if (rights & (1ULL << bit)) printf(" %s", right_names[bit]);
    }
    printf("\n");
}

static __wasi_fdstat_t stat_of(int fd) {
    __wasi_fdstat_t stat;
    memset(&stat, 0, sizeof stat);
    int e = __wasi_fd_fdstat_get(fd, &stat);
    if (e) printf("    fdstat_get: %s\n", errno_name(e));
    return stat;
}

static void describe(const char *what, int fd) {
    __wasi_fdstat_t stat = stat_of(fd);
    __wasi_rights_t base = stat.fs_rights_base;
#define HAS(right) (base & __WASI_RIGHTS_##right ? "yes" : "no")
    if (stat.fs_filetype == __WASI_FILETYPE_DIRECTORY) {
        printf("%s: filetype %d, readdir %s, path_open %s\n", what, stat.fs_filetype,
               HAS(FD_READDIR), HAS(PATH_OPEN));
    } else {
        printf("%s: filetype %d, read %s, write %s\n", what, stat.fs_filetype, HAS(FD_READ),
               HAS(FD_WRITE));
    }
#undef HAS
    if (exact) {
        print_rights("base", base);
        print_rights("inheriting", stat.fs_rights_inheriting);
    }
}

static int open_at(int dir, const char *path, int oflags, __wasi_rights_t base,
                   __wasi_rights_t inheriting, int *fd) {
    return __wasi_path_open(dir, 0, path, oflags, base, inheriting, 0, fd);
}

static void try_read_write(int fd) {
    char byte;
    __wasi_iovec_t in = {(uint8_t *)&byte, 1};
    __wasi_ciovec_t out = {(const uint8_t *)"x", 1};
    __wasi_size_t n;
    printf("    fd_read %s, fd_write %s\n", errno_name(__wasi_fd_read(fd, &in, 1, &n)),
           errno_name(__wasi_fd_write(fd, &out, 1, &n)));
}

// The first preopened directory and the first listening socket among fds 3..15.
static void find_granted(int *preopen, int *listener) {
    *preopen = *listener = -1;
    for (int fd = 3; fd < 16; fd++) {
        __wasi_fdstat_t stat;
        if (__wasi_fd_fdstat_get(fd, &stat) != 0) continue;
        if (stat.fs_filetype == __WASI_FILETYPE_SOCKET_STREAM && *listener < 0) *listener = fd;
        __wasi_prestat_t prestat;
        if (*preopen < 0 && __wasi_fd_prestat_get(fd, &prestat) == 0) *preopen = fd;
    }
}

int main(int argc, char **argv) {
    exact = argc > 1 && strcmp(argv[1], "exact") == 0;
    int preopen, listener;
    find_granted(&preopen, &listener);

    describe("stdin", 0);
    describe("stdout", 1);
    describe("stderr", 2);
    describe("preopen", preopen);

    const __wasi_rights_t read = __WASI_RIGHTS_FD_READ, write = __WASI_RIGHTS_FD_WRITE;
    int fd;
    int e = open_at(preopen, "f", __WASI_OFLAGS_CREAT, write, 0, &fd);
    printf("open f for writing only: %s\n", errno_name(e));
    describe("  write-only file", fd);
    try_read_write(fd);
    __wasi_fd_close(fd);

    e = open_at(preopen, "f", 0, read, 0, &fd);
    printf("open f for reading only: %s\n", errno_name(e));
    describe("  read-only file", fd);
    try_read_write(fd);
    __wasi_fd_close(fd);

    e = open_at(preopen, "f", 0, read | write, 0, &fd);
    printf("open f for reading and writing: %s\n", errno_name(e));
    describe("  read-write file", fd);
    __wasi_fd_close(fd);

    // What wasi-libc's open() asks for: every right the directory passes on.
    __wasi_rights_t passed = stat_of(preopen).fs_rights_inheriting;
    e = open_at(preopen, "f", 0, passed, passed, &fd);
    printf("open f with every right the directory passes on: %s\n", errno_name(e));
    describe("  file", fd);
    __wasi_fd_close(fd);

    // A directory passes on only its inheriting rights.
    for (int pass_write = 1; pass_write >= 0; pass_write--) {
        if (!pass_write && !exact) break;
        e = open_at(preopen, "sub", __WASI_OFLAGS_DIRECTORY,
                    __WASI_RIGHTS_FD_READDIR | __WASI_RIGHTS_PATH_OPEN,
                    pass_write ? read | write : read, &fd);
        printf("open sub to list it and open beneath it, passing on %s: %s\n",
               pass_write ? "fd_read and fd_write" : "fd_read", errno_name(e));
        describe("  directory", fd);
        int inner;
        e = open_at(fd, "inner.txt", 0, read | write, 0, &inner);
        printf("  open sub/inner.txt for reading and writing: %s\n", errno_name(e));
        describe("  file beneath it", inner);
        __wasi_fd_close(inner);
        __wasi_fd_close(fd);
    }

    // The same file through two names, opened the same way: the same rights.
    e = __wasi_path_link(preopen, 0, "f", preopen, "g");
    printf("link f to g: %s\n", errno_name(e));
    int f, g;
    open_at(preopen, "f", 0, read | write, 0, &f);
    open_at(preopen, "g", 0, read | write, 0, &g);
    __wasi_fdstat_t stat_f = stat_of(f), stat_g = stat_of(g);
    printf("f and g have the same rights: %s\n",
           stat_f.fs_rights_base == stat_g.fs_rights_base &&
                   stat_f.fs_rights_inheriting == stat_g.fs_rights_inheriting
               ? "yes"
               : "no");

    // A renumbered descriptor keeps the rights it had.
    int write_only;
    open_at(preopen, "f", 0, write, 0, &write_only);
    __wasi_fdstat_t before = stat_of(write_only);
    e = __wasi_fd_renumber(write_only, g);
    __wasi_fdstat_t after = stat_of(g);
    printf("renumber a write-only descriptor: %s, same rights: %s\n", errno_name(e),
           before.fs_rights_base == after.fs_rights_base ? "yes" : "no");
    describe("  renumbered", g);
    try_read_write(g);
    __wasi_fd_close(g);

    if (exact) {
        // Rights can be dropped, never regained.
        printf("drop fd_write from a read-write file: %s\n",
               errno_name(__wasi_fd_fdstat_set_rights(f, read, 0)));
        describe("  after dropping", f);
        try_read_write(f);
        printf("  take fd_write back: %s\n",
               errno_name(__wasi_fd_fdstat_set_rights(f, read | write, 0)));
        printf("drop every right of stdin: %s\n",
               errno_name(__wasi_fd_fdstat_set_rights(0, 0, 0)));
        describe("  stdin", 0);
        try_read_write(0);
        // Rights the directory does not pass on are not given.
        printf("stop the preopen passing on fd_write: %s\n",
               errno_name(__wasi_fd_fdstat_set_rights(
                   preopen, stat_of(preopen).fs_rights_base,
                   passed & ~__WASI_RIGHTS_FD_WRITE)));
        e = open_at(preopen, "f", 0, read | write, 0, &fd);
        printf("open f for reading and writing: %s\n", errno_name(e));
        describe("  file", fd);
        try_read_write(fd);
        __wasi_fd_close(fd);
        __wasi_fd_close(f);
    }
    __wasi_path_unlink_file(preopen, "g");
    __wasi_path_unlink_file(preopen, "f");

    if (listener >= 0) {
        describe("listening socket", listener);
        int connection;
        e = __wasi_sock_accept(listener, 0, &connection);
        printf("accept: %s\n", errno_name(e));
        if (e == 0) {
            describe("  connection", connection);
            __wasi_sock_shutdown(connection, __WASI_SDFLAGS_WR);
            __wasi_fd_close(connection);
        }
    }
    return 0;
}
