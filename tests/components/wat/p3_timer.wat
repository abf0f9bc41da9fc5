;; A WASI 0.3 command: `wasi:cli/run@0.3.0` lifted `async` with a callback, waiting on
;; `wasi:clocks/monotonic-clock@0.3.0#wait-for` lowered `async`. A zero wait returns
;; `RETURNED` at once; a 20 ms wait starts a subtask the task joins to a waitable set
;; and waits on (the runtime's reactor sleeps until the deadline), then gets the
;; subtask's event, drops it and returns `ok` if the clock advanced by 20 ms (exit
;; status 0; anything unexpected traps or returns `err`).
(component
  (import "wasi:clocks/monotonic-clock@0.3.0" (instance $clock
    (export "now" (func (result u64)))
    (export "wait-for" (func async (param "how-long" u64)))))
  (core module $libc (memory (export "memory") 1))
  (core instance $libc (instantiate $libc))
  (core func $now (canon lower (func $clock "now")))
  (core func $wait-for (canon lower (func $clock "wait-for") async
    (memory (core memory $libc "memory"))))
  (core func $return (canon task.return (result (result))))
  (core func $set.new (canon waitable-set.new))
  (core func $join (canon waitable.join))
  (core func $subtask.drop (canon subtask.drop))
  (core module $main
    (import "" "now" (func $now (result i64)))
    (import "" "wait-for" (func $wait-for (param i64) (result i32)))
    (import "" "return" (func $return (param i32)))
    (import "" "set.new" (func $set.new (result i32)))
    (import "" "join" (func $join (param i32 i32)))
    (import "" "subtask.drop" (func $subtask.drop (param i32)))
    (global $start (mut i64) (i64.const 0))
    (global $subtask (mut i32) (i32.const 0))
    (func (export "run") (result i32)
      (local $status i32)
      (local $set i32)
      ;; A zero wait has resolved already: RETURNED (2), no subtask.
      (if (i32.ne (call $wait-for (i64.const 0)) (i32.const 2)) (then unreachable))
      (global.set $start (call $now))
      (local.set $status (call $wait-for (i64.const 20000000)))
      ;; STARTED (1), with the subtask's handle above the 4 status bits.
      (if (i32.ne (i32.and (local.get $status) (i32.const 0xf)) (i32.const 1))
        (then unreachable))
      (global.set $subtask (i32.shr_u (local.get $status) (i32.const 4)))
      (local.set $set (call $set.new))
      (call $join (global.get $subtask) (local.get $set))
      ;; WAIT (2) on the set.
      (i32.or (i32.const 2) (i32.shl (local.get $set) (i32.const 4))))
    (func (export "run-cb") (param $event i32) (param $handle i32) (param $state i32)
      (result i32)
      ;; SUBTASK (1): this subtask, RETURNED (2).
      (if (i32.ne (local.get $event) (i32.const 1)) (then unreachable))
      (if (i32.ne (local.get $handle) (global.get $subtask)) (then unreachable))
      (if (i32.ne (local.get $state) (i32.const 2)) (then unreachable))
      (call $subtask.drop (local.get $handle))
      ;; ok (0) if at least 20 ms went by, else err (1).
      (call $return (i64.lt_u (i64.sub (call $now) (global.get $start)) (i64.const 20000000)))
      (i32.const 0 (; EXIT ;))))
  (core instance $main (instantiate $main
    (with "" (instance
      (export "now" (func $now))
      (export "wait-for" (func $wait-for))
      (export "return" (func $return))
      (export "set.new" (func $set.new))
      (export "join" (func $join))
      (export "subtask.drop" (func $subtask.drop))))))
  (func $run async (result (result))
    (canon lift (core func $main "run") async (callback (core func $main "run-cb"))))
  (instance $run (export "run" (func $run)))
  (export "wasi:cli/run@0.3.0" (instance $run)))
