// Every way out of the preopen must fail: `..`, absolute paths, symlinks whose target
// leaves the sandbox (relative or absolute), renames and links out of it, and creating
// a file through a dangling symlink that points outside. The test also checks that
// nothing outside the sandbox changed.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void outcome(const char *what, int result) {
    printf("%-52s %s\n", what, result < 0 ? strerror(errno) : "ok (allowed)");
}

static int open_read(const char *path) {
    int fd = open(path, O_RDONLY);
    if (fd >= 0) {
        char buf[64] = {0};
        ssize_t n = read(fd, buf, sizeof buf - 1);
        printf("  read %zd bytes from %s\n", n, path);
        close(fd);
    }
    return fd;
}

int main(void) {
    outcome("open ../outside/secret.txt", open_read("/sandbox/../outside/secret.txt"));
    outcome("open sub/../../outside/secret.txt", open_read("/sandbox/sub/../../outside/secret.txt"));
    outcome("open an absolute host path", open_read("/etc/passwd"));
    outcome("open .. itself", open_read("/sandbox/.."));
    outcome("open link_out (-> ../outside/secret.txt)", open_read("/sandbox/link_out"));
    outcome("open link_abs (-> /etc/passwd)", open_read("/sandbox/link_abs"));
    outcome("open link_up/outside/secret.txt (link_up -> ..)", open_read("/sandbox/link_up/outside/secret.txt"));
    outcome("open sub/deep_out/secret.txt", open_read("/sandbox/sub/deep_out/secret.txt"));
    outcome("stay inside: sub/../given.txt", open_read("/sandbox/sub/../given.txt"));

    struct stat st;
    outcome("stat link_out (follows)", stat("/sandbox/link_out", &st));
    outcome("lstat link_out (the link itself)", lstat("/sandbox/link_out", &st));
    outcome("stat ..", stat("/sandbox/..", &st));
    char target[64] = {0};
    outcome("readlink link_out", (int)readlink("/sandbox/link_out", target, sizeof target - 1));
    printf("  target: %s\n", target);
    outcome("readlink link_abs", (int)readlink("/sandbox/link_abs", target, sizeof target - 1));
    outcome("opendir ..", opendir("/sandbox/..") ? 0 : -1);
    outcome("opendir link_up", opendir("/sandbox/link_up") ? 0 : -1);

    outcome("create through dangle_out (-> ../outside/created.txt)",
            open("/sandbox/dangle_out", O_WRONLY | O_CREAT, 0644));
    outcome("create ../created.txt", open("/sandbox/../created.txt", O_WRONLY | O_CREAT, 0644));
    outcome("mkdir ../evil", mkdir("/sandbox/../evil", 0755));
    outcome("rename given.txt to ../stolen.txt", rename("/sandbox/given.txt", "/sandbox/../stolen.txt"));
    outcome("rename ../outside/secret.txt in", rename("/sandbox/../outside/secret.txt", "/sandbox/stolen.txt"));
    outcome("rename given.txt into link_up/", rename("/sandbox/given.txt", "/sandbox/link_up/stolen.txt"));
    outcome("link given.txt to ../hard.txt", link("/sandbox/given.txt", "/sandbox/../hard.txt"));
    outcome("link ../outside/secret.txt in", link("/sandbox/../outside/secret.txt", "/sandbox/hard.txt"));
    outcome("unlink ../outside/secret.txt", unlink("/sandbox/../outside/secret.txt"));
    outcome("unlink link_up/outside/secret.txt", unlink("/sandbox/link_up/outside/secret.txt"));
    outcome("rmdir ..", rmdir("/sandbox/.."));
    outcome("symlink with an absolute target", symlink("/etc/passwd", "/sandbox/new_abs"));
    outcome("symlink with a target outside (creation only)", symlink("../outside", "/sandbox/new_out"));
    outcome("  then open new_out/secret.txt", open_read("/sandbox/new_out/secret.txt"));
    outcome("symlink placed outside", symlink("given.txt", "/sandbox/../placed"));
    struct timespec times[2] = {{1, 0}, {1, 0}};
    outcome("utimensat link_out (follows)", utimensat(AT_FDCWD, "/sandbox/link_out", times, 0));
    outcome("truncate link_out", truncate("/sandbox/link_out", 0));

    // A relative path from a working directory inside the sandbox.
    outcome("chdir sub", chdir("/sandbox/sub"));
    outcome("open ../../outside/secret.txt from sub", open_read("../../outside/secret.txt"));
    outcome("open ../given.txt from sub", open_read("../given.txt"));
    return 0;
}
