;; build: --fuel 50000
;; no-reference: wasmtime counts fuel per instruction with its own costs, so where the budget runs out differs
;; Endless mutual tail recursion has no loop, only calls: the check at each function's
;; entry stops it.
(module
  (func $ping (param i32) (return_call $pong (i32.add (local.get 0) (i32.const 1))))
  (func $pong (param i32) (return_call $ping (i32.add (local.get 0) (i32.const 1))))
  (func (export "_start") (call $ping (i32.const 0))))
