// The filesystem through wasi-libc: create, write, append, read, seek, truncate,
// stat, rename, unlink, directories, readdir, timestamps, symlinks and hard links,
// all under the preopen /sandbox. Prints only what is deterministic, so the output
// (and the files left behind) can be compared with another runtime's.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CHECK(expr)                                                             \
    do {                                                                        \
        if (!(expr)) {                                                          \
            printf("FAILED line %d: %s (%s)\n", __LINE__, #expr, strerror(errno)); \
            exit(1);                                                            \
        }                                                                       \
    } while (0)

/// Prints the outcome of a call that returns -1 on failure.
static void outcome(const char *what, int result) {
    printf("%-44s %s\n", what, result < 0 ? strerror(errno) : "ok");
}

static void write_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0);
    CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    CHECK(close(fd) == 0);
}

static void print_file(const char *path) {
    char buf[256] = {0};
    int fd = open(path, O_RDONLY);
    CHECK(fd >= 0);
    ssize_t n = read(fd, buf, sizeof buf - 1);
    CHECK(n >= 0);
    close(fd);
    printf("%s: %zd bytes: \"", path, n);
    for (ssize_t i = 0; i < n; i++) {
        if (buf[i] == '\n') printf("\\n");
        else if (buf[i] == 0) printf("\\0");
        else putchar(buf[i]);
    }
    printf("\"\n");
}

static int compare_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char *type_name(unsigned char type) {
    switch (type) {
    case DT_REG: return "file";
    case DT_DIR: return "dir";
    case DT_LNK: return "symlink";
    default: return "other";
    }
}

/// Lists a directory sorted (host order differs between filesystems), skipping . and ..
static void list(const char *path) {
    DIR *dir = opendir(path);
    CHECK(dir != NULL);
    char *names[512];
    int count = 0;
    struct dirent *entry;
    int saw_dot = 0, saw_dotdot = 0;
    while ((entry = readdir(dir)) != NULL) {
        if (strcmp(entry->d_name, ".") == 0) { saw_dot = 1; continue; }
        if (strcmp(entry->d_name, "..") == 0) { saw_dotdot = 1; continue; }
        CHECK(count < 512);
        char *line = malloc(300);
        snprintf(line, 300, "%s (%s)", entry->d_name, type_name(entry->d_type));
        names[count++] = line;
    }
    closedir(dir);
    qsort(names, count, sizeof names[0], compare_names);
    printf("%s: %d entries%s\n", path, count, saw_dot && saw_dotdot ? " plus . and .." : "");
    for (int i = 0; i < count && i < 12; i++) printf("  %s\n", names[i]);
    if (count > 12) printf("  ... %s\n", names[count - 1]);
    for (int i = 0; i < count; i++) free(names[i]);
}

static void show_stat(const char *path, int follow) {
    struct stat st;
    int r = follow ? stat(path, &st) : lstat(path, &st);
    if (r < 0) {
        printf("%s %s: %s\n", follow ? "stat" : "lstat", path, strerror(errno));
        return;
    }
    const char *kind = S_ISREG(st.st_mode) ? "file" : S_ISDIR(st.st_mode) ? "dir"
                     : S_ISLNK(st.st_mode) ? "symlink" : "other";
    // A directory's size and link count depend on the filesystem.
    if (S_ISDIR(st.st_mode)) {
        printf("%s %s: dir\n", follow ? "stat" : "lstat", path);
        return;
    }
    printf("%s %s: %s, %lld bytes, %lu links\n", follow ? "stat" : "lstat", path, kind,
           (long long)st.st_size, (unsigned long)st.st_nlink);
}

int main(void) {
    // Create, write, append, read.
    write_file("/sandbox/notes.txt", "first line\n");
    int fd = open("/sandbox/notes.txt", O_WRONLY | O_APPEND);
    CHECK(fd >= 0);
    CHECK(write(fd, "second line\n", 12) == 12);
    CHECK(close(fd) == 0);
    print_file("/sandbox/notes.txt");
    print_file("/sandbox/given.txt");

    // Seek, tell, positioned I/O.
    fd = open("/sandbox/notes.txt", O_RDWR);
    CHECK(fd >= 0);
    char word[5] = {0};
    CHECK(lseek(fd, 6, SEEK_SET) == 6);
    CHECK(read(fd, word, 4) == 4);
    printf("word at 6: %s, now at %lld\n", word, (long long)lseek(fd, 0, SEEK_CUR));
    printf("5 before the end: %lld\n", (long long)lseek(fd, -5, SEEK_END));
    CHECK(pwrite(fd, "FIRST", 5, 0) == 5);
    char tail[7] = {0};
    CHECK(pread(fd, tail, 6, 11) == 6);
    printf("pread at 11: %s, position still %lld\n", tail, (long long)lseek(fd, 0, SEEK_CUR));
    outcome("seek before the start", (int)lseek(fd, -100, SEEK_SET));

    // fcntl flags: append mode turned on after open.
    CHECK((fcntl(fd, F_GETFL) & O_APPEND) == 0);
    CHECK(fcntl(fd, F_SETFL, O_APPEND) == 0);
    printf("append flag now %s\n", (fcntl(fd, F_GETFL) & O_APPEND) ? "set" : "clear");
    CHECK(lseek(fd, 0, SEEK_SET) == 0);
    CHECK(write(fd, "third\n", 6) == 6);
    CHECK(fcntl(fd, F_SETFL, 0) == 0);
    CHECK(fsync(fd) == 0);
    CHECK(fdatasync(fd) == 0);
    CHECK(posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL) == 0);
    CHECK(close(fd) == 0);
    print_file("/sandbox/notes.txt");

    // Truncate, shorter and longer.
    fd = open("/sandbox/notes.txt", O_RDWR);
    CHECK(ftruncate(fd, 5) == 0);
    struct stat st;
    CHECK(fstat(fd, &st) == 0);
    printf("after ftruncate(5): %lld bytes\n", (long long)st.st_size);
    CHECK(ftruncate(fd, 8) == 0);
    CHECK(close(fd) == 0);
    print_file("/sandbox/notes.txt");
    CHECK(truncate("/sandbox/notes.txt", 3) == 0);
    print_file("/sandbox/notes.txt");

    // Errors opening.
    outcome("open missing", open("/sandbox/missing.txt", O_RDONLY));
    outcome("create existing with O_EXCL", open("/sandbox/notes.txt", O_WRONLY | O_CREAT | O_EXCL, 0644));
    outcome("open a directory for writing", open("/sandbox/sub", O_WRONLY));
    outcome("open a file as a directory", open("/sandbox/notes.txt", O_RDONLY | O_DIRECTORY));
    outcome("open a path through a file", open("/sandbox/notes.txt/x", O_RDONLY));
    fd = open("/sandbox/notes.txt", O_RDONLY);
    outcome("write to a read-only descriptor", (int)write(fd, "x", 1));
    close(fd);

    // Directories.
    outcome("mkdir dir", mkdir("/sandbox/dir", 0755));
    outcome("mkdir dir again", mkdir("/sandbox/dir", 0755));
    outcome("mkdir dir/inner", mkdir("/sandbox/dir/inner", 0755));
    outcome("mkdir in a missing parent", mkdir("/sandbox/nope/inner", 0755));
    write_file("/sandbox/dir/inner/deep.txt", "deep\n");
    outcome("rmdir a non-empty directory", rmdir("/sandbox/dir/inner"));
    outcome("unlink a directory", unlink("/sandbox/dir"));
    outcome("rmdir a file", rmdir("/sandbox/notes.txt"));

    // Rename: into a directory, over a file, a directory.
    write_file("/sandbox/old.txt", "old\n");
    outcome("rename old.txt into dir", rename("/sandbox/old.txt", "/sandbox/dir/new.txt"));
    write_file("/sandbox/victim.txt", "victim\n");
    outcome("rename over an existing file", rename("/sandbox/dir/new.txt", "/sandbox/victim.txt"));
    print_file("/sandbox/victim.txt");
    outcome("rename a missing file", rename("/sandbox/old.txt", "/sandbox/x.txt"));
    outcome("rename dir to moved", rename("/sandbox/dir", "/sandbox/moved"));
    outcome("rename a file over a directory", rename("/sandbox/victim.txt", "/sandbox/moved"));

    // Unlink.
    write_file("/sandbox/doomed.txt", "doomed\n");
    outcome("unlink doomed.txt", unlink("/sandbox/doomed.txt"));
    outcome("unlink it again", unlink("/sandbox/doomed.txt"));
    outcome("remove (file)", remove("/sandbox/moved/inner/deep.txt"));
    outcome("remove (empty directory)", remove("/sandbox/moved/inner"));

    // Stat.
    show_stat("/sandbox/victim.txt", 1);
    show_stat("/sandbox/moved", 1);
    show_stat("/sandbox/missing", 1);

    // Timestamps: set exactly, then read back.
    struct timespec times[2] = {{1000000000, 123456789}, {1500000000, 5}};
    outcome("utimensat", utimensat(AT_FDCWD, "/sandbox/victim.txt", times, 0));
    CHECK(stat("/sandbox/victim.txt", &st) == 0);
    printf("atime %lld.%09ld mtime %lld.%09ld\n", (long long)st.st_atim.tv_sec, st.st_atim.tv_nsec,
           (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    fd = open("/sandbox/victim.txt", O_RDONLY);
    struct timespec only_mtime[2] = {{0, UTIME_OMIT}, {1600000000, 0}};
    outcome("futimens (mtime only)", futimens(fd, only_mtime));
    CHECK(fstat(fd, &st) == 0);
    printf("atime %lld mtime %lld\n", (long long)st.st_atim.tv_sec, (long long)st.st_mtim.tv_sec);
    outcome("futimens (now)", futimens(fd, NULL));
    CHECK(fstat(fd, &st) == 0);
    printf("mtime is recent: %s\n", st.st_mtim.tv_sec > 1700000000 ? "yes" : "no");
    close(fd);

    // Symlinks.
    outcome("symlink link -> victim.txt", symlink("victim.txt", "/sandbox/link"));
    outcome("symlink dirlink -> moved", symlink("moved", "/sandbox/dirlink"));
    outcome("symlink dangling -> nowhere", symlink("nowhere", "/sandbox/dangling"));
    outcome("symlink over an existing name", symlink("x", "/sandbox/link"));
    char target[64] = {0};
    ssize_t n = readlink("/sandbox/link", target, sizeof target - 1);
    printf("readlink link: %s\n", n < 0 ? strerror(errno) : target);
    outcome("readlink of a regular file", (int)readlink("/sandbox/victim.txt", target, sizeof target));
    show_stat("/sandbox/link", 0);
    show_stat("/sandbox/link", 1);
    show_stat("/sandbox/dangling", 0);
    show_stat("/sandbox/dangling", 1);
    print_file("/sandbox/link");
    write_file("/sandbox/dirlink/through.txt", "written through a link\n");
    print_file("/sandbox/moved/through.txt");

    // Hard links.
    outcome("link victim.txt -> hard.txt", link("/sandbox/victim.txt", "/sandbox/hard.txt"));
    struct stat a, b;
    CHECK(stat("/sandbox/victim.txt", &a) == 0 && stat("/sandbox/hard.txt", &b) == 0);
    printf("same inode: %s, links: %lu\n", a.st_ino == b.st_ino ? "yes" : "no", (unsigned long)a.st_nlink);
    outcome("link a directory", link("/sandbox/moved", "/sandbox/hardmoved"));

    // Many entries: readdir continues across batches.
    CHECK(mkdir("/sandbox/many", 0755) == 0);
    for (int i = 0; i < 300; i++) {
        char path[64];
        snprintf(path, sizeof path, "/sandbox/many/file-with-a-long-name-%03d.txt", i);
        write_file(path, "");
    }
    list("/sandbox/many");
    for (int i = 0; i < 300; i++) {
        char path[64];
        snprintf(path, sizeof path, "/sandbox/many/file-with-a-long-name-%03d.txt", i);
        CHECK(unlink(path) == 0);
    }
    CHECK(rmdir("/sandbox/many") == 0);

    // A large file, written and read back in pieces.
    fd = open("/sandbox/big.bin", O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0);
    static unsigned char block[65536];
    for (int round = 0; round < 16; round++) {
        for (size_t i = 0; i < sizeof block; i++) block[i] = (unsigned char)(i * 7 + round);
        CHECK(write(fd, block, sizeof block) == (ssize_t)sizeof block);
    }
    CHECK(lseek(fd, 0, SEEK_SET) == 0);
    unsigned long sum = 0;
    ssize_t got;
    while ((got = read(fd, block, 10000)) > 0)
        for (ssize_t i = 0; i < got; i++) sum = sum * 31 + block[i];
    printf("big.bin checksum %lu\n", sum);
    close(fd);
    CHECK(unlink("/sandbox/big.bin") == 0);

    list("/sandbox");
    list("/sandbox/moved");
    return 0;
}
