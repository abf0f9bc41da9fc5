;; prelude
;; build: --deadline 300ms
;; no-reference: wasmtime has no deadline option (its epochs need an embedder)
;; A loop that never ends, with a deadline of 300 ms: it traps once the time is up.
(module
  (memory (export "memory") 1)
  (func (export "_start") (local $i i64)
    (call $print_i32 (i32.const 1))
    (call $nl)
    (loop $forever
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br $forever))))
