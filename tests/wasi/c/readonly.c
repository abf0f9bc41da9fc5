// A read-only grant (`--dir ro::/ro:ro`): everything can be read, nothing can be
// created, changed or removed, and nothing moves between it and a writable grant.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void outcome(const char *what, int result) {
    printf("%-44s %s\n", what, result < 0 ? strerror(errno) : "ok");
}

int main(void) {
    char buf[64] = {0};
    int fd = open("/ro/data.txt", O_RDONLY);
    outcome("open data.txt for reading", fd);
    printf("  read %zd bytes: %s", read(fd, buf, sizeof buf - 1), buf);
    outcome("write to it", (int)write(fd, "x", 1));
    outcome("fsync it", fsync(fd));
    struct timespec times[2] = {{1, 0}, {1, 0}};
    outcome("futimens it", futimens(fd, times));
    outcome("ftruncate it", ftruncate(fd, 0));
    outcome("set O_APPEND on it", fcntl(fd, F_SETFL, O_APPEND));
    close(fd);

    struct stat st;
    outcome("stat sub/file.txt", stat("/ro/sub/file.txt", &st));
    DIR *dir = opendir("/ro");
    int entries = 0;
    struct dirent *entry;
    while (dir && (entry = readdir(dir))) entries++;
    printf("readdir /ro: %d entries with . and ..\n", entries);
    if (dir) closedir(dir);

    outcome("open data.txt for writing", open("/ro/data.txt", O_WRONLY));
    outcome("open data.txt read-write", open("/ro/data.txt", O_RDWR));
    outcome("open data.txt with O_TRUNC", open("/ro/data.txt", O_RDONLY | O_TRUNC));
    outcome("open data.txt for appending", open("/ro/data.txt", O_WRONLY | O_APPEND));
    outcome("create new.txt", open("/ro/new.txt", O_WRONLY | O_CREAT, 0644));
    outcome("mkdir newdir", mkdir("/ro/newdir", 0755));
    outcome("unlink data.txt", unlink("/ro/data.txt"));
    outcome("rmdir sub", rmdir("/ro/sub"));
    outcome("rename data.txt within /ro", rename("/ro/data.txt", "/ro/renamed.txt"));
    outcome("rename data.txt out to /sandbox", rename("/ro/data.txt", "/sandbox/taken.txt"));
    outcome("rename given.txt into /ro", rename("/sandbox/given.txt", "/ro/given.txt"));
    outcome("symlink in /ro", symlink("data.txt", "/ro/link"));
    outcome("link data.txt within /ro", link("/ro/data.txt", "/ro/hard.txt"));
    outcome("link data.txt into /sandbox", link("/ro/data.txt", "/sandbox/hard.txt"));
    outcome("utimensat data.txt", utimensat(AT_FDCWD, "/ro/data.txt", times, 0));
    outcome("truncate data.txt", truncate("/ro/data.txt", 0));

    // The writable grant next to it still works.
    fd = open("/sandbox/copy.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    outcome("create /sandbox/copy.txt", fd);
    int in = open("/ro/data.txt", O_RDONLY);
    ssize_t n = read(in, buf, sizeof buf);
    outcome("copy /ro/data.txt into it", (int)write(fd, buf, n));
    close(in);
    close(fd);
    return 0;
}
