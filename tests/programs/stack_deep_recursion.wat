;; prelude
;; checks: none bounds,stack
;; build: --stack-size 8M
;; no-reference: wasmtime's wasm stack (512 KiB by default) is smaller than wafer's 8 MiB
;; Recursion 100,000 calls deep fits an 8 MiB stack (a board's default is smaller),
;; with or without stack-limit checks: the limit leaves the stack usable.
(module
  (memory 1)
  (func $sum (param $n i64) (result i64)
    (if (result i64) (i64.eqz (local.get $n))
      (then (i64.const 0))
      (else (i64.add (local.get $n) (call $sum (i64.sub (local.get $n) (i64.const 1)))))))
  (func (export "_start")
    (call $print_i64 (call $sum (i64.const 100000)))
    (call $nl)))
