// The baked tree is read-only: every change is refused with EPERM, as under a
// read-only grant on Linux, and reading still works.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void show(const char *what, int result) {
    printf("%-24s %s\n", what, result < 0 ? strerror(errno) : "allowed!");
    errno = 0;
}

int main(void) {
    show("create a file", open("/data/new.txt", O_WRONLY | O_CREAT, 0644));
    show("open for writing", open("/data/config.txt", O_WRONLY));
    show("truncate", truncate("/data/config.txt", 0));
    show("unlink", unlink("/data/config.txt"));
    show("mkdir", mkdir("/data/newdir", 0755));
    show("rmdir", rmdir("/data/sub"));
    show("rename", rename("/data/config.txt", "/data/moved.txt"));
    show("symlink", symlink("config.txt", "/data/link"));
    char buf[8] = {0};
    int fd = open("/data/config.txt", O_RDONLY);
    show("open for reading", fd);
    printf("read: %zd bytes\n", read(fd, buf, 7));
    return 0;
}
