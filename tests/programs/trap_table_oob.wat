;; table.get outside the table.
(module (table 2 funcref) (func $get (param i32) (result funcref) (table.get (local.get 0)))
  (func (export "_start") (drop (call $get (i32.const 2)))))
