;; prelude
;; no-reference: wasmtime answers EBADF for the CPU-time clocks and traps on an unknown clock id
;; The process and thread CPU-time clocks (2, 3) work; an unknown clock id is EINVAL (28).
(module
  (import "wasi_snapshot_preview1" "clock_time_get" (func $time (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_res_get" (func $res (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func $b (param i32) (call $print_i32 (local.get 0)) (call $sp))
  (func (export "_start")
    (call $b (call $time (i32.const 2) (i64.const 1) (i32.const 128)))
    (call $b (call $time (i32.const 3) (i64.const 1) (i32.const 128)))
    (call $b (call $res (i32.const 2) (i32.const 128)))
    (call $b (call $time (i32.const 7) (i64.const 1) (i32.const 104)))
    (call $b (call $res (i32.const 7) (i32.const 104)))
    (call $nl)))
