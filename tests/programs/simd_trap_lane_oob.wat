;; checks: none bounds,stack
;; A v128.store64_lane whose 8 bytes end one past the end of memory: nothing is written.
(module (memory 1)
  (func $store (param i32) (v128.store64_lane 1 (local.get 0) (v128.const i64x2 1 2)))
  (func (export "_start") (call $store (i32.const 65529))))
