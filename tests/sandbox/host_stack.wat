;; Every level of a recursion without end calls the host: the stack runs out inside a
;; host call (whose frames are deeper than the guest's) or in the guest, and either way
;; it is the guest's trap, reported as such.
(module
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (memory 1)
  (func $deep (param $n i64) (result i64)
    (drop (call $clock (i32.const 1) (i64.const 0) (i32.const 16)))
    (drop (call $write (i32.const 1) (i32.const 0) (i32.const 0) (i32.const 24)))
    (i64.add (call $deep (i64.add (local.get $n) (i64.const 1))) (i64.load (i32.const 16))))
  (func (export "_start") (drop (call $deep (i64.const 0)))))
