;; WASI 0.3: dropping the subtask of a `wait-for` that has not resolved traps, naming
;; the rule (the spec's `subtask.drop` of an unresolved subtask).
(component
  (import "wasi:clocks/monotonic-clock@0.3.0" (instance $clock
    (export "wait-for" (func async (param "how-long" u64)))))
  (core module $libc (memory (export "memory") 1))
  (core instance $libc (instantiate $libc))
  (core func $wait-for (canon lower (func $clock "wait-for") async
    (memory (core memory $libc "memory"))))
  (core func $subtask.drop (canon subtask.drop))
  (core module $main
    (import "" "wait-for" (func $wait-for (param i64) (result i32)))
    (import "" "subtask.drop" (func $subtask.drop (param i32)))
    (func (export "run") (result i32)
      (call $subtask.drop
        (i32.shr_u (call $wait-for (i64.const 1000000000)) (i32.const 4)))
      (i32.const 0 (; EXIT ;)))
    (func (export "run-cb") (param i32 i32 i32) (result i32) unreachable))
  (core instance $main (instantiate $main
    (with "" (instance
      (export "wait-for" (func $wait-for))
      (export "subtask.drop" (func $subtask.drop))))))
  (func $run async (result (result))
    (canon lift (core func $main "run") async (callback (core func $main "run-cb"))))
  (instance $run (export "run" (func $run)))
  (export "wasi:cli/run@0.3.0" (instance $run)))
