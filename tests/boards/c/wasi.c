// WASI on a board: fixed arguments and environment, the read-only file tree baked into
// the image, clocks, random bytes, stdin from the console, stderr, and the exit code.
// It prints properties, not values that differ from run to run.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <wasi/api.h>

int main(int argc, char **argv) {
    printf("argc %d:", argc);
    for (int i = 1; i < argc; i++) printf(" [%s]", argv[i]);
    printf("\n");
    const char *mode = getenv("MODE");
    printf("MODE=%s HOME=%s\n", mode ? mode : "(unset)", getenv("HOME") ? "set" : "(unset)");

    FILE *config = fopen("/data/config.txt", "r");
    char line[64];
    while (config && fgets(line, sizeof line, config)) printf("config: %s", line);
    if (config) fclose(config);
    int fd = open("/data/sub/inner.txt", O_RDONLY);
    char buf[32] = {0};
    lseek(fd, 7, SEEK_SET);
    ssize_t n = read(fd, buf, sizeof buf - 1);
    printf("inner.txt from byte 7: %zd bytes \"%s\"", n, buf);
    close(fd);
    struct stat st;
    stat("/data/big.bin", &st);
    printf("big.bin: %lld bytes, regular %d\n", (long long)st.st_size, S_ISREG(st.st_mode));
    // Directory order is the filesystem's: sort the names.
    DIR *dir = opendir("/data");
    struct dirent *entry;
    char names[8][32];
    int entries = 0, named = 0;
    while ((entry = readdir(dir)) != NULL) {
        if (entry->d_name[0] != '.' && named < 8) {
            snprintf(names[named++], sizeof names[0], "%s", entry->d_name);
        }
        entries++;
    }
    closedir(dir);
    qsort(names, named, sizeof names[0], (int (*)(const void *, const void *))strcmp);
    for (int i = 0; i < named; i++) printf("entry: %s\n", names[i]);
    printf("entries with . and ..: %d\n", entries);
    errno = 0;
    FILE *escape = fopen("/data/../../etc/passwd", "r");
    printf("escape: %s\n", escape ? "allowed!" : strerror(errno));

    struct timespec t0, t1, real;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    volatile unsigned spin = 0;
    for (unsigned i = 0; i < 2000000; i++) spin += i;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    clock_gettime(CLOCK_REALTIME, &real);
    long long elapsed = (t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
    printf("monotonic advances: %d, realtime after 2020: %d\n", elapsed > 0,
           real.tv_sec > 1577836800);

    unsigned char r1[16], r2[16];
    getentropy(r1, sizeof r1);
    getentropy(r2, sizeof r2);
    int nonzero = 0;
    for (int i = 0; i < 16; i++) nonzero |= r1[i];
    printf("random: nonzero %d, two draws differ %d\n", nonzero != 0, memcmp(r1, r2, 16) != 0);

    if (fgets(line, sizeof line, stdin)) printf("stdin: %s", line);
    fflush(stdout);
    fprintf(stderr, "to stderr\n");
    return 7;
}
