;; A guest rewriting its memory as fast as it can between host calls that read it
;; (fd_write must write out the byte the guest has just stored), then buffers, iovec
;; arrays and result pointers past the end of memory or wrapping around 4 GiB, which the
;; host must refuse with EFAULT (21) without touching anything. Exit status 0, or the
;; code of the first check that failed.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory 1 1)
  ;; The guest rewrites 4 KiB at 4096 with letters that depend on the round.
  (func $fill (param $round i32) (local $i i32)
    (loop $next
      (i32.store8 offset=4096 (local.get $i)
        (i32.add (i32.const 65)
          (i32.rem_u (i32.add (i32.mul (local.get $round) (i32.const 31)) (local.get $i)) (i32.const 26))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $i) (i32.const 4096)))))
  (func $expect (param $errno i32) (param $want i32) (param $code i32)
    (if (i32.ne (local.get $errno) (local.get $want)) (then (call $exit (local.get $code)))))
  ;; fd_write(stdout) of one buffer through an iovec at $at.
  (func $write1 (param $at i32) (param $buf i32) (param $len i32) (param $nw i32) (result i32)
    (i32.store (local.get $at) (local.get $buf))
    (i32.store offset=4 (local.get $at) (local.get $len))
    (call $write (i32.const 1) (local.get $at) (i32.const 1) (local.get $nw)))
  (func (export "_start") (local $r i32)
    (loop $round
      (call $fill (local.get $r))
      (call $expect
        (call $write1 (i32.const 0)
          (i32.add (i32.const 4096) (i32.and (i32.mul (local.get $r) (i32.const 13)) (i32.const 4095)))
          (i32.const 1) (i32.const 8))
        (i32.const 0) (i32.const 10))
      (if (i32.ne (i32.load (i32.const 8)) (i32.const 1)) (then (call $exit (i32.const 11))))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br_if $round (i32.lt_u (local.get $r) (i32.const 3000))))
    ;; Buffers reaching past the end, or wrapping around 4 GiB.
    (call $expect (call $write1 (i32.const 0) (i32.const 65535) (i32.const 2) (i32.const 8)) (i32.const 21) (i32.const 20))
    (call $expect (call $write1 (i32.const 0) (i32.const 0xffffffff) (i32.const 1) (i32.const 8)) (i32.const 21) (i32.const 21))
    (call $expect (call $write1 (i32.const 0) (i32.const 16) (i32.const 0xfffffff0) (i32.const 8)) (i32.const 21) (i32.const 22))
    ;; The iovec array past the end, and a count whose size wraps.
    (call $expect (call $write (i32.const 1) (i32.const 65532) (i32.const 1) (i32.const 8)) (i32.const 21) (i32.const 23))
    (call $expect (call $write (i32.const 1) (i32.const 0) (i32.const 0x20000000) (i32.const 8)) (i32.const 21) (i32.const 24))
    ;; The result pointer past the end.
    (call $expect (call $write1 (i32.const 0) (i32.const 4096) (i32.const 0) (i32.const 65533)) (i32.const 21) (i32.const 25))
    ;; The host writing into guest memory: up to the last byte, and not one past.
    (call $expect (call $random (i32.const 65530) (i32.const 7)) (i32.const 21) (i32.const 26))
    (call $expect (call $random (i32.const 0xffffffff) (i32.const 2)) (i32.const 21) (i32.const 27))
    (call $expect (call $random (i32.const 65530) (i32.const 6)) (i32.const 0) (i32.const 28))
    (call $exit (i32.const 0))))
