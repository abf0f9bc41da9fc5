/*
 * The wasm2c runner's host: a minimal WASI preview1 for wasm2c output, and main().
 *
 * The harness translates each benchmark with `wasm2c --module-name prog`, so this file
 * is compiled against the generated `prog.h` (which also type-checks every import
 * signature below that the module actually uses) and linked statically with it and
 * wabt's `wasm-rt-impl.c`.
 *
 * What a benchmark needs is implemented (arguments, an empty environment as wafer and
 * wasmtime give by default, stdio through fd_read/fd_write/fd_seek/fd_close/
 * fd_fdstat_get, no preopened directories, clocks, random, proc_exit, sched_yield);
 * every other preview1 function returns ENOSYS (52). Descriptors other than 0-2 are
 * EBADF (8); guest ranges outside linear memory are EFAULT (21).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "prog.h"
#include "wasm-rt-impl.h"

#define ESUCCESS 0
#define EBADF_ 8
#define EFAULT_ 21
#define EINVAL_ 22
#define EIO_ 29
#define ENOSYS_ 52

/* The WASI "instance" wasm2c passes to every import: our host state. */
struct Z_wasi_snapshot_preview1_instance_t {
  wasm_rt_memory_t *memory;
  int argc;
  char **argv;
};
typedef struct Z_wasi_snapshot_preview1_instance_t wasi_t;

/* A checked pointer into linear memory, or NULL if [ptr, ptr+len) is outside it. */
static uint8_t *mem(wasi_t *w, u32 ptr, u64 len) {
  if ((u64)ptr + len > w->memory->size) return NULL;
  return w->memory->data + ptr;
}

static int store32(wasi_t *w, u32 ptr, u32 value) {
  uint8_t *p = mem(w, ptr, 4);
  if (!p) return 0;
  memcpy(p, &value, 4); /* x86_64 and wasm are both little-endian */
  return 1;
}

static int store64(wasi_t *w, u32 ptr, u64 value) {
  uint8_t *p = mem(w, ptr, 8);
  if (!p) return 0;
  memcpy(p, &value, 8);
  return 1;
}

static u32 errno_to_wasi(int e) {
  switch (e) {
    case EBADF: return EBADF_;
    case EFAULT: return EFAULT_;
    case EINVAL: return EINVAL_;
    case ESPIPE: return 70;
    case EPIPE: return 64;
    case EAGAIN: return 6;
    case EINTR: return 27;
    default: return EIO_;
  }
}

/* ---- arguments and environment ---- */

static u32 list_sizes(wasi_t *w, int count, char **items, u32 count_out, u32 size_out) {
  u32 size = 0;
  for (int i = 0; i < count; i++) size += (u32)strlen(items[i]) + 1;
  if (!store32(w, count_out, (u32)count) || !store32(w, size_out, size)) return EFAULT_;
  return ESUCCESS;
}

static u32 list_get(wasi_t *w, int count, char **items, u32 ptrs, u32 buf) {
  for (int i = 0; i < count; i++) {
    u32 len = (u32)strlen(items[i]) + 1;
    uint8_t *dst = mem(w, buf, len);
    if (!dst || !store32(w, ptrs + 4 * (u32)i, buf)) return EFAULT_;
    memcpy(dst, items[i], len);
    buf += len;
  }
  return ESUCCESS;
}

u32 Z_wasi_snapshot_preview1Z_args_sizes_get(wasi_t *w, u32 count_out, u32 size_out) {
  return list_sizes(w, w->argc, w->argv, count_out, size_out);
}

u32 Z_wasi_snapshot_preview1Z_args_get(wasi_t *w, u32 ptrs, u32 buf) {
  return list_get(w, w->argc, w->argv, ptrs, buf);
}

u32 Z_wasi_snapshot_preview1Z_environ_sizes_get(wasi_t *w, u32 count_out, u32 size_out) {
  return list_sizes(w, 0, NULL, count_out, size_out);
}

u32 Z_wasi_snapshot_preview1Z_environ_get(wasi_t *w, u32 ptrs, u32 buf) {
  return list_get(w, 0, NULL, ptrs, buf);
}

/* ---- stdio ---- */

/* Gathers a guest iovec array into host iovecs; returns a WASI errno. */
static u32 gather(wasi_t *w, u32 iovs, u32 count, struct iovec *out) {
  if (count > 64) return EINVAL_;
  for (u32 i = 0; i < count; i++) {
    uint8_t *entry = mem(w, iovs + 8 * i, 8);
    if (!entry) return EFAULT_;
    u32 ptr, len;
    memcpy(&ptr, entry, 4);
    memcpy(&len, entry + 4, 4);
    uint8_t *data = mem(w, ptr, len);
    if (!data) return EFAULT_;
    out[i].iov_base = data;
    out[i].iov_len = len;
  }
  return ESUCCESS;
}

u32 Z_wasi_snapshot_preview1Z_fd_write(wasi_t *w, u32 fd, u32 iovs, u32 count, u32 out) {
  struct iovec host[64];
  if (fd > 2) return EBADF_;
  u32 err = gather(w, iovs, count, host);
  if (err) return err;
  ssize_t n = writev((int)fd, host, (int)count);
  if (n < 0) return errno_to_wasi(errno);
  return store32(w, out, (u32)n) ? ESUCCESS : EFAULT_;
}

u32 Z_wasi_snapshot_preview1Z_fd_read(wasi_t *w, u32 fd, u32 iovs, u32 count, u32 out) {
  struct iovec host[64];
  if (fd > 2) return EBADF_;
  u32 err = gather(w, iovs, count, host);
  if (err) return err;
  ssize_t n = readv((int)fd, host, (int)count);
  if (n < 0) return errno_to_wasi(errno);
  return store32(w, out, (u32)n) ? ESUCCESS : EFAULT_;
}

u32 Z_wasi_snapshot_preview1Z_fd_seek(wasi_t *w, u32 fd, u64 offset, u32 whence, u32 out) {
  if (fd > 2) return EBADF_;
  if (whence > 2) return EINVAL_; /* WASI SET/CUR/END are 0/1/2, as on Linux */
  off_t pos = lseek((int)fd, (off_t)offset, (int)whence);
  if (pos < 0) return errno_to_wasi(errno);
  return store64(w, out, (u64)pos) ? ESUCCESS : EFAULT_;
}

u32 Z_wasi_snapshot_preview1Z_fd_close(wasi_t *w, u32 fd) {
  (void)w;
  if (fd > 2) return EBADF_;
  return close((int)fd) == 0 ? ESUCCESS : errno_to_wasi(errno);
}

u32 Z_wasi_snapshot_preview1Z_fd_fdstat_get(wasi_t *w, u32 fd, u32 out) {
  struct stat st;
  if (fd > 2) return EBADF_;
  if (fstat((int)fd, &st) != 0) return errno_to_wasi(errno);
  uint8_t filetype = S_ISREG(st.st_mode)    ? 4
                     : S_ISCHR(st.st_mode)  ? 2
                     : S_ISDIR(st.st_mode)  ? 3
                     : S_ISBLK(st.st_mode)  ? 1
                     : S_ISSOCK(st.st_mode) ? 6
                                            : 0;
  uint8_t *p = mem(w, out, 24);
  if (!p) return EFAULT_;
  memset(p, 0, 24);
  p[0] = filetype;
  u64 rights = 0x1fffffff;
  memcpy(p + 8, &rights, 8);
  return ESUCCESS;
}

u32 Z_wasi_snapshot_preview1Z_fd_prestat_get(wasi_t *w, u32 fd, u32 out) {
  (void)w, (void)fd, (void)out;
  return EBADF_; /* no preopened directories */
}

u32 Z_wasi_snapshot_preview1Z_fd_prestat_dir_name(wasi_t *w, u32 fd, u32 path, u32 len) {
  (void)w, (void)fd, (void)path, (void)len;
  return EBADF_;
}

/* ---- clocks, random, process ---- */

static int host_clock(u32 id, clockid_t *out) {
  static const clockid_t ids[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID,
                                  CLOCK_THREAD_CPUTIME_ID};
  if (id > 3) return 0;
  *out = ids[id];
  return 1;
}

u32 Z_wasi_snapshot_preview1Z_clock_res_get(wasi_t *w, u32 id, u32 out) {
  clockid_t clock;
  struct timespec ts;
  if (!host_clock(id, &clock)) return EINVAL_;
  if (clock_getres(clock, &ts) != 0) return errno_to_wasi(errno);
  return store64(w, out, (u64)ts.tv_sec * 1000000000u + (u64)ts.tv_nsec) ? ESUCCESS : EFAULT_;
}

u32 Z_wasi_snapshot_preview1Z_clock_time_get(wasi_t *w, u32 id, u64 precision, u32 out) {
  clockid_t clock;
  struct timespec ts;
  (void)precision;
  if (!host_clock(id, &clock)) return EINVAL_;
  if (clock_gettime(clock, &ts) != 0) return errno_to_wasi(errno);
  return store64(w, out, (u64)ts.tv_sec * 1000000000u + (u64)ts.tv_nsec) ? ESUCCESS : EFAULT_;
}

u32 Z_wasi_snapshot_preview1Z_random_get(wasi_t *w, u32 buf, u32 len) {
  uint8_t *p = mem(w, buf, len);
  if (!p) return EFAULT_;
  while (len > 0) {
    ssize_t n = getrandom(p, len, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_to_wasi(errno);
    }
    p += n;
    len -= (u32)n;
  }
  return ESUCCESS;
}

u32 Z_wasi_snapshot_preview1Z_sched_yield(wasi_t *w) {
  (void)w;
  return ESUCCESS;
}

void Z_wasi_snapshot_preview1Z_proc_exit(wasi_t *w, u32 code) {
  (void)w;
  exit((int)code);
}

/* ---- everything else: ENOSYS ---- */

#define UNSUPPORTED(name, ...)                                      \
  u32 Z_wasi_snapshot_preview1Z_##name(wasi_t *w, __VA_ARGS__) {    \
    (void)w;                                                        \
    return ENOSYS_;                                                 \
  }

#pragma GCC diagnostic ignored "-Wunused-parameter"
UNSUPPORTED(fd_advise, u32 fd, u64 offset, u64 len, u32 advice)
UNSUPPORTED(fd_allocate, u32 fd, u64 offset, u64 len)
UNSUPPORTED(fd_datasync, u32 fd)
UNSUPPORTED(fd_fdstat_set_flags, u32 fd, u32 flags)
UNSUPPORTED(fd_fdstat_set_rights, u32 fd, u64 base, u64 inheriting)
UNSUPPORTED(fd_filestat_get, u32 fd, u32 out)
UNSUPPORTED(fd_filestat_set_size, u32 fd, u64 size)
UNSUPPORTED(fd_filestat_set_times, u32 fd, u64 atime, u64 mtime, u32 flags)
UNSUPPORTED(fd_pread, u32 fd, u32 iovs, u32 count, u64 offset, u32 out)
UNSUPPORTED(fd_pwrite, u32 fd, u32 iovs, u32 count, u64 offset, u32 out)
UNSUPPORTED(fd_readdir, u32 fd, u32 buf, u32 len, u64 cookie, u32 out)
UNSUPPORTED(fd_renumber, u32 fd, u32 to)
UNSUPPORTED(fd_sync, u32 fd)
UNSUPPORTED(fd_tell, u32 fd, u32 out)
UNSUPPORTED(path_create_directory, u32 fd, u32 path, u32 len)
UNSUPPORTED(path_filestat_get, u32 fd, u32 flags, u32 path, u32 len, u32 out)
UNSUPPORTED(path_filestat_set_times, u32 fd, u32 flags, u32 path, u32 len, u64 atime,
            u64 mtime, u32 fst_flags)
UNSUPPORTED(path_link, u32 fd, u32 flags, u32 path, u32 len, u32 fd2, u32 path2, u32 len2)
UNSUPPORTED(path_open, u32 fd, u32 dirflags, u32 path, u32 len, u32 oflags, u64 base,
            u64 inheriting, u32 fdflags, u32 out)
UNSUPPORTED(path_readlink, u32 fd, u32 path, u32 len, u32 buf, u32 buf_len, u32 out)
UNSUPPORTED(path_remove_directory, u32 fd, u32 path, u32 len)
UNSUPPORTED(path_rename, u32 fd, u32 path, u32 len, u32 fd2, u32 path2, u32 len2)
UNSUPPORTED(path_symlink, u32 path, u32 len, u32 fd, u32 path2, u32 len2)
UNSUPPORTED(path_unlink_file, u32 fd, u32 path, u32 len)
UNSUPPORTED(poll_oneoff, u32 in, u32 out, u32 count, u32 events_out)
UNSUPPORTED(proc_raise, u32 signal)
UNSUPPORTED(sock_accept, u32 fd, u32 flags, u32 out)
UNSUPPORTED(sock_recv, u32 fd, u32 iovs, u32 count, u32 flags, u32 len_out, u32 flags_out)
UNSUPPORTED(sock_send, u32 fd, u32 iovs, u32 count, u32 flags, u32 out)
UNSUPPORTED(sock_shutdown, u32 fd, u32 how)

/* ---- the process ---- */

int main(int argc, char **argv) {
  static wasi_t wasi;
  static Z_prog_instance_t instance;
  wasi.argc = argc;
  wasi.argv = argv;
  wasm_rt_init();
  Z_prog_init_module();
  Z_prog_instantiate(&instance, &wasi);
  wasi.memory = Z_progZ_memory(&instance);
  wasm_rt_trap_t trap = (wasm_rt_trap_t)wasm_rt_impl_try();
  if (trap != WASM_RT_TRAP_NONE) {
    fprintf(stderr, "wasm2c: trap %d\n", (int)trap);
    return 134;
  }
  Z_progZ__start(&instance);
  return 0;
}
