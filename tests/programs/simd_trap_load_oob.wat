;; checks: none bounds,stack
;; A v128.load whose last byte is past the end of memory (the first 15 are inside).
(module (memory 1)
  (func $load (param i32) (result v128) (v128.load offset=1 (local.get 0)))
  (func (export "_start") (drop (call $load (i32.const 65520)))))
