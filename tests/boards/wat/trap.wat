;; A trap in a named function: the report names it and the wasm offset, exit 134.
(module
  (func $divide (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (export "_start") (drop (call $divide (i32.const 7) (i32.const 0)))))
