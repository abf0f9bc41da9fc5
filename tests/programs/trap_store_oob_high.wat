;; checks: none bounds,stack
;; A store far past the end of memory, near 4 GiB (guard region).
(module (memory 1 1) (func $store (param i32) (i32.store offset=4294967295 (local.get 0) (i32.const 1)))
  (func (export "_start") (call $store (i32.const -1))))
