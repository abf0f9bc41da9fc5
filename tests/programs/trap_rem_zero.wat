;; Integer remainder by zero (64-bit, signed).
(module (func $rem (param i64 i64) (result i64) (i64.rem_s (local.get 0) (local.get 1)))
  (func (export "_start") (drop (call $rem (i64.const 1) (i64.const 0)))))
