/*
 * measure: runs one benchmark process and reports its wall time and peak RSS.
 *
 *   measure STDOUT STDERR LIMIT_MS PROGRAM [ARG...]
 *
 * Runs PROGRAM (a path; no PATH search) with ARGs, an empty environment, stdin from
 * /dev/null and stdout/stderr into the files STDOUT and STDERR, kills it after LIMIT_MS
 * milliseconds, and prints one line:
 *
 *   WALL_NS MAXRSS_KIB exit CODE | signal NUMBER | timeout 0
 *
 * WALL_NS is fork to reap, CLOCK_MONOTONIC; MAXRSS_KIB is wait4's ru_maxrss.
 *
 * Why a separate, small, static C program rather than spawning from wafer-bench: Linux
 * charges the image a process had before execve to its ru_maxrss. A child spawned with
 * vfork/posix_spawn (shared address space) inherits the spawner's whole RSS as a floor,
 * and a forked one its anonymous pages; from this program (fork) that floor is ~0.1 MiB,
 * below any benchmark, while from a Rust harness it is 1-5 MiB, above a small static
 * image. Forking this small process is also cheaper, which matters for ~1 ms startups.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile pid_t child;
static volatile sig_atomic_t timed_out;

static void on_alarm(int signal) {
  (void)signal;
  timed_out = 1;
  kill(child, SIGKILL);
}

static int open_or_die(const char *path, int flags) {
  int fd = open(path, flags | O_CLOEXEC, 0644);
  if (fd < 0) {
    fprintf(stderr, "measure: %s: %s\n", path, strerror(errno));
    exit(2);
  }
  return fd;
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: measure STDOUT STDERR LIMIT_MS PROGRAM [ARG...]\n");
    return 2;
  }
  int in = open_or_die("/dev/null", O_RDONLY);
  int out = open_or_die(argv[1], O_WRONLY | O_CREAT | O_TRUNC);
  int err = open_or_die(argv[2], O_WRONLY | O_CREAT | O_TRUNC);
  long limit_ms = strtol(argv[3], NULL, 10);
  char *envp[] = {NULL};

  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = on_alarm;
  sigaction(SIGALRM, &action, NULL);

  struct timespec start, end;
  clock_gettime(CLOCK_MONOTONIC, &start);
  pid_t pid = fork();
  if (pid < 0) {
    fprintf(stderr, "measure: fork: %s\n", strerror(errno));
    return 2;
  }
  if (pid == 0) {
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    execve(argv[4], argv + 4, envp);
    dprintf(2, "measure: cannot execute %s: %s\n", argv[4], strerror(errno));
    _exit(127);
  }
  child = pid;
  struct itimerval limit = {{0, 0}, {limit_ms / 1000, (limit_ms % 1000) * 1000}};
  setitimer(ITIMER_REAL, &limit, NULL);

  int status;
  struct rusage usage;
  while (wait4(pid, &status, 0, &usage) < 0) {
    if (errno != EINTR) {
      fprintf(stderr, "measure: wait4: %s\n", strerror(errno));
      return 2;
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &end);
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &off, NULL);

  long long wall = (long long)(end.tv_sec - start.tv_sec) * 1000000000LL +
                   (end.tv_nsec - start.tv_nsec);
  if (timed_out)
    printf("%lld %ld timeout 0\n", wall, usage.ru_maxrss);
  else if (WIFEXITED(status))
    printf("%lld %ld exit %d\n", wall, usage.ru_maxrss, WEXITSTATUS(status));
  else
    printf("%lld %ld signal %d\n", wall, usage.ru_maxrss, WTERMSIG(status));
  return 0;
}
