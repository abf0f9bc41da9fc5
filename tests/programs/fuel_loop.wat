;; prelude
;; build: --fuel 1000000
;; no-reference: wasmtime counts fuel per instruction with its own costs, so where the budget runs out differs
;; A loop that never ends, under a budget of a million instructions: it runs a while
;; (each iteration is 8 instructions), then traps in the loop, naming fuel. A call in
;; the loop keeps the count going across the callee's own charges.
(module
  (memory (export "memory") 1)
  (global $count (mut i64) (i64.const 0))
  (func $bump (global.set $count (i64.add (global.get $count) (i64.const 1))))
  (func $spin (export "spin")
    (loop $forever
      (call $bump)
      (br $forever)))
  (func (export "_start")
    (call $print_i32 (i32.const 1))
    (call $nl)
    (call $spin)))
