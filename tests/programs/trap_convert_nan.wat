;; Converting NaN to an integer.
(module (func $conv (param f64) (result i64) (i64.trunc_f64_u (local.get 0)))
  (func (export "_start") (drop (call $conv (f64.const nan)))))
