;; prelude
;; Clocks move forward and have a resolution; the realtime clock is after 2020; random
;; bytes arrive; sched_yield succeeds.
(module
  (import "wasi_snapshot_preview1" "clock_time_get" (func $time (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_res_get" (func $res (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sched_yield" (func $yield (result i32)))
  (memory (export "memory") 1)
  (func $b (param i32) (call $print_i32 (local.get 0)) (call $sp))
  (func (export "_start") (local $i i32) (local $nonzero i32)
    ;; realtime (0): seconds since 2020-01-01 are positive
    (call $b (call $time (i32.const 0) (i64.const 1) (i32.const 104)))
    (call $b (i64.gt_u (i64.load (i32.const 104)) (i64.const 1577836800000000000)))
    ;; monotonic (1) never goes back
    (call $b (call $time (i32.const 1) (i64.const 1) (i32.const 112)))
    (call $b (call $time (i32.const 1) (i64.const 1) (i32.const 120)))
    (call $b (i64.ge_u (i64.load (i32.const 120)) (i64.load (i32.const 112))))
    ;; resolutions are positive
    (call $b (call $res (i32.const 1) (i32.const 136)))
    (call $b (i64.gt_u (i64.load (i32.const 136)) (i64.const 0)))
    (call $nl)
    ;; 64 random bytes: some are nonzero, and a zero-length request is fine
    (call $b (call $random (i32.const 200) (i32.const 64)))
    (loop $each
      (local.set $nonzero (i32.or (local.get $nonzero) (i32.load8_u offset=200 (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $each (i32.lt_u (local.get $i) (i32.const 64))))
    (call $b (i32.ne (local.get $nonzero) (i32.const 0)))
    (call $b (call $random (i32.const 65536) (i32.const 0)))
    (call $b (call $yield))
    (call $nl)))
