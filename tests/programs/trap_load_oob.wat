;; checks: none bounds,stack
;; A load past the end of memory (offset + address).
(module (memory 1) (func $load (param i32) (result i64) (i64.load offset=8 (local.get 0)))
  (func (export "_start") (drop (call $load (i32.const 65530)))))
