;; checks: none bounds,stack
;; Recursion with large frames (many live values) still hits the guard, never skips it.
(module (func $deep (param f64) (result f64) (local f64 f64 f64 f64 f64 f64 f64 f64)
    (f64.add (call $deep (f64.add (local.get 0) (f64.const 1))) (f64.mul (local.get 0) (local.get 0))))
  (func (export "_start") (drop (call $deep (f64.const 0)))))
