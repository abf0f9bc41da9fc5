;; Converting an out-of-range float to an integer.
(module (func $conv (param f32) (result i32) (i32.trunc_f32_s (local.get 0)))
  (func (export "_start") (drop (call $conv (f32.const 2147483648)))))
