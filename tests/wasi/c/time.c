// Clocks, sleeping, poll_oneoff with timeouts and descriptors, and random bytes.
// Timing is checked against bounds, so the output is the same on every run.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(clockid_t clock) {
    struct timespec ts;
    if (clock_gettime(clock, &ts) != 0) return -1;
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void check(const char *what, int ok) {
    printf("%-48s %s\n", what, ok ? "yes" : "NO");
}

int main(void) {
    struct timespec res;
    check("monotonic resolution is at most 1 ms",
          clock_getres(CLOCK_MONOTONIC, &res) == 0 && res.tv_sec == 0 && res.tv_nsec > 0 && res.tv_nsec <= 1000000);
    check("realtime resolution is at most 1 ms",
          clock_getres(CLOCK_REALTIME, &res) == 0 && res.tv_sec == 0 && res.tv_nsec <= 1000000);
    check("realtime is after 2023", now_ns(CLOCK_REALTIME) > 1700000000LL * 1000000000LL);
    check("time() agrees with realtime", llabs((long long)time(NULL) - now_ns(CLOCK_REALTIME) / 1000000000LL) <= 1);
    long long last = now_ns(CLOCK_MONOTONIC);
    int monotonic = 1;
    for (int i = 0; i < 10000; i++) {
        long long t = now_ns(CLOCK_MONOTONIC);
        monotonic &= t >= last;
        last = t;
    }
    check("monotonic never goes back", monotonic);

    // Relative sleeps (poll_oneoff with a relative clock subscription).
    long long start = now_ns(CLOCK_MONOTONIC);
    struct timespec nap = {0, 50 * 1000000};
    check("nanosleep(50 ms) returns 0", nanosleep(&nap, NULL) == 0);
    long long slept = now_ns(CLOCK_MONOTONIC) - start;
    check("it slept at least 50 ms", slept >= 50000000);
    check("and not far longer", slept < 2000000000);

    // Absolute deadlines on both clocks.
    start = now_ns(CLOCK_MONOTONIC);
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_nsec += 30 * 1000000;
    if (deadline.tv_nsec >= 1000000000) { deadline.tv_sec++; deadline.tv_nsec -= 1000000000; }
    check("clock_nanosleep(MONOTONIC, ABSTIME) returns 0",
          clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, NULL) == 0);
    check("it woke at the deadline or later", now_ns(CLOCK_MONOTONIC) >= deadline.tv_sec * 1000000000LL + deadline.tv_nsec);
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_nsec += 20 * 1000000;
    if (deadline.tv_nsec >= 1000000000) { deadline.tv_sec++; deadline.tv_nsec -= 1000000000; }
    check("clock_nanosleep(REALTIME, ABSTIME) returns 0",
          clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &deadline, NULL) == 0);
    check("realtime reached the deadline", now_ns(CLOCK_REALTIME) >= deadline.tv_sec * 1000000000LL + deadline.tv_nsec);
    struct timespec past = {1, 0};
    check("a deadline in the past returns at once",
          clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &past, NULL) == 0);

    // poll(): a timeout with nothing to wait for, stdin with data, a regular file.
    start = now_ns(CLOCK_MONOTONIC);
    check("poll(no fds, 40 ms) times out", poll(NULL, 0, 40) == 0);
    check("after at least 40 ms", now_ns(CLOCK_MONOTONIC) - start >= 40000000);
    struct pollfd in = {.fd = 0, .events = POLLIN};
    check("stdin is readable", poll(&in, 1, 5000) == 1 && (in.revents & POLLIN));
    char line[64] = {0};
    ssize_t n = read(0, line, sizeof line - 1);
    printf("read %zd bytes from stdin: %s", n, line);
    int fd = open("/sandbox/given.txt", O_RDONLY);
    struct pollfd file = {.fd = fd, .events = POLLIN};
    check("a regular file is readable", poll(&file, 1, 5000) == 1 && (file.revents & POLLIN));
    struct pollfd out = {.fd = 1, .events = POLLOUT};
    check("stdout is writable", poll(&out, 1, 5000) == 1 && (out.revents & POLLOUT));
    close(fd);

    // select() with a timeout.
    struct timeval tv = {0, 30000};
    start = now_ns(CLOCK_MONOTONIC);
    check("select(no fds, 30 ms) times out", select(0, NULL, NULL, NULL, &tv) == 0);
    check("after at least 30 ms", now_ns(CLOCK_MONOTONIC) - start >= 30000000);

    // Random bytes.
    unsigned char a[32] = {0}, b[32] = {0};
    check("getentropy works", getentropy(a, sizeof a) == 0 && getentropy(b, sizeof b) == 0);
    int zero = 1;
    for (size_t i = 0; i < sizeof a; i++) zero &= a[i] == 0;
    check("bytes are not all zero", !zero);
    check("two draws differ", memcmp(a, b, sizeof a) != 0);
    check("arc4random draws differ", arc4random() != arc4random() || arc4random() != arc4random());
    return 0;
}
